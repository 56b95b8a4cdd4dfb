//! Whole training runs are bit-identical with 1, 2 and 3 threads: a few `fit` steps of W1,
//! W2, W3 and a convolutional model with batch norm, average pooling and dropout, each on local rayon pools,
//! compared parameter by parameter (and buffer by buffer) as bits.
//!
//! The batches are sized so that every parallel path runs (element-wise maps, reductions and
//! softmax over `PAR_MIN_ELEMS`, split sgemms, convolution and pooling by planes, batch-norm
//! statistics per channel), while a run stays well under a second.

use neurite_nn::optim::{Adam, AdamW, Optimizer, Sgd};
use neurite_nn::spec::ModelSpec;
use neurite_nn::train::{fit, Batch};
use neurite_nn::{AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, Module, ReLU, Sequential};
use neurite_tensor::{seeded_rng, Tensor};

/// `steps` batches of `batch` random images of `shape` (per image) with random labels.
fn batches(steps: usize, batch: usize, shape: &[usize]) -> Vec<Batch> {
    let mut rng = seeded_rng(99);
    (0..steps)
        .map(|s| {
            let mut full = vec![batch];
            full.extend_from_slice(shape);
            let x = Tensor::uniform(&full, 0.0, 1.0, &mut rng);
            let y = (0..batch).map(|i| (i * 7 + s * 3) % 10).collect();
            Batch::new(x, y)
        })
        .collect()
}

/// Every parameter and buffer of `model`, as bits.
fn state(model: &dyn Module) -> Vec<(String, Vec<u32>)> {
    model
        .named_parameters()
        .into_iter()
        .chain(model.named_buffers())
        .map(|(n, t)| (n, t.to_vec().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// Builds a model and optimizer, trains on `data` for one epoch, returns the final state.
fn train_with_threads(
    threads: usize,
    build: fn() -> Sequential,
    optimizer: fn(Vec<Tensor>) -> Box<dyn Optimizer>,
    data: &[Batch],
) -> Vec<(String, Vec<u32>)> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut model = build();
        let mut opt = optimizer(model.parameters());
        let report = fit(&mut model, opt.as_mut(), |_| data.to_vec(), |_| Vec::new(), 1, &mut []).unwrap();
        assert_eq!(report.steps, data.len());
        state(&model)
    })
}

/// Trains with 1, 2 and 3 threads and asserts identical bits; also that training moved the
/// weights (so the comparison is of trained, not initial, values).
fn assert_thread_count_independent(
    what: &str,
    build: fn() -> Sequential,
    optimizer: fn(Vec<Tensor>) -> Box<dyn Optimizer>,
    data: &[Batch],
) {
    let one = train_with_threads(1, build, optimizer, data);
    assert_ne!(one, state(&build()), "{what}: training did not change the model");
    for threads in [2, 3] {
        let other = train_with_threads(threads, build, optimizer, data);
        for ((name, a), (_, b)) in one.iter().zip(&other) {
            let differing = a.iter().zip(b).filter(|(x, y)| x != y).count();
            assert_eq!(
                differing,
                0,
                "{what}: {name} differs in {differing} of {} values between 1 and {threads} threads",
                a.len()
            );
        }
        assert_eq!(one.len(), other.len());
    }
}

fn w1() -> Sequential {
    ModelSpec::w1().build(&mut seeded_rng(1))
}

fn w2() -> Sequential {
    ModelSpec::w2().build(&mut seeded_rng(2))
}

fn w3() -> Sequential {
    ModelSpec::w3().build(&mut seeded_rng(3))
}

/// Convolution, batch norm, ReLU, average pooling (W3 has the max pooling), dropout and a
/// linear head.
fn bn_dropout() -> Sequential {
    let mut rng = seeded_rng(4);
    Sequential::new()
        .add(Conv2d::new(1, 8, 3, &mut rng))
        .add(BatchNorm2d::new(8))
        .add(ReLU)
        .add(AvgPool2d::new(2))
        .add(Flatten::new())
        .add(Dropout::new(0.3, 5))
        .add(Linear::new(8 * 13 * 13, 10, &mut rng))
}

#[test]
fn w1_mlp_with_sgd() {
    let data = batches(3, 128, &[784]);
    assert_thread_count_independent("W1", w1, |p| Box::new(Sgd::new(p, 0.1)), &data);
}

#[test]
fn w2_wide_mlp_with_adam() {
    let data = batches(2, 128, &[784]);
    assert_thread_count_independent("W2", w2, |p| Box::new(Adam::new(p, 1e-3)), &data);
}

#[test]
fn w3_cnn_with_momentum() {
    let data = batches(2, 16, &[1, 28, 28]);
    assert_thread_count_independent("W3", w3, |p| Box::new(Sgd::new(p, 0.01).with_momentum(0.9)), &data);
}

#[test]
fn batch_norm_and_dropout_with_adamw() {
    let data = batches(3, 64, &[1, 28, 28]);
    assert_thread_count_independent("conv+bn+dropout", bn_dropout, |p| Box::new(AdamW::new(p, 1e-3)), &data);
}
