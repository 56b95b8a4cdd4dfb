//! What batch loading adds to training: W1 (784 -> 128 -> ReLU -> 10, SGD lr 0.1, batch 64)
//! trained for one epoch from the `DataLoader` (default, prefetch thread, and gathering in the
//! caller on rayon's pool) against the same batches assembled before the timer. Rounds are
//! interleaved; each line is the median (min-max) over the rounds, with the overhead against
//! the pre-assembled epoch.
//!
//! Too long for criterion's sampling (an epoch is a fraction of a second), so this is a plain
//! program: `NEURITE_DATA_DIR=/path/with/mnist cargo bench --bench loader_overhead` (the
//! embedded 10,000-image sample without the variable). `RAYON_NUM_THREADS` sets the threads.

use std::time::Instant;

use neurite::datasets::data_dir::resolve_data_dir;
use neurite::datasets::{mnist, DataLoader, Layout};
use neurite::nn::loss::cross_entropy;
use neurite::nn::optim::{Optimizer, Sgd};
use neurite::nn::spec::ModelSpec;
use neurite::nn::Module;
use neurite::tensor::{seeded_rng, Tensor};

const ROUNDS: usize = 5;

/// Seconds for one W1 epoch over `batches`, from a freshly seeded model.
fn epoch_seconds(batches: impl Iterator<Item = (Tensor, Vec<usize>)>) -> f64 {
    let mut model = ModelSpec::w1().build(&mut seeded_rng(0));
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let start = Instant::now();
    for (x, y) in batches {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&x), &y);
        loss.backward();
        drop(loss);
        opt.step();
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; this program takes no arguments.
    neurite::tensor::alloc::retain_freed_buffers();
    let (data, source) = mnist::load_or_embedded(resolve_data_dir(None).0).expect("MNIST or the embedded sample");
    println!("{source}; {} threads, {ROUNDS} rounds", rayon::current_num_threads());
    let loader = DataLoader::new(&data.train, 64).shuffle(0).layout(Layout::Flat);
    let variants = [
        ("loader, default", loader.clone()),
        ("loader, prefetch thread", loader.clone().prefetch(true)),
        ("loader, gather on the pool", loader.clone().prefetch(false)),
    ];
    let mut seconds = vec![Vec::new(); variants.len() + 1];
    // Train on a pool worker, as `fit` callers and the CLI do.
    rayon::scope(|_| {
        for _ in 0..ROUNDS {
            for (times, (_, l)) in seconds.iter_mut().zip(&variants) {
                times.push(epoch_seconds(l.epoch(0).map(|b| (b.images, b.labels))));
            }
            let ready: Vec<_> = loader.epoch(0).map(|b| (b.images, b.labels)).collect();
            seconds[variants.len()].push(epoch_seconds(ready.into_iter()));
        }
    });
    let summary = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        (times[times.len() / 2], times[0], times[times.len() - 1])
    };
    let (base, lo, hi) = summary(&mut seconds[variants.len()]);
    println!("{:28} {base:.4} s ({lo:.4}-{hi:.4})", "pre-assembled batches");
    for ((name, _), times) in variants.iter().zip(&mut seconds) {
        let (median, lo, hi) = summary(times);
        let overhead = (median / base - 1.0) * 100.0;
        println!("{name:28} {median:.4} s ({lo:.4}-{hi:.4})  {overhead:+.1}%");
    }
}
