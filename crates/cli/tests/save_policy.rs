//! The save policy of `neurite train`, through the binary on the embedded MNIST sample:
//! resume is bit-identical, an existing run is not overwritten, an unusable --out fails at
//! once, a diverged run keeps finite weights, SIGTERM saves a loadable model and checkpoint.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn neurite_cmd(args: &[&str], cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neurite"));
    c.args(args)
        .current_dir(cwd)
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env("RAYON_NUM_THREADS", "2");
    c
}

fn neurite(args: &[&str], cwd: &Path) -> Output {
    neurite_cmd(args, cwd).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", stderr(o));
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Test accuracy of saved weights, from `neurite eval --json`.
fn accuracy(dir: &Path, weights: &str) -> f64 {
    let o = neurite(&["eval", "--weights", weights, "--json"], dir);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    v["accuracy"].as_f64().expect("accuracy in eval --json")
}

fn all_finite(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors().iter().all(|(name, t)| {
        name.ends_with("num_batches_tracked")
            || t.data()
                .chunks(4)
                .all(|c| f32::from_le_bytes(c.try_into().unwrap()).is_finite())
    })
}

#[test]
fn resume_gives_bit_identical_weights_to_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let common = [
        "--optimizer",
        "momentum",
        "--validation-split",
        "0.1",
        "--schedule",
        "cosine",
    ];
    ok(&neurite(
        &[&["train", "--epochs", "2", "--out", "straight"][..], &common].concat(),
        d,
    ));
    ok(&neurite(
        &[&["train", "--epochs", "1", "--out", "split"][..], &common].concat(),
        d,
    ));
    // What a second Ctrl-C during a write would leave: a hidden temporary, removed on resume.
    let stray = d.join("split/.checkpoint.safetensors.AbC123.tmp");
    std::fs::write(&stray, b"half a checkpoint").unwrap();
    let out = ok(&neurite(&["train", "--resume", "split", "--epochs", "2"], d));
    assert!(out.contains("resuming"), "{out}");
    assert!(!stray.exists());
    let a = std::fs::read(d.join("straight/model.safetensors")).unwrap();
    let b = std::fs::read(d.join("split/model.safetensors")).unwrap();
    assert!(a == b, "model.safetensors differs between 2 epochs and 1 + resumed 1");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("split/metrics.json")).unwrap()).unwrap();
    let epochs = metrics["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2, "the resumed run's metrics keep the first epoch");
    assert!(epochs[1]["val_loss"].as_f64().unwrap().is_finite());

    // A changed setting is refused, naming it; a finished run asks for more epochs.
    let o = neurite(&["train", "--resume", "split", "--epochs", "3", "--seed", "5"], d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--seed 5 (the run has 0)"), "{}", stderr(&o));
    let o = neurite(&["train", "--resume", "split"], d);
    assert!(stderr(&o).contains("larger --epochs"), "{}", stderr(&o));
}

#[test]
fn an_existing_run_is_kept_unless_overwrite_and_a_bad_out_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&neurite(&["train", "--epochs", "1", "--out", "run"], d));
    let before = std::fs::read(d.join("run/model.safetensors")).unwrap();
    let o = neurite(&["train", "--epochs", "1", "--seed", "3", "--out", "run"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
    assert_eq!(std::fs::read(d.join("run/model.safetensors")).unwrap(), before);
    ok(&neurite(
        &["train", "--epochs", "1", "--seed", "3", "--out", "run", "--overwrite"],
        d,
    ));
    assert_ne!(std::fs::read(d.join("run/model.safetensors")).unwrap(), before);

    // An --out that cannot be a folder fails before any data is read or step taken.
    std::fs::write(d.join("file"), b"x").unwrap();
    let start = std::time::Instant::now();
    let o = neurite(&["train", "--epochs", "50", "--out", "file/run"], d);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--out file/run"), "{}", stderr(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("training"));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));

    // Settings that cannot work are usage errors before --out is even created.
    let o = neurite(&["train", "--early-stopping", "2", "--out", "never"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--validation-split"), "{}", stderr(&o));
    assert!(!d.join("never").exists());
}

#[test]
fn divergence_keeps_the_last_finite_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&neurite(&["train", "--epochs", "1", "--out", "run"], d));
    let good = accuracy(d, "run/model.safetensors");
    // A huge learning rate from epoch 2 on: the loss becomes NaN within a few steps.
    let o = neurite(&["train", "--resume", "run", "--epochs", "3", "--lr", "1e30"], d);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("training diverged"), "{err}");
    assert!(err.contains("from the end of epoch 1"), "{err}");
    assert!(all_finite(&d.join("run/model.safetensors")));
    let after = accuracy(d, "run/model.safetensors");
    assert!(after > 0.5, "accuracy {after} is not above chance");
    assert_eq!(after, good, "the saved model is the checkpoint of epoch 1");
}

#[cfg(unix)]
#[test]
fn sigterm_saves_a_model_and_a_checkpoint_that_resumes_bit_identically() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut child = neurite_cmd(&["train", "--epochs", "1000", "--out", "run"], d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The progress bar is hidden off a terminal: wait for the first line, then for the
    // checkpoint of epoch 1 to replace the one written before the first step.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("training"), "{line}");
    let ckpt = d.join("run/checkpoint.safetensors");
    let first = loop {
        match std::fs::read(&ckpt) {
            Ok(bytes) => break bytes,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    while std::fs::read(&ckpt).map(|b| b == first).unwrap_or(true) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) with a child's pid and SIGTERM has no memory effects here.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("--resume run"), "{err}");
    assert!(all_finite(&d.join("run/model.safetensors")));
    assert!(accuracy(d, "run/model.safetensors") > 0.5);
    // The checkpoint holds exactly the point of the interruption: resuming to the end of
    // that epoch (or the next) gives the weights of a run that was never interrupted.
    let number_after = |prefix: &str| -> Option<usize> {
        let rest = err.split(prefix).nth(1)?;
        rest[..rest.find(|c: char| !c.is_ascii_digit())?].parse().ok()
    };
    let total = match (
        number_after("interrupted in epoch "),
        number_after("interrupted after epoch "),
    ) {
        (Some(n), _) => n,
        (None, Some(n)) => n + 1,
        (None, None) => panic!("no epoch in: {err}"),
    }
    .to_string();
    ok(&neurite(&["train", "--resume", "run", "--epochs", &total], d));
    ok(&neurite(&["train", "--epochs", &total, "--out", "straight"], d));
    let a = std::fs::read(d.join("run/model.safetensors")).unwrap();
    let b = std::fs::read(d.join("straight/model.safetensors")).unwrap();
    assert!(
        a == b,
        "interrupted + resumed differs from straight through ({total} epochs): {err}"
    );
}

/// Writes a tiny MNIST-format set (`n` train and test images of noise) into `dir/mnist`.
fn write_tiny_mnist(dir: &Path, n: u32) {
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    for prefix in ["train", "t10k"] {
        let mut images = vec![0, 0, 8, 3];
        images.extend(n.to_be_bytes());
        images.extend(28u32.to_be_bytes());
        images.extend(28u32.to_be_bytes());
        images.extend((0..n * 784).map(|i| (i * 37 % 251) as u8));
        let mut labels = vec![0, 0, 8, 1];
        labels.extend(n.to_be_bytes());
        labels.extend((0..n).map(|i| (i % 10) as u8));
        std::fs::write(mnist.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(mnist.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
}

#[test]
fn resume_refuses_other_data_than_the_run_had() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&neurite(&["train", "--epochs", "1", "--out", "run"], d));
    // The same command, but now a full (tiny) MNIST is in the data directory.
    write_tiny_mnist(&d.join("no-data"), 64);
    let o = neurite(&["train", "--resume", "run", "--epochs", "2"], d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("trained on 10000 examples"), "{}", stderr(&o));
    assert!(stderr(&o).contains("has 64"), "{}", stderr(&o));
}

/// The committed diabetes table (scikit-learn's, 442 rows), copied into `dir`.
fn diabetes(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diabetes.csv");
    std::fs::copy(src, dir.join("diabetes.csv")).unwrap();
}

/// The last epoch's record of a run's metrics.json.
fn last_epoch(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("metrics.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["epochs"].as_array().unwrap().last().unwrap().clone()
}

#[test]
fn csv_regression_resumes_bit_identically_with_its_data_flags_and_eval_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    diabetes(d);
    let data = [
        "--dataset",
        "diabetes.csv",
        "--label",
        "target",
        "--task",
        "regression",
        "--test-split",
        "0.25",
        "--split-seed",
        "3",
    ];
    let run = ["--optimizer", "adam", "--lr", "0.01", "--validation-split", "0.2"];
    let out = ok(&neurite(
        &[&["train", "--epochs", "2", "--out", "straight"][..], &data, &run].concat(),
        d,
    ));
    // 442 rows: 331 train (265 + 66 validation) / 111 test.
    assert!(
        out.contains("for regression on diabetes.csv (265 train / 66 validation / 111 test rows)"),
        "{out}"
    );
    assert!(out.contains("train mse") && out.contains("val mae"), "{out}");
    ok(&neurite(
        &[&["train", "--epochs", "1", "--out", "split"][..], &data, &run].concat(),
        d,
    ));
    // No data flags on resume: the run's own (label, task, split) rebuild the same rows.
    let out = ok(&neurite(&["train", "--resume", "split", "--epochs", "2"], d));
    assert!(out.contains("resuming"), "{out}");
    let a = std::fs::read(d.join("straight/model.safetensors")).unwrap();
    let b = std::fs::read(d.join("split/model.safetensors")).unwrap();
    assert!(a == b, "model.safetensors differs between 2 epochs and 1 + resumed 1");
    let last = last_epoch(&d.join("split"));
    assert_eq!(last["metrics"], last_epoch(&d.join("straight"))["metrics"]);
    let m = &last["metrics"];
    for key in ["train_mse", "train_mae", "val_mse", "test_mse", "test_mae"] {
        let v = m[key].as_f64().unwrap_or(f64::NAN);
        // In the targets' units: the targets' variance is about 5,900, so not standardised.
        assert!(v.is_finite() && v > 1.0, "{key}: {last}");
    }
    assert_eq!(last["train_loss"], m["train_mse"]);
    let o = neurite(&["eval", "--weights", "split/model.safetensors", "--json"], d);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["samples"], 111);
    assert_eq!(v["mse"], m["test_mse"], "{v} vs {last}");
    assert_eq!(v["mae"], m["test_mae"], "{v} vs {last}");
    // Other data than the run's is refused, naming the flag.
    let o = neurite(
        &["train", "--resume", "split", "--epochs", "3", "--test-split", "0.5"],
        d,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--test-split 0.5 (the run has 0.25)"),
        "{}",
        stderr(&o)
    );
    let o = neurite(&["train", "--resume", "split", "--epochs", "3", "--label", "age"], d);
    assert!(
        stderr(&o).contains("--label age (the run has target)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn csv_regression_keeps_the_save_policy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    diabetes(d);
    let data = ["--dataset", "diabetes.csv", "--task", "regression", "--out", "run"];
    ok(&neurite(&[&["train", "--epochs", "1"][..], &data].concat(), d));
    // An existing run is kept without --overwrite.
    let o = neurite(&[&["train", "--epochs", "1"][..], &data].concat(), d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(d.join("run/checkpoint.safetensors").exists());
    let svg = std::fs::read_to_string(d.join("run/curves.svg")).unwrap();
    assert!(
        svg.contains("mean absolute error per epoch"),
        "curves.svg plots a regression's MAE"
    );
    // A diverging run saves finite weights (plain SGD at lr 1e6 overflows within epoch 1).
    let o = neurite(
        &[&["train", "--epochs", "2", "--overwrite", "--lr", "1e6"][..], &data].concat(),
        d,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("training diverged"), "{}", stderr(&o));
    assert!(all_finite(&d.join("run/model.safetensors")));
}

#[test]
fn a_model_with_dropout_resumes_bit_identically() {
    // Dropout masks are keyed to the optimizer step, so the resumed epoch draws the same ones.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let layers = ["--layers", "flatten linear(32) relu dropout(0.5) linear(10)"];
    ok(&neurite(
        &[&["train", "--epochs", "2", "--out", "straight"][..], &layers].concat(),
        d,
    ));
    ok(&neurite(
        &[&["train", "--epochs", "1", "--out", "split"][..], &layers].concat(),
        d,
    ));
    ok(&neurite(&["train", "--resume", "split", "--epochs", "2"], d));
    let a = std::fs::read(d.join("straight/model.safetensors")).unwrap();
    let b = std::fs::read(d.join("split/model.safetensors")).unwrap();
    assert!(a == b, "a dropout model differs between 2 epochs and 1 + resumed 1");
}
