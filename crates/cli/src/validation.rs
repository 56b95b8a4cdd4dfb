//! `--validation-split F`: a seeded hold-out of the training set (images or a table's rows),
//! and the shuffled training batches of what remains.

use neurite_datasets::csv::TableLoader;
use neurite_datasets::{Batch, DataLoader};
use neurite_tensor::seeded_rng;
use rand::seq::SliceRandom;

/// The training set's indices split into (train, validation), the validation part being
/// `fraction` of them, chosen by a permutation seeded with `seed`.
pub fn split(n: usize, fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut seeded_rng(seed ^ 0x0a11_da7e_5eed_0000));
    let held = ((n as f64) * f64::from(fraction)).round() as usize;
    let mut val = order.split_off(n - held.min(n));
    let mut train = order;
    train.sort_unstable();
    val.sort_unstable();
    (train, val)
}

/// `indices` in the order of `epoch`: shuffled by `(seed, epoch)` when `shuffle`.
fn order(indices: &[usize], epoch: usize, seed: u64, shuffle: bool) -> Vec<usize> {
    let mut order = indices.to_vec();
    if shuffle {
        order.shuffle(&mut seeded_rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ epoch as u64));
    }
    order
}

/// The batches of `indices` for `epoch`: shuffled by `(seed, epoch)` when `shuffle`, then
/// assembled (and augmented) by `loader`.
pub fn batches<'a>(
    loader: &'a DataLoader,
    indices: &'a [usize],
    epoch: usize,
    seed: u64,
    shuffle: bool,
) -> impl Iterator<Item = Batch> + 'a {
    let order = order(indices, epoch, seed, shuffle);
    let size = loader.batch_size();
    (0..order.len().div_ceil(size)).map(move |b| {
        let chunk = &order[b * size..((b + 1) * size).min(order.len())];
        loader.assemble(epoch as u64, chunk)
    })
}

/// [`batches`] of a table's rows `indices`, `size` rows each.
pub fn table_batches<'a>(
    loader: &'a TableLoader,
    indices: &'a [usize],
    size: usize,
    epoch: usize,
    seed: u64,
    shuffle: bool,
) -> impl Iterator<Item = Batch> + 'a {
    let order = order(indices, epoch, seed, shuffle);
    (0..order.len().div_ceil(size)).map(move |b| loader.assemble(&order[b * size..((b + 1) * size).min(order.len())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_seeded_disjoint_and_complete() {
        let (t, v) = split(100, 0.1, 3);
        assert_eq!((t.len(), v.len()), (90, 10));
        let mut all: Vec<usize> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(split(100, 0.1, 3), (t, v.clone()));
        assert_ne!(split(100, 0.1, 4).1, v);
    }
}
