//! The benchmark architectures: PyTorch state_dict names and shapes, forward shapes, metadata
//! round trips and CLI name parsing.

use neurite_nn::spec::{ModelSpec, SpecError};
use neurite_nn::{cross_entropy, Module};
use neurite_tensor::{seeded_rng, Tensor};

fn names_and_shapes(spec: &ModelSpec) -> Vec<(String, Vec<usize>)> {
    spec.build(&mut seeded_rng(0))
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.shape()))
        .collect()
}

fn owned(v: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
    v.iter().map(|(n, s)| (n.to_string(), s.to_vec())).collect()
}

#[test]
fn state_dict_names_match_pytorch() {
    let w1 = owned(&[
        ("0.weight", &[128, 784]),
        ("0.bias", &[128]),
        ("2.weight", &[10, 128]),
        ("2.bias", &[10]),
    ]);
    let w2 = owned(&[
        ("0.weight", &[512, 784]),
        ("0.bias", &[512]),
        ("2.weight", &[512, 512]),
        ("2.bias", &[512]),
        ("4.weight", &[10, 512]),
        ("4.bias", &[10]),
    ]);
    let w3 = owned(&[
        ("0.weight", &[32, 1, 3, 3]),
        ("0.bias", &[32]),
        ("2.weight", &[64, 32, 3, 3]),
        ("2.bias", &[64]),
        ("6.weight", &[128, 9216]),
        ("6.bias", &[128]),
        ("8.weight", &[10, 128]),
        ("8.bias", &[10]),
    ]);
    let w4 = owned(&[
        ("0.weight", &[32, 3, 3, 3]),
        ("0.bias", &[32]),
        ("3.weight", &[64, 32, 3, 3]),
        ("3.bias", &[64]),
        ("7.weight", &[128, 4096]),
        ("7.bias", &[128]),
        ("9.weight", &[10, 128]),
        ("9.bias", &[10]),
    ]);
    for (spec, want) in [
        (ModelSpec::w1(), w1),
        (ModelSpec::w2(), w2),
        (ModelSpec::w3(), w3),
        (ModelSpec::w4(), w4),
    ] {
        assert_eq!(names_and_shapes(&spec), want, "{spec}");
        assert_eq!(spec.parameter_shapes(), want, "{spec} parameter_shapes");
    }
}

#[test]
fn models_run_forward_and_backward() {
    for spec in [ModelSpec::w1(), ModelSpec::w3(), ModelSpec::w4()] {
        let mut model = spec.build(&mut seeded_rng(1));
        let mut shape = vec![3];
        shape.extend(spec.input_shape());
        let x = Tensor::uniform(&shape, 0.0, 1.0, &mut seeded_rng(2));
        let logits = model.forward(&x);
        assert_eq!(logits.shape(), vec![3, spec.classes()], "{spec}");
        cross_entropy(&logits, &[1, 2, 3]).backward();
        for (name, p) in model.named_parameters() {
            let g = p.grad().unwrap_or_else(|| panic!("{spec}: {name} has no gradient"));
            assert_eq!(g.shape(), p.shape());
        }
    }
}

#[test]
fn names_inputs_and_metadata() {
    let cases = [
        (ModelSpec::w1(), "mlp", vec![784]),
        (ModelSpec::w2(), "mlp-wide", vec![784]),
        (ModelSpec::w3(), "cnn", vec![1, 28, 28]),
        (ModelSpec::w4(), "cifar-cnn", vec![3, 32, 32]),
    ];
    for (spec, name, input) in cases {
        assert_eq!(spec.name(), name);
        assert_eq!(spec.input_shape(), input);
        assert_eq!(ModelSpec::preset(name, None, &input, 10).unwrap(), spec);
        assert_eq!(ModelSpec::from_metadata(&spec.to_metadata()).unwrap(), spec);
    }
    assert_eq!(
        ModelSpec::w1().to_metadata(),
        r#"{"format":"neurite.spec/1","name":"mlp","input":[784],"layers":"linear(128) relu linear(10)"}"#
    );
    assert_eq!(
        ModelSpec::w3().layers_text(),
        "conv2d(32, 3) relu conv2d(64, 3) relu maxpool2d(2) flatten linear(128) relu linear(10)"
    );
    // Files saved before specs existed still load, as the same presets.
    for (old, spec) in [
        (
            r#"{"model":"mlp","input":[784],"hidden":[128],"classes":10}"#,
            ModelSpec::w1(),
        ),
        (r#"{"model":"cnn","input":[1,28,28],"classes":10}"#, ModelSpec::w3()),
        (
            r#"{"model":"cifar-cnn","input":[3,32,32],"classes":10}"#,
            ModelSpec::w4(),
        ),
    ] {
        assert_eq!(ModelSpec::from_metadata(old).unwrap(), spec, "{old}");
    }
    // Other data sets: CIFAR-100 with the CIFAR network, Fashion-MNIST with a custom MLP.
    let c100 = ModelSpec::preset("cifar-cnn", None, &[3, 32, 32], 100).unwrap();
    assert_eq!(c100.parameter_shapes().last().unwrap().1, vec![100]);
    let mlp = ModelSpec::preset("mlp", Some(&[256, 128]), &[1, 28, 28], 10).unwrap();
    assert_eq!(mlp.input_shape(), [784]);
    assert_eq!(mlp.layers_text(), "linear(256) relu linear(128) relu linear(10)");
    assert_eq!(ModelSpec::from_metadata(&mlp.to_metadata()).unwrap(), mlp);
}

#[test]
fn bad_names_inputs_and_metadata_are_errors() {
    let err = |r: Result<ModelSpec, SpecError>| r.unwrap_err().to_string();
    assert!(matches!(
        ModelSpec::preset("resnet", None, &[784], 10),
        Err(SpecError::UnknownPreset(_))
    ));
    assert_eq!(
        err(ModelSpec::preset("cnn", None, &[784], 10)),
        "model `cnn`: expected images [C, H, W], got [784]"
    );
    assert_eq!(
        err(ModelSpec::preset("cnn", None, &[1, 4, 4], 10)),
        "layer 2 (Conv2d, kernel_size 3x3) gets [N, 32, 2, 2]: the (dilated) kernel is larger than the padded image"
    );
    assert!(err(ModelSpec::preset("cnn", Some(&[64]), &[1, 28, 28], 10)).contains("apply to mlp only"));
    assert!(err(ModelSpec::preset("mlp", Some(&[]), &[784], 10)).contains("hidden layer sizes []"));
    assert!(err(ModelSpec::preset("mlp", None, &[784], 0)).contains("at least one class"));
    for bad in [
        "",
        "{",
        r#"{"model":"mlp"}"#,
        r#"{"model":"mlp","input":[784],"classes":10}"#,
        r#"{"model":"cnn","input":[1,28,28]}"#,
        r#"{"model":"cnn","input":[1,28,28],"classes":10} x"#,
        r#"{"model":"cnn","input":[1,28,28],"classes":10,"extra":1}"#,
        r#"{"format":"neurite.spec/2","name":"x","input":[4],"layers":"linear(2)"}"#,
        r#"{"format":"neurite.spec/1","name":"x","input":[4],"layers":"linear(2) conv9"}"#,
        r#"{"format":"neurite.spec/1","name":"x","input":[4],"layers":""}"#,
    ] {
        assert!(ModelSpec::from_metadata(bad).is_err(), "{bad}");
    }
    assert!(err(ModelSpec::preset("resnet", None, &[784], 10)).contains("unknown model `resnet`"));
}

#[test]
fn absurd_metadata_is_refused_without_overflow_or_allocation() {
    let huge = usize::MAX.to_string();
    let cases = [
        format!(r#"{{"model":"mlp","input":[{huge},{huge}],"hidden":[8],"classes":10}}"#),
        format!(r#"{{"model":"mlp","input":[784],"hidden":[{huge}],"classes":10}}"#),
        r#"{"model":"mlp","input":[784],"hidden":[4000000],"classes":10}"#.to_string(),
        format!(r#"{{"model":"mlp","input":[784],"hidden":[8],"classes":{huge}}}"#),
        format!(r#"{{"model":"cnn","input":[1,{huge},{huge}],"classes":10}}"#),
        format!(r#"{{"model":"cifar-cnn","input":[3,{huge},64],"classes":10}}"#),
        r#"{"model":"cnn","input":[1,100000,100000],"classes":10}"#.to_string(),
        format!(
            r#"{{"model":"mlp","input":[784],"hidden":[{}],"classes":10}}"#,
            vec!["1"; 2000].join(",")
        ),
        format!(r#"{{"format":"neurite.spec/1","name":"x","input":[{huge}],"layers":"linear(10)"}}"#),
        r#"{"format":"neurite.spec/1","name":"x","input":[3,64,64],"layers":"conv2d(100000, 99)"}"#.to_string(),
        r#"{"format":"neurite.spec/1","name":"x","input":[1,1000,1000],"layers":"conv2d(4000, 1)"}"#.to_string(),
        format!(
            r#"{{"format":"neurite.spec/1","name":"x","input":[100],"layers":"{}"}}"#,
            "linear(40000) ".repeat(3)
        ),
    ];
    for text in &cases {
        let err = ModelSpec::from_metadata(text).unwrap_err();
        assert!(
            matches!(
                err,
                SpecError::TooLarge { .. }
                    | SpecError::OutputTooLarge { .. }
                    | SpecError::Preset { .. }
                    | SpecError::Shape { .. }
                    | SpecError::File { .. }
            ),
            "{text}: {err}"
        );
    }
    // The bound leaves real models alone.
    assert!(ModelSpec::from_metadata(r#"{"model":"mlp","input":[784],"hidden":[4096,4096],"classes":10}"#).is_ok());
}
