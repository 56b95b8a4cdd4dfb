//! End-to-end tests of `cargo xtask fetch-data` through the built binary: user errors exit
//! non-zero with one clear line, `--from` and `--list` work, nothing touches the network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the xtask binary with `args`, with a clean data-directory environment.
fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("NEURITE_DATA_DIR")
        .output()
        .expect("run xtask")
}

/// Stdout and stderr as text.
fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The path as a &str.
fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// The shared MNIST copy beside the repository, when this machine has it.
fn shared(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(sub);
    dir.is_dir().then_some(dir)
}

#[test]
fn unknown_data_set_is_a_usage_error() {
    let out = xtask(&["fetch-data", "imagenet"]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("unknown data set `imagenet`"), "{:?}", text(&out));
}

#[test]
fn mirror_must_be_http() {
    let data = tempfile::tempdir().unwrap();
    let out = xtask(&["fetch-data", "--data-dir", s(data.path()), "--mirror", "ftp://x/"]);
    assert!(!out.status.success());
    let (_, err) = text(&out);
    assert_eq!(
        err.trim(),
        "error: --mirror: `ftp://x/` is not an http:// or https:// URL"
    );
}

#[test]
fn data_dir_that_is_a_file_is_a_clear_error() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let from = tempfile::tempdir().unwrap();
    let out = xtask(&["fetch-data", "--data-dir", s(file.path()), "--from", s(from.path())]);
    assert_eq!(out.status.code(), Some(1));
    let (_, err) = text(&out);
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{err}");
}

#[test]
fn from_with_a_wrong_file_fails_and_installs_nothing() {
    let from = tempfile::tempdir().unwrap();
    std::fs::write(from.path().join("train-images-idx3-ubyte"), b"not MNIST").unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = xtask(&[
        "fetch-data",
        "mnist",
        "--from",
        s(from.path()),
        "--data-dir",
        s(data.path()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let (_, err) = text(&out);
    let line = err.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    assert!(
        line.contains("train-images-idx3-ubyte: SHA-256 mismatch: expected ba891046"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(data.path().join("mnist")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn list_shows_missing_files_and_the_hint() {
    let data = tempfile::tempdir().unwrap();
    let out = xtask(&["fetch-data", "--list", "--data-dir", s(data.path())]);
    assert!(out.status.success());
    let (stdout, _) = text(&out);
    assert!(stdout.contains("train-images-idx3-ubyte    missing"), "{stdout}");
    assert!(
        stdout.contains("run `neurite fetch cifar100` or `cargo xtask fetch-data cifar100`"),
        "{stdout}"
    );
}

#[test]
fn imports_the_shared_mnist_copy_then_finds_it_verified() {
    let Some(mnist) = shared("mnist") else {
        eprintln!("skipped: no shared MNIST copy beside the repository");
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let args = ["fetch-data", "mnist", "--from", s(&mnist), "--data-dir", s(data.path())];
    let out = xtask(&args);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(text(&out).0.matches("SHA-256 verified").count(), 4);
    let again = xtask(&args);
    assert_eq!(text(&again).0.matches("already present, verified").count(), 4);
    let list = xtask(&["fetch-data", "mnist", "--list", "--data-dir", s(data.path())]);
    assert_eq!(text(&list).0.matches("present, SHA-256 verified").count(), 4);
}
