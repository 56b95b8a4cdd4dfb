//! The batches `fit` trains and evaluates on: images through [`DataLoader`], CSV rows
//! (standardised with the training part's statistics) through [`TableLoader`].

use neurite_datasets::csv::{TableLoader, TableSet};
use neurite_datasets::{DataLoader, Dataset, Layout};
use neurite_tensor::Tensor;

/// Batches of `(inputs, class labels)`, as `fit` takes them.
pub type Parts = (Tensor, Vec<usize>);

/// The train and test loaders of one run.
pub enum Loaders {
    /// Image batches.
    Images {
        /// Shuffled training batches.
        train: Box<DataLoader>,
        /// Test batches in order.
        test: Box<DataLoader>,
    },
    /// Table batches.
    Table {
        /// Shuffled training batches.
        train: TableLoader,
        /// Test batches in order.
        test: TableLoader,
    },
}

impl Loaders {
    /// Loaders over an image set: `layout` for the model, `batch_size` and `seed` for training.
    pub fn images(d: &Dataset, layout: Layout, batch_size: usize, seed: u64) -> Loaders {
        Loaders::Images {
            train: Box::new(DataLoader::new(&d.train, batch_size).shuffle(seed).layout(layout)),
            test: Box::new(DataLoader::new(&d.test, 1000).layout(layout)),
        }
    }

    /// Loaders over a table's parts, both standardised with the training part's statistics.
    pub fn table(set: &TableSet, batch_size: usize, seed: u64) -> Loaders {
        Loaders::Table {
            train: TableLoader::new(&set.train.standardized(&set.standardize), batch_size).shuffle(seed),
            test: TableLoader::new(&set.test.standardized(&set.standardize), 1000),
        }
    }

    /// Training batches per epoch.
    pub fn num_train_batches(&self) -> usize {
        match self {
            Loaders::Images { train, .. } => train.num_batches(),
            Loaders::Table { train, .. } => train.num_batches(),
        }
    }

    /// The training batches of `epoch`.
    pub fn train_epoch(&self, epoch: usize) -> Box<dyn Iterator<Item = Parts> + '_> {
        match self {
            Loaders::Images { train, .. } => Box::new(train.epoch(epoch as u64).map(|b| b.into_parts())),
            Loaders::Table { train, .. } => Box::new(train.epoch(epoch as u64).map(|b| b.into_parts())),
        }
    }

    /// The test batches.
    pub fn test_epoch(&self) -> Box<dyn Iterator<Item = Parts> + '_> {
        match self {
            Loaders::Images { test, .. } => Box::new(test.epoch(0).map(|b| b.into_parts())),
            Loaders::Table { test, .. } => Box::new(test.epoch(0).map(|b| b.into_parts())),
        }
    }
}
