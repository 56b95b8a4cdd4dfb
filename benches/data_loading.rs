//! Criterion benchmarks of data loading (neurite-datasets).
//!
//! - `open_first_batch/*`: open MNIST (the naive loader reads the two training files) and produce the first shuffled,
//!   normalised batch of 64 (shuffle of the whole epoch included), memory-mapped (`mmap`)
//!   against reading each file into a `Vec` (`read_to_vec`). Dropping the set is not timed.
//! - `epoch_batch64/*`: one full shuffled epoch of batch assembly at batch 64 (throughput in
//!   images), `DataLoader` with and without prefetch against a naive loop over a `Vec`.
//!
//! Needs no download: the embedded MNIST sample is written as IDX files to a temp dir. When
//! `NEURITE_DATA_DIR` holds the full MNIST, the same benchmarks also run on it (`full/...`).
//!
//! Quick check: `cargo bench --bench data_loading -- --quick`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use neurite_datasets::catalog::MNIST_FILES;
use neurite_datasets::data_dir::DATA_DIR_ENV;
use neurite_datasets::idx::{write_idx, IdxData};
use neurite_datasets::{mnist, DataLoader, ImageSet};
use neurite_tensor::Tensor;

const BATCH: usize = 64;
const SEED: u64 = 0;

/// Writes the embedded sample as the four IDX files under `<tmp>/mnist/`; returns `<tmp>`.
fn sample_data_dir() -> PathBuf {
    let root = std::env::temp_dir().join(format!("neurite-bench-data-{}", std::process::id()));
    let dir = root.join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    let data = mnist::embedded().expect("the embedded-mnist feature is on by default");
    for (set, images, labels) in [
        (&data.train, MNIST_FILES[0], MNIST_FILES[1]),
        (&data.test, MNIST_FILES[2], MNIST_FILES[3]),
    ] {
        let pixels: Vec<u8> = (0..set.len()).flat_map(|i| set.image(i).to_vec()).collect();
        let lbls: Vec<u8> = set.labels().iter().map(|&l| l as u8).collect();
        write_idx(dir.join(images), &[set.len(), 28, 28], IdxData::U8(&pixels)).unwrap();
        write_idx(dir.join(labels), &[set.len()], IdxData::U8(&lbls)).unwrap();
    }
    root
}

/// The naive loader: whole files read into `Vec`s, headers parsed by hand.
struct NaiveMnist {
    images: Vec<u8>,
    labels: Vec<u8>,
    len: usize,
}

impl NaiveMnist {
    fn open(data_dir: &Path) -> NaiveMnist {
        let dir = data_dir.join("mnist");
        let images = std::fs::read(dir.join(MNIST_FILES[0])).unwrap();
        let labels = std::fs::read(dir.join(MNIST_FILES[1])).unwrap();
        let len = u32::from_be_bytes(images[4..8].try_into().unwrap()) as usize;
        assert_eq!(images.len(), 16 + len * 784);
        assert_eq!(labels.len(), 8 + len);
        NaiveMnist { images, labels, len }
    }

    fn batch(&self, indices: &[usize]) -> (Tensor, Vec<usize>) {
        let mut values = Vec::with_capacity(indices.len() * 784);
        for &i in indices {
            let img = &self.images[16 + i * 784..16 + (i + 1) * 784];
            values.extend(img.iter().map(|&b| b as f32 / 255.0));
        }
        let labels = indices.iter().map(|&i| self.labels[8 + i] as usize).collect();
        (Tensor::from_vec(values, &[indices.len(), 1, 28, 28]).unwrap(), labels)
    }
}

fn bench_set(c: &mut Criterion, tag: &str, data_dir: &Path) {
    let train: ImageSet = mnist::load(data_dir).unwrap().train;
    let n = train.len();
    let order = DataLoader::new(&train, BATCH).shuffle(SEED).order(0);

    let mut group = c.benchmark_group(format!("{tag}/open_first_batch"));
    group.bench_function("mmap", |b| {
        // The set (and its mapping) is dropped outside the timed part.
        b.iter_with_large_drop(|| {
            let data = mnist::load(black_box(data_dir)).unwrap();
            let loader = DataLoader::new(&data.train, BATCH).shuffle(SEED).prefetch(false);
            let batch = loader.epoch(0).next().unwrap();
            (data, batch)
        })
    });
    group.bench_function("read_to_vec", |b| {
        b.iter_with_large_drop(|| {
            let naive = NaiveMnist::open(black_box(data_dir));
            let batch = naive.batch(&order[..BATCH]);
            (naive, batch)
        })
    });
    group.finish();

    let mut group = c.benchmark_group(format!("{tag}/epoch_batch64"));
    group.throughput(Throughput::Elements(n as u64));
    for (name, prefetch) in [("dataloader_prefetch", true), ("dataloader_inline", false)] {
        let loader = DataLoader::new(&train, BATCH).shuffle(SEED).prefetch(prefetch);
        group.bench_function(name, |b| {
            b.iter(|| {
                for batch in loader.epoch(0) {
                    black_box(batch);
                }
            })
        });
    }
    let naive = NaiveMnist::open(data_dir);
    assert_eq!(naive.len, n);
    group.bench_function("naive_vec", |b| {
        b.iter(|| {
            for chunk in order.chunks(BATCH) {
                black_box(naive.batch(chunk));
            }
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let sample = sample_data_dir();
    bench_set(c, "sample", &sample);
    let _ = std::fs::remove_dir_all(&sample);
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).map(PathBuf::from) {
        if mnist::files_present(&dir) {
            bench_set(c, "full", &dir);
        }
    }
}

criterion_group! {
    name = data_loading;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(data_loading);
