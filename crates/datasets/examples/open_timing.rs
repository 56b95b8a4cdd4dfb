//! Times opening MNIST and producing the first batch, step by step:
//! `cargo run --release -p neurite-datasets --example open_timing -- <data_dir>`.
use std::time::Instant;

use neurite_datasets::{mnist, DataLoader};

fn main() -> Result<(), neurite_datasets::DatasetError> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    for _ in 0..5 {
        let t0 = Instant::now();
        let data = mnist::load(&dir)?;
        let t1 = Instant::now();
        let loader = DataLoader::new(&data.train, 64).shuffle(0).prefetch(false);
        let order = loader.order(0);
        let t2 = Instant::now();
        let batch = loader.assemble(0, &order[..64]);
        let t3 = Instant::now();
        drop(batch);
        drop(loader);
        drop(data);
        let t4 = Instant::now();
        println!(
            "open {:?}  order {:?}  first batch {:?}  drop {:?}",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t4 - t3
        );
    }
    Ok(())
}
