//! Downloads: good file, corrupted file, fallback across failing mirrors, a cut transfer,
//! a second run, and no source at all.

use std::fs;
use std::net::TcpListener;

use super::fixtures::*;
use super::server::{Logged, Route, Server};
use crate::fetch::sources::Digest;
use crate::fetch::{fetch_dataset, FetchError, Options};

#[test]
fn good_file_is_downloaded_verified_and_installed() {
    let images = idx_images(1);
    let server = Server::start(vec![("/m/train-images-idx3-ubyte.gz", Route::File(gz(&images)))]);
    let dir = tempfile::tempdir().unwrap();
    let spec = mnist_spec(vec![gz_download(
        images_expected(&images),
        vec![server.url("/m/train-images-idx3-ubyte.gz")],
    )]);
    let report = fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    assert_eq!(report.installed, ["train-images-idx3-ubyte"]);
    let target = dir.path().join("mnist");
    assert_eq!(fs::read(target.join("train-images-idx3-ubyte")).unwrap(), images);
    assert_eq!(listing(&target), ["train-images-idx3-ubyte"], "no scratch file left");
}

#[test]
fn corrupted_file_is_rejected_and_nothing_is_left() {
    let images = idx_images(1);
    let server = Server::start(vec![("/bad.gz", Route::File(gz(&idx_images(2))))]);
    let dir = tempfile::tempdir().unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/bad.gz")])]);
    let err = fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("SHA-256 mismatch"), "{msg}");
    assert!(
        msg.contains(&sha256(&images)) && msg.contains(&sha256(&idx_images(2))),
        "{msg}"
    );
    assert!(listing(&dir.path().join("mnist")).is_empty());
}

#[test]
fn archive_digest_mismatch_is_rejected() {
    let labels = idx_labels();
    let server = Server::start(vec![("/l.gz", Route::File(gz(&labels)))]);
    let dir = tempfile::tempdir().unwrap();
    let mut download = gz_download(labels_expected(), vec![server.url("/l.gz")]);
    download.archive_digest = Some(Digest::Sha256("00".repeat(32)));
    let err = fetch_dataset(&mnist_spec(vec![download]), dir.path(), &http(), Options::default()).unwrap_err();
    assert!(
        err.to_string().contains("train-labels-idx1-ubyte.gz: SHA-256 mismatch"),
        "{err}"
    );
    assert!(listing(&dir.path().join("mnist")).is_empty());
}

#[test]
fn failing_mirrors_fall_back_to_a_good_one() {
    let images = idx_images(3);
    let server = Server::start(vec![
        ("/a/f.gz", Route::Status(404)),
        ("/b/f.gz", Route::Status(500)),
        ("/c/f.gz", Route::Close),
        ("/d/f.gz", Route::File(gz(&images))),
    ]);
    let urls = ["/a/f.gz", "/b/f.gz", "/c/f.gz", "/d/f.gz"]
        .map(|p| server.url(p))
        .to_vec();
    let dir = tempfile::tempdir().unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), urls)]);
    fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/a/f.gz", "/b/f.gz", "/c/f.gz", "/d/f.gz"]);
    assert_eq!(
        fs::read(dir.path().join("mnist/train-images-idx3-ubyte")).unwrap(),
        images
    );
}

#[test]
fn cut_transfer_is_resumed_with_range() {
    let images = idx_images(4);
    let body = gz(&images);
    assert!(body.len() > 5000);
    let server = Server::start(vec![(
        "/f.gz",
        Route::CutOnce {
            after: 4096,
            then: Box::new(Route::File(body)),
        },
    )]);
    let dir = tempfile::tempdir().unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/f.gz")])]);
    fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    let expected = [
        Logged {
            path: "/f.gz".into(),
            range: None,
        },
        Logged {
            path: "/f.gz".into(),
            range: Some("bytes=4096-".into()),
        },
    ];
    assert_eq!(server.requests(), expected);
    assert_eq!(
        fs::read(dir.path().join("mnist/train-images-idx3-ubyte")).unwrap(),
        images
    );
    assert_eq!(listing(&dir.path().join("mnist")), ["train-images-idx3-ubyte"]);
}

#[test]
fn cut_transfer_restarts_when_the_server_ignores_range() {
    let images = idx_images(5);
    let server = Server::start(vec![(
        "/f.gz",
        Route::CutOnce {
            after: 3000,
            then: Box::new(Route::FileNoRange(gz(&images))),
        },
    )]);
    let dir = tempfile::tempdir().unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/f.gz")])]);
    fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        fs::read(dir.path().join("mnist/train-images-idx3-ubyte")).unwrap(),
        images
    );
}

#[test]
fn interrupted_run_is_resumed_from_its_part_file() {
    let images = idx_images(6);
    let body = gz(&images);
    let server = Server::start(vec![("/f.gz", Route::File(body.clone()))]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    fs::create_dir_all(&target).unwrap();
    fs::write(target.join(".train-images-idx3-ubyte.gz.part"), &body[..1000]).unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/f.gz")])]);
    fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    assert_eq!(server.requests()[0].range.as_deref(), Some("bytes=1000-"));
    assert_eq!(listing(&target), ["train-images-idx3-ubyte"]);
}

#[test]
fn second_run_downloads_nothing_and_force_downloads_again() {
    let images = idx_images(7);
    let server = Server::start(vec![
        ("/i.gz", Route::File(gz(&images))),
        ("/l.gz", Route::File(gz(&idx_labels()))),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let spec = mnist_spec(vec![
        gz_download(images_expected(&images), vec![server.url("/i.gz")]),
        gz_download(labels_expected(), vec![server.url("/l.gz")]),
    ]);
    fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    assert_eq!(server.requests().len(), 2);
    let report = fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    assert_eq!(server.requests().len(), 2, "the second run must not touch the network");
    assert_eq!(report.present, ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]);
    assert!(report.installed.is_empty());
    fetch_dataset(
        &spec,
        dir.path(),
        &http(),
        Options {
            force: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn a_bad_present_file_is_replaced() {
    let images = idx_images(8);
    let server = Server::start(vec![("/i.gz", Route::File(gz(&images)))]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    fs::create_dir_all(&target).unwrap();
    fs::write(target.join("train-images-idx3-ubyte"), b"garbage").unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/i.gz")])]);
    let report = fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    assert_eq!(report.installed, ["train-images-idx3-ubyte"]);
    assert_eq!(fs::read(target.join("train-images-idx3-ubyte")).unwrap(), images);
}

#[test]
fn no_source_answering_gives_one_offline_message() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let urls = vec![
        format!("http://127.0.0.1:{port}/a/f.gz"),
        format!("http://127.0.0.1:{port}/b/f.gz"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&idx_images(1)), urls.clone())]);
    let err = fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap_err();
    assert!(matches!(err, FetchError::Offline(_)));
    let FetchError::Offline(report) = &err else {
        unreachable!()
    };
    let tried: Vec<&String> = report.failures.iter().map(|(url, _)| url).collect();
    assert_eq!(tried, urls.iter().collect::<Vec<_>>(), "every source tried, in order");
    // The failures were printed one by one as they happened; the error does not repeat them.
    let msg = err.to_string();
    assert!(msg.contains("from its 2 sources"), "{msg}");
    for url in &urls {
        assert!(!msg.contains(url), "the error repeats the failures: {msg}");
    }
    assert!(
        msg.contains("run `neurite fetch mnist --from DIR` (or `cargo xtask fetch-data mnist --from DIR`)"),
        "{msg}"
    );
    assert!(listing(&dir.path().join("mnist")).is_empty());
}

#[test]
fn a_stale_part_file_is_discarded_and_the_download_restarted() {
    let images = idx_images(9);
    let server = Server::start(vec![("/f.gz", Route::File(gz(&images)))]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    fs::create_dir_all(&target).unwrap();
    fs::write(
        target.join(".train-images-idx3-ubyte.gz.part"),
        &gz(&idx_images(10))[..500],
    )
    .unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/f.gz")])]);
    fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap();
    let ranges: Vec<_> = server.requests().into_iter().map(|r| r.range).collect();
    assert_eq!(ranges, [Some("bytes=500-".to_string()), None]);
    assert_eq!(fs::read(target.join("train-images-idx3-ubyte")).unwrap(), images);
    assert_eq!(listing(&target), ["train-images-idx3-ubyte"]);
}

#[test]
fn a_damaged_present_file_is_kept_until_a_verified_replacement_arrives() {
    let images = idx_images(11);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    fs::create_dir_all(&target).unwrap();
    fs::write(target.join("train-images-idx3-ubyte"), b"damaged").unwrap();
    // Offline: nothing answers. The damaged file is still there afterwards.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let spec = mnist_spec(vec![gz_download(
        images_expected(&images),
        vec![format!("http://127.0.0.1:{port}/i.gz")],
    )]);
    assert!(fetch_dataset(&spec, dir.path(), &http(), Options::default()).is_err());
    assert_eq!(fs::read(target.join("train-images-idx3-ubyte")).unwrap(), b"damaged");
    // A source that serves a bad replacement: still kept.
    let server = Server::start(vec![("/bad.gz", Route::File(gz(&idx_images(12))))]);
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/bad.gz")])]);
    assert!(fetch_dataset(&spec, dir.path(), &http(), Options::default()).is_err());
    assert_eq!(fs::read(target.join("train-images-idx3-ubyte")).unwrap(), b"damaged");
    assert_eq!(listing(&target), ["train-images-idx3-ubyte"]);
}

#[test]
fn bodies_longer_than_the_file_can_be_are_cut_off() {
    let images = idx_images(13);
    let max = crate::fetch::sources::Unpack::Gunzip(images_expected(&images)).max_download();
    let server = Server::start(vec![
        ("/endless", Route::Endless),
        ("/long", Route::File(noise(max as usize + 1, 3))),
    ]);
    let dir = tempfile::tempdir().unwrap();
    for path in ["/endless", "/long"] {
        let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url(path)])]);
        let err = fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap_err();
        assert!(
            err.to_string().contains(&format!("more than the {max} bytes")),
            "{path}: {err}"
        );
        assert!(
            listing(&dir.path().join("mnist")).is_empty(),
            "{path}: nothing left behind"
        );
    }
}

#[test]
fn a_trickling_server_is_given_up() {
    let images = idx_images(14);
    let server = Server::start(vec![(
        "/slow",
        Route::Trickle {
            chunk: 10,
            every_ms: 50,
        },
    )]);
    let dir = tempfile::tempdir().unwrap();
    let mut http = http();
    http.min_rate = 2_000;
    http.rate_window = std::time::Duration::from_millis(300);
    http.retries = 1;
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/slow")])]);
    let err = fetch_dataset(&spec, dir.path(), &http, Options::default()).unwrap_err();
    assert!(err.to_string().contains("too slow"), "{err}");
    assert!(listing(&dir.path().join("mnist")).is_empty());
}

#[test]
fn a_local_write_error_keeps_the_part_file_for_the_next_run() {
    // The part file cannot be written (here: a folder stands in its place, as a full disk
    // would fail the write): the error is reported and what is there stays for a resume.
    let images = idx_images(15);
    let server = Server::start(vec![("/f.gz", Route::File(gz(&images)))]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    let part = target.join(".train-images-idx3-ubyte.gz.part");
    fs::create_dir_all(part.join("inside")).unwrap();
    let spec = mnist_spec(vec![gz_download(images_expected(&images), vec![server.url("/f.gz")])]);
    let err = fetch_dataset(&spec, dir.path(), &http(), Options::default()).unwrap_err();
    assert!(matches!(err, FetchError::Io { .. }), "{err}");
    assert!(part.join("inside").is_dir(), "the part was removed");
}
