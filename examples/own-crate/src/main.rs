//! W1 of the benchmark spec: one epoch of 784 -> 128 -> ReLU -> 10 on MNIST (SGD lr 0.1,
//! batch 64), timed, then the test accuracy. The full MNIST when `neurite fetch mnist` has put
//! it in the data directory, else the embedded sample.
use std::time::Instant;

use neurite::datasets::{data_dir::resolve_data_dir, mnist, DataLoader, Layout};
use neurite::nn::{loss::cross_entropy, metrics::correct_count, optim::Optimizer, optim::Sgd};
use neurite::nn::{Linear, Module, ReLU, Sequential};
use neurite::tensor::{no_grad, seeded_rng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (data, source) = mnist::load_or_embedded(resolve_data_dir(None).0)?;
    println!("{source}");
    let mut rng = seeded_rng(0);
    let mut model = Sequential::new()
        .add(Linear::new(784, 128, &mut rng))
        .add(ReLU)
        .add(Linear::new(128, 10, &mut rng));
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let train = DataLoader::new(&data.train, 64).shuffle(0).layout(Layout::Flat);
    let test = DataLoader::new(&data.test, 1000).layout(Layout::Flat);
    let start = Instant::now();
    for batch in train.epoch(0) {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&batch.images), &batch.labels);
        loss.backward();
        drop(loss);
        opt.step();
    }
    let secs = start.elapsed().as_secs_f64();
    model.set_training(false);
    let correct: usize = no_grad(|| test.epoch(0).map(|b| correct_count(&model.forward(&b.images), &b.labels)).sum());
    println!("W1 epoch {secs:.3} s, test accuracy {:.2}%", 100.0 * correct as f64 / data.test.len() as f64);
    Ok(())
}
