//! The embedded MNIST sample: the first 10,000 training and 2,000 test images and labels of
//! the official MNIST files, compiled into the crate (gzip, about 1.9 MB) behind the default
//! feature `embedded-mnist`, so that MNIST works with no download.
//!
//! Decompressed once, on first use, into memory that lives for the rest of the program, and
//! validated by the same IDX parser as the files on disk.
//!
//! MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, licensed under
//! Creative Commons Attribution-Share Alike 3.0 (see `data/mnist-mini/README.md`).

use crate::dataset::Dataset;
use crate::error::{DatasetError, Result};

/// Training images in the embedded sample.
pub const EMBEDDED_TRAIN_LEN: usize = 10_000;
/// Test images in the embedded sample.
pub const EMBEDDED_TEST_LEN: usize = 2_000;

/// Whether this build carries the embedded sample (feature `embedded-mnist`).
pub fn is_available() -> bool {
    cfg!(feature = "embedded-mnist")
}

/// Loads the embedded sample as a [`Dataset`] of kind MNIST.
///
/// # Errors
/// [`DatasetError::EmbeddedUnavailable`] without the `embedded-mnist` feature.
pub fn load() -> Result<Dataset> {
    imp::load()
}

#[cfg(feature = "embedded-mnist")]
mod imp {
    use std::io::Read;
    use std::sync::OnceLock;

    use super::*;
    use crate::catalog::{DatasetKind, MNIST_CLASSES, MNIST_FILES};
    use crate::idx::IdxFile;
    use crate::idx_set::image_set_from_idx;
    use crate::info::DatasetInfo;
    use crate::mmap_file::SharedBytes;

    static GZ: [&[u8]; 4] = [
        include_bytes!("../data/mnist-mini/train-images-idx3-ubyte.gz"),
        include_bytes!("../data/mnist-mini/train-labels-idx1-ubyte.gz"),
        include_bytes!("../data/mnist-mini/t10k-images-idx3-ubyte.gz"),
        include_bytes!("../data/mnist-mini/t10k-labels-idx1-ubyte.gz"),
    ];

    static DECODED: OnceLock<Result<[Vec<u8>; 4], String>> = OnceLock::new();

    fn gunzip(gz: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut out)?;
        Ok(out)
    }

    fn decoded() -> Result<&'static [Vec<u8>; 4]> {
        let files = DECODED.get_or_init(|| {
            let mut out: [Vec<u8>; 4] = Default::default();
            for (i, gz) in GZ.iter().enumerate() {
                out[i] = gunzip(gz).map_err(|e| format!("{}.gz: {e}", MNIST_FILES[i]))?;
            }
            Ok(out)
        });
        files.as_ref().map_err(|msg| DatasetError::Io {
            path: "embedded:mnist-mini".into(),
            source: std::io::Error::other(msg.clone()),
        })
    }

    pub(super) fn load() -> Result<Dataset> {
        let files = decoded()?;
        let idx = |i: usize| {
            IdxFile::from_bytes(
                SharedBytes::from_static(&files[i]),
                format!("embedded:mnist-mini/{}", MNIST_FILES[i]),
            )
        };
        let train = image_set_from_idx("MNIST train (embedded sample)", &idx(0)?, &idx(1)?, &MNIST_CLASSES)?;
        let test = image_set_from_idx("MNIST test (embedded sample)", &idx(2)?, &idx(3)?, &MNIST_CLASSES)?;
        Ok(Dataset {
            info: DatasetInfo::builtin(DatasetKind::Mnist),
            train,
            test,
        })
    }
}

#[cfg(not(feature = "embedded-mnist"))]
mod imp {
    use super::*;

    pub(super) fn load() -> Result<Dataset> {
        Err(DatasetError::EmbeddedUnavailable)
    }
}
