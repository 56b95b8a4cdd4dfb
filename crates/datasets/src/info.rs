//! [`DatasetInfo`]: the one table of data-set facts (where the data lives, the shape of one
//! sample, the classes and their names, the polarity of grey images, Keras' array shape), for
//! the built-in sets and for image folders and CSV tables alike. The CLI and the loaders read
//! these facts here instead of keeping copies.
//!
//! ```
//! use neurite_datasets::{DatasetInfo, DatasetKind};
//! let info = DatasetInfo::builtin(DatasetKind::Cifar100);
//! assert_eq!(info.input_shape(), vec![3, 32, 32]);
//! assert_eq!(info.num_classes(), 100);
//! assert_eq!(info.class_names[0], "apple");
//! assert_eq!(info.keras_shape(50_000), "(50000, 32, 32, 3)");
//! assert!(DatasetInfo::builtin(DatasetKind::Mnist).light_on_dark);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::catalog::{DatasetKind, CIFAR100_FINE_CLASSES, CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES};

/// Where a data set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// One of the built-in sets, read from the data directory (or MNIST's embedded sample).
    BuiltIn(DatasetKind),
    /// A folder of images, one subfolder per class.
    Folder(PathBuf),
    /// A CSV table of numeric features and a label column.
    Table(PathBuf),
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::BuiltIn(kind) => f.write_str(kind.display_name()),
            DataSource::Folder(path) | DataSource::Table(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What a sample of the set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleShape {
    /// An image of `[C, H, W]` bytes.
    Image([usize; 3]),
    /// A row of this many numeric features.
    Features(usize),
}

/// The facts about one data set, in one place.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetInfo {
    /// Where it comes from.
    pub source: DataSource,
    /// The human-readable name (`MNIST`, `flowers`, `iris.csv`).
    pub display_name: String,
    /// What one sample is.
    pub shape: SampleShape,
    /// Class names in label order; empty for a regression table.
    pub class_names: Vec<String>,
    /// Whether the images are light strokes on a dark background (the MNIST family): a
    /// photographed digit, dark on paper, must then be inverted before prediction.
    pub light_on_dark: bool,
    /// The files read, relative to [`DatasetInfo::files_root`].
    pub files: Vec<String>,
}

impl DatasetInfo {
    /// The facts of a built-in set, without opening it (CIFAR-100 with its 100 fine classes).
    pub fn builtin(kind: DatasetKind) -> DatasetInfo {
        let (shape, names): ([usize; 3], &[&str]) = match kind {
            DatasetKind::Mnist => ([1, 28, 28], &MNIST_CLASSES),
            DatasetKind::FashionMnist => ([1, 28, 28], &FASHION_MNIST_CLASSES),
            DatasetKind::Cifar10 => ([3, 32, 32], &CIFAR10_CLASSES),
            DatasetKind::Cifar100 => ([3, 32, 32], &CIFAR100_FINE_CLASSES),
        };
        DatasetInfo {
            source: DataSource::BuiltIn(kind),
            display_name: kind.display_name().to_string(),
            shape: SampleShape::Image(shape),
            class_names: names.iter().map(|s| s.to_string()).collect(),
            light_on_dark: matches!(kind, DatasetKind::Mnist | DatasetKind::FashionMnist),
            files: kind.files().iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The facts of an image folder whose images are `shape` with these classes.
    pub fn folder(root: &Path, shape: [usize; 3], class_names: Vec<String>, files: Vec<String>) -> DatasetInfo {
        DatasetInfo {
            source: DataSource::Folder(root.to_path_buf()),
            display_name: display_name_of(root),
            shape: SampleShape::Image(shape),
            class_names,
            light_on_dark: false,
            files,
        }
    }

    /// The facts of a CSV table with `features` feature columns and these classes (none for
    /// regression).
    pub fn table(path: &Path, features: usize, class_names: Vec<String>) -> DatasetInfo {
        DatasetInfo {
            source: DataSource::Table(path.to_path_buf()),
            display_name: display_name_of(path),
            shape: SampleShape::Features(features),
            class_names,
            light_on_dark: false,
            files: vec![display_name_of(path)],
        }
    }

    /// The built-in set, if this is one.
    pub fn kind(&self) -> Option<DatasetKind> {
        match self.source {
            DataSource::BuiltIn(kind) => Some(kind),
            _ => None,
        }
    }

    /// Number of classes (0 for a regression table).
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The shape of one model input: `[C, H, W]` for images, `[features]` for tables.
    pub fn input_shape(&self) -> Vec<usize> {
        match self.shape {
            SampleShape::Image(chw) => chw.to_vec(),
            SampleShape::Features(n) => vec![n],
        }
    }

    /// `[C, H, W]` for images, `None` for tables.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        match self.shape {
            SampleShape::Image(chw) => Some(chw),
            SampleShape::Features(_) => None,
        }
    }

    /// The folder [`DatasetInfo::files`] are relative to: `<data_dir>/<subdir>` for a built-in
    /// set, the folder itself, or the CSV's folder.
    pub fn files_root(&self, data_dir: &Path) -> PathBuf {
        match &self.source {
            DataSource::BuiltIn(kind) => data_dir.join(kind.subdir()),
            DataSource::Folder(path) => path.clone(),
            DataSource::Table(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// Keras' array shape for `n` samples: `(n, H, W)` for grey images, `(n, H, W, C)`
    /// channel-last for colour, `(n, F)` for a table.
    pub fn keras_shape(&self, n: usize) -> String {
        match self.shape {
            SampleShape::Image([1, h, w]) => format!("({n}, {h}, {w})"),
            SampleShape::Image([c, h, w]) => format!("({n}, {h}, {w}, {c})"),
            SampleShape::Features(f) => format!("({n}, {f})"),
        }
    }
}

/// The last component of `path` (the whole path when it has none).
fn display_name_of(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}
