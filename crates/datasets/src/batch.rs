//! The batch pipeline: [`DataLoader`] turns an [`ImageSet`] into an iterator of normalised
//! `f32` [`Tensor`] batches per epoch.
//!
//! - per-epoch seeded shuffle: the order of epoch `e` is a function of `(seed, e)` only;
//! - last partial batch kept by default, dropped with [`DataLoader::drop_last`];
//! - normalisation to `[0, 1]` (`pixel / 255`), optionally then `(x - mean[c]) / std[c]`;
//! - images as `[B, C, H, W]` or flattened `[B, C*H*W]`; labels as indices, one-hot on request;
//! - batches gathered in parallel with rayon by the caller's thread pool, or, when the machine
//!   has a core that pool does not use, prepared ahead on a background thread (a bounded
//!   channel of 2) while the caller trains on the current one (see [`DataLoader::prefetch`]).
//!
//! Batches are bit-identical whatever the thread count and whether prefetching is on.
//!
//! ```
//! # fn main() -> Result<(), neurite_datasets::DatasetError> {
//! # #[cfg(feature = "embedded-mnist")] {
//! use neurite_datasets::{mnist, DataLoader};
//! let data = mnist::embedded()?;
//! let loader = DataLoader::new(&data.train, 64).shuffle(42).flatten();
//! for (images, labels) in loader.epoch(0).take(2).map(|b| b.into_parts()) {
//!     assert_eq!(images.shape(), vec![64, 784]);
//!     assert_eq!(labels.len(), 64);
//! }
//! # }
//! # Ok(()) }
//! ```

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use neurite_tensor::simd::vectorized;
use neurite_tensor::{seeded_rng, Tensor};
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::augment::{mix, Augment};
use crate::image_set::ImageSet;
use crate::prefetch::prefetch;

/// How many images ahead of the one being copied a batch gather asks the CPU to fetch.
const PREFETCH_AHEAD: usize = 2;

/// Values from which a batch is gathered over rayon's pool: about ten MNIST images, so an MLP's
/// batch of 64 is split and the pool's second thread is not left to fall asleep between steps.
const DEFAULT_PARALLEL_THRESHOLD: usize = 1 << 13;

/// Whether the machine has a core that rayon's pool leaves free for a prefetch thread.
fn spare_core() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > rayon::current_num_threads())
}

/// How pixel bytes become `f32` values.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalize {
    /// `pixel / 255`, in `[0, 1]` (the default).
    Unit,
    /// `(pixel / 255 - mean[c]) / std[c]` per channel.
    MeanStd {
        /// Per-channel mean (of the `[0, 1]` values).
        mean: Vec<f32>,
        /// Per-channel standard deviation (of the `[0, 1]` values).
        std: Vec<f32>,
    },
    /// The raw byte value as `f32` (`0.0..=255.0`).
    None,
}

impl Normalize {
    /// Normalises a channel-major image of `channels` equal planes into `out` (same length).
    ///
    /// Gives exactly the values of [`Normalize::lut`], in a loop the compiler vectorises.
    ///
    /// # Panics
    /// When `out` is shorter than `src`, or `MeanStd` has fewer than `channels` entries.
    pub fn apply(&self, src: &[u8], channels: usize, out: &mut [f32]) {
        vectorized(
            #[inline(always)]
            || self.apply_loop(src, channels, out),
        );
    }

    /// The loops of [`Normalize::apply`], compiled into its vector-enabled versions.
    #[inline(always)]
    fn apply_loop(&self, src: &[u8], channels: usize, out: &mut [f32]) {
        let plane = src.len() / channels.max(1);
        match self {
            Normalize::Unit => out.iter_mut().zip(src).for_each(|(o, &b)| *o = f32::from(b) / 255.0),
            Normalize::None => out.iter_mut().zip(src).for_each(|(o, &b)| *o = f32::from(b)),
            Normalize::MeanStd { mean, std } => {
                for (c, (o, s)) in out.chunks_mut(plane).zip(src.chunks(plane)).enumerate() {
                    let (m, d) = (mean[c], std[c]);
                    o.iter_mut()
                        .zip(s)
                        .for_each(|(o, &b)| *o = (f32::from(b) / 255.0 - m) / d);
                }
            }
        }
    }

    /// The lookup table `lut[c * 256 + byte]` for `channels` channels.
    ///
    /// # Panics
    /// When `MeanStd` does not have one mean and one std per channel.
    pub fn lut(&self, channels: usize) -> Vec<f32> {
        let mut lut = Vec::with_capacity(channels * 256);
        for c in 0..channels {
            for b in 0..256u32 {
                let x = f32::from(b as u8);
                lut.push(match self {
                    Normalize::Unit => x / 255.0,
                    Normalize::None => x,
                    Normalize::MeanStd { mean, std } => {
                        assert!(
                            mean.len() == channels && std.len() == channels,
                            "Normalize::MeanStd needs {channels} means and stds, got {} and {}",
                            mean.len(),
                            std.len()
                        );
                        (x / 255.0 - mean[c]) / std[c]
                    }
                });
            }
        }
        lut
    }
}

/// The shape of the image tensor of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[B, C, H, W]` (the default).
    Nchw,
    /// `[B, C*H*W]`, values in `C, H, W` order.
    Flat,
}

/// One batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Images, `[B, C, H, W]` or `[B, D]`.
    pub images: Tensor,
    /// Class indices, one per image.
    pub labels: Vec<usize>,
    /// `[B, classes]` one-hot labels when the loader was asked for them.
    pub one_hot: Option<Tensor>,
    /// Float targets `[B, k]` for regression; `None` when the targets are the class `labels`.
    pub targets: Option<Tensor>,
    /// Indices of the images in the set, in batch order.
    pub indices: Vec<usize>,
}

impl Batch {
    /// Number of samples in the batch.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch is empty (never, for batches a loader yields).
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// `(images, labels)`.
    pub fn into_parts(self) -> (Tensor, Vec<usize>) {
        (self.images, self.labels)
    }
}

/// Batches of normalised `f32` tensors over an [`ImageSet`]; configure with the builder
/// methods, then iterate [`DataLoader::epoch`].
#[derive(Clone)]
pub struct DataLoader {
    set: ImageSet,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
    drop_last: bool,
    normalize: Normalize,
    layout: Layout,
    one_hot: bool,
    augment: Option<Augment>,
    prefetch: Option<bool>,
    parallel_threshold: usize,
    lut: Arc<[f32]>,
}

impl DataLoader {
    /// A loader over `set` (cheap: the set is reference-counted) with batches of `batch_size`,
    /// in order, last partial batch kept, `[0, 1]` values, `[B, C, H, W]`, prefetching
    /// automatic.
    ///
    /// # Panics
    /// When `batch_size` is 0.
    pub fn new(set: &ImageSet, batch_size: usize) -> DataLoader {
        assert!(batch_size > 0, "DataLoader: batch_size must be at least 1");
        DataLoader {
            set: set.clone(),
            batch_size,
            seed: 0,
            shuffle: false,
            drop_last: false,
            normalize: Normalize::Unit,
            layout: Layout::Nchw,
            one_hot: false,
            augment: None,
            prefetch: None,
            parallel_threshold: DEFAULT_PARALLEL_THRESHOLD,
            lut: Normalize::Unit.lut(set.channels()).into(),
        }
    }

    /// Shuffles every epoch with a permutation drawn from `(seed, epoch)`; also seeds the
    /// augmentation.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle = true;
        self.seed = seed;
        self
    }

    /// Sets the seed of the augmentation (and of the shuffle, if on) without turning the
    /// shuffle on.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Drops the last batch when it would be smaller than `batch_size`.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Sets the normalisation.
    ///
    /// # Panics
    /// When `MeanStd` does not have one mean and one std per channel.
    pub fn normalize(mut self, normalize: Normalize) -> Self {
        self.lut = normalize.lut(self.set.channels()).into();
        self.normalize = normalize;
        self
    }

    /// Sets the image layout.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Flattened images, `[B, C*H*W]` (e.g. `[B, 784]` for an MLP on MNIST).
    pub fn flatten(self) -> Self {
        self.layout(Layout::Flat)
    }

    /// Also produce `[B, classes]` one-hot labels in [`Batch::one_hot`].
    pub fn one_hot(mut self, on: bool) -> Self {
        self.one_hot = on;
        self
    }

    /// Applies `augment` to every image (seeded by the loader's seed, the epoch and the index).
    pub fn augment(mut self, augment: Augment) -> Self {
        self.augment = Some(augment);
        self
    }

    /// Prepares the next batch on a background thread (`true`) or in the caller, gathered with
    /// rayon (`false`). By default this is chosen per epoch: a background thread only when the
    /// machine has more cores than rayon's pool uses, since on a machine whose cores all train,
    /// the extra thread takes one from the compute and costs more than it hides (measured on
    /// 2 cores with `benches/loader_overhead.rs`: +13-26% on a W1 epoch, against +1-14% for
    /// gathering on the pool, +2-4% in quiet runs).
    pub fn prefetch(mut self, on: bool) -> Self {
        self.prefetch = Some(on);
        self
    }

    /// Gathers a batch in the caller with rayon when it holds at least this many values
    /// (default 8,192); a background thread always gathers alone.
    pub fn parallel_threshold(mut self, values: usize) -> Self {
        self.parallel_threshold = values;
        self
    }

    /// The set the batches come from.
    pub fn image_set(&self) -> &ImageSet {
        &self.set
    }

    /// Number of samples in the set.
    pub fn num_samples(&self) -> usize {
        self.set.len()
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Number of batches per epoch.
    pub fn num_batches(&self) -> usize {
        if self.drop_last {
            self.set.len() / self.batch_size
        } else {
            self.set.len().div_ceil(self.batch_size)
        }
    }

    /// The shape of one batch's images for `batch` images.
    pub fn batch_shape(&self, batch: usize) -> Vec<usize> {
        let [c, h, w] = self.set.image_shape();
        match self.layout {
            Layout::Nchw => vec![batch, c, h, w],
            Layout::Flat => vec![batch, c * h * w],
        }
    }

    /// The order of the samples in `epoch` (identity when not shuffling).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.set.len()).collect();
        if self.shuffle {
            order.shuffle(&mut seeded_rng(mix(self.seed, epoch)));
        }
        order
    }

    /// The batches of `epoch`, prefetched in the background unless turned off.
    pub fn epoch(&self, epoch: u64) -> Batches {
        let order = Arc::new(self.order(epoch));
        let total = self.num_batches();
        if !self.prefetch.unwrap_or_else(spare_core) || total <= 1 {
            return Batches {
                inner: Inner::Inline {
                    loader: self.clone(),
                    order,
                    epoch,
                },
                next: 0,
                total,
            };
        }
        let (tx, rx) = sync_channel(2);
        let loader = self.clone();
        let worker_order = Arc::clone(&order);
        let handle = std::thread::Builder::new()
            .name("neurite-prefetch".into())
            .spawn(move || {
                for b in 0..total {
                    let batch = loader.gather(epoch, loader.batch_slice(&worker_order, b), false);
                    if tx.send(batch).is_err() {
                        break; // the consumer went away
                    }
                }
            });
        match handle {
            Ok(handle) => Batches {
                inner: Inner::Prefetch {
                    rx: Some(rx),
                    handle: Some(handle),
                },
                next: 0,
                total,
            },
            // No thread available: fall back to assembling in the caller.
            Err(_) => Batches {
                inner: Inner::Inline {
                    loader: self.clone(),
                    order,
                    epoch,
                },
                next: 0,
                total,
            },
        }
    }

    fn batch_slice<'a>(&self, order: &'a [usize], b: usize) -> &'a [usize] {
        let start = b * self.batch_size;
        &order[start..(start + self.batch_size).min(order.len())]
    }

    /// Assembles the batch of the images `indices` (augmented as drawn for `epoch`).
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn assemble(&self, epoch: u64, indices: &[usize]) -> Batch {
        self.gather(epoch, indices, true)
    }

    /// [`DataLoader::assemble`], spread over rayon's pool only when `parallel` and the batch
    /// reaches the parallel threshold.
    fn gather(&self, epoch: u64, indices: &[usize], parallel: bool) -> Batch {
        let shape = self.set.image_shape();
        let d = self.set.image_len();
        let mut values = vec![0f32; indices.len() * d];
        let fill = |(out, &i): (&mut [f32], &usize)| match self.augment {
            Some(a) => a
                .draw(self.seed, epoch, i)
                .apply(self.set.image(i), shape, &self.lut, out),
            None => self.normalize.apply(self.set.image(i), shape[0], out),
        };
        // Each image is copied while the one `PREFETCH_AHEAD` places later is being fetched.
        let fill_nth = |(j, out): (usize, &mut [f32])| {
            if let Some(&later) = indices.get(j + PREFETCH_AHEAD) {
                prefetch(self.set.image(later));
            }
            fill((out, &indices[j]));
        };
        if parallel && values.len() >= self.parallel_threshold && indices.len() > 1 {
            values.par_chunks_mut(d).enumerate().for_each(fill_nth);
        } else {
            values.chunks_mut(d).enumerate().for_each(fill_nth);
        }
        let images =
            Tensor::from_vec(values, &self.batch_shape(indices.len())).expect("batch buffer has B*C*H*W values");
        let labels: Vec<usize> = indices.iter().map(|&i| self.set.label(i)).collect();
        let one_hot = self.one_hot.then(|| one_hot(&labels, self.set.num_classes()));
        Batch {
            images,
            labels,
            one_hot,
            targets: None,
            indices: indices.to_vec(),
        }
    }
}

impl std::fmt::Debug for DataLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataLoader")
            .field("set", &self.set)
            .field("batch_size", &self.batch_size)
            .field("seed", &self.seed)
            .field("shuffle", &self.shuffle)
            .field("drop_last", &self.drop_last)
            .field("normalize", &self.normalize)
            .field("layout", &self.layout)
            .field("one_hot", &self.one_hot)
            .field("augment", &self.augment)
            .field("prefetch", &self.prefetch)
            .finish_non_exhaustive()
    }
}

/// `[B, classes]` one-hot encoding of `labels`.
///
/// # Panics
/// When a label is not below `classes`.
pub fn one_hot(labels: &[usize], classes: usize) -> Tensor {
    let mut v = vec![0f32; labels.len() * classes];
    for (row, &l) in labels.iter().enumerate() {
        assert!(l < classes, "label {l} out of range for {classes} classes");
        v[row * classes + l] = 1.0;
    }
    Tensor::from_vec(v, &[labels.len(), classes]).expect("B*classes values")
}

enum Inner {
    Inline {
        loader: DataLoader,
        order: Arc<Vec<usize>>,
        epoch: u64,
    },
    Prefetch {
        rx: Option<Receiver<Batch>>,
        handle: Option<JoinHandle<()>>,
    },
}

/// The batches of one epoch (see [`DataLoader::epoch`]).
pub struct Batches {
    inner: Inner,
    next: usize,
    total: usize,
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.total {
            return None;
        }
        let batch = match &mut self.inner {
            Inner::Inline { loader, order, epoch } => loader.assemble(*epoch, loader.batch_slice(order, self.next)),
            Inner::Prefetch { rx, handle } => match rx.as_ref().map(|rx| rx.recv()) {
                Some(Ok(batch)) => batch,
                _ => {
                    // The worker stopped early: it can only have panicked. Re-raise its panic.
                    rx.take();
                    if let Some(h) = handle.take() {
                        if let Err(panic) = h.join() {
                            std::panic::resume_unwind(panic);
                        }
                    }
                    self.next = self.total;
                    return None;
                }
            },
        };
        self.next += 1;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches {}

impl Drop for Batches {
    fn drop(&mut self) {
        if let Inner::Prefetch { rx, handle } = &mut self.inner {
            // Closing the channel first makes a worker blocked in `send` return at once.
            rx.take();
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}
