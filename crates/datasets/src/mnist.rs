//! MNIST (and the shared loader of the MNIST family): four IDX files in `<data_dir>/mnist/`,
//! memory-mapped and validated, or the embedded 10,000/2,000 sample when they are absent.
//!
//! ```
//! # fn main() -> Result<(), neurite_datasets::DatasetError> {
//! use neurite_datasets::mnist::{self, MnistSource};
//! # #[cfg(feature = "embedded-mnist")] {
//! let dir = std::env::temp_dir().join("neurite-doc-no-such-dir");
//! let (data, source) = mnist::load_or_embedded(&dir)?;
//! assert_eq!(source, MnistSource::Embedded);
//! assert_eq!(data.train.len(), 10_000);
//! # }
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::catalog::{DatasetKind, MNIST_FILES};
use crate::dataset::Dataset;
use crate::error::Result;
use crate::image_set::KerasData;
use crate::mmap_file::is_file;

pub use crate::idx_set::{image_set_from_idx, load_split};

/// Loads MNIST from `<data_dir>/mnist/` (memory-mapped, validated; nothing is copied).
///
/// # Errors
/// [`DatasetError::Missing`](crate::DatasetError::Missing) (with the hint `neurite fetch mnist` / `cargo xtask fetch-data mnist`) or any other
/// [`DatasetError`](crate::DatasetError) for a malformed file.
pub fn load(data_dir: impl AsRef<Path>) -> Result<Dataset> {
    crate::mnist_family::load_family(DatasetKind::Mnist, data_dir.as_ref())
}

/// Keras-like: `((x_train, y_train), (x_test, y_test))` with `x_train` of shape
/// `(60000, 28, 28)` `u8`, zero-copy over the mapped files.
///
/// # Errors
/// As [`load`].
pub fn load_data(data_dir: impl AsRef<Path>) -> Result<KerasData> {
    Ok(load(data_dir)?.into_keras())
}

/// Where [`load_or_embedded`] found MNIST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MnistSource {
    /// The full files in this folder (`<data_dir>/mnist`).
    Files(PathBuf),
    /// The embedded 10,000/2,000 sample compiled into the crate.
    Embedded,
}

impl MnistSource {
    /// Whether the embedded sample was used.
    pub fn is_embedded(&self) -> bool {
        matches!(self, MnistSource::Embedded)
    }
}

impl fmt::Display for MnistSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MnistSource::Files(dir) => write!(f, "MNIST files in {}", dir.display()),
            MnistSource::Embedded => write!(
                f,
                "using the embedded sample ({} train / {} test images); for the full set {}",
                crate::embedded::EMBEDDED_TRAIN_LEN,
                crate::embedded::EMBEDDED_TEST_LEN,
                DatasetKind::Mnist.fetch_hint()
            ),
        }
    }
}

/// Whether all four MNIST files exist in `<data_dir>/mnist/` (says nothing of their content).
pub fn files_present(data_dir: impl AsRef<Path>) -> bool {
    let dir = data_dir.as_ref().join(DatasetKind::Mnist.subdir());
    MNIST_FILES.iter().all(|f| is_file(&dir.join(f)))
}

/// Whether any of the four MNIST names exists in `<data_dir>/mnist/`, as anything (a file, a
/// directory, a dangling link).
fn any_file_exists(data_dir: &Path) -> bool {
    let dir = data_dir.join(DatasetKind::Mnist.subdir());
    MNIST_FILES.iter().any(|f| dir.join(f).symlink_metadata().is_ok())
}

/// Loads MNIST from `<data_dir>/mnist/`, or the embedded sample when none of the four files
/// exists there; says which one it used.
///
/// A partial or damaged set (one file missing, a directory in a file's place, a malformed
/// file) is an error naming the file, never silently replaced by the sample.
///
/// # Errors
/// A [`DatasetError`](crate::DatasetError) naming the missing or malformed file, or [`DatasetError::Missing`](crate::DatasetError::Missing) when
/// no file exists and the crate was built without the `embedded-mnist` feature.
pub fn load_or_embedded(data_dir: impl AsRef<Path>) -> Result<(Dataset, MnistSource)> {
    let data_dir = data_dir.as_ref();
    if any_file_exists(data_dir) || !crate::embedded::is_available() {
        let data = load(data_dir)?;
        Ok((data, MnistSource::Files(data_dir.join(DatasetKind::Mnist.subdir()))))
    } else {
        Ok((crate::embedded::load()?, MnistSource::Embedded))
    }
}

/// The embedded sample (first 10,000 training and 2,000 test images of MNIST).
///
/// # Errors
/// [`DatasetError::EmbeddedUnavailable`](crate::DatasetError::EmbeddedUnavailable) without the `embedded-mnist` feature.
pub fn embedded() -> Result<Dataset> {
    crate::embedded::load()
}
