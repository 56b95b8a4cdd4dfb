//! An [`ImageSet`] from a pair of IDX files (images `u8` rank 3, labels `u8` rank 1): the
//! layout of the MNIST family and of the embedded sample.

use std::path::Path;

use crate::catalog::MNIST_CLASSES;
use crate::error::{DatasetError, Result};
use crate::idx::{IdxFile, IdxType};
use crate::image_set::{Chunk, ImageSet};

/// Builds an image set from a validated images file (`u8`, rank 3: count, rows, cols) and
/// labels file (`u8`, rank 1), checking that the counts agree and every label is below
/// `class_names.len()`.
///
/// # Errors
/// [`DatasetError::Format`] for a wrong type or rank, [`DatasetError::CountMismatch`],
/// [`DatasetError::LabelOutOfRange`].
pub fn image_set_from_idx(name: &str, images: &IdxFile, labels: &IdxFile, class_names: &[&str]) -> Result<ImageSet> {
    images.expect(IdxType::U8, 3)?;
    labels.expect(IdxType::U8, 1)?;
    if images.len() != labels.len() {
        return Err(DatasetError::CountMismatch {
            images_path: images.path().to_path_buf(),
            images: images.len(),
            labels_path: labels.path().to_path_buf(),
            labels: labels.len(),
        });
    }
    let (rows, cols) = (images.dims()[1], images.dims()[2]);
    let chunk = Chunk {
        pixels: images.bytes().clone(),
        pixel_offset: images.header().data_offset,
        pixel_stride: rows * cols,
        labels: labels.bytes().clone(),
        label_offset: labels.header().data_offset,
        label_stride: 1,
        count: images.len(),
        label_path: labels.path().to_path_buf(),
    };
    let names = class_names.iter().map(|s| s.to_string()).collect();
    ImageSet::from_chunks(name, vec![chunk], [1, rows, cols], names)
}

/// Opens an MNIST-format pair of IDX files (images, labels) as an image set with the 10 digit
/// classes.
///
/// # Errors
/// As [`image_set_from_idx`], plus missing or malformed files.
pub fn load_split(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<ImageSet> {
    let images = IdxFile::open(images)?;
    let labels = IdxFile::open(labels)?;
    image_set_from_idx("MNIST-format", &images, &labels, &MNIST_CLASSES)
}
