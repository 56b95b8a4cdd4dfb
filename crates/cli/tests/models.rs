//! Any architecture through the binary: `train --layers`, `--model spec.toml` and
//! `--model keras.json` train on the embedded MNIST sample, then `eval` and `predict` work
//! with no model flags; `summary` prints Keras' parameter totals; bad specs are one-line
//! usage errors that name the layer and leave nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn neurite(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(args)
        .current_dir(cwd)
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn keras_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../nn/tests/fixtures/keras")
        .join(name)
}

/// The test accuracy `eval` prints, in percent.
fn eval_accuracy(dir: &Path, weights: &str) -> f64 {
    let o = neurite(&["eval", "--weights", weights], dir);
    assert!(o.status.success(), "eval: {}", text(&o.stderr));
    let out = text(&o.stdout);
    let after = out.split("accuracy ").nth(1).unwrap_or_else(|| panic!("{out}"));
    after.split('%').next().unwrap().trim().parse().unwrap()
}

fn predict_seven(dir: &Path, weights: &str) {
    let image = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/images/mnist-7.png");
    let o = neurite(&["predict", "--weights", weights, image.to_str().unwrap()], dir);
    assert!(o.status.success(), "predict: {}", text(&o.stderr));
    assert!(text(&o.stdout).contains("mnist-7.png: 7 "), "{}", text(&o.stdout));
}

fn train(dir: &Path, args: &[&str]) {
    let mut all = vec!["train", "--epochs", "1", "--optimizer", "adam"];
    all.extend_from_slice(args);
    let o = neurite(&all, dir);
    assert!(o.status.success(), "train {args:?}: {}", text(&o.stderr));
}

#[test]
fn an_inline_spec_trains_and_its_model_evaluates_with_no_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train(
        d,
        &[
            "--layers",
            "conv2d(8, 3) batchnorm2d relu maxpool2d(2) dropout(0.1) flatten linear(32) relu linear(10)",
            "--out",
            "inline",
        ],
    );
    assert!(eval_accuracy(d, "inline/model.safetensors") > 85.0);
    predict_seven(d, "inline/model.safetensors");
    let o = neurite(&["summary", "inline/model.safetensors"], d);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let bn = out
        .lines()
        .find(|l| l.starts_with("1 (BatchNorm2d)"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(bn.contains("[N, 8, 26, 26]") && bn.ends_with(" 32"), "{bn}");
    // conv 80 + batch norm 16 + 16 running statistics + linear 1352·32+32 + 330.
    assert!(out.contains("Total params: 43,738"), "{out}");
    assert!(out.contains("Non-trainable params: 16"), "{out}");
}

#[test]
fn a_spec_file_and_keras_json_train_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("small.toml"),
        "layers = [\"conv2d(8, 3, padding=1) as conv1\", \"relu\",\n  { name = \"block\", residual = [\"conv2d(8, 3, padding=1) as conv1\", \"relu\"] },\n  \"maxpool2d(2) flatten linear(10) as fc\"]\n",
    )
    .unwrap();
    train(d, &["--model", "small.toml", "--out", "toml"]);
    assert!(eval_accuracy(d, "toml/model.safetensors") > 85.0);
    predict_seven(d, "toml/model.safetensors");

    let keras = keras_fixture("mnist_mlp.json");
    let o = neurite(
        &[
            "train",
            "--epochs",
            "1",
            "--optimizer",
            "adam",
            "--model",
            keras.to_str().unwrap(),
            "--out",
            "keras",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("ends in softmax"), "{}", text(&o.stdout));
    assert!(eval_accuracy(d, "keras/model.safetensors") > 85.0);
    predict_seven(d, "keras/model.safetensors");
    // The saved file holds Keras' names.
    let o = neurite(&["summary", "keras/model.safetensors"], d);
    assert!(text(&o.stdout).contains("dense_1 (Dense)"), "{}", text(&o.stdout));
}

#[test]
fn summary_prints_keras_totals_for_every_committed_keras_model() {
    let dir = tempfile::tempdir().unwrap();
    let counts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(keras_fixture("params.json")).unwrap()).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(keras_fixture("")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if name == "params" || name.starts_with("unsupported_") {
            continue;
        }
        let o = neurite(&["summary", path.to_str().unwrap()], dir.path());
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let total = counts[&name].as_u64().unwrap();
        let grouped = total
            .to_string()
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(",");
        assert!(
            text(&o.stdout).contains(&format!("Total params: {grouped} ")),
            "{name}: {}",
            text(&o.stdout)
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
    for preset in ["mlp", "mlp-wide", "cnn", "cifar-cnn"] {
        let o = neurite(&["summary", preset], dir.path());
        assert!(o.status.success(), "{preset}: {}", text(&o.stderr));
    }
}

#[test]
fn bad_specs_are_one_line_errors_naming_the_layer_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.toml"), "layers = [\"relu\", \"conv2d(8)\"]").unwrap();
    let conv1d = keras_fixture("unsupported_conv1d.json");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--layers", "conv2d(8,3) relu convv"],
            "--layers: layer 2: unknown layer `convv`",
        ),
        (
            vec!["--layers", "conv2d(8,3,strde=2) flatten linear(10)"],
            "layer 0: conv2d has no option `strde`",
        ),
        (
            vec!["--layers", "conv2d(8,3) relu linear(10)"],
            "layer 2 (Linear) gets [N, 8, 26, 26]",
        ),
        (
            vec!["--layers", "flatten linear(700, 10)"],
            "layer 1 (Linear, in_features 700) gets [N, 784]",
        ),
        (
            vec!["--layers", "flatten linear(60000) linear(60000) linear(10)"],
            "more than the 2147483648 a model may have",
        ),
        (
            vec!["--layers", "flatten linear(5)"],
            "the model outputs [N, 5] but the data set has 10 classes",
        ),
        (
            vec!["--model", "bad.toml"],
            "bad.toml: `layers[1]`: layer 0: conv2d needs out_channels and kernel_size",
        ),
        (vec!["--model", "missing.toml"], "missing.toml"),
        (vec!["--model", "resnet"], "unknown model `resnet`"),
        (
            vec!["--model", conv1d.to_str().unwrap()],
            "Keras layer 1 `conv1d` (Conv1D): this layer is not supported",
        ),
        (
            vec!["--model", "cnn", "--hidden", "64"],
            "--hidden applies to the mlp presets",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["train", "--epochs", "1", "--out", "never"];
        all.extend(&args);
        let o = neurite(&all, d);
        let err: Vec<String> = text(&o.stderr)
            .lines()
            .filter(|l| !l.starts_with("note: "))
            .map(str::to_string)
            .collect();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err:?}");
        assert_eq!(err.len(), 1, "{args:?}: {err:?}");
        assert!(err[0].contains(want), "{args:?}: {}", err[0]);
        assert!(!d.join("never").exists(), "{args:?} created --out");
    }
}

#[test]
fn onnx_export_and_import_through_the_binary_keep_the_accuracy_and_refuse_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train(
        d,
        &[
            "--layers",
            "conv2d(4, 3) batchnorm2d relu maxpool2d(2) flatten linear(10)",
            "--out",
            "run",
        ],
    );
    let export = ["export", "--onnx", "m.onnx", "--weights", "run/model.safetensors"];
    let o = neurite(&export, d);
    assert!(o.status.success(), "export: {}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("input `input` [batch, 1, 28, 28], output `logits`"),
        "{}",
        text(&o.stdout)
    );
    let o = neurite(&export, d);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--onnx m.onnx already exists; pass --overwrite"),
        "{}",
        text(&o.stderr)
    );

    let o = neurite(&["import", "m.onnx", "--out", "back"], d);
    assert!(o.status.success(), "import: {}", text(&o.stderr));
    assert_eq!(
        eval_accuracy(d, "back/model.safetensors"),
        eval_accuracy(d, "run/model.safetensors")
    );
    predict_seven(d, "back/model.safetensors");
    let o = neurite(&["summary", "back/model.safetensors"], d);
    assert!(
        o.status.success() && text(&o.stdout).contains("Total params"),
        "{}",
        text(&o.stderr)
    );
    // Fine-tuning the imported model: its architecture and weights are the file's.
    train(
        d,
        &["--init", "back/model.safetensors", "--out", "tuned", "--lr", "0.0001"],
    );
    let o = neurite(&["summary", "tuned/model.safetensors"], d);
    assert!(text(&o.stdout).contains("Total params"), "{}", text(&o.stderr));
    assert!(eval_accuracy(d, "tuned/model.safetensors") > 80.0);
    let o = neurite(&["import", "m.onnx", "--out", "back"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--out back already holds model.safetensors; pass --overwrite"),
        "{}",
        text(&o.stderr)
    );

    // A PyTorch-exported ResNet (folded batch norm, residual blocks) evaluates and exports again.
    let torch = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../nn/tests/fixtures/onnx/torch_resnet.onnx");
    let o = neurite(
        &[
            "import",
            torch.to_str().unwrap(),
            "--out",
            "torch",
            "--dataset",
            "mnist",
        ],
        d,
    );
    assert!(o.status.success(), "import: {}", text(&o.stderr));
    assert!(text(&o.stdout).contains("residual("), "{}", text(&o.stdout));
    eval_accuracy(d, "torch/model.safetensors");
    let o = neurite(
        &["export", "--onnx", "t.onnx", "--weights", "torch/model.safetensors"],
        d,
    );
    assert!(o.status.success(), "export: {}", text(&o.stderr));

    std::fs::write(d.join("bad.onnx"), b"\x0a\xff\xff\xff").unwrap();
    let o = neurite(&["import", "bad.onnx", "--out", "bad"], d);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("bad.onnx: not a valid ONNX file"),
        "{}",
        text(&o.stderr)
    );
    assert!(!d.join("bad").exists(), "a failed import leaves no folder");
}
