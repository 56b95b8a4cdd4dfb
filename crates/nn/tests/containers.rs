//! Containers: `Sequential` with named children (PyTorch's `nn.Sequential(OrderedDict(...))`
//! names, fusion still asked through them) and `Residual` (values, gradients, torchvision's
//! names, train/eval forwarded, shape errors).

use std::panic::catch_unwind;

use neurite_nn::layers::activation::Activation;
use neurite_nn::layers::conv::Conv2dConfig;
use neurite_nn::{BatchNorm2d, Conv2d, Dropout, Fuse, Linear, Module, ReLU, Residual, Sequential};
use neurite_tensor::{seeded_rng, Tensor};

fn names(m: &dyn Module) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

fn buffer_names(m: &dyn Module) -> Vec<String> {
    m.named_buffers().into_iter().map(|(n, _)| n).collect()
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = catch_unwind(f).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn named_and_unnamed_children_mix_like_pytorch() {
    let mut rng = seeded_rng(0);
    let model = Sequential::new()
        .add_named("fc1", Linear::new(3, 4, &mut rng))
        .add(ReLU)
        .add_named("bn", BatchNorm2d::new(4))
        .add(Linear::new(4, 2, &mut rng));
    assert_eq!(model.names(), ["fc1", "1", "bn", "3"]);
    assert_eq!(
        names(&model),
        ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "3.weight", "3.bias"]
    );
    assert_eq!(
        buffer_names(&model),
        ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    );
    let text = model.describe();
    assert!(text.starts_with("Sequential(\n  (fc1): Linear(in_features=3"), "{text}");
    assert!(text.contains("\n  (1): ReLU()\n"), "{text}");
}

#[test]
fn bad_or_duplicate_child_names_panic_with_the_name() {
    let msg = panic_message(|| {
        let _ = Sequential::new().add_named("a", ReLU).add_named("a", ReLU);
    });
    assert!(msg.contains("\"a\" is already taken"), "{msg}");
    // An unnamed layer takes its index, which an explicit name may already hold.
    let msg = panic_message(|| {
        let _ = Sequential::new().add_named("1", ReLU).add(ReLU);
    });
    assert!(msg.contains("\"1\" is already taken"), "{msg}");
    let msg = panic_message(|| {
        let _ = Sequential::new().add_named("a.b", ReLU);
    });
    assert!(msg.contains("\"a.b\""), "{msg}");
    let msg = panic_message(|| {
        let _ = Sequential::new().add_named("", ReLU);
    });
    assert!(msg.contains("non-empty"), "{msg}");
}

/// A layer that records whether `Sequential` ran it fused with the activation after it.
struct Probe {
    fused_calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Module for Probe {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        input.clone()
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "Probe()".into()
    }
    fn fusion(&mut self) -> Option<&mut dyn Fuse> {
        Some(self)
    }
}

impl Fuse for Probe {
    fn forward_with_activation(&mut self, input: &Tensor, activation: Activation) -> Option<Tensor> {
        self.fused_calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(activation.apply(input))
    }
}

#[test]
fn sequential_asks_named_children_for_fusion() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut model = Sequential::new()
        .add_named(
            "probe",
            Probe {
                fused_calls: calls.clone(),
            },
        )
        .add_named("act", ReLU);
    let y = model.forward(&Tensor::from_vec(vec![-1.0, 2.0], &[2]).unwrap());
    assert_eq!(y.to_vec(), [0.0, 2.0]);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Not followed by an activation: the plain forward runs.
    let mut alone = Sequential::new().add(Probe {
        fused_calls: calls.clone(),
    });
    assert_eq!(
        alone.forward(&Tensor::from_vec(vec![-1.0], &[1]).unwrap()).to_vec(),
        [-1.0]
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn identity_residual_adds_input_and_passes_gradients_to_both_branches() {
    let mut rng = seeded_rng(1);
    let mut block = Residual::new(Sequential::new().add(Linear::new(3, 3, &mut rng)), None);
    let x = Tensor::uniform(&[2, 3], -1.0, 1.0, &mut rng).requires_grad_();
    let y = block.forward(&x);
    let p = block.parameters();
    let want = &neurite_nn::functional::linear(&x, &p[0], Some(&p[1])) + &x;
    assert_eq!(y.to_vec(), want.to_vec());
    y.sum().backward();
    // d(sum(Wx + b + x))/dx = column sums of W plus one.
    let w = p[0].to_vec();
    let gx = x.grad().unwrap().to_vec();
    for j in 0..3 {
        let col: f32 = (0..3).map(|i| w[i * 3 + j]).sum();
        assert!((gx[j] - (col + 1.0)).abs() < 1e-6, "{gx:?}");
    }
    assert_eq!(names(&block), ["0.weight", "0.bias"]);
}

fn basic_block(rng: &mut neurite_tensor::TensorRng, cin: usize, cout: usize, stride: usize) -> Residual {
    let cfg = Conv2dConfig::default().padding(1).bias(false);
    let body = Sequential::new()
        .add_named("conv1", Conv2d::with_config(cin, cout, 3, cfg.stride(stride), rng))
        .add_named("bn1", BatchNorm2d::new(cout))
        .add_named("relu", ReLU)
        .add_named("conv2", Conv2d::with_config(cout, cout, 3, cfg, rng))
        .add_named("bn2", BatchNorm2d::new(cout));
    let downsample = (stride != 1 || cin != cout).then(|| {
        Sequential::new()
            .add(Conv2d::with_config(
                cin,
                cout,
                1,
                Conv2dConfig::default().stride(stride).bias(false),
                rng,
            ))
            .add(BatchNorm2d::new(cout))
    });
    Residual::new(body, downsample)
}

#[test]
fn residual_uses_torchvision_basic_block_names() {
    let mut rng = seeded_rng(2);
    let block = basic_block(&mut rng, 2, 4, 2);
    assert_eq!(
        names(&block),
        [
            "conv1.weight",
            "bn1.weight",
            "bn1.bias",
            "conv2.weight",
            "bn2.weight",
            "bn2.bias",
            "downsample.0.weight",
            "downsample.1.weight",
            "downsample.1.bias"
        ]
    );
    let buffers = buffer_names(&block);
    assert_eq!(buffers[0], "bn1.running_mean");
    assert_eq!(buffers.last().unwrap(), "downsample.1.num_batches_tracked");
    let text = block.describe();
    assert!(text.starts_with("Residual(\n  (conv1): Conv2d(2, 4"), "{text}");
    assert!(
        text.contains("  (downsample): Sequential(\n    (0): Conv2d(2, 4, kernel_size=(1, 1), stride=(2, 2)"),
        "{text}"
    );
    assert!(text.ends_with("\n  )\n)"), "{text}");
}

#[test]
fn residual_forwards_train_and_eval_mode_to_both_branches() {
    let mut block = Residual::new(
        Sequential::new().add(Dropout::new(0.5, 3)),
        Some(Sequential::new().add(Dropout::new(0.5, 4))),
    );
    let x = Tensor::ones(&[64]);
    let train = block.forward(&x).to_vec();
    assert!(train.iter().any(|&v| v != 2.0), "dropout should be active in training");
    block.set_training(false);
    assert_eq!(block.forward(&x).to_vec(), vec![2.0; 64]);
}

#[test]
fn residual_shape_mismatch_names_both_shapes() {
    let mut rng = seeded_rng(3);
    let mut block = Residual::new(Sequential::new().add(Linear::new(3, 5, &mut rng)), None);
    let msg = panic_message(std::panic::AssertUnwindSafe(|| {
        block.forward(&Tensor::zeros(&[2, 3]));
    }));
    assert!(msg.contains("[2, 5]") && msg.contains("input [2, 3]"), "{msg}");
}
