//! Fashion-MNIST: the MNIST layout (four IDX files in `<data_dir>/fashion-mnist/`) with
//! clothing images and [`crate::catalog::FASHION_MNIST_CLASSES`].

use std::path::Path;

use crate::catalog::DatasetKind;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::image_set::KerasData;

/// Loads Fashion-MNIST from `<data_dir>/fashion-mnist/` (memory-mapped, validated).
///
/// # Errors
/// [`crate::DatasetError`] when a file is missing (with the fetch hint) or malformed.
pub fn load(data_dir: impl AsRef<Path>) -> Result<Dataset> {
    crate::mnist_family::load_family(DatasetKind::FashionMnist, data_dir.as_ref())
}

/// Keras-like: `((x_train, y_train), (x_test, y_test))` with `x_train` of shape
/// `(60000, 28, 28)`, zero-copy.
///
/// # Errors
/// As [`load`].
pub fn load_data(data_dir: impl AsRef<Path>) -> Result<KerasData> {
    Ok(load(data_dir)?.into_keras())
}
