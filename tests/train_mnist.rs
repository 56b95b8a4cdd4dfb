//! End to end through every crate: the embedded MNIST sample (datasets) trains the W1 MLP
//! (nn, tensor) to a stated accuracy, deterministically.

use neurite::datasets::{mnist, DataLoader, Layout};
use neurite::nn::optim::Sgd;
use neurite::nn::spec::ModelSpec;
use neurite::nn::train::{evaluate, fit};
use neurite::nn::Module;
use neurite::tensor::seeded_rng;

fn train_w1(epochs: usize) -> (f32, Vec<f32>) {
    let data = mnist::embedded().expect("the embedded sample ships with the crate");
    let mut model = ModelSpec::w1().build(&mut seeded_rng(0));
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let train = DataLoader::new(&data.train, 64).shuffle(0).layout(Layout::Flat);
    let test = DataLoader::new(&data.test, 500).layout(Layout::Flat);
    fit(
        &mut model,
        &mut opt,
        |e| train.epoch(e as u64).map(|b| b.into_parts()),
        |_| std::iter::empty(),
        epochs,
        &mut [],
    )
    .expect("training stays finite");
    let stats = evaluate(&mut model, test.epoch(0).map(|b| b.into_parts()));
    (stats.accuracy, model.parameters()[0].to_vec())
}

#[test]
fn w1_mlp_learns_the_embedded_sample() {
    let (accuracy, weights) = train_w1(3);
    // 3 epochs over the 10,000-image sample (471 SGD steps) give 88.0% on its 2,000 test
    // images; chance is 10%.
    assert!(accuracy >= 0.87, "test accuracy {accuracy}");
    // Same seed, same numbers.
    let (again, weights_again) = train_w1(3);
    assert_eq!(accuracy, again);
    assert_eq!(weights, weights_again);
}
