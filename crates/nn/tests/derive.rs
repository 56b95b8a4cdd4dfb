//! `#[derive(Module)]`: PyTorch's `state_dict` names for fields, `Vec`s and `Option`s,
//! buffers and skipped fields, train/eval forwarded, PyTorch's repr; and a small ResNet
//! saved by PyTorch (crates/nn/scripts/make_derive_fixture.py) loaded strictly into a derived
//! struct and into the same network built as a `Sequential` of `Residual` blocks, giving
//! PyTorch's output.

use std::path::PathBuf;

use neurite_nn::layers::conv::Conv2dConfig;
use neurite_nn::serialize::{load_into, load_state_dict};
use neurite_nn::{
    AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, Module, ReLU, Residual, Sequential,
};
use neurite_tensor::{seeded_rng, Tensor, TensorRng};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn names(m: &dyn Module) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

/// Fields of every kind the derive walks.
#[derive(Module)]
struct Everything {
    scale: Tensor,
    fc: Linear,
    heads: Vec<Linear>,
    maybe: Option<Linear>,
    absent: Option<Linear>,
    boxed: Box<dyn Module>,
    seq: Sequential,
    drop: Dropout,
    #[module(buffer)]
    steps: Tensor,
    #[module(skip)]
    width: usize,
}

impl Everything {
    fn new(rng: &mut TensorRng) -> Everything {
        Everything {
            scale: Tensor::ones(&[1]).requires_grad_(),
            fc: Linear::new(3, 4, rng),
            heads: vec![Linear::new(4, 2, rng), Linear::new(4, 2, rng)],
            maybe: Some(Linear::with_bias(4, 4, false, rng)),
            absent: None,
            boxed: Box::new(Linear::new(4, 4, rng)),
            seq: Sequential::new().add(ReLU).add_named("bn", BatchNorm2d::new(4)),
            drop: Dropout::new(0.5, 9),
            steps: Tensor::zeros(&[1]),
            width: 4,
        }
    }

    /// The only thing a derived module writes by hand.
    fn forward(&mut self, x: &Tensor) -> Tensor {
        assert_eq!(x.dim(1), 3, "the width field is still usable: {}", self.width);
        let h = self.drop.forward(&self.fc.forward(x));
        &self.heads[0].forward(&h) * &self.scale
    }
}

#[test]
fn derive_names_fields_vecs_options_and_buffers_like_pytorch() {
    let m = Everything::new(&mut seeded_rng(0));
    assert_eq!(
        names(&m),
        [
            "scale",
            "fc.weight",
            "fc.bias",
            "heads.0.weight",
            "heads.0.bias",
            "heads.1.weight",
            "heads.1.bias",
            "maybe.weight",
            "boxed.weight",
            "boxed.bias",
            "seq.bn.weight",
            "seq.bn.bias"
        ]
    );
    let buffers: Vec<String> = m.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        [
            "seq.bn.running_mean",
            "seq.bn.running_var",
            "seq.bn.num_batches_tracked",
            "steps"
        ]
    );
    assert_eq!(m.num_parameters(), 1 + (12 + 4) + 2 * (8 + 2) + 16 + (16 + 4) + 8);
}

#[test]
fn derive_forwards_eval_mode_so_dropout_inside_is_off() {
    let mut m = Everything::new(&mut seeded_rng(1));
    let x = Tensor::uniform(&[64, 3], -1.0, 1.0, &mut seeded_rng(2));
    let a = m.forward(&x).to_vec();
    let b = m.forward(&x).to_vec();
    assert_ne!(a, b, "training mode: dropout draws a new mask each call");
    m.set_training(false);
    let c = m.forward(&x).to_vec();
    assert_eq!(c, m.forward(&x).to_vec());
    // Eval mode is exactly the layers without dropout.
    let want = m.heads[0].forward(&m.fc.forward(&x)).to_vec();
    assert_eq!(c, want);
    m.set_training(true);
    assert_ne!(m.forward(&x).to_vec(), c);
}

#[test]
fn derive_describes_in_pytorch_repr_style() {
    let m = Everything::new(&mut seeded_rng(3));
    let text = m.describe();
    let want_start = "Everything(\n  (fc): Linear(in_features=3, out_features=4, bias=true)\n  (heads): ModuleList(\n    (0): Linear(in_features=4, out_features=2, bias=true)\n    (1): Linear(in_features=4, out_features=2, bias=true)\n  )\n  (maybe): Linear(in_features=4, out_features=4, bias=false)\n  (boxed): Linear(";
    assert!(text.starts_with(want_start), "{text}");
    assert!(
        text.contains("\n  (seq): Sequential(\n    (0): ReLU()\n    (bn): BatchNorm2d(4"),
        "{text}"
    );
    assert!(text.ends_with("\n  (drop): Dropout(p=0.5)\n)"), "{text}");
    assert!(
        !text.contains("absent") && !text.contains("scale") && !text.contains("steps"),
        "{text}"
    );
}

#[derive(Module)]
struct Empty {}

impl Empty {
    fn forward(&mut self, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[test]
fn a_module_without_children_describes_as_its_name() {
    let mut e = Empty {};
    assert_eq!(e.describe(), "Empty()");
    assert!(e.named_parameters().is_empty());
    assert_eq!(e.forward(&Tensor::ones(&[2])).to_vec(), [1.0, 1.0]);
}

// ---- The ResNet of crates/nn/scripts/make_derive_fixture.py, as a derived struct. ----

fn conv3(cin: usize, cout: usize, stride: usize, rng: &mut TensorRng) -> Conv2d {
    Conv2d::with_config(
        cin,
        cout,
        3,
        Conv2dConfig::default().stride(stride).padding(1).bias(false),
        rng,
    )
}

fn projection(cin: usize, cout: usize, stride: usize, rng: &mut TensorRng) -> Sequential {
    let cfg = Conv2dConfig::default().stride(stride).bias(false);
    Sequential::new()
        .add(Conv2d::with_config(cin, cout, 1, cfg, rng))
        .add(BatchNorm2d::new(cout))
}

/// torchvision's `BasicBlock`.
#[derive(Module)]
struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    relu: ReLU,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    downsample: Option<Sequential>,
}

impl BasicBlock {
    fn new(cin: usize, cout: usize, stride: usize, rng: &mut TensorRng) -> BasicBlock {
        BasicBlock {
            conv1: conv3(cin, cout, stride, rng),
            bn1: BatchNorm2d::new(cout),
            relu: ReLU,
            conv2: conv3(cout, cout, 1, rng),
            bn2: BatchNorm2d::new(cout),
            downsample: (stride != 1 || cin != cout).then(|| projection(cin, cout, stride, rng)),
        }
    }

    fn forward(&mut self, x: &Tensor) -> Tensor {
        let out = self.relu.forward(&self.bn1.forward(&self.conv1.forward(x)));
        let out = self.bn2.forward(&self.conv2.forward(&out));
        let identity = match &mut self.downsample {
            Some(d) => d.forward(x),
            None => x.clone(),
        };
        (&out + &identity).relu()
    }
}

#[derive(Module)]
struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    relu: ReLU,
    layer1: Vec<BasicBlock>,
    layer2: Sequential,
    avgpool: AdaptiveAvgPool2d,
    fc: Linear,
}

impl ResNet {
    fn new(rng: &mut TensorRng) -> ResNet {
        ResNet {
            conv1: conv3(3, 4, 1, rng),
            bn1: BatchNorm2d::new(4),
            relu: ReLU,
            layer1: vec![BasicBlock::new(4, 4, 1, rng)],
            layer2: Sequential::new().add(BasicBlock::new(4, 8, 2, rng)),
            avgpool: AdaptiveAvgPool2d::global(),
            fc: Linear::new(8, 5, rng),
        }
    }

    fn forward(&mut self, x: &Tensor) -> Tensor {
        let mut x = self.relu.forward(&self.bn1.forward(&self.conv1.forward(x)));
        for block in &mut self.layer1 {
            x = block.forward(&x);
        }
        let x = self.avgpool.forward(&self.layer2.forward(&x));
        self.fc.forward(&x.reshape(&[x.dim(0), x.dim(1)]))
    }
}

/// The same network as a `Sequential` of named children with `Residual` blocks (what a model
/// spec builds): each block is `Residual` then `ReLU`.
fn resnet_sequential(rng: &mut TensorRng) -> Sequential {
    let block = |cin: usize, cout: usize, stride: usize, rng: &mut TensorRng| {
        let body = Sequential::new()
            .add_named("conv1", conv3(cin, cout, stride, rng))
            .add_named("bn1", BatchNorm2d::new(cout))
            .add_named("relu", ReLU)
            .add_named("conv2", conv3(cout, cout, 1, rng))
            .add_named("bn2", BatchNorm2d::new(cout));
        let downsample = (stride != 1 || cin != cout).then(|| projection(cin, cout, stride, rng));
        Sequential::new().add(Residual::new(body, downsample)).add(ReLU)
    };
    Sequential::new()
        .add_named("conv1", conv3(3, 4, 1, rng))
        .add_named("bn1", BatchNorm2d::new(4))
        .add_named("relu", ReLU)
        .add_named("layer1", block(4, 4, 1, rng))
        .add_named("layer2", block(4, 8, 2, rng))
        .add_named("avgpool", AdaptiveAvgPool2d::global())
        .add_named("flatten", Flatten::new())
        .add_named("fc", Linear::new(8, 5, rng))
}

/// Loads the PyTorch file strictly (every name and shape must match, none left over) and
/// compares the eval-mode output with PyTorch's.
fn check_against_pytorch(model: &mut dyn Module) {
    load_into(model, fixture("derive_resnet.safetensors")).expect("strict load of the PyTorch state_dict");
    model.set_training(false);
    let (io, _) = load_state_dict(fixture("derive_resnet_io.safetensors")).unwrap();
    let y = model.forward(&io["input"]);
    assert_eq!(y.shape(), vec![2, 5]);
    for (a, b) in y.to_vec().iter().zip(io["output"].to_vec()) {
        assert!((a - b).abs() <= 1e-5, "neurite {a} vs PyTorch {b}");
    }
}

#[test]
fn derived_resnet_loads_a_pytorch_state_dict_and_matches_its_output() {
    let mut net = ResNet::new(&mut seeded_rng(4));
    let (state, _) = load_state_dict(fixture("derive_resnet.safetensors")).unwrap();
    let mut ours = names(&net);
    ours.extend(net.named_buffers().into_iter().map(|(n, _)| n));
    ours.sort();
    let theirs: Vec<String> = state.keys().cloned().collect();
    assert_eq!(ours, theirs);
    check_against_pytorch(&mut net);
    let text = net.describe();
    assert!(
        text.contains("  (layer2): Sequential(\n    (0): BasicBlock(\n      (conv1): Conv2d(4, 8"),
        "{text}"
    );
    assert!(
        text.contains("      (downsample): Sequential(\n        (0): Conv2d(4, 8, kernel_size=(1, 1)"),
        "{text}"
    );
}

#[test]
fn sequential_of_residual_blocks_has_the_same_names_and_output() {
    let (derived, mut seq) = (ResNet::new(&mut seeded_rng(5)), resnet_sequential(&mut seeded_rng(5)));
    assert_eq!(names(&seq), names(&derived));
    let buffers = |m: &dyn Module| m.named_buffers().into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(buffers(&seq), buffers(&derived));
    assert_eq!(seq.num_parameters(), derived.num_parameters());
    check_against_pytorch(&mut seq);
}

/// A generic wrapper, with the crate path given explicitly (what a user of the `neurite`
/// facade writes as `#[module(crate = "neurite::nn")]`).
#[derive(Module)]
#[module(crate = "neurite_nn")]
struct Scaled<M: Module> {
    inner: M,
    gain: Vec<Tensor>,
}

impl<M: Module> Scaled<M> {
    fn forward(&mut self, x: &Tensor) -> Tensor {
        &self.inner.forward(x) * &self.gain[0]
    }
}

#[test]
fn generic_structs_and_an_explicit_crate_path_derive_too() {
    let mut s = Scaled {
        inner: Linear::new(2, 2, &mut seeded_rng(6)),
        gain: vec![Tensor::full(&[1], 2.0).requires_grad_()],
    };
    assert_eq!(names(&s), ["inner.weight", "inner.bias", "gain.0"]);
    let x = Tensor::ones(&[1, 2]);
    let want = s.inner.forward(&x).mul_scalar(2.0).to_vec();
    let model: &mut dyn Module = &mut s;
    assert_eq!(model.forward(&x).to_vec(), want);
    assert_eq!(
        model.describe(),
        "Scaled(\n  (inner): Linear(in_features=2, out_features=2, bias=true)\n)"
    );
}
