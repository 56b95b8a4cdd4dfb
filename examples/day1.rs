//! The first lesson of "Introduction to Deep Learning", in Rust.
//!
//! The lesson's Python loads MNIST and CIFAR-10 with Keras, prints their shapes, defines a
//! Keras `Dense(units=10, activation='relu')` and a PyTorch `nn.Linear(in_features=10,
//! out_features=5)`. This does the same with neurite, and runs a batch through both layers.
//!
//! Run with `cargo run --example day1` (MNIST works with no download; CIFAR-10 is used when
//! `neurite fetch cifar10` or `cargo xtask fetch-data cifar10` has put it in the data directory).

use neurite::datasets::data_dir::resolve_data_dir;
use neurite::datasets::{cifar10, mnist, DataLoader, Layout};
use neurite::nn::{Dense, Linear, Module};
use neurite::tensor::seeded_rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (data_dir, _) = resolve_data_dir(None);

    // (x_train, y_train), (x_test, y_test) = mnist.load_data()
    let (mnist_data, source) = mnist::load_or_embedded(&data_dir)?;
    if source.is_embedded() {
        println!("note: {source}");
    }
    let ((x_train, _y_train), (x_test, _y_test)) = mnist_data.clone().into_keras();
    println!("MNIST Dataset: Train - {:?}", tuple(&x_train.shape()));
    println!("MNIST Dataset: Test - {:?}", tuple(&x_test.shape()));

    // cifar10.load_data(), when the files are there.
    match cifar10::load(&data_dir) {
        Ok(cifar) => {
            let ((x_train, _), (x_test, _)) = cifar.into_keras();
            println!("CIFAR-10 Dataset: Train - {:?}", tuple(&x_train.shape()));
            println!("CIFAR-10 Dataset: Test - {:?}", tuple(&x_test.shape()));
        }
        // The error names the missing file and says how to fetch the set.
        Err(e) => println!("CIFAR-10 not loaded: {e}"),
    }

    // tf.keras.layers.Dense(units=10, activation='relu'): the input size is inferred later.
    let mut dense = Dense::new(10, "relu").with_seed(0);
    // nn.Linear(in_features=10, out_features=5)
    let mut linear = Linear::new(10, 5, &mut seeded_rng(0));
    println!("Keras-style layer:   Dense(units=10, activation='relu') (kernel built on first call)");
    println!("PyTorch-style layer: {}", linear.describe());

    // A batch of 32 flattened, normalised training images through both layers.
    let loader = DataLoader::new(&mnist_data.train, 32).layout(Layout::Flat);
    let batch = loader.epoch(0).next().expect("MNIST has training images");
    let hidden = dense.forward(&batch.images);
    let out = linear.forward(&hidden);
    println!("input batch:  {:?}", batch.images.shape());
    let kernel = dense.kernel().expect("built by the first call").shape();
    println!(
        "after Dense:  {:?} (kernel {kernel:?}, its input size inferred)",
        hidden.shape()
    );
    println!("after Linear: {:?} (weight {:?})", out.shape(), linear.weight.shape());
    Ok(())
}

/// Formats a shape as Python prints a tuple: `(60000, 28, 28)`.
fn tuple(shape: &[usize]) -> Tuple<'_> {
    Tuple(shape)
}

struct Tuple<'a>(&'a [usize]);

impl std::fmt::Debug for Tuple<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
        write!(f, "({})", parts.join(", "))
    }
}
