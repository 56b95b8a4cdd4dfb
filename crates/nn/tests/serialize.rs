//! Safetensors save/load: round trips, every error case, and files written by PyTorch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use neurite_nn::serialize::{load_into, load_state_dict, read_metadata, save, save_tensors, SerializeError};
use neurite_nn::{Linear, Module, ReLU, Sequential};
use neurite_tensor::{seeded_rng, Tensor};
use safetensors::tensor::{Dtype, TensorView};

fn mlp(sizes: &[usize], seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    let mut model = Sequential::new();
    for (i, w) in sizes.windows(2).enumerate() {
        model = model.add(Linear::new(w[0], w[1], &mut rng));
        if i + 2 < sizes.len() {
            model = model.add(ReLU);
        }
    }
    model
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn params(model: &dyn Module) -> Vec<Vec<f32>> {
    model.parameters().iter().map(Tensor::to_vec).collect()
}

/// A module with a parameter and batch-norm-style buffers, to test buffer names and I64.
struct WithBuffers {
    weight: Tensor,
    running_mean: Tensor,
    count: Tensor,
}

impl WithBuffers {
    fn new(fill: f32, count: f32) -> WithBuffers {
        WithBuffers {
            weight: Tensor::full(&[3], fill).requires_grad_(),
            running_mean: Tensor::full(&[3], fill * 2.0),
            count: Tensor::scalar(count),
        }
    }
}

impl Module for WithBuffers {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        input * &self.weight
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("bn.weight".into(), self.weight.clone())]
    }
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("bn.running_mean".into(), self.running_mean.clone()),
            ("bn.num_batches_tracked".into(), self.count.clone()),
        ]
    }
    fn describe(&self) -> String {
        "WithBuffers".into()
    }
}

/// Writes a raw safetensors file with the crate's own writer.
fn write_raw(path: &Path, tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>) {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn round_trip_reproduces_outputs_bitwise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let mut model = mlp(&[6, 10, 10, 3], 0);
    let meta = HashMap::from([("neurite.architecture".to_string(), "{\"model\":\"test\"}".to_string())]);
    save(&model, &path, &meta).unwrap();

    let mut fresh = mlp(&[6, 10, 10, 3], 1);
    assert_ne!(params(&fresh), params(&model));
    let loaded = load_into(&mut fresh, &path).unwrap();
    assert_eq!(loaded["neurite.architecture"], "{\"model\":\"test\"}");
    assert_eq!(loaded["format"], "pt");
    assert_eq!(read_metadata(&path).unwrap(), loaded);
    let x = Tensor::uniform(&[4, 6], -2.0, 2.0, &mut seeded_rng(9));
    let (a, b) = (model.forward(&x).to_vec(), fresh.forward(&x).to_vec());
    assert_eq!(
        a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );

    let (tensors, meta2) = load_state_dict(&path).unwrap();
    assert_eq!(meta2, loaded);
    let names: Vec<&str> = tensors.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    );
    assert_eq!(tensors["2.weight"].shape(), vec![10, 10]);
    // Loaded parameters stay trainable leaves.
    assert!(fresh.parameters().iter().all(|p| p.requires_grad() && p.is_leaf()));
    // No temporary files are left next to the result.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn buffers_round_trip_and_num_batches_tracked_is_int64() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bn.safetensors");
    save(&WithBuffers::new(1.5, 7.0), &path, &HashMap::new()).unwrap();
    // The header says I64 for the count, F32 for the rest, with a scalar shape as PyTorch has.
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let count = file.tensor("bn.num_batches_tracked").unwrap();
    assert_eq!((count.dtype(), count.shape()), (Dtype::I64, &[][..]));
    assert_eq!(count.data(), 7i64.to_le_bytes());
    assert_eq!(file.tensor("bn.running_mean").unwrap().dtype(), Dtype::F32);

    let mut other = WithBuffers::new(0.0, 0.0);
    load_into(&mut other, &path).unwrap();
    assert_eq!(other.weight.to_vec(), vec![1.5; 3]);
    assert_eq!(other.running_mean.to_vec(), vec![3.0; 3]);
    assert_eq!(other.count.item(), 7.0);
}

#[test]
fn saving_replaces_existing_files_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    save(&mlp(&[2, 2], 0), &path, &HashMap::new()).unwrap();
    save(&mlp(&[2, 3], 0), &path, &HashMap::new()).unwrap();
    assert_eq!(load_state_dict(&path).unwrap().0["0.weight"].shape(), vec![3, 2]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // A failing save (duplicate names) leaves the old file as it was and no temporary file.
    let before = std::fs::read(&path).unwrap();
    let t = Tensor::zeros(&[1]);
    let err = save_tensors(&[("a".into(), t.clone()), ("a".into(), t)], &path, &HashMap::new()).unwrap_err();
    assert!(
        matches!(err, SerializeError::DuplicateName { ref name, .. } if name == "a"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // A directory that does not exist is an I/O error naming the file.
    let missing = dir.path().join("no/such/dir/m.safetensors");
    let err = save(&mlp(&[2, 2], 0), &missing, &HashMap::new()).unwrap_err();
    assert!(matches!(err, SerializeError::Io { .. }));
    assert!(err.to_string().contains("m.safetensors"), "{err}");
}

#[test]
fn the_same_model_and_metadata_save_to_the_same_bytes() {
    // Each HashMap iterates in its own random order; the file must not depend on it.
    let dir = tempfile::tempdir().unwrap();
    let model = mlp(&[3, 4, 2], 0);
    let saved: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            let meta: HashMap<String, String> = (0..9).map(|k| (format!("key{k}"), format!("value {k}"))).collect();
            let path = dir.path().join(format!("m{i}.safetensors"));
            save(&model, &path, &meta).unwrap();
            std::fs::read(&path).unwrap()
        })
        .collect();
    assert!(saved.iter().all(|b| *b == saved[0]), "saves of one model differ");
    // Still a valid file with every tensor and metadata entry, the data 8-byte aligned.
    let path = dir.path().join("m0.safetensors");
    let (tensors, meta) = load_state_dict(&path).unwrap();
    assert_eq!(tensors["2.weight"].to_vec(), model.named_parameters()[2].1.to_vec());
    assert_eq!(meta["key7"], "value 7");
    assert_eq!(meta["format"], "pt");
    let header_len = u64::from_le_bytes(saved[0][..8].try_into().unwrap());
    assert_eq!(header_len % 8, 0);
    let header = std::str::from_utf8(&saved[0][8..8 + header_len as usize]).unwrap();
    assert!(
        header.contains(r#""__metadata__":{"format":"pt","key0":"value 0","key1""#),
        "{header}"
    );
}

/// Loads `path` into an MLP `sizes`, expecting an error; checks the model is untouched.
fn load_err(sizes: &[usize], path: &Path) -> SerializeError {
    let mut model = mlp(sizes, 5);
    let before = params(&model);
    let err = load_into(&mut model, path).unwrap_err();
    assert_eq!(params(&model), before, "a failed load changed the model");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message does not name the file: {message}"
    );
    err
}

#[test]
fn missing_extra_and_misshapen_tensors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.safetensors");
    save(&mlp(&[4, 5, 3], 0), &path, &HashMap::new()).unwrap();

    let err = load_err(&[4, 5, 3, 2], &path);
    assert!(
        matches!(&err, SerializeError::MissingTensor { name, shape, .. } if name == "4.weight" && *shape == [2, 3])
    );
    assert!(err.to_string().contains("`4.weight`"), "{err}");

    let err = load_err(&[4, 5], &path);
    assert!(
        matches!(&err, SerializeError::UnexpectedTensor { name, .. } if name == "2.bias"),
        "{err}"
    );

    let err = load_err(&[4, 6, 3], &path);
    match &err {
        SerializeError::ShapeMismatch {
            name, expected, found, ..
        } => {
            assert_eq!(
                (name.as_str(), expected.as_slice(), found.as_slice()),
                ("0.weight", &[6, 4][..], &[5, 4][..])
            );
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        err.to_string().contains("[5, 4]") && err.to_string().contains("[6, 4]"),
        "{err}"
    );
}

#[test]
fn dtypes_are_converted_or_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dtypes.safetensors");
    let w: Vec<f32> = (0..4).map(|i| i as f32 * 0.5 - 1.0).collect();
    let f64_bytes: Vec<u8> = w.iter().flat_map(|&v| f64::from(v).to_le_bytes()).collect();
    // 1.0, -2.0 as f16 and 0.5 as bf16.
    let f16: Vec<u8> = [0x3c00u16, 0xc000].iter().flat_map(|v| v.to_le_bytes()).collect();
    write_raw(
        &path,
        vec![
            ("0.weight", Dtype::F64, vec![2, 2], f64_bytes.clone()),
            ("0.bias", Dtype::F16, vec![2], f16),
        ],
    );
    let mut model = mlp(&[2, 2], 0);
    load_into(&mut model, &path).unwrap();
    assert_eq!(model.parameters()[0].to_vec(), w);
    assert_eq!(model.parameters()[1].to_vec(), vec![1.0, -2.0]);

    let bf16: Vec<u8> = [0x3f00u16, 0x4040].iter().flat_map(|v| v.to_le_bytes()).collect();
    write_raw(
        &path,
        vec![
            ("0.weight", Dtype::F32, vec![2, 2], f32_bytes(&w)),
            ("0.bias", Dtype::BF16, vec![2], bf16),
        ],
    );
    load_into(&mut model, &path).unwrap();
    assert_eq!(model.parameters()[1].to_vec(), vec![0.5, 3.0]);

    let i32_bytes: Vec<u8> = [1i32, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    write_raw(
        &path,
        vec![
            ("0.weight", Dtype::F32, vec![2, 2], f32_bytes(&w)),
            ("0.bias", Dtype::I32, vec![2], i32_bytes),
        ],
    );
    let err = load_err(&[2, 2], &path);
    assert!(
        matches!(&err, SerializeError::UnsupportedDtype { name, dtype, .. } if name == "0.bias" && dtype == "I32"),
        "{err}"
    );

    // I64 is only accepted for num_batches_tracked.
    let i64_bytes: Vec<u8> = [1i64, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    write_raw(
        &path,
        vec![
            ("0.weight", Dtype::F32, vec![2, 2], f32_bytes(&w)),
            ("0.bias", Dtype::I64, vec![2], i64_bytes),
        ],
    );
    assert!(matches!(
        load_err(&[2, 2], &path),
        SerializeError::UnsupportedDtype { .. }
    ));
}

#[test]
fn truncated_and_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    save(&mlp(&[4, 5, 3], 0), &good, &HashMap::new()).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let path = dir.path().join("bad.safetensors");

    // Cut inside the tensor data, inside the header, and inside the length prefix.
    for (keep, expect_truncated) in [(bytes.len() - 10, true), (20, true), (5, false)] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let err = load_err(&[4, 5, 3], &path);
        if expect_truncated {
            assert!(
                matches!(err, SerializeError::Truncated { actual, .. } if actual == keep as u64),
                "{err}"
            );
            assert!(err.to_string().contains("truncated"), "{err}");
        } else {
            assert!(matches!(err, SerializeError::NotSafetensors { .. }), "{err}");
        }
        assert!(read_metadata(&path).is_err());
    }

    std::fs::write(&path, b"\x89PNG\r\n\x1a\n this is not a model at all").unwrap();
    let err = load_err(&[4, 5, 3], &path);
    assert!(matches!(err, SerializeError::NotSafetensors { .. }), "{err}");
    assert!(err.to_string().contains("not a safetensors file"), "{err}");
    assert!(matches!(
        read_metadata(&path),
        Err(SerializeError::NotSafetensors { .. })
    ));

    let mut json_garbage = 9u64.to_le_bytes().to_vec();
    json_garbage.extend_from_slice(b"not json!");
    std::fs::write(&path, &json_garbage).unwrap();
    assert!(matches!(
        load_err(&[4, 5, 3], &path),
        SerializeError::NotSafetensors { .. }
    ));

    let err = load_err(&[4, 5, 3], &dir.path().join("absent.safetensors"));
    assert!(matches!(err, SerializeError::Io { .. }), "{err}");
}

#[test]
fn loads_a_file_written_by_pytorch_and_reproduces_its_outputs() {
    // Written by crates/nn/scripts/make_torch_mlp.py: nn.Sequential(Linear(20,16), ReLU,
    // Linear(16,4)) after torch.manual_seed(0), saved with safetensors.torch.save_file.
    let path = fixture("torch_mlp_20x16x4.safetensors");
    assert!(
        read_metadata(&path).unwrap().is_empty(),
        "save_file without metadata writes none"
    );
    let mut model = mlp(&[20, 16, 4], 123);
    load_into(&mut model, &path).unwrap();
    let (io, _) = load_state_dict(fixture("torch_mlp_20x16x4_io.safetensors")).unwrap();
    let y = model.forward(&io["input"]).to_vec();
    let expected = io["output"].to_vec();
    assert_eq!(y.len(), 20);
    for (a, b) in y.iter().zip(&expected) {
        assert!((a - b).abs() <= 1e-5, "neurite {a} vs torch {b}");
    }
}

/// Writes a neurite-trained file for the PyTorch check in scripts/make_torch_mlp.py:
/// `NEURITE_EXPORT=/tmp/neurite_mlp.safetensors cargo test -p neurite-nn --test serialize
/// export_for_pytorch -- --ignored`, then `python crates/nn/scripts/make_torch_mlp.py --check
/// /tmp/neurite_mlp.safetensors`.
#[test]
#[ignore = "writes a file for a manual PyTorch check"]
fn export_for_pytorch() {
    let path = std::env::var("NEURITE_EXPORT").unwrap_or_else(|_| "/tmp/neurite_mlp.safetensors".into());
    let mut model = mlp(&[20, 16, 4], 42);
    let x = Tensor::uniform(&[5, 20], -1.0, 1.0, &mut seeded_rng(1));
    let y = model.forward(&x).detach();
    let mut named = model.named_parameters();
    named.push(("input".into(), x));
    named.push(("output".into(), y));
    save_tensors(&named, &path, &HashMap::new()).unwrap();
    println!("wrote {path}");
}

/// A safetensors file from a hand-written JSON header and data bytes.
fn hand_made(path: &Path, header: &str, data: &[u8]) {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn non_finite_weights_are_refused_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.safetensors");
    for (bad, shown) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf"), (f32::NEG_INFINITY, "-inf")] {
        let w = [0.5, -1.0, bad, 2.0];
        write_raw(
            &path,
            vec![
                ("0.weight", Dtype::F32, vec![2, 2], f32_bytes(&w)),
                ("0.bias", Dtype::F32, vec![2], f32_bytes(&[0.0, 0.0])),
            ],
        );
        let err = load_err(&[2, 2], &path);
        assert!(
            matches!(&err, SerializeError::NonFinite { name, index: 2, .. } if name == "0.weight"),
            "{err}"
        );
        assert!(
            err.to_string().contains("`0.weight`") && err.to_string().contains(shown),
            "{err}"
        );
        let err = load_state_dict(&path).unwrap_err();
        assert!(
            matches!(&err, SerializeError::NonFinite { name, .. } if name == "0.weight"),
            "{err}"
        );
    }
    // An F64 value beyond f32's range becomes infinite when converted: refused too.
    let big: Vec<u8> = [1e300f64, 0.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    write_raw(
        &path,
        vec![
            ("0.weight", Dtype::F32, vec![2, 2], f32_bytes(&[0.0; 4])),
            ("0.bias", Dtype::F64, vec![2], big),
        ],
    );
    assert!(matches!(load_err(&[2, 2], &path), SerializeError::NonFinite { name, .. } if name == "0.bias"));
}

#[test]
fn absurd_shapes_and_offsets_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crafted.safetensors");
    let cases: &[(&str, &[u8])] = &[
        // Zero values, but a shape whose other dims overflow any allocation.
        (
            r#"{"0.weight":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#,
            b"",
        ),
        // More values than neurite reads into one tensor.
        (
            r#"{"0.weight":{"dtype":"F32","shape":[4294967296,4],"data_offsets":[0,68719476736]}}"#,
            b"",
        ),
        // A product that overflows u64.
        (
            r#"{"0.weight":{"dtype":"F32","shape":[18446744073709551615,3],"data_offsets":[0,12]}}"#,
            &[0; 12],
        ),
        // An end offset at u64::MAX (8 + header + end overflows).
        (
            r#"{"0.weight":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}}"#,
            &[0; 4],
        ),
        // Offsets that disagree with the shape.
        (
            r#"{"0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,4]}}"#,
            &[0; 16],
        ),
        // Offsets in the wrong order, an unknown dtype, a negative dim.
        (
            r#"{"0.weight":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#,
            &[0; 8],
        ),
        (
            r#"{"0.weight":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#,
            &[0; 1],
        ),
        (
            r#"{"0.weight":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
            &[0; 4],
        ),
    ];
    for (header, data) in cases {
        hand_made(&path, header, data);
        let err = load_err(&[2, 2], &path);
        assert!(
            matches!(
                err,
                SerializeError::TooLarge { .. } | SerializeError::Invalid { .. } | SerializeError::Truncated { .. }
            ),
            "{header}: {err}"
        );
        assert!(read_metadata(&path).is_err(), "{header}");
        assert!(load_state_dict(&path).is_err(), "{header}");
    }
}

#[test]
fn the_header_is_checked_before_any_tensor_data_is_read() {
    // A sparse 6 GB file: the header declares one tensor the model lacks. Loading must fail
    // on the names without reading (or allocating) the data.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.safetensors");
    let len: u64 = 6 << 30;
    let values = len / 4 - 64;
    let header = format!(
        r#"{{"other":{{"dtype":"F32","shape":[{values}],"data_offsets":[0,{}]}}}}"#,
        values * 4
    );
    let mut head = (header.len() as u64).to_le_bytes().to_vec();
    head.extend_from_slice(header.as_bytes());
    std::fs::write(&path, &head).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(head.len() as u64 + values * 4).unwrap();
    let err = load_err(&[2, 2], &path);
    assert!(matches!(err, SerializeError::MissingTensor { .. }), "{err}");
    let header = neurite_nn::serialize::read_header(&path).unwrap();
    assert_eq!(header.tensors["other"].shape, vec![values as usize]);
}
