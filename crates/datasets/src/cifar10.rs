//! CIFAR-10, binary version: `<data_dir>/cifar-10-batches-bin/` with `data_batch_1.bin` ...
//! `data_batch_5.bin` (train, 50,000 images), `test_batch.bin` (10,000) and
//! `batches.meta.txt` (class names; the built-in names are used when it is absent).
//!
//! Each file is memory-mapped; the training set indexes across the five maps without copying.

use std::path::Path;

use crate::catalog::{DatasetKind, CIFAR10_CLASSES, CIFAR10_FILES};
use crate::cifar::{image_set_from_files, read_class_names, CifarFile, CifarFormat};
use crate::dataset::Dataset;
use crate::error::Result;
use crate::image_set::KerasData;

/// Loads CIFAR-10 from `<data_dir>/cifar-10-batches-bin/` (memory-mapped, validated).
///
/// Images are `[3, 32, 32]` channel-major, which is what training takes.
///
/// # Errors
/// [`crate::DatasetError::Missing`] (with the hint `neurite fetch cifar10` / `cargo xtask fetch-data cifar10`) or any
/// other [`crate::DatasetError`] for a malformed file.
pub fn load(data_dir: impl AsRef<Path>) -> Result<Dataset> {
    let kind = DatasetKind::Cifar10;
    let dir = data_dir.as_ref().join(kind.subdir());
    let open = |name: &str| CifarFile::open_for(&dir.join(name), CifarFormat::CIFAR10, &[10], Some(kind));
    let train_files = CIFAR10_FILES[..5].iter().map(|f| open(f)).collect::<Result<Vec<_>>>()?;
    let test_file = open(CIFAR10_FILES[5])?;
    let names = read_class_names(&dir.join(CIFAR10_FILES[6]), &CIFAR10_CLASSES)?;
    Ok(Dataset::builtin(
        kind,
        image_set_from_files("CIFAR-10 train", &train_files, 0, names.clone())?,
        image_set_from_files("CIFAR-10 test", &[test_file], 0, names)?,
    ))
}

/// Keras-like: `((x_train, y_train), (x_test, y_test))` with `x_train` of shape
/// `(50000, 32, 32, 3)` (channel-last, zero-copy); `x_train.channels_first()` gives
/// `(50000, 3, 32, 32)`.
///
/// # Errors
/// As [`load`].
pub fn load_data(data_dir: impl AsRef<Path>) -> Result<KerasData> {
    Ok(load(data_dir)?.into_keras())
}
