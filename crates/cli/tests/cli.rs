//! Runs the real `neurite` binary: the main paths on the embedded MNIST sample, and every
//! kind of bad input (one line on stderr, a non-zero exit code, 2 for usage errors).

use std::path::Path;
use std::process::{Command, Output};

fn neurite(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(args)
        .current_dir(cwd)
        // An empty data directory: MNIST comes from the embedded sample.
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Asserts a failure with `code`, exactly one error line on stderr containing every `needle`
/// (besides the `note:` that the embedded sample is in use), and no panic or backtrace.
fn assert_fails(o: &Output, code: i32, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    let err: String = err
        .lines()
        .filter(|l| !l.starts_with("note: "))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(err.trim_end().lines().count(), 1, "expected one line, got: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
}

/// Trains a small MLP for one epoch into `dir/run` and returns the weights path.
fn train_small(dir: &Path) -> std::path::PathBuf {
    let o = neurite(&["train", "--epochs", "1", "--out", "run"], dir);
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    dir.join("run/model.safetensors")
}

#[test]
fn info_prints_the_lesson_shapes_from_the_embedded_sample() {
    let dir = tempfile::tempdir().unwrap();
    let o = neurite(&["info", "mnist"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("MNIST Dataset: Train - (10000, 28, 28)"), "{out}");
    assert!(out.contains("MNIST Dataset: Test - (2000, 28, 28)"), "{out}");
    assert!(
        out.contains("embedded sample") && out.contains("run `neurite fetch mnist` or `cargo xtask fetch-data mnist`"),
        "{out}"
    );
    // The fallback is always said on stderr too.
    assert!(stderr(&o).starts_with("note: no MNIST files in "), "{}", stderr(&o));
    // Per-class counts of the real sample add up to the split sizes.
    let train_total: usize = out
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() == 4 && cols[0].parse::<usize>().is_ok()).then(|| cols[2].parse::<usize>().unwrap())
        })
        .sum();
    assert_eq!(train_total, 10000, "{out}");
}

#[test]
fn train_writes_model_metrics_and_curves_then_eval_and_predict_use_them() {
    let dir = tempfile::tempdir().unwrap();
    let weights = train_small(dir.path());
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/metrics.json")).unwrap()).unwrap();
    let epoch = &metrics["epochs"][0];
    for key in [
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "seconds",
    ] {
        assert!(epoch.get(key).is_some(), "metrics.json lacks {key}: {metrics}");
    }
    let acc = epoch["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.78 && acc <= 1.0, "test accuracy {acc} after one epoch");
    assert_eq!(metrics["settings"]["model"], "mlp");
    let svg = std::fs::read_to_string(dir.path().join("run/curves.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("accuracy"), "curves.svg");

    // eval --json: the architecture comes from the file's metadata.
    let o = neurite(
        &[
            "eval",
            "--weights",
            weights.to_str().unwrap(),
            "--dataset",
            "mnist",
            "--json",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let eval_acc = report["accuracy"].as_f64().unwrap();
    assert!(
        (eval_acc - acc).abs() < 1e-6,
        "eval {eval_acc} vs training's test accuracy {acc}"
    );
    assert_eq!(report["per_class_accuracy"].as_array().unwrap().len(), 10);
    let matrix = report["confusion_matrix"].as_array().unwrap();
    let total: u64 = matrix
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 2000);

    // predict: a test digit written as a PGM (MNIST polarity, no inversion needed).
    let o = neurite(&["show", "mnist", "--split", "test", "--index", "0"], dir.path());
    assert!(
        stdout(&o).contains("label 7"),
        "the first MNIST test digit is a 7: {}",
        stdout(&o)
    );
    let pgm = dir.path().join("digit.pgm");
    write_test_digit_pgm(&pgm);
    let o = neurite(
        &["predict", "--weights", weights.to_str().unwrap(), pgm.to_str().unwrap()],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    assert!(line.contains("digit.pgm: 7 "), "top-1 should be 7: {line}");
    assert_eq!(line.matches('%').count(), 3, "top-3 with probabilities: {line}");
}

/// Draws a "7"-like stroke, light on dark, 28x28.
fn write_test_digit_pgm(path: &Path) {
    let mut px = vec![0u8; 28 * 28];
    for x in 6..22 {
        for y in 6..9 {
            px[y * 28 + x] = 255;
        }
    }
    for i in 0..16 {
        let (x, y) = (20 - i / 2, 9 + i);
        for dx in 0..3 {
            px[y * 28 + x + dx - 1] = 255;
        }
    }
    let mut bytes = b"P5\n28 28\n255\n".to_vec();
    bytes.extend(px);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn show_writes_a_png_grid() {
    let dir = tempfile::tempdir().unwrap();
    let o = neurite(&["show", "mnist", "--count", "8", "--png", "grid.png"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(dir.path().join("grid.png")).unwrap();
    assert_eq!((img.width(), img.height()), (8 * 58 + 2, 58 + 2));
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(&neurite(&["train", "--frobnicate"], dir.path()), 2, &["--frobnicate"]);
    assert_fails(&neurite(&["info", "imagenet"], dir.path()), 2, &["imagenet"]);
    assert_fails(&neurite(&["train", "--model", "resnet"], dir.path()), 2, &["resnet"]);
    assert_fails(&neurite(&["train", "--epochs", "0"], dir.path()), 2, &["--epochs"]);
    assert_fails(&neurite(&["train", "--hidden", "12,x"], dir.path()), 2, &["x"]);
    assert_fails(
        &neurite(&["show", "mnist", "--index", "99999"], dir.path()),
        2,
        &["99999"],
    );
}

#[test]
fn missing_data_for_other_sets_prints_the_fetch_hint() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(
        &neurite(&["info", "cifar10"], dir.path()),
        1,
        &["run `neurite fetch cifar10` or `cargo xtask fetch-data cifar10`"],
    );
}

#[test]
fn damaged_data_directory_is_reported_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = dir.path().join("no-data/mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        // A valid header promising 100 images of 28x28, with the data cut short.
        let mut bytes = vec![0, 0, 8, if name.contains("images") { 3 } else { 1 }];
        bytes.extend(100u32.to_be_bytes());
        if name.contains("images") {
            bytes.extend(28u32.to_be_bytes());
            bytes.extend(28u32.to_be_bytes());
        }
        bytes.extend([0u8; 10]);
        std::fs::write(mnist.join(name), bytes).unwrap();
    }
    assert_fails(
        &neurite(&["info", "mnist"], dir.path()),
        1,
        &["train-images-idx3-ubyte"],
    );
}

#[test]
fn bad_weights_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let weights = train_small(dir.path());
    let w = weights.to_str().unwrap();
    // Missing.
    assert_fails(
        &neurite(&["eval", "--weights", "nope.safetensors"], dir.path()),
        1,
        &["nope.safetensors"],
    );
    // Truncated.
    let bytes = std::fs::read(&weights).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert_fails(
        &neurite(&["eval", "--weights", cut.to_str().unwrap()], dir.path()),
        1,
        &["cut.safetensors"],
    );
    // Another architecture than the flags say.
    assert_fails(
        &neurite(
            &["eval", "--weights", w, "--model", "mlp", "--hidden", "64"],
            dir.path(),
        ),
        1,
        &["0.weight"],
    );
    // Not an image.
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"definitely not a png").unwrap();
    assert_fails(
        &neurite(&["predict", "--weights", w, junk.to_str().unwrap()], dir.path()),
        1,
        &["junk.png"],
    );
    assert_fails(
        &neurite(&["predict", "--weights", w, "missing.png"], dir.path()),
        1,
        &["missing.png"],
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_after_the_current_batch_and_still_saves() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(["train", "--epochs", "1000", "--out", "run"])
        .current_dir(dir.path())
        .env("NEURITE_DATA_DIR", dir.path().join("no-data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let it get into training, then interrupt it as a terminal's Ctrl-C would.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "interrupted training saves, then exits 130 (128 + SIGINT): {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    // "interrupted in epoch N after M batches; ..." (N counts from 1, like the table, and the
    // table has the N - 1 epochs before), or "interrupted after epoch N" when the signal came
    // during an evaluation (the table has N epochs).
    let number_after = |prefix: &str| -> Option<usize> {
        let rest = err.split(prefix).nth(1)?;
        rest[..rest.find(|c: char| !c.is_ascii_digit())?].parse().ok()
    };
    let complete_epochs = match (
        number_after("interrupted in epoch "),
        number_after("interrupted after epoch "),
    ) {
        (Some(n), _) => n - 1,
        (None, Some(n)) => n,
        (None, None) => panic!("no `interrupted in epoch N` or `interrupted after epoch N` in: {err}"),
    };
    assert!(dir.path().join("run/model.safetensors").exists());
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["settings"]["stopped_early"], true);
    assert_eq!(
        metrics["epochs"].as_array().unwrap().len(),
        complete_epochs,
        "the complete epochs before the interrupted one"
    );
}
