//! [`load`]: opens any built-in data set by its [`DatasetKind`].

use std::path::Path;

use crate::catalog::DatasetKind;
use crate::dataset::Dataset;
use crate::error::Result;

/// Loads any known data set from `data_dir` (CIFAR-100 with its fine labels).
///
/// # Errors
/// [`crate::DatasetError`] when a file is missing or malformed.
pub fn load(kind: DatasetKind, data_dir: impl AsRef<Path>) -> Result<Dataset> {
    let dir = data_dir.as_ref();
    match kind {
        DatasetKind::Mnist => crate::mnist::load(dir),
        DatasetKind::FashionMnist => crate::fashion_mnist::load(dir),
        DatasetKind::Cifar10 => crate::cifar10::load(dir),
        DatasetKind::Cifar100 => crate::cifar100::load(dir, crate::cifar100::LabelKind::Fine),
    }
}
