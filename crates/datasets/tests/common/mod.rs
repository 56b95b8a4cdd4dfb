//! Helpers that craft small data directories in a temp dir.
#![allow(dead_code)]

use std::path::Path;

use neurite_datasets::catalog::{CIFAR100_FILES, CIFAR10_FILES, MNIST_FILES};
use neurite_datasets::cifar::{write_cifar, CifarFormat, CIFAR_IMAGE_LEN};
use neurite_datasets::idx::{write_idx, IdxData};

/// Pixel value of image `i`, byte `j` (deterministic, varied).
pub fn pixel(i: usize, j: usize) -> u8 {
    ((i * 31 + j * 7) % 256) as u8
}

/// Writes an MNIST-format pair (images `n x rows x cols`, labels `i % 10`) to `dir/<names>`.
pub fn write_mnist_pair(dir: &Path, images: &str, labels: &str, n: usize, rows: usize, cols: usize) {
    let px: Vec<u8> = (0..n * rows * cols)
        .map(|k| pixel(k / (rows * cols), k % (rows * cols)))
        .collect();
    let lb: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    write_idx(dir.join(images), &[n, rows, cols], IdxData::U8(&px)).unwrap();
    write_idx(dir.join(labels), &[n], IdxData::U8(&lb)).unwrap();
}

/// A data dir with `<sub>/` holding the four MNIST files (`train` and `test` images, 28x28).
pub fn write_mnist_dir(data_dir: &Path, sub: &str, train: usize, test: usize) {
    let dir = data_dir.join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    write_mnist_pair(&dir, MNIST_FILES[0], MNIST_FILES[1], train, 28, 28);
    write_mnist_pair(&dir, MNIST_FILES[2], MNIST_FILES[3], test, 28, 28);
}

/// CIFAR pixels for `n` images starting at global index `first`.
pub fn cifar_pixels(first: usize, n: usize) -> Vec<u8> {
    (0..n * CIFAR_IMAGE_LEN)
        .map(|k| pixel(first + k / CIFAR_IMAGE_LEN, k % CIFAR_IMAGE_LEN))
        .collect()
}

/// A data dir with `cifar-10-batches-bin/`: five train files of `per_file` records and a test
/// file of `test` records; label of global image `i` is `(i * 3) % 10`.
pub fn write_cifar10_dir(data_dir: &Path, per_file: usize, test: usize) {
    let dir = data_dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&dir).unwrap();
    for (f, name) in CIFAR10_FILES[..5].iter().enumerate() {
        let first = f * per_file;
        let labels: Vec<u8> = (first..first + per_file).map(|i| ((i * 3) % 10) as u8).collect();
        write_cifar(
            dir.join(name),
            CifarFormat::CIFAR10,
            &labels,
            &cifar_pixels(first, per_file),
        )
        .unwrap();
    }
    let labels: Vec<u8> = (0..test).map(|i| (i % 10) as u8).collect();
    write_cifar(
        dir.join(CIFAR10_FILES[5]),
        CifarFormat::CIFAR10,
        &labels,
        &cifar_pixels(1000, test),
    )
    .unwrap();
}

/// A data dir with `cifar-100-binary/` train (`train` records) and test (`test` records);
/// coarse label `i % 20`, fine label `(i * 7) % 100`.
pub fn write_cifar100_dir(data_dir: &Path, train: usize, test: usize) {
    let dir = data_dir.join("cifar-100-binary");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, n) in [(CIFAR100_FILES[0], train), (CIFAR100_FILES[1], test)] {
        let labels: Vec<u8> = (0..n).flat_map(|i| [(i % 20) as u8, ((i * 7) % 100) as u8]).collect();
        write_cifar(dir.join(name), CifarFormat::CIFAR100, &labels, &cifar_pixels(0, n)).unwrap();
    }
}
pub mod image_folder;
