//! Model specs: the inline form round trip, spec files, Keras JSON (fixtures written by real
//! Keras, `crates/nn/scripts/make_keras_models.py`), shape errors that name the layer, the
//! size budget, summaries, and presets that keep their weights.

use std::path::PathBuf;

use neurite_nn::spec::{format_layers, from_keras_json, parse_layers, parse_spec_file, ModelSpec, SpecError};
use neurite_nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use neurite_tensor::{seeded_rng, Tensor};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn spec(text: &str, input: &[usize]) -> ModelSpec {
    ModelSpec::from_inline(text, input).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str, input: &[usize]) -> String {
    ModelSpec::from_inline(text, input)
        .map(|s| panic!("{text} was accepted as {s}"))
        .unwrap_err()
        .to_string()
}

#[test]
fn the_inline_form_round_trips_every_layer_kind() {
    let text = "conv2d(3, 16, 3, padding=1, bias=false) as stem batchnorm2d(eps=0.001, momentum=0.01) relu \
        conv2d(32, 3x5, stride=2, padding=same, dilation=2, groups=4) leaky_relu(0.2) maxpool2d(2, stride=1, padding=1) \
        avgpool2d(3x2) residual(conv2d(32, 1) as conv1 gelu | conv2d(32, 1)) as block dropout2d(0.1) \
        adaptiveavgpool2d(2x3) layernorm(dims=3, eps=0.0001) globalavgpool2d dropout(0.25) \
        dense(64, relu) dense(32, leaky_relu, slope=0.3, use_bias=false) batchnorm1d sigmoid tanh identity \
        linear(32, 10, bias=false) softmax flatten";
    let layers = parse_layers(text).unwrap();
    assert_eq!(layers.len(), 22);
    let written = format_layers(&layers);
    assert_eq!(parse_layers(&written).unwrap(), layers, "{written}");
    // Defaults are left out, options in a fixed order, names kept.
    assert!(written
        .starts_with("conv2d(3, 16, 3, padding=1, bias=false) as stem batchnorm2d(eps=0.001, momentum=0.01) relu"));
    assert!(written.contains("residual(conv2d(32, 1) as conv1 gelu | conv2d(32, 1)) as block"));
    // Layer kinds are case-insensitive; names are not changed.
    assert_eq!(
        parse_layers("Conv2D(8, 3) as Conv1 ReLU").unwrap(),
        parse_layers("conv2d(8,3) as Conv1 relu").unwrap()
    );
}

/// One arbitrary layer in the inline form (shapes need not chain: this is about the text).
fn layer_text() -> impl Strategy<Value = String> {
    let size = (1usize..6, 1usize..6).prop_map(|(h, w)| if h == w { h.to_string() } else { format!("{h}x{w}") });
    let prob = (0u32..100).prop_map(|p| format!("{}", p as f32 / 100.0));
    prop_oneof![
        (1usize..500, any::<bool>()).prop_map(|(o, b)| format!("linear({o}, bias={b})")),
        (1usize..64, size.clone(), 1usize..3, 0usize..3)
            .prop_map(|(o, k, s, p)| format!("conv2d({o}, {k}, stride={s}, padding={p})")),
        (size.clone(), 1usize..4).prop_map(|(k, s)| format!("maxpool2d({k}, stride={s})")),
        size.clone().prop_map(|k| format!("avgpool2d({k})")),
        prob.clone().prop_map(|p| format!("dropout({p})")),
        prob.prop_map(|p| format!("dropout2d({p})")),
        (1usize..100).prop_map(|u| format!("dense({u}, tanh)")),
        Just("relu".to_string()),
        Just("batchnorm2d".to_string()),
        Just("flatten".to_string()),
        Just("globalavgpool2d".to_string()),
    ]
}

proptest! {
    #[test]
    fn formatting_then_parsing_gives_the_same_layers(parts in prop::collection::vec(layer_text(), 1..12), nest in any::<bool>()) {
        let mut text = parts.join(" ");
        if nest {
            text = format!("relu residual({text} | {}) as block", parts[0]);
        }
        let layers = parse_layers(&text).unwrap();
        prop_assert_eq!(parse_layers(&format_layers(&layers)).unwrap(), layers);
    }
}

#[test]
fn syntax_errors_name_the_layer_and_what_is_wrong() {
    let cases = [
        (
            "conv2d(32,3) relu convv",
            "layer 2: unknown layer `convv`; expected one of linear,",
        ),
        (
            "conv2d(32)",
            "layer 0: conv2d needs out_channels and kernel_size: conv2d(OUT, K) or conv2d(IN, OUT, K)",
        ),
        (
            "conv2d(32,3,strid=2)",
            "layer 0: conv2d has no option `strid`; expected one of stride, padding, dilation, groups, bias",
        ),
        ("conv2d(32,3,stride=0)", "layer 0: stride must be at least 1, got `0`"),
        (
            "conv2d(32,3,padding=huge)",
            "layer 0: padding must be a whole number, got `huge`",
        ),
        (
            "relu linear(-3)",
            "layer 1: out_features must be a whole number, got `-3`",
        ),
        ("dropout(1.5)", "layer 0: p must be in [0, 1), got 1.5"),
        ("dropout(0.1, p=0.2)", "layer 0: the probability is given twice"),
        (
            "linear(10, bias=maybe)",
            "layer 0: bias must be true or false, got `maybe`",
        ),
        (
            "linear(bias=false, 10)",
            "layer 0: positional argument `10` after a `key=value` option",
        ),
        (
            "linear(10, bias=false, bias=true)",
            "layer 0: option `bias` given twice",
        ),
        ("relu(3)", "layer 0: relu takes at most 0 positional arguments, got 1"),
        ("flatten(start=2)", "layer 0: flatten takes no option, got `start`"),
        ("linear(10", "layer 0: the argument list is not closed with `)`"),
        (
            "linear(10) as 3x",
            "layer 0: `as 3x`: a layer name is letters, digits and `_`, not starting with a digit",
        ),
        ("linear(10) as", "layer 0: `as` needs a name after it"),
        ("residual()", "layer 0: a residual block needs at least one layer"),
        ("residual(relu relu", "layer 0: expected `)` before the end"),
        ("relu ) relu", "byte 5: unexpected `)`"),
        ("relu; relu", "byte 4: unexpected character `;`"),
        ("dense(10, swish)", "layer 0: unknown activation `swish`"),
    ];
    for (text, want) in cases {
        let got = parse_layers(text).unwrap_err().to_string();
        assert!(got.starts_with(want), "{text}:\n got  {got}\n want {want}");
    }
    let deep = format!("{}relu{}", "residual(".repeat(20), ")".repeat(20));
    assert!(parse_layers(&deep)
        .unwrap_err()
        .to_string()
        .contains("nest at most 16 deep"));
    assert!(matches!(
        parse_layers(&"relu ".repeat(10_001)),
        Err(SpecError::Syntax { .. })
    ));
    assert!(matches!(
        parse_layers(&" ".repeat(2 << 20)),
        Err(SpecError::TooLong { .. })
    ));
}

#[test]
fn shapes_that_do_not_chain_are_refused_naming_the_layer_and_both_shapes() {
    let mnist = [1, 28, 28];
    assert_eq!(
        err(
            "conv2d(32,3) relu conv2d(64,3) relu maxpool2d(2) flatten linear(8320, 128) relu linear(10)",
            &mnist
        ),
        "layer 6 (Linear, in_features 8320) gets [N, 9216]: expected [N, 8320]"
    );
    assert_eq!(
        err("conv2d(3, 8, 3) flatten linear(10)", &mnist),
        "layer 0 (Conv2d, in_channels 3) gets [N, 1, 28, 28]: expected 3 channels"
    );
    assert_eq!(
        err("conv2d(32,3) relu linear(10)", &mnist),
        "layer 2 (Linear) gets [N, 32, 26, 26]: expected a flat input [N, features]: put flatten before it"
    );
    assert_eq!(
        err("flatten conv2d(8, 3)", &mnist),
        "layer 1 (Conv2d) gets [N, 784]: expected images [N, C, H, W]"
    );
    assert_eq!(
        err("conv2d(8, 29) flatten linear(10)", &mnist),
        "layer 0 (Conv2d, kernel_size 29x29) gets [N, 1, 28, 28]: the (dilated) kernel is larger than the padded image"
    );
    assert_eq!(
        err("conv2d(6, 3, groups=4) flatten linear(10)", &[4, 8, 8]),
        "layer 0 (Conv2d, groups 4) gets [N, 4, 8, 8]: 4 input and 6 output channels must both divide by 4 groups"
    );
    assert_eq!(
        err("maxpool2d(2, padding=2)", &mnist),
        "layer 0 (MaxPool2d, padding 2x2) gets [N, 1, 28, 28]: padding must be at most half the window"
    );
    assert_eq!(
        err("conv2d(3, 1) batchnorm1d", &[3, 4, 4]),
        "layer 1 (BatchNorm1d) gets [N, 3, 4, 4]: expected [N, F] or [N, C, L] (batchnorm2d is for images)"
    );
    assert!(err("conv2d(8, 3, padding=1) residual(conv2d(16, 3, stride=2, padding=1))", &mnist).starts_with(
        "layer 1 (Residual) gets [N, 8, 28, 28]: the body gives [16, 14, 14] but the shortcut (the input) gives [8, 28, 28]"
    ));
    assert_eq!(err("relu as a relu as a", &[4]), "layer name `a` is used twice");
    // Inside a block, names carry the block's prefix.
    assert_eq!(
        err(
            "conv2d(8,3) residual(relu flatten linear(99, 8) as fc) as layer1",
            &mnist
        ),
        "layer layer1.fc (Linear, in_features 99) gets [N, 5408]: expected [N, 99]"
    );
}

#[test]
fn absurd_sizes_are_refused_before_anything_is_allocated() {
    let cases = [
        ("linear(100000) linear(100000)", vec![784]),
        ("conv2d(65536, 3) flatten linear(10)", vec![65536, 8, 8]),
        ("conv2d(100000, 1)", vec![1, 1000, 1000]),
        ("adaptiveavgpool2d(100000x100000)", vec![1, 8, 8]),
        ("linear(10)", vec![usize::MAX]),
    ];
    for (text, input) in cases {
        let got = ModelSpec::new("x", &input, parse_layers(text).unwrap()).unwrap_err();
        assert!(
            matches!(got, SpecError::TooLarge { .. } | SpecError::OutputTooLarge { .. }),
            "{text}: {got}"
        );
        assert!(got.to_string().contains("more than"), "{got}");
    }
}

#[test]
fn residual_blocks_and_names_give_torchvision_state_dict_keys() {
    let s = spec(
        "conv2d(8, 3, padding=1, bias=false) as conv1 batchnorm2d as bn1 relu \
         residual(conv2d(8, 3, padding=1) as conv1 batchnorm2d as bn1 relu conv2d(8, 3, padding=1) as conv2) as layer1 relu \
         residual(conv2d(16, 3, stride=2, padding=1) as conv1 | conv2d(16, 1, stride=2, bias=false) batchnorm2d) as layer2 \
         globalavgpool2d linear(10) as fc",
        &[3, 16, 16],
    );
    let names: Vec<String> = s.tensor_shapes().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "conv1.weight",
            "bn1.weight",
            "bn1.bias",
            "layer1.conv1.weight",
            "layer1.conv1.bias",
            "layer1.bn1.weight",
            "layer1.bn1.bias",
            "layer1.conv2.weight",
            "layer1.conv2.bias",
            "layer2.conv1.weight",
            "layer2.conv1.bias",
            "layer2.downsample.0.weight",
            "layer2.downsample.1.weight",
            "layer2.downsample.1.bias",
            "fc.weight",
            "fc.bias",
            "bn1.running_mean",
            "bn1.running_var",
            "bn1.num_batches_tracked",
            "layer1.bn1.running_mean",
            "layer1.bn1.running_var",
            "layer1.bn1.num_batches_tracked",
            "layer2.downsample.1.running_mean",
            "layer2.downsample.1.running_var",
            "layer2.downsample.1.num_batches_tracked",
        ]
    );
    let mut model = s.build(&mut seeded_rng(0));
    let mut built: Vec<(String, Vec<usize>)> = model
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.shape()))
        .collect();
    built.extend(model.named_buffers().into_iter().map(|(n, t)| (n, t.shape())));
    assert_eq!(built, s.tensor_shapes());
    assert_eq!(model.forward(&Tensor::zeros(&[2, 3, 16, 16])).shape(), vec![2, 10]);
}

#[test]
fn presets_keep_their_weights() {
    // The layer-by-layer construction neurite used before specs existed.
    let mut rng = seeded_rng(7);
    let mut old = Sequential::new()
        .add(Conv2d::new(1, 32, 3, &mut rng))
        .add(ReLU)
        .add(Conv2d::new(32, 64, 3, &mut rng))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(9216, 128, &mut rng))
        .add(ReLU)
        .add(Linear::new(128, 10, &mut rng));
    let mut new = ModelSpec::w3().build(&mut seeded_rng(7));
    let (a, b) = (old.named_parameters(), new.named_parameters());
    assert_eq!(a.len(), b.len());
    for ((na, ta), (nb, tb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert_eq!(ta.to_vec(), tb.to_vec(), "{na}");
    }
    let x = Tensor::uniform(&[2, 1, 28, 28], 0.0, 1.0, &mut seeded_rng(1));
    assert_eq!(old.forward(&x).to_vec(), new.forward(&x).to_vec());
}

#[test]
fn metadata_round_trips_any_spec() {
    let s = spec(
        "conv2d(8, 3, padding=same) batchnorm2d relu residual(conv2d(8, 3, padding=1) as c) as b globalavgpool2d dense(10, softmax)",
        &[3, 12, 12],
    )
    .with_name("my net");
    let back = ModelSpec::from_metadata(&s.to_metadata()).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.name(), "my net");
    assert!(s.ends_in_softmax());
    assert!(!s.logits_spec().ends_in_softmax());
    let with_layer = spec("linear(4) softmax", &[3]);
    assert_eq!(with_layer.logits_spec().layers().len(), 1);
    assert_eq!(with_layer.logits_spec().output_shape(), vec![4]);
    assert_eq!(s.logits_spec().tensor_shapes(), s.tensor_shapes());
}

#[test]
fn summaries_count_like_keras() {
    let s = spec("conv2d(8, 3) batchnorm2d relu flatten linear(10)", &[1, 6, 6]).summary();
    // conv 8·9+8 = 80; batch norm 2·8 trainable + 2·8 running statistics; linear 8·16·10+10.
    assert_eq!((s.trainable, s.non_trainable), (80 + 16 + 1290, 16));
    assert_eq!(s.rows[1].params, 32);
    assert_eq!(s.rows[3].output_shape, "[N, 128]");
    let text = s.to_string();
    assert!(text.contains("Total params: 1,402 (5.48 KB)"), "{text}");
    assert!(text.contains("Non-trainable params: 16 (64.00 B)"), "{text}");
    let block = spec("residual(conv2d(1, 3, padding=1) as a relu) as r flatten", &[1, 4, 4]).summary();
    assert_eq!(block.rows[0].name, "r");
    assert_eq!(block.rows[0].params, 10);
    assert_eq!((block.rows[1].name.as_str(), block.rows[1].depth), ("r.a", 1));
}

#[test]
fn spec_files_in_toml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("small.toml");
    std::fs::write(
        &toml,
        r#"
# A small ResNet-style network.
input = [3, 16, 16]
layers = [
    "conv2d(8, 3, padding=1, bias=false) as conv1", "batchnorm2d as bn1", "relu",
    { name = "layer1", residual = ["conv2d(8, 3, padding=1) as conv1", "relu"] },
    { residual = "conv2d(16, 3, stride=2, padding=1) as conv1", downsample = ["conv2d(16, 1, stride=2)"] },
    "relu globalavgpool2d",
    "linear(10) as fc",
]
"#,
    )
    .unwrap();
    let s = parse_spec_file(&toml, &[1, 28, 28]).unwrap();
    assert_eq!(s.name(), "small");
    assert_eq!(s.input_shape(), [3, 16, 16]);
    assert_eq!(s.output_shape(), vec![10]);
    assert!(s.tensor_shapes().iter().any(|(n, _)| n == "4.downsample.0.weight"));
    let json = dir.path().join("mlp.json");
    std::fs::write(
        &json,
        r#"{"name": "two-layer", "layers": "linear(64) relu linear(10)"}"#,
    )
    .unwrap();
    let m = parse_spec_file(&json, &[1, 28, 28]).unwrap();
    assert_eq!((m.name(), m.input_shape()), ("two-layer", &[784][..]));

    let bad = [
        (
            "unknown.toml",
            "lauers = [\"relu\"]",
            "unknown key `lauers`; expected name, input, layers",
        ),
        ("syntax.toml", "layers = [", "not valid TOML"),
        (
            "layer.toml",
            "layers = [\"relu\", \"conv9\"]",
            "`layers[1]`: layer 0: unknown layer `conv9`",
        ),
        (
            "block.toml",
            "layers = [{ residual = [], name = \"b\" }]",
            "a residual block needs at least one layer",
        ),
        (
            "blockkey.toml",
            "layers = [{ body = [\"relu\"] }]",
            "unknown key `body`",
        ),
        (
            "input.json",
            r#"{"input": "28x28", "layers": "relu"}"#,
            "expected a list of sizes",
        ),
        (
            "shape.json",
            r#"{"layers": "conv2d(8, 3) linear(10)"}"#,
            "layer 1 (Linear) gets [N, 8, 26, 26]",
        ),
    ];
    for (name, text, want) in bad {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let got = parse_spec_file(&path, &[1, 28, 28]).unwrap_err().to_string();
        assert!(got.starts_with(&path.display().to_string()), "{got}");
        assert!(got.contains(want), "{name}: {got}");
    }
    let missing = parse_spec_file(&dir.path().join("none.toml"), &[1])
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("none.toml") && missing.contains("No such file"),
        "{missing}"
    );
}

#[test]
fn keras_json_written_by_keras_gives_keras_parameter_counts() {
    let counts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("keras/params.json")).unwrap()).unwrap();
    let mut checked = 0;
    for name in ["mnist_mlp", "mnist_convnet", "cifar_bn", "built_mlp"] {
        let s = parse_spec_file(&fixture(&format!("keras/{name}.json")), &[1, 28, 28]).unwrap();
        let keras = counts[name].as_u64().unwrap();
        assert_eq!(s.summary().total(), keras, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 4);
    let convnet = parse_spec_file(&fixture("keras/mnist_convnet.json"), &[1, 28, 28]).unwrap();
    assert_eq!(convnet.input_shape(), [1, 28, 28]);
    assert!(convnet.ends_in_softmax());
    assert_eq!(
        convnet.parameter_shapes()[0],
        ("conv2d.weight".to_string(), vec![32, 1, 3, 3])
    );
    let cifar = parse_spec_file(&fixture("keras/cifar_bn.json"), &[1, 28, 28]).unwrap();
    assert_eq!(cifar.input_shape(), [3, 32, 32]);
    assert!(cifar
        .layers_text()
        .contains("batchnorm2d(eps=0.001, momentum=0.01) as batch_normalization"));
}

#[test]
fn unsupported_keras_models_are_refused_naming_the_layer() {
    for (name, want) in [
        (
            "unsupported_conv1d",
            "Keras layer 1 `conv1d` (Conv1D): this layer is not supported",
        ),
        (
            "unsupported_regularizer",
            "(Dense): option `kernel_regularizer` is not supported",
        ),
        (
            "unsupported_same_stride2",
            "(Conv2d, padding same) gets [N, 1, 28, 28]: padding=same needs stride 1",
        ),
    ] {
        let got = parse_spec_file(&fixture(&format!("keras/{name}.json")), &[1, 28, 28])
            .unwrap_err()
            .to_string();
        assert!(got.contains(want), "{name}: {got}");
    }
    let functional = r#"{"class_name": "Functional", "config": {"layers": []}}"#;
    assert!(from_keras_json(functional, &[1])
        .unwrap_err()
        .to_string()
        .contains("neurite reads Keras `Sequential` models"));
}

#[test]
fn every_layer_kind_builds_into_the_shapes_inference_reports() {
    let specs = [
        (
            "conv2d(4, 3, padding=same, bias=false) batchnorm2d leaky_relu(0.1) conv2d(8, 3, stride=2, dilation=1, groups=4) \
             dropout2d(0.2) maxpool2d(2, stride=1, padding=1) avgpool2d(2) layernorm(dims=3) gelu \
             residual(conv2d(8, 3, padding=1, groups=8) as dw relu | identity) as block adaptiveavgpool2d(2x1) \
             flatten dropout(0.1) batchnorm1d dense(6, tanh) linear(5, bias=false) sigmoid softmax",
            vec![4, 12, 12],
        ),
        ("conv2d(6, 1) globalavgpool2d layernorm dense(3, softmax)", vec![2, 5, 5]),
    ];
    for (text, input) in specs {
        let s = spec(text, &input);
        let mut model = s.build(&mut seeded_rng(3));
        let params: Vec<(String, Vec<usize>)> = model
            .named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.shape()))
            .collect();
        assert_eq!(params, s.parameter_shapes(), "{text}");
        let buffers: Vec<(String, Vec<usize>)> =
            model.named_buffers().into_iter().map(|(n, t)| (n, t.shape())).collect();
        assert_eq!(buffers, s.buffer_shapes(), "{text}");
        let mut shape = vec![2];
        shape.extend(&input);
        let x = Tensor::uniform(&shape, -1.0, 1.0, &mut seeded_rng(4));
        let y = model.forward(&x);
        let mut want = vec![2];
        want.extend(s.output_shape());
        assert_eq!(y.shape(), want, "{text}");
        y.sum().backward();
        for (name, p) in model.named_parameters() {
            assert!(p.grad().is_some(), "{text}: {name} has no gradient");
        }
        model.set_training(false);
        assert_eq!(model.forward(&x).shape(), want);
    }
}
