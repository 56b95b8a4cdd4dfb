//! `neurite train` saves bit-identical weights with 1, 2 and 3 threads (`RAYON_NUM_THREADS`),
//! for the MLP (W1), the wide MLP (W2) and the MNIST CNN (W3), on a small MNIST-format data
//! set written by the test (a few steps each).

use std::path::Path;
use std::process::Command;

/// Writes `train`/`t10k` IDX files of `n_train`/`n_test` pseudo-random 28x28 images with
/// labels 0-9 into `dir/mnist`.
fn write_small_mnist(dir: &Path, n_train: u32, n_test: u32) {
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 32) as u8
    };
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let mut images = vec![0, 0, 8, 3];
        images.extend(n.to_be_bytes());
        images.extend(28u32.to_be_bytes());
        images.extend(28u32.to_be_bytes());
        images.extend((0..n * 28 * 28).map(|_| next()));
        let mut labels = vec![0, 0, 8, 1];
        labels.extend(n.to_be_bytes());
        labels.extend((0..n).map(|_| next() % 10));
        std::fs::write(mnist.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(mnist.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
}

/// Trains `model` for one epoch with `threads` threads and returns the saved weights' bytes.
fn train(dir: &Path, model: &str, threads: usize, extra: &[&str]) -> Vec<u8> {
    let out = format!("run-{model}-{threads}");
    let o = Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(["train", "--model", model, "--epochs", "1", "--out", &out])
        .args(extra)
        .current_dir(dir)
        .env("NEURITE_DATA_DIR", dir.join("data"))
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{model} with {threads} threads: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let said = if threads == 1 {
        "1 thread".to_string()
    } else {
        format!("{threads} threads")
    };
    assert!(
        stdout.contains(&said),
        "RAYON_NUM_THREADS={threads} not in effect: {stdout}"
    );
    std::fs::read(dir.join(out).join("model.safetensors")).unwrap()
}

fn assert_same_weights(model: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    write_small_mnist(&dir.path().join("data"), 128, 32);
    let one = train(dir.path(), model, 1, extra);
    for threads in [2, 3] {
        let other = train(dir.path(), model, threads, extra);
        assert!(
            one == other,
            "{model}: model.safetensors differs between 1 and {threads} threads"
        );
    }
}

#[test]
fn mlp_weights_do_not_depend_on_the_thread_count() {
    assert_same_weights("mlp", &["--batch-size", "96", "--optimizer", "adam"]);
}

#[test]
fn wide_mlp_weights_do_not_depend_on_the_thread_count() {
    assert_same_weights("mlp-wide", &["--batch-size", "96", "--optimizer", "momentum"]);
}

#[test]
fn cnn_weights_do_not_depend_on_the_thread_count() {
    assert_same_weights("cnn", &["--batch-size", "64"]);
}
