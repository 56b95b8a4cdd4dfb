//! [`Dataset`]: the train and test [`ImageSet`]s of one data set, and the generic [`load`].

use std::path::Path;

use crate::catalog::DatasetKind;
use crate::error::Result;
use crate::image_set::{ImageArray, ImageSet, KerasData, LabelArray};

/// The train and test splits of a data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Which data set.
    pub kind: DatasetKind,
    /// The training split.
    pub train: ImageSet,
    /// The test split.
    pub test: ImageSet,
}

impl Dataset {
    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.train.num_classes()
    }

    /// Class names in label order.
    pub fn class_names(&self) -> &[String] {
        self.train.class_names()
    }

    /// `[C, H, W]` of one image.
    pub fn image_shape(&self) -> [usize; 3] {
        self.train.image_shape()
    }

    /// Keras' `((x_train, y_train), (x_test, y_test))`, zero-copy.
    pub fn into_keras(self) -> KerasData {
        (
            (ImageArray::new(self.train.clone()), LabelArray::new(self.train)),
            (ImageArray::new(self.test.clone()), LabelArray::new(self.test)),
        )
    }
}

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
