//! Checks on the real, full data sets. Ignored by default; run with
//! `NEURITE_DATA_DIR=/path/to/data cargo test -p neurite-datasets --test real_data -- --ignored`.

use neurite_datasets::data_dir::resolve_data_dir;
use neurite_datasets::{cifar10, mnist, DataLoader};

#[test]
#[ignore = "needs the full MNIST in the data directory"]
fn full_mnist() {
    let (dir, _) = resolve_data_dir(None);
    let (data, source) = mnist::load_or_embedded(&dir).unwrap();
    assert!(!source.is_embedded(), "full MNIST not found in {}", dir.display());
    let ((x_train, y_train), (x_test, y_test)) = data.clone().into_keras();
    assert_eq!(x_train.shape(), vec![60_000, 28, 28]);
    assert_eq!(x_test.shape(), vec![10_000, 28, 28]);
    assert_eq!((y_train.len(), y_test.len()), (60_000, 10_000));
    assert_eq!(&y_train.to_vec()[..5], &[5, 0, 4, 1, 9]);
    // The embedded sample is the first 10,000 / 2,000 images.
    let sample = mnist::embedded().unwrap();
    assert_eq!(sample.train.image(9_999), data.train.image(9_999));
    assert_eq!(sample.test.image(1_999), data.test.image(1_999));
    assert_eq!(DataLoader::new(&data.train, 64).drop_last(true).epoch(0).count(), 937);
}

#[test]
#[ignore = "needs the full CIFAR-10 in the data directory"]
fn full_cifar10() {
    let (dir, _) = resolve_data_dir(None);
    let ((x_train, y_train), (x_test, _)) = cifar10::load_data(&dir).unwrap();
    assert_eq!(x_train.shape(), vec![50_000, 32, 32, 3]);
    assert_eq!(x_train.channels_first().shape(), vec![50_000, 3, 32, 32]);
    assert_eq!(x_test.shape(), vec![10_000, 32, 32, 3]);
    let mut counts = [0usize; 10];
    y_train.to_vec().iter().for_each(|&l| counts[l] += 1);
    assert_eq!(counts, [5_000; 10]);
    assert_eq!(y_train.class_names()[0], "airplane");
}
