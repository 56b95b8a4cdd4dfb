//! CIFAR-style archives: download and extract into the layout, import from the archive or
//! from loose files, structural validation, and path-safety of tar entries.

use std::fs;

use super::fixtures::*;
use super::server::{Route, Server};
use crate::fetch::import::import_dataset;
use crate::fetch::unpack::extract_tar;
use crate::fetch::{fetch_dataset, FetchError, Options};

/// A good CIFAR-like archive.
fn good_archive() -> Vec<u8> {
    tar_gz(&[
        ("cifar-10-batches-bin/data_batch_1.bin", &cifar_batch(None)),
        ("cifar-10-batches-bin/batches.meta.txt", META.as_bytes()),
        ("cifar-10-batches-bin/readme.html", b"<html></html>"),
    ])
}

#[test]
fn archive_download_is_checked_and_extracted_into_the_layout() {
    let archive = good_archive();
    let server = Server::start(vec![("/c.tar.gz", Route::File(archive.clone()))]);
    let data = tempfile::tempdir().unwrap();
    let spec = cifar_spec(vec![server.url("/c.tar.gz")], &md5(&archive));
    fetch_dataset(&spec, data.path(), &http(), Options::default()).unwrap();
    let target = data.path().join("cifar-10-batches-bin");
    assert_eq!(fs::read(target.join("data_batch_1.bin")).unwrap(), cifar_batch(None));
    // Only the data set's known files are installed: the archive's readme.html is not.
    assert_eq!(listing(&target), ["batches.meta.txt", "data_batch_1.bin"]);
    assert_eq!(
        listing(data.path()),
        ["cifar-10-batches-bin"],
        "archive and staging removed"
    );
    fetch_dataset(&spec, data.path(), &http(), Options::default()).unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn archive_with_wrong_md5_is_rejected() {
    let archive = good_archive();
    let server = Server::start(vec![("/c.tar.gz", Route::File(archive))]);
    let data = tempfile::tempdir().unwrap();
    let spec = cifar_spec(vec![server.url("/c.tar.gz")], &"0".repeat(32));
    let err = fetch_dataset(&spec, data.path(), &http(), Options::default()).unwrap_err();
    assert!(err.to_string().contains("MD5 mismatch"), "{err}");
    assert_eq!(listing(data.path()), ["cifar-10-batches-bin"]);
    assert!(listing(&data.path().join("cifar-10-batches-bin")).is_empty());
}

#[test]
fn batch_with_a_bad_label_is_rejected() {
    let archive = tar_gz(&[
        ("cifar-10-batches-bin/data_batch_1.bin", &cifar_batch(Some(10))),
        ("cifar-10-batches-bin/batches.meta.txt", META.as_bytes()),
    ]);
    let server = Server::start(vec![("/c.tar.gz", Route::File(archive.clone()))]);
    let data = tempfile::tempdir().unwrap();
    let spec = cifar_spec(vec![server.url("/c.tar.gz")], &md5(&archive));
    let err = fetch_dataset(&spec, data.path(), &http(), Options::default()).unwrap_err();
    assert!(
        err.to_string().contains("record 2 has label 10, expected below 10"),
        "{err}"
    );
    assert_eq!(listing(data.path()), ["cifar-10-batches-bin"]);
}

#[test]
fn imports_a_repacked_archive_only_when_allowed_and_loose_gz_files() {
    let repacked = good_archive();
    let from = tempfile::tempdir().unwrap();
    fs::write(from.path().join("cifar-10-binary.tar.gz"), &repacked).unwrap();
    let data = tempfile::tempdir().unwrap();
    let spec = cifar_spec(Vec::new(), &"0".repeat(32));
    // The MD5 differs from the official one: refused, nothing installed.
    let err = import_dataset(&spec, data.path(), from.path(), false, Options::default()).unwrap_err();
    assert!(matches!(err, FetchError::Unverified { .. }), "{err}");
    assert!(
        err.to_string().contains("--allow-unverified") && err.to_string().contains("cifar-10-binary.tar.gz"),
        "{err}"
    );
    assert!(!data.path().join("cifar-10-batches-bin/data_batch_1.bin").exists());
    // With --allow-unverified: imported after structural validation, known files only.
    let allow = Options {
        allow_unverified: true,
        ..Options::default()
    };
    import_dataset(&spec, data.path(), from.path(), false, allow).unwrap();
    assert_eq!(
        listing(&data.path().join("cifar-10-batches-bin")),
        ["batches.meta.txt", "data_batch_1.bin"]
    );

    let loose = tempfile::tempdir().unwrap();
    let sub = loose.path().join("cifar-10-batches-bin");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("data_batch_1.bin.gz"), gz(&cifar_batch(None))).unwrap();
    fs::write(sub.join("batches.meta.txt"), META).unwrap();
    let data2 = tempfile::tempdir().unwrap();
    import_dataset(&spec, data2.path(), &sub, false, Options::default()).unwrap();
    assert_eq!(
        fs::read(data2.path().join("cifar-10-batches-bin/data_batch_1.bin")).unwrap(),
        cifar_batch(None)
    );
}

#[test]
fn import_of_a_truncated_batch_is_rejected() {
    let from = tempfile::tempdir().unwrap();
    let mut batch = cifar_batch(None);
    batch.pop();
    fs::write(from.path().join("data_batch_1.bin"), batch).unwrap();
    fs::write(from.path().join("batches.meta.txt"), META).unwrap();
    let data = tempfile::tempdir().unwrap();
    let spec = cifar_spec(Vec::new(), &"0".repeat(32));
    let err = import_dataset(&spec, data.path(), from.path(), false, Options::default()).unwrap_err();
    assert!(err.to_string().contains("size is 9218 bytes, expected 9219"), "{err}");
}

/// Extracts `archive` into a fresh folder inside a sandbox; returns the error and checks
/// that nothing landed outside.
fn extract_evil(archive: Vec<u8>) -> FetchError {
    let sandbox = tempfile::tempdir().unwrap();
    let path = sandbox.path().join("a.tar.gz");
    fs::write(&path, archive).unwrap();
    let dest = sandbox.path().join("dest");
    fs::create_dir_all(&dest).unwrap();
    let err = extract_tar(&path, &dest, "a.tar.gz", &|_| Some(u64::MAX)).unwrap_err();
    assert_eq!(listing(sandbox.path()), ["a.tar.gz", "dest"], "nothing outside dest");
    err
}

#[test]
fn tar_entries_that_leave_the_folder_or_link_are_refused() {
    let cases = [
        ("cifar-10-batches-bin/../../evil", tar::EntryType::Regular, None, "`..`"),
        ("/tmp/neurite-evil-absolute", tar::EntryType::Regular, None, "absolute"),
        (
            "cifar-10-batches-bin/link",
            tar::EntryType::Symlink,
            Some("/etc/passwd"),
            "links",
        ),
        ("cifar-10-batches-bin/hard", tar::EntryType::Link, Some("../x"), "links"),
        (
            "cifar-10-batches-bin/fifo",
            tar::EntryType::Fifo,
            None,
            "not a plain file",
        ),
        // A file and a folder of one name (found by the `unpack` fuzz target: the error named
        // only the destination path, not the archive).
        (
            "cifar-10-batches-bin",
            tar::EntryType::Regular,
            None,
            "name of a folder",
        ),
        (
            "cifar-10-batches-bin/ok.txt/x",
            tar::EntryType::Regular,
            None,
            "also a file",
        ),
    ];
    for (name, kind, link, why) in cases {
        let err = extract_evil(evil_tar_gz(name, kind, link));
        let msg = err.to_string();
        assert!(matches!(err, FetchError::UnsafeArchive { .. }), "{name}: {msg}");
        assert!(
            msg.contains(why) && msg.contains("refusing archive entry"),
            "{name}: {msg}"
        );
    }
    assert!(!std::path::Path::new("/tmp/neurite-evil-absolute").exists());
}

#[test]
fn an_unsafe_archive_download_leaves_nothing() {
    let archive = evil_tar_gz("cifar-10-batches-bin/../../evil", tar::EntryType::Regular, None);
    let server = Server::start(vec![("/c.tar.gz", Route::File(archive.clone()))]);
    let data = tempfile::tempdir().unwrap();
    let spec = cifar_spec(vec![server.url("/c.tar.gz")], &md5(&archive));
    let err = fetch_dataset(&spec, data.path(), &http(), Options::default()).unwrap_err();
    assert!(err.to_string().contains("refusing archive entry"), "{err}");
    assert_eq!(listing(data.path()), ["cifar-10-batches-bin"]);
}

#[test]
fn oversized_archive_entries_and_gzip_bombs_are_refused() {
    // A batch entry bigger than the file it should be (one record more).
    let mut big = cifar_batch(None);
    big.extend(cifar_batch(None));
    let archive = tar_gz(&[
        ("cifar-10-batches-bin/data_batch_1.bin", &big),
        ("cifar-10-batches-bin/batches.meta.txt", META.as_bytes()),
    ]);
    let server = Server::start(vec![("/c.tar.gz", Route::File(archive.clone()))]);
    let data = tempfile::tempdir().unwrap();
    let spec = cifar_spec(vec![server.url("/c.tar.gz")], &md5(&archive));
    let err = fetch_dataset(&spec, data.path(), &http(), Options::default()).unwrap_err();
    assert!(err.to_string().contains("more than the"), "{err}");
    assert_eq!(listing(data.path()), ["cifar-10-batches-bin"]);
    assert!(listing(&data.path().join("cifar-10-batches-bin")).is_empty());

    // A gzip that decompresses far beyond the file's size stops at the bound.
    let bomb = gz(&vec![0u8; 50 << 20]);
    let src = data.path().join("bomb.gz");
    fs::write(&src, &bomb).unwrap();
    let dst = data.path().join("out");
    let err = crate::fetch::unpack::decompress_to(&src, &dst, "bomb.gz", 1 << 20).unwrap_err();
    assert!(err.to_string().contains("more than the 1048576 bytes"), "{err}");
    assert!(fs::metadata(&dst).map(|m| m.len()).unwrap_or(0) <= 1 << 20);
}
