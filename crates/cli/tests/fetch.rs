//! `neurite fetch` through the real binary: a mirror on 127.0.0.1 serving the real MNIST,
//! `--from`, `--list`, and usage errors. Nothing here touches the network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The local HTTP server of the fetch code's own tests (std only).
#[allow(dead_code)]
#[path = "../../datasets/src/fetch/tests/server.rs"]
mod server;

use server::{Route, Server};

const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Runs `neurite` with a clean data-directory environment.
fn neurite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(args)
        .env_remove("NEURITE_DATA_DIR")
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// The real MNIST `.gz` files beside the repository, when this machine has them.
fn shared_mnist() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no real MNIST at {} (the pinned digests need it)",
            dir.display()
        );
        None
    }
}

#[test]
fn fetch_mnist_from_a_mirror_on_localhost_installs_the_full_set() {
    let Some(shared) = shared_mnist() else { return };
    let routes: Vec<(String, Route)> = MNIST_FILES
        .iter()
        .map(|n| {
            (
                format!("/{n}.gz"),
                Route::File(std::fs::read(shared.join(format!("{n}.gz"))).unwrap()),
            )
        })
        .collect();
    let server = Server::start(routes.iter().map(|(p, r)| (p.as_str(), r.clone())).collect());
    let data = tempfile::tempdir().unwrap();
    let mirror = server.url("/");
    let out = neurite(&["fetch", "mnist", "--mirror", &mirror, "--data-dir", s(data.path())]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.matches("installed, SHA-256 verified").count(), 4, "{stdout}");
    assert_eq!(server.requests().len(), 4, "only the mirror is asked");
    let info = neurite(&["info", "mnist", "--data-dir", s(data.path())]);
    let (stdout, stderr) = text(&info);
    assert!(info.status.success(), "{stderr}");
    assert!(stdout.contains("MNIST Dataset: Train - (60000, 28, 28)"), "{stdout}");
    assert!(stdout.contains("(full set)"), "{stdout}");
    // A second run finds everything verified and asks the server nothing.
    let again = neurite(&["fetch", "mnist", "--mirror", &mirror, "--data-dir", s(data.path())]);
    assert_eq!(text(&again).0.matches("already present, verified").count(), 4);
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn fetch_from_imports_and_list_reports_it_verified() {
    let Some(shared) = shared_mnist() else { return };
    let data = tempfile::tempdir().unwrap();
    let out = neurite(&["fetch", "mnist", "--from", s(&shared), "--data-dir", s(data.path())]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(text(&out).0.matches("SHA-256 verified").count(), 4);
    let list = neurite(&["fetch", "mnist", "--list", "--data-dir", s(data.path())]);
    assert_eq!(text(&list).0.matches("present, SHA-256 verified").count(), 4);
}

#[test]
fn list_of_an_empty_directory_names_both_fetch_commands() {
    let data = tempfile::tempdir().unwrap();
    let out = neurite(&["fetch", "--list", "--data-dir", s(data.path())]);
    assert!(out.status.success());
    let (stdout, _) = text(&out);
    assert!(stdout.contains("train-images-idx3-ubyte    missing"), "{stdout}");
    assert!(
        stdout.contains("run `neurite fetch cifar100` or `cargo xtask fetch-data cifar100`"),
        "{stdout}"
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let data = tempfile::tempdir().unwrap();
    let out = neurite(&["fetch", "--data-dir", s(data.path()), "--mirror", "ftp://x/"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1.trim(),
        "error: --mirror: `ftp://x/` is not an http:// or https:// URL"
    );
    let out = neurite(&["fetch", "imagenet"]);
    assert_eq!(out.status.code(), Some(2));
    let (_, stderr) = text(&out);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unknown data set `imagenet`"), "{stderr}");
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
}
