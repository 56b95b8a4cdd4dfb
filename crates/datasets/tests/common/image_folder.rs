//! Builds an image folder from the embedded MNIST sample: `per_class` real digits as PNG
//! files in each of `classes` class folders (`digit-0/` ...), for the folder tests of the
//! datasets crate and of the CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Writes `root/digit-<d>/<i>.png` for the first `per_class` training images of each digit
/// `d < classes` of the embedded sample; returns the written files in folder order.
pub fn write_mnist_folder(root: &Path, classes: usize, per_class: usize) -> Vec<PathBuf> {
    let data = neurite_datasets::mnist::embedded().expect("the embedded sample");
    let mut counts = vec![0usize; classes];
    let mut written = Vec::new();
    for i in 0..data.train.len() {
        let label = data.train.label(i);
        if label >= classes || counts[label] == per_class {
            continue;
        }
        let dir = root.join(format!("digit-{label}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{i:05}.png"));
        image::GrayImage::from_raw(28, 28, data.train.image(i).to_vec())
            .unwrap()
            .save(&path)
            .unwrap();
        written.push(path);
        counts[label] += 1;
        if counts.iter().all(|&c| c == per_class) {
            break;
        }
    }
    written.sort();
    written
}

/// Adds a truncated PNG (`digit-0/broken.png`) and a text file (`digit-1/notes.txt`);
/// returns both paths.
pub fn add_bad_files(root: &Path, good_png: &Path) -> [PathBuf; 2] {
    let bytes = std::fs::read(good_png).unwrap();
    let broken = root.join("digit-0/broken.png");
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let text = root.join("digit-1/notes.txt");
    std::fs::write(&text, "these are my digits\n").unwrap();
    [broken, text]
}
