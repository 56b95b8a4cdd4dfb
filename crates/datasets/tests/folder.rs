//! Image folders on real images (MNIST digits written as PNG files): decoding, the split, bad
//! files, the cache (reused, rebuilt on change, damaged caches refused by name).

mod common;

use std::path::Path;

use common::image_folder::{add_bad_files, write_mnist_folder};
use neurite_datasets::cache::{encode_cache_header, parse_cache_header, CACHE_MAGIC};
use neurite_datasets::folder::{open_folder, FolderOptions, CACHE_DIR_NAME};
use neurite_datasets::{DataLoader, DatasetError, FormatError};

fn no_progress() -> impl Fn(usize, usize) + Sync {
    |_, _| {}
}

fn open(root: &Path, options: &FolderOptions) -> Result<neurite_datasets::folder::OpenedFolder, DatasetError> {
    open_folder(root, options, &no_progress())
}

#[test]
fn a_folder_of_pngs_becomes_a_mapped_image_set_with_the_exact_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_mnist_folder(dir.path(), 3, 20);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let opened = open_folder(dir.path(), &FolderOptions::default(), &|done, total| {
        assert!(done <= total && total == 60);
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(calls.into_inner(), 60, "one progress call per file");
    let d = &opened.data;
    assert!(opened.rebuilt);
    assert!(
        opened.cache.starts_with(dir.path().join(CACHE_DIR_NAME)),
        "{:?}",
        opened.cache
    );
    assert_eq!(d.class_names(), ["digit-0", "digit-1", "digit-2"]);
    assert_eq!(d.image_shape(), [1, 28, 28], "the first image's size and colour");
    // 20% of each class, rounded: 4 test images per class.
    assert_eq!((d.train.len(), d.test.len()), (48, 12));
    assert!(d.train.is_mapped() && d.test.is_mapped());
    let mut test_counts = [0; 3];
    d.test.labels().iter().for_each(|&l| test_counts[l] += 1);
    assert_eq!(test_counts, [4, 4, 4]);
    // Every cached image is byte for byte one of the PNGs of its class (lossless grey).
    let source = neurite_datasets::mnist::embedded().unwrap();
    for set in [&d.train, &d.test] {
        for i in 0..set.len() {
            let found = files.iter().find(|f| {
                let index: usize = f.file_stem().unwrap().to_str().unwrap().parse().unwrap();
                source.train.image(index) == set.image(i)
            });
            let f = found.unwrap_or_else(|| panic!("image {i} of {} matches no file", set.name()));
            let class = f.parent().unwrap().file_name().unwrap().to_str().unwrap();
            assert_eq!(d.class_names()[set.label(i)], class);
        }
    }
    // The existing pipeline takes it unchanged.
    let batch = DataLoader::new(&d.train, 16).shuffle(1).epoch(0).next().unwrap();
    assert_eq!(batch.images.shape(), vec![16, 1, 28, 28]);
    assert_eq!(d.info.keras_shape(d.train.len()), "(48, 28, 28)");
}

#[test]
fn the_split_is_seeded_and_the_cache_is_reused_until_a_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_mnist_folder(dir.path(), 2, 15);
    let options = FolderOptions::default();
    let first = open(dir.path(), &options).unwrap();
    assert!(first.rebuilt);
    let mtime = std::fs::metadata(&first.cache).unwrap().modified().unwrap();
    let second = open(dir.path(), &options).unwrap();
    assert!(!second.rebuilt, "unchanged files reuse the cache");
    assert_eq!(second.cache, first.cache);
    assert_eq!(std::fs::metadata(&second.cache).unwrap().modified().unwrap(), mtime);
    assert_eq!(second.data.test.labels(), first.data.test.labels());
    // Another seed is another split (its own cache file).
    let other = open(
        dir.path(),
        &FolderOptions {
            seed: 9,
            ..options.clone()
        },
    )
    .unwrap();
    assert!(other.rebuilt && other.cache != first.cache);
    let images = |o: &neurite_datasets::folder::OpenedFolder| -> Vec<Vec<u8>> {
        (0..o.data.test.len()).map(|i| o.data.test.image(i).to_vec()).collect()
    };
    assert_ne!(images(&other), images(&first));
    // Changing one file (content and size) rebuilds.
    let img = image::GrayImage::from_pixel(28, 28, image::Luma([255u8]));
    img.save(&files[0]).unwrap();
    let third = open(dir.path(), &options).unwrap();
    assert!(third.rebuilt, "a changed file rebuilds the cache");
    let d = &third.data;
    let white = [&d.train, &d.test]
        .iter()
        .any(|set| (0..set.len()).any(|i| set.image(i).iter().all(|&p| p == 255)));
    assert!(white, "the new pixels are in the cache");
}

#[test]
fn bad_files_are_refused_by_name_or_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_mnist_folder(dir.path(), 2, 10);
    let [broken, text] = add_bad_files(dir.path(), &files[0]);
    let err = open(dir.path(), &FolderOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DatasetError::BadImages { ref bad, .. } if bad.len() == 2),
        "{msg}"
    );
    assert!(msg.contains(&broken.display().to_string()), "{msg}");
    assert!(msg.contains(&text.display().to_string()), "{msg}");
    assert!(
        msg.contains("2 files are not a decodable image") && msg.contains("--skip-bad"),
        "{msg}"
    );
    let skipping = FolderOptions {
        skip_bad: true,
        ..FolderOptions::default()
    };
    let opened = open(dir.path(), &skipping).unwrap();
    assert_eq!(opened.skipped, vec![broken.clone(), text.clone()]);
    assert_eq!(opened.data.train.len() + opened.data.test.len(), 20);
    // Still refused without --skip-bad: a cache built while skipping does not hide them.
    assert!(open(dir.path(), &FolderOptions::default()).is_err());
    // Many bad files: the first ten are listed, the rest counted.
    for i in 0..10 {
        std::fs::write(dir.path().join(format!("digit-1/junk-{i:02}.txt")), "x").unwrap();
    }
    let msg = open(dir.path(), &FolderOptions::default()).unwrap_err().to_string();
    assert!(
        msg.contains("12 files are not a decodable image") && msg.contains(" and 2 more;"),
        "{msg}"
    );
    assert_eq!(msg.matches("digit-").count(), 10, "{msg}");
}

#[test]
fn a_train_test_layout_resizes_and_converts_to_the_asked_shape() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_folder(&dir.path().join("train"), 2, 6);
    write_mnist_folder(&dir.path().join("val"), 2, 2);
    let options = FolderOptions {
        image_size: Some((14, 10)),
        channels: Some(3),
        ..FolderOptions::default()
    };
    let d = open(dir.path(), &options).unwrap().data;
    assert_eq!(d.image_shape(), [3, 14, 10]);
    assert_eq!((d.train.len(), d.test.len()), (12, 4));
    // Grey converted to RGB: three equal planes.
    let img = d.test.image(0);
    let plane = 14 * 10;
    assert_eq!(img[..plane], img[plane..2 * plane]);
    assert!(img.iter().any(|&p| p > 0));
    // A test class the training part does not have is named.
    std::fs::create_dir_all(dir.path().join("val/zebra")).unwrap();
    let err = open(dir.path(), &options).unwrap_err().to_string();
    assert!(err.contains("class `zebra` is not among the training classes"), "{err}");
}

#[test]
fn unusable_folders_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(dir.path(), &FolderOptions::default()).unwrap_err().to_string();
    assert!(err.contains("no class folders"), "{err}");
    write_mnist_folder(dir.path(), 2, 1);
    let err = open(dir.path(), &FolderOptions::default()).unwrap_err().to_string();
    assert!(err.contains("too few for a test split"), "{err}");
    let bad_split = FolderOptions {
        test_split: 1.0,
        ..FolderOptions::default()
    };
    let err = open(dir.path(), &bad_split).unwrap_err().to_string();
    assert!(err.contains("strictly between 0 and 1"), "{err}");
}

/// A valid cache's bytes for 2 + 1 images of 1x2x2 in classes `a`, `b`.
fn small_cache() -> Vec<u8> {
    let mut bytes = encode_cache_header(7, 2, 1, [1, 2, 2], &["a".to_string(), "b".to_string()]);
    bytes.extend_from_slice(&[0u8; 12]);
    bytes.extend_from_slice(&[0, 1, 1]);
    bytes
}

#[test]
fn crafted_cache_headers_are_rejected_before_any_allocation() {
    let good = small_cache();
    let header = parse_cache_header(&good).unwrap();
    assert_eq!((header.n_train, header.n_test, header.shape), (2, 1, [1, 2, 2]));
    assert_eq!(header.class_names, ["a", "b"]);
    // Truncated, anywhere.
    for len in [0, 5, 20, 60, good.len() - 1] {
        assert!(parse_cache_header(&good[..len]).is_err(), "truncated to {len}");
    }
    // One byte too many.
    let mut long = good.clone();
    long.push(0);
    assert!(matches!(
        parse_cache_header(&long),
        Err(FormatError::TrailingBytes { extra: 1, .. })
    ));
    // Wrong magic.
    let mut magic = good.clone();
    magic[0] = b'X';
    assert!(matches!(
        parse_cache_header(&magic),
        Err(FormatError::BadCacheMagic { .. })
    ));
    assert_eq!(&good[..8], &CACHE_MAGIC);
    // A huge image count in a small file: refused by the length check, nothing allocated.
    let mut huge = good.clone();
    huge[24..32].copy_from_slice(&(u64::MAX / 4).to_le_bytes());
    assert!(matches!(
        parse_cache_header(&huge),
        Err(FormatError::DimsOverflow { .. } | FormatError::Truncated { .. })
    ));
    let mut big = good.clone();
    big[24..32].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(matches!(parse_cache_header(&big), Err(FormatError::Truncated { .. })));
    // 300 classes.
    let mut classes = good.clone();
    classes[52..56].copy_from_slice(&300u32.to_le_bytes());
    assert!(matches!(
        parse_cache_header(&classes),
        Err(FormatError::BadField { field: "classes", .. })
    ));
}

#[test]
fn a_damaged_cache_on_disk_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_folder(dir.path(), 2, 5);
    let cache = open(dir.path(), &FolderOptions::default()).unwrap().cache;
    let bytes = std::fs::read(&cache).unwrap();
    let cases: [(&str, Vec<u8>); 3] = [
        ("truncated", bytes[..bytes.len() - 7].to_vec()),
        ("wrong magic", [b"NOTACACH".as_slice(), &bytes[8..]].concat()),
        ("huge n", {
            let mut b = bytes.clone();
            b[24..32].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
            b
        }),
    ];
    for (what, damaged) in cases {
        std::fs::write(&cache, damaged).unwrap();
        let err = open(dir.path(), &FolderOptions::default()).unwrap_err().to_string();
        assert!(err.contains(&cache.display().to_string()), "{what}: {err}");
        assert!(err.contains("delete it to rebuild"), "{what}: {err}");
    }
    // Deleting it rebuilds.
    std::fs::remove_file(&cache).unwrap();
    assert!(open(dir.path(), &FolderOptions::default()).unwrap().rebuilt);
}

#[test]
fn labels_beyond_the_classes_in_a_cache_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = small_cache();
    let n = bytes.len();
    bytes[n - 1] = 5;
    let path = dir.path().join("c.bin");
    std::fs::write(&path, &bytes).unwrap();
    let (mapped, header) = neurite_datasets::cache::open_cache(&path).unwrap();
    let err = neurite_datasets::cache::image_sets(mapped, &header, &path, "x").unwrap_err();
    assert!(matches!(err, DatasetError::LabelOutOfRange { label: 5, .. }), "{err}");
}
