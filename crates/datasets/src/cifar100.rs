//! CIFAR-100, binary version: `<data_dir>/cifar-100-binary/` with `train.bin` (50,000
//! images), `test.bin` (10,000), and optionally `fine_label_names.txt` /
//! `coarse_label_names.txt` (built-in names otherwise). Each record holds a coarse label byte
//! (20 superclasses), a fine label byte (100 classes), then 3,072 pixel bytes.

use std::path::Path;

use crate::catalog::{DatasetKind, CIFAR100_COARSE_CLASSES, CIFAR100_FILES, CIFAR100_FINE_CLASSES};
use crate::cifar::{image_set_from_files, read_class_names, CifarFile, CifarFormat};
use crate::dataset::Dataset;
use crate::error::Result;
use crate::image_set::KerasData;

/// Which CIFAR-100 label to train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelKind {
    /// The 100 fine classes (Keras' default `label_mode="fine"`).
    #[default]
    Fine,
    /// The 20 coarse superclasses.
    Coarse,
}

/// Loads CIFAR-100 from `<data_dir>/cifar-100-binary/` (memory-mapped, validated; both label
/// bytes are checked whatever `labels` says).
///
/// # Errors
/// [`crate::DatasetError::Missing`] (with the hint `neurite fetch cifar100` / `cargo xtask fetch-data cifar100`) or any
/// other [`crate::DatasetError`] for a malformed file.
pub fn load(data_dir: impl AsRef<Path>, labels: LabelKind) -> Result<Dataset> {
    let kind = DatasetKind::Cifar100;
    let dir = data_dir.as_ref().join(kind.subdir());
    let open = |name: &str| CifarFile::open_for(&dir.join(name), CifarFormat::CIFAR100, &[20, 100], Some(kind));
    let train = open(CIFAR100_FILES[0])?;
    let test = open(CIFAR100_FILES[1])?;
    let (index, names) = match labels {
        LabelKind::Coarse => (
            0,
            read_class_names(&dir.join(CIFAR100_FILES[2]), &CIFAR100_COARSE_CLASSES)?,
        ),
        LabelKind::Fine => (
            1,
            read_class_names(&dir.join(CIFAR100_FILES[3]), &CIFAR100_FINE_CLASSES)?,
        ),
    };
    Ok(Dataset::builtin(
        kind,
        image_set_from_files("CIFAR-100 train", &[train], index, names.clone())?,
        image_set_from_files("CIFAR-100 test", &[test], index, names)?,
    ))
}

/// Keras-like: `((x_train, y_train), (x_test, y_test))` with `x_train` of shape
/// `(50000, 32, 32, 3)` (channel-last, zero-copy).
///
/// # Errors
/// As [`load`].
pub fn load_data(data_dir: impl AsRef<Path>, labels: LabelKind) -> Result<KerasData> {
    Ok(load(data_dir, labels)?.into_keras())
}
