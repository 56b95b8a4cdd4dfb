//! # neurite-datasets
//!
//! Memory-mapped, validated loaders for MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100, an
//! embedded MNIST sample that works with no download, and a batch pipeline that turns a set
//! into shuffled, normalised `f32` [`neurite_tensor::Tensor`] batches in the background.
//!
//! - Opening a set maps its files and validates their headers and labels; pixel bytes are
//!   never copied until a batch is assembled ([`ImageSet`], [`ImageArray`]).
//! - A damaged file is a typed [`DatasetError`] naming the file and the problem, never a panic.
//! - The data directory follows one rule shared with the CLI and the fetch code:
//!   an explicit path, else `NEURITE_DATA_DIR`, else a per-user directory
//!   (see [`data_dir`]).
//! - With the `download` feature (off by default), `fetch(kind, &dir, &FetchOptions)`
//!   downloads or imports, verifies and unpacks a set, and `load_or_fetch(kind, &dir)` is
//!   Keras' `load_data()`: fetch on first use, then load (module `fetch`; also the
//!   `neurite fetch` command).
//!
//! ```
//! # fn main() -> Result<(), neurite_datasets::DatasetError> {
//! # #[cfg(feature = "embedded-mnist")] {
//! use neurite_datasets::{data_dir::resolve_data_dir, mnist, DataLoader};
//!
//! // The full MNIST from the data directory if it is there, else the embedded sample.
//! let (dir, _) = resolve_data_dir(None);
//! let (data, source) = mnist::load_or_embedded(&dir)?;
//! if source.is_embedded() {
//!     println!("{source}"); // "using the embedded sample ... run `neurite fetch mnist` ..."
//! }
//! assert_eq!(data.class_names().len(), 10);
//!
//! // Shuffled batches of [64, 1, 28, 28] values in [0, 1], the next one prepared in the background.
//! let loader = DataLoader::new(&data.train, 64).shuffle(7);
//! let first = loader.epoch(0).next().unwrap();
//! assert_eq!(first.images.shape(), vec![64, 1, 28, 28]);
//! assert!(first.labels.iter().all(|&l| l < 10));
//!
//! // Keras-like, zero-copy: x_train has shape (N, 28, 28).
//! let ((x_train, y_train), _) = data.into_keras();
//! assert_eq!(x_train.shape()[1..], [28, 28]);
//! assert_eq!(y_train.len(), x_train.len());
//! # }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod augment;
pub mod batch;
pub mod cache;
pub mod catalog;
pub mod cifar;
pub mod cifar10;
pub mod cifar100;
pub mod csv;
pub mod data_dir;
pub mod dataset;
pub mod embedded;
pub mod error;
pub mod fashion_mnist;
#[cfg(feature = "download")]
pub mod fetch;
pub mod folder;
pub mod idx;
pub mod idx_set;
pub mod image_set;
pub mod info;
mod load;
pub mod mmap_file;
mod mmap_guard;
pub mod mnist;
mod mnist_family;
mod prefetch;

pub use augment::Augment;
pub use batch::{Batch, Batches, DataLoader, Layout, Normalize};
pub use catalog::DatasetKind;
pub use dataset::Dataset;
pub use error::{DatasetError, FormatError, Result};
#[cfg(feature = "download")]
pub use fetch::{fetch, load_or_fetch, load_or_fetch_with, FetchError, FetchOptions};
pub use image_set::{ImageArray, ImageSet, KerasData, LabelArray};
pub use info::{DataSource, DatasetInfo, SampleShape};
pub use load::load;
pub use mmap_file::SharedBytes;
pub use mnist::MnistSource;

/// The crate README's examples, compiled and run as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
