//! Loaders on crafted data directories and the embedded sample: shapes, values, zero-copy views.

mod common;

use neurite_datasets::catalog::{CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_FILES};
use neurite_datasets::cifar::CIFAR_IMAGE_LEN;
use neurite_datasets::{cifar10, cifar100, fashion_mnist, load, mnist, DatasetKind};

#[test]
fn mnist_from_files_is_zero_copy_with_keras_shapes() {
    let dir = tempfile::tempdir().unwrap();
    common::write_mnist_dir(dir.path(), "mnist", 12, 5);
    let data = mnist::load(dir.path()).unwrap();
    assert!(data.train.is_mapped() && data.test.is_mapped());
    assert_eq!((data.train.len(), data.test.len()), (12, 5));
    assert_eq!(data.image_shape(), [1, 28, 28]);
    assert_eq!(data.class_names().len(), 10);
    assert_eq!(data.train.image(3)[10], common::pixel(3, 10));
    assert_eq!(data.train.label(7), 7);

    let ((x_train, y_train), (x_test, y_test)) = mnist::load_data(dir.path()).unwrap();
    assert_eq!(x_train.shape(), vec![12, 28, 28]);
    assert_eq!(x_test.shape(), vec![5, 28, 28]);
    assert_eq!(y_train.shape(), vec![12]);
    assert_eq!(y_test.to_vec(), vec![0, 1, 2, 3, 4]);
    let view = x_train.view().unwrap();
    assert_eq!(view.shape(), &[12, 28, 28]);
    assert_eq!(view[[4, 2, 5]], common::pixel(4, 2 * 28 + 5));
    // The view points into the mapping, not into a copy.
    let mapped = std::fs::read(dir.path().join("mnist").join(MNIST_FILES[0])).unwrap();
    assert_eq!(view.as_slice().unwrap(), &mapped[16..]);
    assert_eq!(x_train.channels_first().shape(), vec![12, 1, 28, 28]);
    assert_eq!(x_train.image(2).shape(), &[28, 28]);
}

#[test]
fn fashion_mnist_uses_its_own_folder_and_classes() {
    let dir = tempfile::tempdir().unwrap();
    common::write_mnist_dir(dir.path(), "fashion-mnist", 3, 2);
    assert!(mnist::load(dir.path()).is_err());
    let data = fashion_mnist::load(dir.path()).unwrap();
    assert_eq!(data.kind(), Some(DatasetKind::FashionMnist));
    assert_eq!(data.class_names()[9], FASHION_MNIST_CLASSES[9]);
    let ((x, _), _) = fashion_mnist::load_data(dir.path()).unwrap();
    assert_eq!(x.shape(), vec![3, 28, 28]);
}

#[test]
fn cifar10_indexes_across_its_five_files() {
    let dir = tempfile::tempdir().unwrap();
    common::write_cifar10_dir(dir.path(), 3, 4);
    let data = load(DatasetKind::Cifar10, dir.path()).unwrap();
    assert_eq!(data.train.num_files(), 5);
    assert_eq!((data.train.len(), data.test.len()), (15, 4));
    assert_eq!(data.image_shape(), [3, 32, 32]);
    assert_eq!(data.class_names(), CIFAR10_CLASSES.map(String::from));
    for i in 0..15 {
        assert_eq!(data.train.label(i), (i * 3) % 10);
        assert_eq!(data.train.image(i), &common::cifar_pixels(i, 1)[..]);
    }
    assert_eq!(data.train.labels(), (0..15).map(|i| (i * 3) % 10).collect::<Vec<_>>());

    let ((x_train, y_train), (x_test, _)) = cifar10::load_data(dir.path()).unwrap();
    assert_eq!(x_train.shape(), vec![15, 32, 32, 3]);
    assert_eq!(x_train.channels_first().shape(), vec![15, 3, 32, 32]);
    assert_eq!(y_train.len(), 15);
    assert!(x_train.view().is_none(), "five files make no single view");
    let views = x_train.views();
    assert_eq!(views.len(), 5);
    assert_eq!(views[1].shape(), &[3, 32, 32, 3]);
    // Channel-last element (n, y, x, c) is the channel-major byte c*1024 + y*32 + x.
    let (n, y, x, c) = (1, 5, 7, 2);
    let expected = common::cifar_pixels(3 + n, 1)[c * 1024 + y * 32 + x];
    assert_eq!(views[1][[n, y, x, c]], expected);
    assert_eq!(x_train.image(3 + n)[[y, x, c]], expected);
    let test_view = x_test.view().unwrap();
    assert_eq!(test_view.shape(), &[4, 32, 32, 3]);
    assert_eq!(test_view[[2, 0, 1, 1]], common::cifar_pixels(1002, 1)[1024 + 1]);
    let nchw = x_test.channels_first();
    assert_eq!(
        nchw.view().unwrap()[[2, 1, 0, 1]],
        common::cifar_pixels(1002, 1)[1024 + 1]
    );
}

#[test]
fn cifar10_reads_class_names_from_batches_meta() {
    let dir = tempfile::tempdir().unwrap();
    common::write_cifar10_dir(dir.path(), 1, 1);
    let names: Vec<String> = (0..10).map(|i| format!("class {i}")).collect();
    std::fs::write(
        dir.path().join("cifar-10-batches-bin/batches.meta.txt"),
        names.join("\n") + "\n\n",
    )
    .unwrap();
    assert_eq!(cifar10::load(dir.path()).unwrap().class_names(), &names[..]);
}

#[test]
fn cifar100_fine_and_coarse_labels() {
    let dir = tempfile::tempdir().unwrap();
    common::write_cifar100_dir(dir.path(), 30, 3);
    let fine = cifar100::load(dir.path(), cifar100::LabelKind::Fine).unwrap();
    let coarse = cifar100::load(dir.path(), cifar100::LabelKind::Coarse).unwrap();
    assert_eq!((fine.num_classes(), coarse.num_classes()), (100, 20));
    assert_eq!(fine.class_names()[0], "apple");
    assert_eq!(coarse.class_names()[19], "vehicles_2");
    for i in 0..30 {
        assert_eq!(fine.train.label(i), (i * 7) % 100);
        assert_eq!(coarse.train.label(i), i % 20);
        assert_eq!(fine.train.image(i), &common::cifar_pixels(i, 1)[..CIFAR_IMAGE_LEN]);
    }
    let ((x, _), _) = cifar100::load_data(dir.path(), cifar100::LabelKind::Fine).unwrap();
    assert_eq!(x.shape(), vec![30, 32, 32, 3]);
}

#[cfg(feature = "embedded-mnist")]
#[test]
fn embedded_sample_is_the_real_mnist_subset() {
    let data = mnist::embedded().unwrap();
    assert_eq!((data.train.len(), data.test.len()), (10_000, 2_000));
    assert!(!data.train.is_mapped());
    // The first official MNIST training labels are 5 0 4 1 9 2 1 3 1 4; test 7 2 1 0 4.
    assert_eq!(&data.train.labels()[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(&data.test.labels()[..5], &[7, 2, 1, 0, 4]);
    let ((x_train, _), (x_test, _)) = data.into_keras();
    assert_eq!(x_train.shape(), vec![10_000, 28, 28]);
    assert_eq!(x_test.shape(), vec![2_000, 28, 28]);
    // Every class is present in the training subset.
    let mut counts = [0usize; 10];
    mnist::embedded()
        .unwrap()
        .train
        .labels()
        .iter()
        .for_each(|&l| counts[l] += 1);
    assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
}

#[cfg(feature = "embedded-mnist")]
#[test]
fn load_or_embedded_prefers_the_files_and_says_which_it_used() {
    let dir = tempfile::tempdir().unwrap();
    let (data, source) = mnist::load_or_embedded(dir.path()).unwrap();
    assert_eq!(source, neurite_datasets::MnistSource::Embedded);
    assert!(source.is_embedded());
    assert!(source.to_string().contains("using the embedded sample"));
    assert!(source
        .to_string()
        .contains("run `neurite fetch mnist` or `cargo xtask fetch-data mnist`"));
    assert_eq!(data.train.len(), 10_000);

    // An empty folder: still the sample.
    std::fs::create_dir_all(dir.path().join("mnist")).unwrap();
    assert!(mnist::load_or_embedded(dir.path()).unwrap().1.is_embedded());

    // Three of four files: an error naming the missing one, never the sample.
    common::write_mnist_dir(dir.path(), "mnist", 6, 4);
    let labels = dir.path().join("mnist").join(MNIST_FILES[3]);
    std::fs::remove_file(&labels).unwrap();
    assert!(!mnist::files_present(dir.path()));
    let err = mnist::load_or_embedded(dir.path()).unwrap_err();
    assert!(
        matches!(&err, neurite_datasets::DatasetError::Missing { path, .. } if *path == labels),
        "{err}"
    );

    // An image file that is a directory: an error naming it.
    common::write_mnist_dir(dir.path(), "mnist", 6, 4);
    let images = dir.path().join("mnist").join(MNIST_FILES[0]);
    std::fs::remove_file(&images).unwrap();
    std::fs::create_dir(&images).unwrap();
    let err = mnist::load_or_embedded(dir.path()).unwrap_err();
    assert!(
        matches!(&err, neurite_datasets::DatasetError::NotAFile { path } if *path == images),
        "{err}"
    );
    std::fs::remove_dir(&images).unwrap();

    // Only one file left (the others deleted): still an error, not the sample.
    for name in &MNIST_FILES[1..] {
        let _ = std::fs::remove_file(dir.path().join("mnist").join(name));
    }
    common::write_mnist_pair(&dir.path().join("mnist"), MNIST_FILES[0], "unused-labels", 6, 28, 28);
    assert!(mnist::load_or_embedded(dir.path()).is_err());

    common::write_mnist_dir(dir.path(), "mnist", 6, 4);
    let (data, source) = mnist::load_or_embedded(dir.path()).unwrap();
    assert_eq!(source, neurite_datasets::MnistSource::Files(dir.path().join("mnist")));
    assert_eq!(data.train.len(), 6);
}

#[test]
fn train_and_test_images_of_different_shapes_are_refused_at_load() {
    // 28x28 train against 14x56 test (the same 784 pixels): a model built for one would fail
    // on the other at the first evaluation.
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("mnist");
    std::fs::create_dir_all(&sub).unwrap();
    common::write_mnist_pair(&sub, MNIST_FILES[0], MNIST_FILES[1], 6, 28, 28);
    common::write_mnist_pair(&sub, MNIST_FILES[2], MNIST_FILES[3], 4, 14, 56);
    let err = mnist::load(dir.path()).unwrap_err();
    assert!(
        matches!(err, neurite_datasets::DatasetError::SplitShapes { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(MNIST_FILES[0])
            && text.contains(MNIST_FILES[2])
            && text.contains("[1, 14, 56]")
            && text.contains("[1, 28, 28]"),
        "{text}"
    );
}

#[cfg(not(feature = "embedded-mnist"))]
#[test]
fn without_the_feature_missing_files_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(mnist::load_or_embedded(dir.path()).is_err());
    assert!(matches!(
        mnist::embedded(),
        Err(neurite_datasets::DatasetError::EmbeddedUnavailable)
    ));
}
