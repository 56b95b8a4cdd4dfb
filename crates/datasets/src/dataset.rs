//! [`Dataset`]: the train and test [`ImageSet`]s of one data set, with its [`DatasetInfo`].

use crate::catalog::DatasetKind;
use crate::image_set::{ImageArray, ImageSet, KerasData, LabelArray};
use crate::info::DatasetInfo;

/// The train and test splits of a data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// What the set is and where it comes from.
    pub info: DatasetInfo,
    /// The training split.
    pub train: ImageSet,
    /// The test split.
    pub test: ImageSet,
}

impl Dataset {
    /// A built-in set from its two splits; the class names are those of `train` (CIFAR-10's
    /// `batches.meta.txt`, CIFAR-100's coarse names when loaded with coarse labels).
    pub fn builtin(kind: DatasetKind, train: ImageSet, test: ImageSet) -> Dataset {
        let mut info = DatasetInfo::builtin(kind);
        info.class_names = train.class_names().to_vec();
        Dataset { info, train, test }
    }

    /// The built-in set this is, `None` for a folder of images.
    pub fn kind(&self) -> Option<DatasetKind> {
        self.info.kind()
    }

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
