//! ONNX export and import: neurite -> ONNX -> neurite gives the same outputs, PyTorch-exported
//! files (committed, made by `scripts/make_onnx_fixtures.py`) import and give PyTorch's
//! outputs, and broken or unsupported files are refused with errors naming the file and node.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use neurite_nn::onnx::{self, OnnxError};
use neurite_nn::serialize::load_state_dict;
use neurite_nn::spec::ModelSpec;
use neurite_nn::{Module, Sequential};
use neurite_tensor::{seeded_rng, Tensor};

#[path = "common/python.rs"]
mod python;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
}

/// `spec` built with `tensors`' values, in eval mode.
fn load(spec: &ModelSpec, tensors: &BTreeMap<String, Tensor>) -> Sequential {
    let mut model = spec.build(&mut seeded_rng(99));
    let mut named = model.named_parameters();
    named.extend(model.named_buffers());
    assert_eq!(named.len(), tensors.len(), "tensor count of {spec}");
    for (name, t) in named {
        let value = &tensors[&name];
        assert_eq!(value.shape(), t.shape(), "{name}");
        t.set_data(value.data());
    }
    model.set_training(false);
    model
}

/// Trains nothing but moves batch norm's statistics off their defaults, so that the round
/// trip checks them too.
fn with_statistics(model: &mut Sequential, input: &[usize]) {
    let mut shape = vec![8];
    shape.extend(input);
    model.set_training(true);
    model.forward(&Tensor::normal(&shape, 0.5, 2.0, &mut seeded_rng(5)));
    model.set_training(false);
}

/// Exports a model of `spec`, imports it, and compares outputs: equal when `exact`, else
/// within 1e-6 (where the import reads a layer back as an equivalent one with another kernel:
/// `adaptiveavgpool2d(2)` of a 6x6 input as `avgpool2d(3)`, `dense(5, softmax)` as `dense(5)
/// softmax`).
fn round_trip(spec: &ModelSpec, exact: bool) {
    let mut model = spec.build(&mut seeded_rng(1));
    with_statistics(&mut model, spec.input_shape());
    let bytes = onnx::export_bytes(&model, spec).unwrap();
    let (back, tensors) = onnx::import_bytes(&bytes, "model.onnx").unwrap();
    let mut imported = load(&back, &tensors);
    let mut shape = vec![3];
    shape.extend(spec.input_shape());
    let x = Tensor::normal(&shape, 0.0, 1.0, &mut seeded_rng(2));
    let (want, got) = (model.forward(&x), imported.forward(&x));
    assert_eq!(got.shape(), want.shape(), "{spec}");
    if exact {
        assert_eq!(got.to_vec(), want.to_vec(), "{spec}: {}", back.layers_text());
    } else {
        for (a, b) in got.to_vec().iter().zip(want.to_vec()) {
            assert!((a - b).abs() <= 1e-6, "{spec}: {a} vs {b}");
        }
    }
}

#[test]
fn presets_round_trip_with_identical_outputs_and_layers() {
    for spec in [ModelSpec::w1(), ModelSpec::w3(), ModelSpec::w4()] {
        round_trip(&spec, true);
        let model = spec.build(&mut seeded_rng(0));
        let (back, _) = onnx::import_bytes(&onnx::export_bytes(&model, &spec).unwrap(), "x.onnx").unwrap();
        assert_eq!(back.layers(), spec.layers(), "{spec}");
    }
}

#[test]
fn residual_and_every_exportable_layer_round_trip() {
    let specs = [
        "conv2d(8, 3, padding=1) batchnorm2d relu \
         residual(conv2d(8, 3, padding=1) batchnorm2d relu conv2d(8, 3, padding=1) batchnorm2d) relu \
         residual(conv2d(16, 3, stride=2, padding=1) batchnorm2d relu conv2d(16, 3, padding=1) batchnorm2d \
                  | conv2d(16, 1, stride=2) batchnorm2d) relu \
         globalavgpool2d linear(10)",
        "conv2d(6, 3, padding=same, dilation=2) leaky_relu(0.2) conv2d(6, 3, groups=3) gelu \
         avgpool2d(2, padding=1) maxpool2d(3, stride=1, padding=1) dropout2d(0.2) adaptiveavgpool2d(2) \
         layernorm(dims=3) sigmoid globalavgpool2d dense(7, tanh) batchnorm1d dropout(0.3) identity \
         dense(5, softmax)",
        "flatten linear(12) layernorm tanh linear(4, bias=false) softmax",
    ];
    for (text, exact) in specs.into_iter().zip([true, false, false]) {
        round_trip(&ModelSpec::from_inline(text, &[3, 12, 12]).unwrap(), exact);
    }
}

#[test]
fn export_writes_atomically_and_names_input_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.onnx");
    let spec = ModelSpec::w1();
    onnx::export(&spec.build(&mut seeded_rng(0)), &spec, &path).unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let bytes = std::fs::read(&path).unwrap();
    let model: onnx::proto::ModelProto = prost::Message::decode(bytes.as_slice()).unwrap();
    let graph = model.graph.unwrap();
    assert_eq!(graph.input[0].name, onnx::INPUT_NAME);
    assert_eq!(graph.output[0].name, onnx::OUTPUT_NAME);
    assert_eq!(model.opset_import[0].version, onnx::OPSET);
    let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["Gemm", "Relu", "Gemm"]);
    let (back, _) = onnx::import(&path).unwrap();
    assert_eq!(back.name(), "mlp");
}

#[test]
fn export_refuses_an_adaptive_pool_with_uneven_windows_naming_the_layer() {
    let spec = ModelSpec::from_inline("adaptiveavgpool2d(5) flatten linear(2)", &[1, 12, 12]).unwrap();
    let err = onnx::export_bytes(&spec.build(&mut seeded_rng(0)), &spec).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot export layer 0 (AdaptiveAvgPool2d) to ONNX: output 5x5 of a 12x12 input"),
        "{err}"
    );
    let other = ModelSpec::from_inline("flatten linear(3)", &[1, 12, 12]).unwrap();
    let err = onnx::export_bytes(&other.build(&mut seeded_rng(0)), &spec).unwrap_err();
    assert!(err.to_string().contains("the model has no tensor `2.weight`"), "{err}");
}

/// The PyTorch fixtures: each `NAME.onnx` with `NAME.safetensors` holding `input` and
/// PyTorch's `output`.
#[test]
fn pytorch_exported_files_import_and_match_pytorch_within_1e_5() {
    for file in ["torch_mlp", "torch_cnn", "torch_resnet"]
        .iter()
        .flat_map(|n| [n.to_string(), format!("{n}_dynamo")])
    {
        let name = file.trim_end_matches("_dynamo");
        let (spec, tensors) = onnx::import(fixture(&format!("{file}.onnx"))).unwrap();
        let mut model = load(&spec, &tensors);
        let (io, _) = load_state_dict(fixture(&format!("{name}.safetensors"))).unwrap();
        let got = model.forward(&io["input"]);
        assert_eq!(got.shape(), io["output"].shape(), "{name}");
        let worst = got
            .to_vec()
            .iter()
            .zip(io["output"].to_vec())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= 1e-5,
            "{file}: {} differs from PyTorch by {worst}",
            spec.layers_text()
        );
    }
}

fn import_err(bytes: &[u8]) -> String {
    match onnx::import_bytes(bytes, "bad.onnx") {
        Ok((spec, _)) => panic!("imported {spec}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_and_truncated_files_are_clean_errors_naming_the_file() {
    let spec = ModelSpec::w3();
    let bytes = onnx::export_bytes(&spec.build(&mut seeded_rng(0)), &spec).unwrap();
    for cut in [1, 10, 100, bytes.len() / 2, bytes.len() - 1] {
        let err = import_err(&bytes[..cut]);
        assert!(err.starts_with("bad.onnx: "), "cut at {cut}: {err}");
    }
    assert!(import_err(b"").contains("has no graph"), "{}", import_err(b""));
    let err = import_err(b"\xff\xff\xff\xff not protobuf");
    assert!(
        err.starts_with("bad.onnx: not a valid ONNX file (malformed or truncated protobuf"),
        "{err}"
    );
    let missing = onnx::import(fixture("does-not-exist.onnx")).unwrap_err();
    assert!(matches!(missing, OnnxError::Io { .. }), "{missing}");
}

/// Edits the exported graph of the W3 model, re-encodes it and imports it.
fn edited(edit: impl FnOnce(&mut onnx::proto::GraphProto)) -> String {
    let spec = ModelSpec::w3();
    let bytes = onnx::export_bytes(&spec.build(&mut seeded_rng(0)), &spec).unwrap();
    let mut model: onnx::proto::ModelProto = prost::Message::decode(bytes.as_slice()).unwrap();
    edit(model.graph.as_mut().unwrap());
    import_err(&prost::Message::encode_to_vec(&model))
}

#[test]
fn unsupported_ops_attributes_shapes_and_types_name_the_node() {
    let err = edited(|g| g.node[1].op_type = "Selu".into());
    assert_eq!(
        err,
        "bad.onnx: node `1/Relu` (Selu): operator `Selu` is not supported (docs/interop.md lists the operators neurite reads)"
    );
    let err = edited(|g| {
        g.node[0]
            .attribute
            .push(onnx::proto::AttributeProto::int("frobnicate", 1))
    });
    assert_eq!(
        err,
        "bad.onnx: node `0/Conv` (Conv): attribute `frobnicate` is not supported"
    );
    let err = edited(|g| {
        let pads = g.node[0].attribute.iter_mut().find(|a| a.name == "pads").unwrap();
        pads.ints = vec![0, 0, 1, 1];
    });
    assert!(
        err.starts_with("bad.onnx: node `0/Conv` (Conv): padding [0, 0, 1, 1]"),
        "{err}"
    );
    let err = edited(|g| {
        g.input[0]
            .r#type
            .as_mut()
            .unwrap()
            .tensor_type
            .as_mut()
            .unwrap()
            .shape
            .as_mut()
            .unwrap()
            .dim[2]
            .value = Some(onnx::proto::DimensionValue::DimParam("height".into()));
    });
    assert!(
        err.contains("input `input` has a dynamic or invalid size on axis 2"),
        "{err}"
    );
    let err = edited(|g| g.initializer[0].data_type = 11);
    assert!(
        err.contains("constant `0.weight`: element type 11 is not supported"),
        "{err}"
    );
    let err = edited(|g| g.initializer[0].raw_data.truncate(10));
    assert!(
        err.contains("constant `0.weight`: shape [32, 1, 3, 3] needs 288 values"),
        "{err}"
    );
    let err = edited(|g| g.initializer[0].dims = vec![1 << 40, 1 << 40]);
    assert!(
        err.contains("node `0/Conv` (Conv): constant `0.weight`: shape"),
        "{err}"
    );
    let err = edited(|g| {
        let relu = g.node[1].clone();
        g.node.push(onnx::proto::NodeProto {
            name: "stray".into(),
            output: vec!["unused".into()],
            ..relu
        });
    });
    assert_eq!(
        err,
        "bad.onnx: node `1/Relu` (Relu): a branch from `0/Conv` reaches the output without joining the other"
    );
}

/// Runs `scripts/check_onnx.py` on `cases`; `None` (with a message) when Python, `onnx` or
/// `onnxruntime` is missing. Python comes from `NEURITE_PYTHON`, else `python3`.
fn check_with_onnx_runtime(cases: &[PathBuf]) -> Option<Vec<serde_json::Value>> {
    let stdout = python::run_script("check_onnx.py", cases)?;
    let stdout = String::from_utf8_lossy(&stdout).to_string();
    Some(stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

#[test]
fn exported_files_pass_the_onnx_checker_and_onnx_runtime_matches_within_1e_5() {
    let dir = tempfile::tempdir().unwrap();
    let specs = [
        ModelSpec::w1(),
        ModelSpec::w3(),
        ModelSpec::w4(),
        ModelSpec::from_inline(
            "conv2d(8, 3, padding=1) batchnorm2d relu \
             residual(conv2d(8, 3, padding=1) batchnorm2d relu conv2d(8, 3, padding=1) batchnorm2d) relu \
             residual(conv2d(16, 3, stride=2, padding=1) batchnorm2d relu conv2d(16, 3, padding=1) batchnorm2d \
                      | conv2d(16, 1, stride=2) batchnorm2d) relu globalavgpool2d linear(10)",
            &[1, 28, 28],
        )
        .unwrap(),
        ModelSpec::from_inline(
            "conv2d(6, 3, padding=same, dilation=2) leaky_relu(0.2) conv2d(6, 3, groups=3) gelu \
             avgpool2d(2, padding=1) maxpool2d(3, stride=1, padding=1) dropout2d(0.2) adaptiveavgpool2d(2) \
             layernorm(dims=3) sigmoid globalavgpool2d dense(7, tanh) batchnorm1d dropout(0.3) identity \
             dense(5, softmax)",
            &[3, 12, 12],
        )
        .unwrap(),
    ];
    let mut cases = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let mut model = spec.build(&mut seeded_rng(i as u64));
        with_statistics(&mut model, spec.input_shape());
        let path = dir.path().join(format!("model{i}.onnx"));
        onnx::export(&model, spec, &path).unwrap();
        let mut shape = vec![3];
        shape.extend(spec.input_shape());
        let x = Tensor::uniform(&shape, 0.0, 1.0, &mut seeded_rng(7));
        let y = model.forward(&x);
        let case = serde_json::json!({
            "model": path,
            "input": {"shape": x.shape(), "data": x.to_vec()},
            "output": {"shape": y.shape(), "data": y.to_vec()},
            "tolerance": 1e-5,
        });
        let case_path = dir.path().join(format!("case{i}.json"));
        std::fs::write(&case_path, case.to_string()).unwrap();
        cases.push(case_path);
    }
    let Some(results) = check_with_onnx_runtime(&cases) else {
        return;
    };
    assert_eq!(results.len(), specs.len());
    for r in &results {
        assert_eq!(r["input"], onnx::INPUT_NAME);
        assert_eq!(r["output"], onnx::OUTPUT_NAME);
        assert!(r["max_abs_diff"].as_f64().unwrap() <= 1e-5, "{r}");
    }
}

/// The fuzz seeds (`fuzz/make_seeds.py`) cover the patterns import reads, written by the
/// `onnx` package's helpers rather than by neurite or PyTorch: each valid one imports to the
/// expected layers, each near miss is refused.
#[test]
fn the_onnx_fuzz_seeds_import_to_the_expected_layers() {
    let seed = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/onnx").join(name);
    for (name, layers) in [
        ("gemm-mlp", "linear(3) relu linear(2)"),
        ("matmul-add", "dense(3, linear) softmax"),
        (
            "cnn",
            "conv2d(2, 3, padding=1) batchnorm2d leaky_relu(0.1) maxpool2d(2) avgpool2d(2, stride=1, padding=1) flatten linear(3)",
        ),
        (
            "residual",
            "residual(conv2d(2, 1, bias=false) relu) residual(conv2d(3, 1, stride=2, bias=false) | conv2d(3, 1, stride=2, bias=false)) globalavgpool2d",
        ),
        ("gelu-dropout-layernorm", "gelu dropout(0.25) layernorm"),
    ] {
        let (spec, _) = onnx::import(seed(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(spec.layers_text(), layers, "{name}");
    }
    for (name, error) in [
        ("unsupported-op", "operator `Selu` is not supported"),
        ("opset-9", "opset 9 of the default domain"),
        ("truncated", "not a valid ONNX file"),
    ] {
        let err = onnx::import(seed(name)).unwrap_err().to_string();
        assert!(err.contains(error), "{name}: {err}");
    }
}
