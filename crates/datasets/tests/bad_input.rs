//! Every bad-input case is a typed error naming the file and the problem, never a panic.

mod common;

use std::path::{Path, PathBuf};

use neurite_datasets::catalog::{CIFAR10_FILES, MNIST_FILES};
use neurite_datasets::cifar::{CifarFile, CifarFormat, CIFAR_IMAGE_LEN};
use neurite_datasets::idx::{encode_idx, IdxData, IdxFile};
use neurite_datasets::{cifar10, cifar100, fashion_mnist, mnist, DatasetError, FormatError};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// An IDX header: magic `[0, 0, code, rank]` then the dims.
fn header(code: u8, dims: &[u32]) -> Vec<u8> {
    let mut v = vec![0, 0, code, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v
}

/// Opens crafted IDX bytes as a file and returns the format problem (checking the message
/// names the file).
fn idx_problem(bytes: &[u8]) -> FormatError {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "crafted-idx", bytes);
    let err = IdxFile::open(&path).unwrap_err();
    assert!(err.to_string().contains("crafted-idx"), "message names the file: {err}");
    err.format_problem()
        .cloned()
        .unwrap_or_else(|| panic!("expected a format error, got {err}"))
}

#[test]
fn missing_files_name_the_path_and_the_fetch_command() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(DatasetError, &str, &str); 4] = [
        (
            mnist::load(dir.path()).unwrap_err(),
            "run `neurite fetch mnist` or `cargo xtask fetch-data mnist`",
            MNIST_FILES[0],
        ),
        (
            fashion_mnist::load(dir.path()).unwrap_err(),
            "run `neurite fetch fashion-mnist` or `cargo xtask fetch-data fashion-mnist`",
            MNIST_FILES[0],
        ),
        (
            cifar10::load(dir.path()).unwrap_err(),
            "run `neurite fetch cifar10` or `cargo xtask fetch-data cifar10`",
            CIFAR10_FILES[0],
        ),
        (
            cifar100::load(dir.path(), Default::default()).unwrap_err(),
            "run `neurite fetch cifar100` or `cargo xtask fetch-data cifar100`",
            "train.bin",
        ),
    ];
    for (err, hint, file) in cases {
        assert!(matches!(err, DatasetError::Missing { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(hint), "{msg}");
        assert!(msg.contains(file), "{msg}");
    }
}

#[test]
fn one_missing_cifar10_batch_is_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    common::write_cifar10_dir(dir.path(), 2, 2);
    std::fs::remove_file(dir.path().join("cifar-10-batches-bin/data_batch_3.bin")).unwrap();
    let err = cifar10::load(dir.path()).unwrap_err();
    assert!(
        matches!(&err, DatasetError::Missing { path, .. } if path.ends_with("data_batch_3.bin")),
        "{err}"
    );
}

#[test]
fn wrong_magic() {
    let mut bytes = header(0x08, &[1]);
    bytes.push(0);
    bytes[0] = 0x1f; // e.g. a gzip file handed over undecompressed
    assert!(matches!(idx_problem(&bytes), FormatError::BadMagic { magic } if magic[0] == 0x1f));
    let gzip_like = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0];
    assert!(matches!(idx_problem(&gzip_like), FormatError::BadMagic { .. }));
}

#[test]
fn wrong_type_code() {
    for code in [0x00, 0x07, 0x0A, 0x0F, 0xFF] {
        let mut bytes = header(code, &[2]);
        bytes.extend_from_slice(&[0, 0]);
        assert_eq!(idx_problem(&bytes), FormatError::BadTypeCode { code });
    }
}

#[test]
fn zero_rank() {
    assert_eq!(idx_problem(&[0, 0, 0x08, 0, 1, 2]), FormatError::ZeroRank);
}

#[test]
fn header_shorter_than_its_dims() {
    assert_eq!(
        idx_problem(&[0, 0, 8]),
        FormatError::HeaderTruncated { len: 3, needed: 4 }
    );
    // Rank 3 needs 16 header bytes.
    let bytes = &header(0x08, &[1, 1, 1])[..10];
    assert_eq!(idx_problem(bytes), FormatError::HeaderTruncated { len: 10, needed: 16 });
}

#[test]
fn dims_whose_product_overflows() {
    let bytes = header(0x0E, &[u32::MAX, u32::MAX, u32::MAX, 2]);
    assert!(matches!(idx_problem(&bytes), FormatError::DimsOverflow { .. }));
}

#[test]
fn truncated_data() {
    let mut bytes = header(0x08, &[3, 28, 28]);
    bytes.extend(vec![7u8; 2 * 784 + 100]);
    assert_eq!(
        idx_problem(&bytes),
        FormatError::Truncated {
            expected: 3 * 784,
            actual: 2 * 784 + 100
        }
    );
    // Multi-byte types count bytes, not elements.
    let mut bytes = header(0x0D, &[4]);
    bytes.extend_from_slice(&[0; 15]);
    assert_eq!(
        idx_problem(&bytes),
        FormatError::Truncated {
            expected: 16,
            actual: 15
        }
    );
}

#[test]
fn trailing_bytes() {
    let mut bytes = encode_idx(&[2, 2], IdxData::U8(&[1, 2, 3, 4])).unwrap();
    bytes.extend_from_slice(b"junk");
    assert_eq!(
        idx_problem(&bytes),
        FormatError::TrailingBytes { expected: 4, extra: 4 }
    );
}

#[test]
fn zero_dims() {
    let bytes = header(0x08, &[0, 28, 28]);
    assert!(matches!(idx_problem(&bytes), FormatError::ZeroDim { axis: 0, .. }));
    let mut bytes = header(0x08, &[5, 0]);
    bytes.push(1);
    assert!(matches!(idx_problem(&bytes), FormatError::ZeroDim { axis: 1, .. }));
}

#[test]
fn empty_files() {
    assert_eq!(idx_problem(&[]), FormatError::Empty);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.bin", &[]);
    let err = CifarFile::open(&path, CifarFormat::CIFAR10, &[10]).unwrap_err();
    assert_eq!(err.format_problem(), Some(&FormatError::Empty));
    assert!(err.to_string().contains("empty.bin"));
}

#[test]
fn a_directory_where_a_file_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let err = IdxFile::open(dir.path()).unwrap_err();
    assert!(matches!(err, DatasetError::NotAFile { .. }), "{err}");
    let err = CifarFile::open(dir.path(), CifarFormat::CIFAR10, &[10]).unwrap_err();
    assert!(matches!(err, DatasetError::NotAFile { .. }), "{err}");
    // Inside a data directory.
    common::write_mnist_dir(dir.path(), "mnist", 3, 2);
    let labels = dir.path().join("mnist").join(MNIST_FILES[3]);
    std::fs::remove_file(&labels).unwrap();
    std::fs::create_dir(&labels).unwrap();
    let err = mnist::load(dir.path()).unwrap_err();
    assert!(
        matches!(&err, DatasetError::NotAFile { path } if *path == labels),
        "{err}"
    );
}

#[test]
fn image_and_label_counts_differ() {
    let dir = tempfile::tempdir().unwrap();
    common::write_mnist_dir(dir.path(), "mnist", 5, 2);
    let sub = dir.path().join("mnist");
    common::write_mnist_pair(&sub, "x", MNIST_FILES[1], 4, 28, 28); // 4 labels for 5 images
    let err = mnist::load(dir.path()).unwrap_err();
    match &err {
        DatasetError::CountMismatch {
            images: 5,
            labels: 4,
            images_path,
            labels_path,
        } => {
            assert!(images_path.ends_with(MNIST_FILES[0]));
            assert!(labels_path.ends_with(MNIST_FILES[1]));
        }
        other => panic!("expected CountMismatch, got {other}"),
    }
}

#[test]
fn mnist_label_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    common::write_mnist_dir(dir.path(), "mnist", 5, 2);
    let labels = dir.path().join("mnist").join(MNIST_FILES[3]);
    neurite_datasets::idx::write_idx(&labels, &[2], IdxData::U8(&[3, 10])).unwrap();
    let err = mnist::load(dir.path()).unwrap_err();
    assert!(
        matches!(&err, DatasetError::LabelOutOfRange { index: 1, label: 10, classes: 10, path } if *path == labels),
        "{err}"
    );
}

#[test]
fn mnist_files_of_the_wrong_type_or_rank() {
    let dir = tempfile::tempdir().unwrap();
    common::write_mnist_dir(dir.path(), "mnist", 2, 2);
    let images = dir.path().join("mnist").join(MNIST_FILES[0]);
    neurite_datasets::idx::write_idx(&images, &[2, 28, 28], IdxData::I16(&[0; 2 * 784])).unwrap();
    let err = mnist::load(dir.path()).unwrap_err();
    assert!(
        matches!(
            err.format_problem(),
            Some(FormatError::WrongType {
                expected: "u8",
                found: "i16"
            })
        ),
        "{err}"
    );
    neurite_datasets::idx::write_idx(&images, &[2, 784], IdxData::U8(&[0; 2 * 784])).unwrap();
    let err = mnist::load(dir.path()).unwrap_err();
    assert!(
        matches!(
            err.format_problem(),
            Some(FormatError::WrongRank {
                expected: 3,
                found: 2,
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn cifar_size_not_a_multiple_of_the_record() {
    let dir = tempfile::tempdir().unwrap();
    common::write_cifar10_dir(dir.path(), 2, 2);
    let path = dir.path().join("cifar-10-batches-bin/data_batch_4.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.pop();
    std::fs::write(&path, &bytes).unwrap();
    let err = cifar10::load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("data_batch_4.bin"), "{err}");
    assert_eq!(
        err.format_problem(),
        Some(&FormatError::RecordSize {
            len: 2 * 3073 - 1,
            record: 3073
        })
    );
    // A CIFAR-10 file read as CIFAR-100 is rejected too.
    let ok = dir.path().join("cifar-10-batches-bin/test_batch.bin");
    let err = CifarFile::open(&ok, CifarFormat::CIFAR100, &[20, 100]).unwrap_err();
    assert!(
        matches!(err.format_problem(), Some(FormatError::RecordSize { record: 3074, .. })),
        "{err}"
    );
}

#[test]
fn cifar_labels_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    common::write_cifar10_dir(dir.path(), 2, 2);
    let path = dir.path().join("cifar-10-batches-bin/test_batch.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[3073] = 10; // second record's label
    std::fs::write(&path, &bytes).unwrap();
    let err = cifar10::load(dir.path()).unwrap_err();
    assert!(
        matches!(
            &err,
            DatasetError::LabelOutOfRange {
                index: 1,
                label: 10,
                classes: 10,
                ..
            }
        ),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    common::write_cifar100_dir(dir.path(), 3, 2);
    let path = dir.path().join("cifar-100-binary/train.bin");
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    bad[2 * 3074] = 20; // third record's coarse label
    std::fs::write(&path, &bad).unwrap();
    for labels in [cifar100::LabelKind::Fine, cifar100::LabelKind::Coarse] {
        let err = cifar100::load(dir.path(), labels).unwrap_err();
        assert!(
            matches!(
                &err,
                DatasetError::LabelOutOfRange {
                    index: 2,
                    label: 20,
                    classes: 20,
                    ..
                }
            ),
            "{err}"
        );
    }
    let mut bad = good;
    bad[1] = 100; // first record's fine label
    std::fs::write(&path, &bad).unwrap();
    let err = cifar100::load(dir.path(), cifar100::LabelKind::Fine).unwrap_err();
    assert!(
        matches!(
            &err,
            DatasetError::LabelOutOfRange {
                index: 0,
                label: 100,
                classes: 100,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn cifar_class_name_file_with_the_wrong_count() {
    let dir = tempfile::tempdir().unwrap();
    common::write_cifar10_dir(dir.path(), 1, 1);
    let meta = dir.path().join("cifar-10-batches-bin/batches.meta.txt");
    std::fs::write(&meta, "airplane\nautomobile\n").unwrap();
    let err = cifar10::load(dir.path()).unwrap_err();
    assert!(
        matches!(
            &err,
            DatasetError::ClassNames {
                expected: 10,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn damaged_mnist_files_are_not_replaced_by_the_embedded_sample() {
    let dir = tempfile::tempdir().unwrap();
    common::write_mnist_dir(dir.path(), "mnist", 2, 2);
    write(&dir.path().join("mnist"), MNIST_FILES[2], &[0x1f, 0x8b, 8, 0, 0, 0]);
    let err = mnist::load_or_embedded(dir.path()).unwrap_err();
    assert!(
        matches!(err.format_problem(), Some(FormatError::BadMagic { .. })),
        "{err}"
    );
}

#[test]
fn cifar_pixels_need_whole_images() {
    let err = neurite_datasets::cifar::encode_cifar(CifarFormat::CIFAR10, &[1], &[0; CIFAR_IMAGE_LEN - 1]).unwrap_err();
    assert!(matches!(err, FormatError::ValueCount { .. }));
}

#[test]
fn idx_writer_rejects_inconsistent_input() {
    assert_eq!(encode_idx(&[], IdxData::U8(&[])), Err(FormatError::ZeroRank));
    assert!(matches!(
        encode_idx(&[2, 0], IdxData::U8(&[])),
        Err(FormatError::ZeroDim { axis: 1, .. })
    ));
    assert!(matches!(
        encode_idx(&[2, 2], IdxData::U8(&[1, 2, 3])),
        Err(FormatError::ValueCount { .. })
    ));
}
