//! A small ResNet for CIFAR-10 written two ways: as Rust structs with `#[derive(Module)]`
//! (only `forward` written by hand), and as the spec file `examples/models/resnet_cifar.toml`.
//! Both have torchvision's `state_dict` names (`conv1.weight`, `layer2.downsample.0.weight`,
//! `fc.weight`, ...) and the same parameters as the PyTorch module in
//! `scripts/make_resnet_cifar_names.py` (`tests/resnet_cifar.rs` checks all three), and with
//! the same seed the same initial weights. The derived network is then trained with `fit`.
//!
//! Run with `cargo run --release --example resnet_cifar [IMAGES]` (default: 10,000 training
//! images, one epoch, Adam). CIFAR-10 comes from the data directory (`neurite fetch cifar10`);
//! without it the example says so and trains on a synthetic stand-in: random images whose
//! class sets their mean colour, so that the network has something to learn.

use std::path::Path;

use neurite::datasets::{cifar10, data_dir::resolve_data_dir, DataLoader, ImageSet};
use neurite::nn::optim::Adam;
use neurite::nn::spec::{parse_spec_file, ModelSpec};
use neurite::nn::train::fit;
use neurite::nn::{AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Conv2dConfig, Linear, Module, Sequential};
use neurite::tensor::{seeded_rng, Tensor, TensorRng};

/// torchvision's `BasicBlock`: two 3x3 convolutions with batch norm, added to the input (or
/// to its 1x1 strided projection when the shape changes), then ReLU.
#[derive(Module)]
#[module(crate = "neurite::nn")]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    downsample: Option<Sequential>,
}

impl BasicBlock {
    /// A block from `cin` to `cout` channels; `stride` 2 halves the image.
    pub fn new(cin: usize, cout: usize, stride: usize, rng: &mut TensorRng) -> BasicBlock {
        let conv = |p: usize, s: usize| Conv2dConfig::default().stride(s).padding(p).bias(false);
        let conv1 = Conv2d::with_config(cin, cout, 3, conv(1, stride), rng);
        let conv2 = Conv2d::with_config(cout, cout, 3, conv(1, 1), rng);
        let downsample = (stride != 1 || cin != cout).then(|| {
            Sequential::new()
                .add(Conv2d::with_config(cin, cout, 1, conv(0, stride), rng))
                .add(BatchNorm2d::new(cout))
        });
        BasicBlock {
            conv1,
            bn1: BatchNorm2d::new(cout),
            conv2,
            bn2: BatchNorm2d::new(cout),
            downsample,
        }
    }

    fn forward(&mut self, x: &Tensor) -> Tensor {
        let h = self.bn1.forward(&self.conv1.forward(x)).relu();
        let out = self.bn2.forward(&self.conv2.forward(&h));
        let shortcut = match &mut self.downsample {
            Some(d) => d.forward(x),
            None => x.clone(),
        };
        (&out + &shortcut).relu()
    }
}

/// The network: a 3x3 stem, three stages of one block each (16, 32, 64 channels), global
/// average pooling and a linear classifier.
#[derive(Module)]
#[module(crate = "neurite::nn")]
pub struct ResNetCifar {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    layer1: BasicBlock,
    layer2: BasicBlock,
    layer3: BasicBlock,
    avgpool: AdaptiveAvgPool2d,
    fc: Linear,
}

impl ResNetCifar {
    /// A network for `classes` classes, initial weights from `rng`.
    pub fn new(classes: usize, rng: &mut TensorRng) -> ResNetCifar {
        let stem = Conv2dConfig::default().padding(1).bias(false);
        ResNetCifar {
            conv1: Conv2d::with_config(3, 16, 3, stem, rng),
            bn1: BatchNorm2d::new(16),
            layer1: BasicBlock::new(16, 16, 1, rng),
            layer2: BasicBlock::new(16, 32, 2, rng),
            layer3: BasicBlock::new(32, 64, 2, rng),
            avgpool: AdaptiveAvgPool2d::global(),
            fc: Linear::new(64, classes, rng),
        }
    }

    fn forward(&mut self, x: &Tensor) -> Tensor {
        let x = self.bn1.forward(&self.conv1.forward(x)).relu();
        let x = self.layer3.forward(&self.layer2.forward(&self.layer1.forward(&x)));
        self.fc.forward(&self.avgpool.forward(&x).flatten_from(1))
    }
}

/// The same network as a spec, from `examples/models/resnet_cifar.toml`.
pub fn resnet_spec() -> ModelSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/models/resnet_cifar.toml");
    parse_spec_file(&path, &[3, 32, 32]).unwrap_or_else(|e| panic!("{e}"))
}

/// `n` synthetic 32x32 colour images: class `k` has a mean colour of its own, plus noise.
pub fn synthetic(n: usize, seed: u64) -> ImageSet {
    use rand::Rng;
    let mut rng = seeded_rng(seed);
    let mut pixels = Vec::with_capacity(n * 3 * 32 * 32);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i % 10) as u8;
        labels.push(class);
        for c in 0..3 {
            let mean = 40.0 + 170.0 * (((class as usize + c * 3) % 10) as f32 / 9.0);
            for _ in 0..32 * 32 {
                pixels.push((mean + rng.random_range(-40.0..40.0f32)).clamp(0.0, 255.0) as u8);
            }
        }
    }
    let names: Vec<String> = (0..10).map(|k| format!("colour {k}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    ImageSet::from_vec(pixels, labels, [3, 32, 32], &names).expect("a valid synthetic set")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let images: usize = std::env::args().nth(1).map_or(Ok(10_000), |a| a.parse())?;
    let (train, test) = match cifar10::load(resolve_data_dir(None).0) {
        Ok(data) => (data.train, data.test),
        Err(e) => {
            println!("CIFAR-10 not loaded ({e}); training on a synthetic stand-in instead");
            (synthetic(images.min(5_000), 1), synthetic(1_000, 2))
        }
    };
    let mut model = ResNetCifar::new(10, &mut seeded_rng(0));
    let spec = resnet_spec();
    println!("{}", spec.summary());
    assert_eq!(model.num_parameters() as u64, spec.num_parameters());

    let indices: Vec<usize> = (0..images.min(train.len())).collect();
    let train = DataLoader::new(&train, 64).shuffle(0);
    let test = DataLoader::new(&test, 500);
    let mut opt = Adam::new(model.parameters(), 1e-3);
    let report = fit(
        &mut model,
        &mut opt,
        |epoch| {
            let order = train.order(epoch as u64);
            let chosen: Vec<usize> = order.into_iter().filter(|i| *i < indices.len()).collect();
            chosen
                .chunks(64)
                .map(|c| train.assemble(epoch as u64, c).into_parts())
                .collect::<Vec<_>>()
        },
        |_| test.epoch(0).take(4).map(|b| b.into_parts()),
        1,
        &mut [],
    )?;
    for e in &report.epochs {
        println!(
            "epoch {}: train loss {:.3}, accuracy {:.1}%; test accuracy {:.1}% (2,000 images)",
            e.epoch + 1,
            e.train_loss,
            e.train_accuracy * 100.0,
            e.test_accuracy.unwrap_or(f32::NAN) * 100.0
        );
    }
    Ok(())
}
