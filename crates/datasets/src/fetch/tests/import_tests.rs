//! `--from`: a folder of .gz files, of raw files, with a wrong file, and data sets confused.

use std::fs;

use super::fixtures::*;
use crate::fetch::import::import_dataset;
use crate::fetch::{FetchError, Options};

/// A spec of the images (SHA-256 pinned) and labels (structure only), with no URL.
fn spec(images: &[u8]) -> crate::fetch::DatasetSpec {
    mnist_spec(vec![
        gz_download(images_expected(images), Vec::new()),
        gz_download(labels_expected(), Vec::new()),
    ])
}

#[test]
fn imports_gz_files() {
    let images = idx_images(1);
    let from = tempfile::tempdir().unwrap();
    fs::write(from.path().join("train-images-idx3-ubyte.gz"), gz(&images)).unwrap();
    fs::write(from.path().join("train-labels-idx1-ubyte.gz"), gz(&idx_labels())).unwrap();
    let data = tempfile::tempdir().unwrap();
    let report = import_dataset(&spec(&images), data.path(), from.path(), false, Options::default()).unwrap();
    assert_eq!(report.installed.len(), 2);
    let target = data.path().join("mnist");
    assert_eq!(fs::read(target.join("train-images-idx3-ubyte")).unwrap(), images);
    assert_eq!(listing(&target), ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]);
    let again = import_dataset(&spec(&images), data.path(), from.path(), false, Options::default()).unwrap();
    assert_eq!(again.present.len(), 2);
}

#[test]
fn imports_raw_files_from_a_subfolder() {
    let images = idx_images(2);
    let from = tempfile::tempdir().unwrap();
    let sub = from.path().join("mnist");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("train-images-idx3-ubyte"), &images).unwrap();
    fs::write(sub.join("train-labels-idx1-ubyte"), idx_labels()).unwrap();
    let data = tempfile::tempdir().unwrap();
    import_dataset(&spec(&images), data.path(), from.path(), true, Options::default()).unwrap();
    assert_eq!(
        fs::read(data.path().join("mnist/train-labels-idx1-ubyte")).unwrap(),
        idx_labels()
    );
}

#[test]
fn a_wrong_file_is_rejected_and_not_installed() {
    let images = idx_images(3);
    let from = tempfile::tempdir().unwrap();
    fs::write(from.path().join("train-images-idx3-ubyte.gz"), gz(&idx_images(9))).unwrap();
    fs::write(from.path().join("train-labels-idx1-ubyte"), idx_labels()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let err = import_dataset(&spec(&images), data.path(), from.path(), false, Options::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("train-images-idx3-ubyte.gz: SHA-256 mismatch"), "{msg}");
    assert!(listing(&data.path().join("mnist")).is_empty());
    // The user's own file is never touched.
    assert!(from.path().join("train-images-idx3-ubyte.gz").is_file());
}

#[test]
fn a_malformed_file_is_rejected() {
    let images = idx_images(3);
    let mut labels = idx_labels();
    labels[10] = 42;
    let from = tempfile::tempdir().unwrap();
    fs::write(from.path().join("train-images-idx3-ubyte"), &images).unwrap();
    fs::write(from.path().join("train-labels-idx1-ubyte"), labels).unwrap();
    let data = tempfile::tempdir().unwrap();
    let err = import_dataset(&spec(&images), data.path(), from.path(), false, Options::default()).unwrap_err();
    assert!(err.to_string().contains("record 2 has label 42"), "{err}");
    assert_eq!(listing(&data.path().join("mnist")), ["train-images-idx3-ubyte"]);
}

#[test]
fn a_missing_file_names_what_was_looked_for() {
    let from = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let err = import_dataset(
        &spec(&idx_images(1)),
        data.path(),
        from.path(),
        false,
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(err, FetchError::Import { .. }));
    assert!(
        err.to_string()
            .contains("found neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"),
        "{err}"
    );
}

#[test]
fn another_data_set_under_this_name_is_refused() {
    let labels = idx_labels();
    let from = tempfile::tempdir().unwrap();
    fs::write(from.path().join("train-labels-idx1-ubyte.gz"), gz(&labels)).unwrap();
    let mut spec = mnist_spec(vec![gz_download(labels_expected(), Vec::new())]);
    spec.foreign_sha256 = vec![sha256(&labels)];
    let data = tempfile::tempdir().unwrap();
    let err = import_dataset(&spec, data.path(), from.path(), false, Options::default()).unwrap_err();
    assert!(err.to_string().contains("another data set"), "{err}");
}
