//! The batch pipeline: order, sizes, normalisation, one-hot, augmentation, determinism.

use std::collections::HashSet;

use neurite_datasets::augment::{Augment, Transform};
use neurite_datasets::{Batch, DataLoader, ImageSet, Normalize};

/// `n` colour images 3x4x4 whose pixels encode (image, byte); label `i % 3`.
fn colour_set(n: usize) -> ImageSet {
    let px = (0..n * 48).map(|k| ((k / 48) * 5 + k % 48) as u8).collect();
    let labels = (0..n).map(|i| (i % 3) as u8).collect();
    ImageSet::from_vec(px, labels, [3, 4, 4], &["a", "b", "c"]).unwrap()
}

fn bits(batch: &Batch) -> Vec<u32> {
    batch.images.to_vec().iter().map(|v| v.to_bits()).collect()
}

fn collect(loader: &DataLoader, epoch: u64) -> Vec<Batch> {
    loader.epoch(epoch).collect()
}

#[test]
fn in_order_with_last_partial_batch_by_default() {
    let set = colour_set(10);
    let loader = DataLoader::new(&set, 4);
    assert_eq!((loader.num_samples(), loader.num_batches()), (10, 3));
    let batches = collect(&loader, 0);
    assert_eq!(batches.iter().map(Batch::len).collect::<Vec<_>>(), vec![4, 4, 2]);
    assert_eq!(batches[2].indices, vec![8, 9]);
    assert_eq!(batches[2].images.shape(), vec![2, 3, 4, 4]);
    assert_eq!(batches[1].labels, vec![1, 2, 0, 1]);

    let dropped = DataLoader::new(&set, 4).drop_last(true);
    assert_eq!(dropped.num_batches(), 2);
    assert_eq!(dropped.epoch(0).len(), 2);
    assert!(dropped.epoch(0).all(|b| b.len() == 4));
}

#[test]
fn values_are_normalised_to_unit_range_in_nchw_order() {
    let set = colour_set(2);
    let batch = DataLoader::new(&set, 2).epoch(0).next().unwrap();
    let v = batch.images.to_vec();
    for (k, value) in v.iter().enumerate() {
        let byte = set.image(k / 48)[k % 48];
        assert_eq!(*value, byte as f32 / 255.0);
    }
    let flat = DataLoader::new(&set, 2).flatten().epoch(0).next().unwrap();
    assert_eq!(flat.images.shape(), vec![2, 48]);
    assert_eq!(flat.images.to_vec(), v);
}

#[test]
fn per_channel_mean_std() {
    let set = colour_set(1);
    let (mean, std) = (vec![0.5, 0.25, 0.0], vec![0.5, 2.0, 1.0]);
    let loader = DataLoader::new(&set, 1).normalize(Normalize::MeanStd {
        mean: mean.clone(),
        std: std.clone(),
    });
    let v = loader.epoch(0).next().unwrap().images.to_vec();
    for (k, value) in v.iter().enumerate() {
        let c = k / 16;
        let expected = (set.image(0)[k] as f32 / 255.0 - mean[c]) / std[c];
        assert!((value - expected).abs() < 1e-6);
    }
    let raw = DataLoader::new(&set, 1)
        .normalize(Normalize::None)
        .epoch(0)
        .next()
        .unwrap();
    assert_eq!(raw.images.to_vec()[5], set.image(0)[5] as f32);
}

#[test]
#[should_panic(expected = "needs 3 means and stds")]
fn mean_std_must_match_the_channels() {
    let _ = DataLoader::new(&colour_set(1), 1).normalize(Normalize::MeanStd {
        mean: vec![0.5],
        std: vec![0.5],
    });
}

#[test]
fn one_hot_labels_on_request() {
    let set = colour_set(5);
    let batch = DataLoader::new(&set, 5).one_hot(true).epoch(0).next().unwrap();
    let oh = batch.one_hot.unwrap();
    assert_eq!(oh.shape(), vec![5, 3]);
    let v = oh.to_vec();
    for (row, &l) in batch.labels.iter().enumerate() {
        for c in 0..3 {
            assert_eq!(v[row * 3 + c], if c == l { 1.0 } else { 0.0 });
        }
    }
    assert!(DataLoader::new(&set, 5).epoch(0).next().unwrap().one_hot.is_none());
}

#[test]
fn shuffle_is_a_permutation_fixed_by_seed_and_epoch() {
    let set = colour_set(100);
    let a = DataLoader::new(&set, 7).shuffle(42);
    let order0 = a.order(0);
    assert_eq!(order0.iter().copied().collect::<HashSet<_>>().len(), 100);
    assert_ne!(order0, (0..100).collect::<Vec<_>>());
    assert_eq!(
        order0,
        DataLoader::new(&set, 7).shuffle(42).order(0),
        "same seed, same order"
    );
    assert_ne!(order0, a.order(1), "epochs differ");
    assert_ne!(order0, DataLoader::new(&set, 7).shuffle(43).order(0), "seeds differ");
    let seen: Vec<usize> = a.epoch(0).flat_map(|b| b.indices).collect();
    assert_eq!(seen, order0);
    // Labels follow the images.
    for b in a.epoch(3) {
        for (i, l) in b.indices.iter().zip(&b.labels) {
            assert_eq!(*l, set.label(*i));
        }
    }
}

#[test]
fn batches_are_bit_identical_with_and_without_prefetch_and_threads() {
    let set = colour_set(203);
    let base = DataLoader::new(&set, 16)
        .shuffle(9)
        .augment(Augment::cifar())
        .one_hot(true);
    let reference: Vec<Vec<u32>> = collect(&base.clone().prefetch(false).parallel_threshold(usize::MAX), 2)
        .iter()
        .map(bits)
        .collect();
    let variants = [
        base.clone().prefetch(true).parallel_threshold(usize::MAX),
        base.clone().prefetch(false).parallel_threshold(0),
        base.clone().prefetch(true).parallel_threshold(0),
        base.clone(), // prefetch chosen from the cores, default threshold
    ];
    for loader in &variants {
        let got: Vec<Vec<u32>> = collect(loader, 2).iter().map(bits).collect();
        assert_eq!(got, reference);
    }
    // With 1 thread the default mode prefetches (a core is spare); with more it gathers inline.
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        for loader in [&variants[1], &variants[3]] {
            let got: Vec<Vec<u32>> = pool.install(|| collect(loader, 2).iter().map(bits).collect());
            assert_eq!(got, reference, "{threads} threads");
        }
    }
}

#[test]
fn dropping_a_prefetching_epoch_early_stops_the_worker() {
    let set = colour_set(500);
    let loader = DataLoader::new(&set, 2).shuffle(1);
    for _ in 0..20 {
        let mut it = loader.epoch(0);
        assert!(it.next().is_some());
        drop(it); // must not hang
    }
}

#[test]
fn augmentation_is_seeded_and_stays_in_the_padded_image() {
    let aug = Augment::cifar();
    let draws: Vec<Transform> = (0..1000).map(|i| aug.draw(5, 0, i)).collect();
    assert!(draws.iter().all(|t| t.dy <= 8 && t.dx <= 8 && t.pad == 4));
    assert!(draws.iter().any(|t| t.flip) && draws.iter().any(|t| !t.flip));
    assert_eq!(draws.iter().map(|t| (t.dy, t.dx)).collect::<HashSet<_>>().len(), 81);
    assert_eq!(aug.draw(5, 0, 17), draws[17]);
    assert_ne!(
        (0..50).map(|i| aug.draw(5, 1, i)).collect::<Vec<_>>(),
        draws[..50].to_vec()
    );

    // Augmented batches: same seed and epoch, same result; different epoch, different result.
    let set = colour_set(8);
    let l = DataLoader::new(&set, 8).seed(3).augment(aug);
    assert_eq!(bits(&l.epoch(0).next().unwrap()), bits(&l.epoch(0).next().unwrap()));
    assert_ne!(bits(&l.epoch(0).next().unwrap()), bits(&l.epoch(1).next().unwrap()));
}

#[test]
fn crop_and_flip_against_a_naive_reference() {
    let (c, h, w) = (2, 5, 6);
    let src: Vec<u8> = (0..c * h * w).map(|k| (k * 3 + 1) as u8).collect();
    let lut: Vec<f32> = (0..c * 256).map(|k| k as f32).collect();
    for pad in [0, 1, 2] {
        for dy in 0..=2 * pad {
            for dx in 0..=2 * pad {
                for flip in [false, true] {
                    let t = Transform { dy, dx, flip, pad };
                    let mut out = vec![0f32; c * h * w];
                    t.apply(&src, [c, h, w], &lut, &mut out);
                    // Reference: pad with zeros, crop at (dy, dx), then flip.
                    let (ph, pw) = (h + 2 * pad, w + 2 * pad);
                    let mut padded = vec![0u8; c * ph * pw];
                    for ch in 0..c {
                        for y in 0..h {
                            for x in 0..w {
                                padded[ch * ph * pw + (y + pad) * pw + x + pad] = src[ch * h * w + y * w + x];
                            }
                        }
                    }
                    for ch in 0..c {
                        for y in 0..h {
                            for x in 0..w {
                                let xx = if flip { w - 1 - x } else { x };
                                let byte = padded[ch * ph * pw + (y + dy) * pw + xx + dx];
                                assert_eq!(out[ch * h * w + y * w + x], (ch * 256 + byte as usize) as f32);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(feature = "embedded-mnist")]
#[test]
fn an_epoch_of_embedded_mnist_covers_every_image_once() {
    let data = neurite_datasets::mnist::embedded().unwrap();
    let loader = DataLoader::new(&data.train, 64).shuffle(1).flatten();
    assert_eq!(loader.num_batches(), 157);
    let mut seen = vec![false; data.train.len()];
    let mut count = 0;
    for batch in loader.epoch(0) {
        assert_eq!(batch.images.shape()[1], 784);
        let v = batch.images.to_vec();
        assert!(v.iter().all(|x| (0.0..=1.0).contains(x)));
        for &i in &batch.indices {
            assert!(!seen[i]);
            seen[i] = true;
        }
        count += batch.len();
    }
    assert_eq!(count, 10_000);
}

#[test]
fn the_fast_path_matches_the_lookup_table_bit_for_bit() {
    let src: Vec<u8> = (0..3 * 256).map(|k| (k % 256) as u8).collect();
    for norm in [
        Normalize::Unit,
        Normalize::None,
        Normalize::MeanStd {
            mean: vec![0.49, 0.48, 0.45],
            std: vec![0.247, 0.243, 0.261],
        },
    ] {
        let lut = norm.lut(3);
        let (mut fast, mut table) = (vec![0f32; src.len()], vec![0f32; src.len()]);
        norm.apply(&src, 3, &mut fast);
        Transform::IDENTITY.apply(&src, [3, 16, 16], &lut, &mut table);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&table), "{norm:?}");
    }
}
