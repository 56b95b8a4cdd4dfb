//! The loader shared by MNIST and Fashion-MNIST: four IDX files in `<data_dir>/<subdir>/`,
//! memory-mapped and validated, train and test of the same shape.

use std::path::Path;

use crate::catalog::{DatasetKind, MNIST_FILES};
use crate::dataset::Dataset;
use crate::error::{DatasetError, Result};
use crate::idx::IdxFile;
use crate::idx_set::image_set_from_idx;
use crate::info::DatasetInfo;

/// Loads the MNIST-layout set `kind` from `<data_dir>/<kind.subdir()>/`.
pub(crate) fn load_family(kind: DatasetKind, data_dir: &Path) -> Result<Dataset> {
    let dir = data_dir.join(kind.subdir());
    let info = DatasetInfo::builtin(kind);
    let classes: Vec<&str> = info.class_names.iter().map(String::as_str).collect();
    let open = |name: &str| IdxFile::open_for(&dir.join(name), Some(kind));
    let [train_x, train_y, test_x, test_y] = MNIST_FILES;
    let (train_images, test_images) = (open(train_x)?, open(test_x)?);
    let train = image_set_from_idx(
        &format!("{} train", kind.display_name()),
        &train_images,
        &open(train_y)?,
        &classes,
    )?;
    let test = image_set_from_idx(
        &format!("{} test", kind.display_name()),
        &test_images,
        &open(test_y)?,
        &classes,
    )?;
    // A model built for one shape would fail on the other at the first evaluation.
    if train.image_shape() != test.image_shape() {
        return Err(DatasetError::SplitShapes {
            train_path: train_images.path().to_path_buf(),
            train_shape: train.image_shape(),
            test_path: test_images.path().to_path_buf(),
            test_shape: test.image_shape(),
        });
    }
    Ok(Dataset { info, train, test })
}
