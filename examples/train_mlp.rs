//! Trains the lesson's MLP (784 -> 128 -> ReLU -> 10, SGD lr 0.1, batch 64) with the library
//! API, written out as a plain loop; `docs/tutorial.md` walks through it and shows this file's
//! code unchanged (a test in `tests/docs.rs` keeps the two the same).
//!
//! Run with `cargo run --release --example train_mlp` (the embedded MNIST sample when the full
//! set has not been fetched).

use neurite::datasets::{data_dir::resolve_data_dir, mnist, DataLoader, Layout};
use neurite::nn::{loss::cross_entropy, metrics::correct_count, optim::Optimizer, optim::Sgd, serialize};
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

    for epoch in 0..5 {
        for batch in train.epoch(epoch) {
            opt.zero_grad();
            let loss = cross_entropy(&model.forward(&batch.images), &batch.labels);
            loss.backward();
            drop(loss); // free the graph, so the step updates the weights in place
            opt.step();
        }
        model.set_training(false);
        let correct: usize = no_grad(|| {
            test.epoch(0)
                .map(|b| correct_count(&model.forward(&b.images), &b.labels))
                .sum()
        });
        model.set_training(true);
        println!(
            "epoch {}: test accuracy {:.2}%",
            epoch + 1,
            100.0 * correct as f64 / data.test.len() as f64
        );
    }
    let path = std::env::temp_dir().join("mlp.safetensors");
    serialize::save(&model, &path, &Default::default())?;
    println!("saved {} (loads in PyTorch with load_state_dict)", path.display());
    Ok(())
}
