//! The library entry points: `fetch` with a mirror on 127.0.0.1, `load_or_fetch_with`
//! fetching only when files are missing, and the errors that must come before any request.

use std::fs;
use std::path::{Path, PathBuf};

use super::server::{Route, Server};
use crate::catalog::{DatasetKind, MNIST_FILES};
use crate::fetch::{fetch, load_or_fetch_with, FetchError, FetchOptions};

/// The real MNIST `.gz` files beside the repository, when this machine has them.
fn shared_mnist() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Some(dir)
    } else {
        println!(
            "skipped: no real MNIST at {} (the pinned digests need it)",
            dir.display()
        );
        None
    }
}

/// A server holding the four real MNIST `.gz` files under `/mirror/`.
fn mnist_mirror(dir: &Path) -> Server {
    let routes = MNIST_FILES
        .iter()
        .map(|name| {
            let bytes = fs::read(dir.join(format!("{name}.gz"))).unwrap();
            (format!("/mirror/{name}.gz"), Route::File(bytes))
        })
        .collect::<Vec<_>>();
    Server::start(routes.iter().map(|(p, r)| (p.as_str(), r.clone())).collect())
}

#[test]
fn fetch_with_a_mirror_installs_the_real_mnist_from_it_alone() {
    let Some(shared) = shared_mnist() else { return };
    let server = mnist_mirror(&shared);
    let data = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some(server.url("/mirror/")),
        ..FetchOptions::default()
    };
    let report = fetch(DatasetKind::Mnist, data.path(), &options).unwrap();
    let mut installed = report.installed.clone();
    installed.sort();
    let mut expected: Vec<String> = MNIST_FILES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(installed, expected);
    // Only the mirror was asked, each file once (the official URLs come after it).
    let mut paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    paths.sort();
    let mut wanted: Vec<String> = MNIST_FILES.iter().map(|n| format!("/mirror/{n}.gz")).collect();
    wanted.sort();
    assert_eq!(paths, wanted);
    let set = crate::load(DatasetKind::Mnist, data.path()).unwrap();
    assert_eq!((set.train.len(), set.test.len()), (60_000, 10_000));
}

#[test]
fn load_or_fetch_fetches_once_then_only_loads() {
    let Some(shared) = shared_mnist() else { return };
    let server = mnist_mirror(&shared);
    let data = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some(server.url("/mirror")),
        ..FetchOptions::default()
    };
    let first = load_or_fetch_with(DatasetKind::Mnist, data.path(), &options).unwrap();
    assert_eq!(first.train.len(), 60_000);
    assert_eq!(server.requests().len(), 4);
    let second = load_or_fetch_with(DatasetKind::Mnist, data.path(), &options).unwrap();
    assert_eq!(second.test.len(), 10_000);
    assert_eq!(server.requests().len(), 4, "files present: nothing is fetched again");
}

#[test]
fn load_or_fetch_with_a_damaged_file_is_an_error_and_fetches_nothing() {
    let server = Server::start(vec![]);
    let data = tempfile::tempdir().unwrap();
    let mnist = data.path().join("mnist");
    fs::create_dir_all(&mnist).unwrap();
    for name in MNIST_FILES {
        fs::write(mnist.join(name), b"not an IDX file").unwrap();
    }
    let options = FetchOptions {
        mirror: Some(server.url("/")),
        ..FetchOptions::default()
    };
    let err = load_or_fetch_with(DatasetKind::Mnist, data.path(), &options).unwrap_err();
    assert!(matches!(err, FetchError::Load(_)), "{err}");
    assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_mirror_that_is_not_http_is_refused_before_anything_is_written() {
    let data = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some("ftp://example.org/".to_string()),
        ..FetchOptions::default()
    };
    let err = fetch(DatasetKind::Mnist, data.path(), &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--mirror: `ftp://example.org/` is not an http:// or https:// URL"
    );
    assert_eq!(fs::read_dir(data.path()).unwrap().count(), 0);
}
