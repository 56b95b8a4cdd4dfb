//! Dense (Keras semantics), Linear/Conv2d initialisation bounds, Dropout, Flatten, batch-norm
//! layers and metrics.

use neurite_nn::metrics::{accuracy, ConfusionMatrix};
use neurite_nn::{Activation, BatchNorm1d, BatchNorm2d, Conv2d, Dense, Dropout, Flatten, Linear, Module, Sequential};
use neurite_tensor::{seeded_rng, Tensor};

#[test]
fn dense_builds_lazily_with_glorot_bounds() {
    let mut d = Dense::new(10, "relu").with_seed(3);
    assert!(!d.is_built() && d.named_parameters().is_empty());
    let y = d.forward(&Tensor::uniform(&[5, 30], -1.0, 1.0, &mut seeded_rng(1)));
    assert_eq!(y.shape(), vec![5, 10]);
    let names: Vec<String> = d.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["kernel", "bias"]);
    let k = d.kernel().unwrap().to_vec();
    let limit = (6.0f32 / 40.0).sqrt();
    assert_eq!(k.len(), 300);
    assert!(k.iter().all(|v| v.abs() <= limit));
    assert!(k.iter().any(|v| v.abs() > 0.8 * limit), "values should fill the range");
    assert!(d.bias().unwrap().to_vec().iter().all(|&b| b == 0.0));
    assert!(y.to_vec().iter().all(|&v| v >= 0.0));
    // Same seed, same kernel; a second call keeps it and checks the input size.
    let mut d2 = Dense::new(10, Activation::Relu).with_seed(3);
    d2.build(30);
    assert_eq!(d2.kernel().unwrap().to_vec(), k);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        d2.forward(&Tensor::zeros(&[2, 31]));
    }));
    assert!(caught.is_err());
}

#[test]
fn dense_activation_names_and_math() {
    for (name, act) in [
        ("relu", Activation::Relu),
        ("sigmoid", Activation::Sigmoid),
        ("tanh", Activation::Tanh),
        ("softmax", Activation::Softmax),
        ("linear", Activation::Linear),
        ("gelu", Activation::Gelu),
    ] {
        assert_eq!(Dense::try_new(4, name).unwrap().activation(), act);
        assert_eq!(Dense::new(4, name).activation(), act);
    }
    let err = Dense::try_new(4, "relux").err().unwrap();
    assert!(err.to_string().contains("unknown activation `relux`"));
    assert!(std::panic::catch_unwind(|| Dense::new(4, "relux")).is_err());
    // y = softmax(x K + b) by hand.
    let mut d = Dense::new(3, "softmax").with_seed(0);
    let x = Tensor::uniform(&[2, 4], -1.0, 1.0, &mut seeded_rng(5)).requires_grad_();
    let y = d.forward(&x);
    let want = x.matmul(d.kernel().unwrap()).softmax(1);
    for (a, b) in y.to_vec().iter().zip(want.to_vec()) {
        assert!((a - b).abs() < 1e-6);
    }
    y.sum_axis(0, false).narrow(0, 0, 1).sum().backward();
    assert_eq!(d.kernel().unwrap().grad().unwrap().shape(), vec![4, 3]);
    assert_eq!(x.grad().unwrap().shape(), vec![2, 4]);
}

#[test]
fn linear_and_conv_init_bounds_follow_pytorch() {
    let mut rng = seeded_rng(11);
    let lin = Linear::new(50, 20, &mut rng);
    let b = 1.0 / 50f32.sqrt();
    for (name, t) in lin.named_parameters() {
        let v = t.to_vec();
        assert!(v.iter().all(|x| x.abs() <= b), "{name}");
        assert!(v.iter().any(|x| x.abs() > 0.7 * b), "{name}");
    }
    let conv = Conv2d::new(4, 6, (3, 2), &mut rng);
    let b = 1.0 / 24f32.sqrt();
    assert_eq!(conv.weight.shape(), vec![6, 4, 3, 2]);
    for (name, t) in conv.named_parameters() {
        let v = t.to_vec();
        assert!(v.iter().all(|x| x.abs() <= b), "{name}");
        assert!(v.iter().any(|x| x.abs() > 0.7 * b), "{name}");
    }
}

#[test]
fn dropout_scales_is_seeded_and_off_in_eval() {
    let x = Tensor::ones(&[10_000]);
    let a = Dropout::new(0.25, 9).forward(&x).to_vec();
    let b = Dropout::new(0.25, 9).forward(&x).to_vec();
    assert_eq!(a, b, "same seed, same mask");
    let kept = a.iter().filter(|&&v| v != 0.0).count() as f32 / 10_000.0;
    assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
    assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    let mut model = Sequential::new().add(Dropout::new(0.5, 1)).add(Flatten::new());
    model.set_training(false);
    assert_eq!(model.forward(&Tensor::ones(&[2, 3, 2])).to_vec(), vec![1.0; 12]);
    // The gradient flows through the mask.
    let xg = Tensor::ones(&[100]).requires_grad_();
    let y = Dropout::new(0.5, 2).forward(&xg);
    y.sum().backward();
    assert_eq!(xg.grad().unwrap().to_vec(), y.to_vec());
}

#[test]
fn batch_norm_layers_track_running_stats() {
    let mut bn = BatchNorm1d::new(3);
    let x = Tensor::uniform(&[8, 3], -2.0, 2.0, &mut seeded_rng(4));
    let y = bn.forward(&x);
    let yv = y.to_vec();
    for c in 0..3 {
        let col: Vec<f32> = (0..8).map(|i| yv[i * 3 + c]).collect();
        let mean: f32 = col.iter().sum::<f32>() / 8.0;
        let var: f32 = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 8.0;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-3,
            "channel {c}: mean {mean} var {var}"
        );
        let xc: Vec<f32> = (0..8).map(|i| x.to_vec()[i * 3 + c]).collect();
        let m: f32 = xc.iter().sum::<f32>() / 8.0;
        let uv: f32 = xc.iter().map(|v| (v - m).powi(2)).sum::<f32>() / 7.0;
        assert!((bn.running_mean().to_vec()[c] - 0.1 * m).abs() < 1e-5);
        assert!((bn.running_var().to_vec()[c] - (0.9 + 0.1 * uv)).abs() < 1e-5);
    }
    let names: Vec<String> = bn.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["running_mean", "running_var", "num_batches_tracked"]);
    bn.set_training(false);
    let before = bn.running_mean().to_vec();
    bn.forward(&x);
    assert_eq!(bn.running_mean().to_vec(), before, "eval leaves running stats alone");
    let mut bn2 = BatchNorm2d::new(2);
    assert_eq!(bn2.forward(&Tensor::ones(&[2, 2, 3, 3])).shape(), vec![2, 2, 3, 3]);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        bn2.forward(&Tensor::ones(&[2, 3, 3, 3]));
    }))
    .is_err());
}

#[test]
fn accuracy_and_confusion_matrix() {
    let logits = Tensor::from_vec(
        vec![0.9, 0.1, 0.0, 0.1, 0.8, 0.1, 0.2, 0.7, 0.1, 0.0, 0.0, 1.0],
        &[4, 3],
    )
    .unwrap();
    let labels = [0, 1, 2, 2];
    assert!((accuracy(&logits, &labels) - 0.75).abs() < 1e-6);
    let mut cm = ConfusionMatrix::new(3);
    cm.update(&logits, &labels);
    cm.add_predictions(&[0], &[0]);
    assert_eq!(cm.rows(), vec![vec![2, 0, 0], vec![0, 1, 0], vec![0, 1, 1]]);
    assert_eq!((cm.total(), cm.correct()), (5, 4));
    assert!((cm.accuracy() - 0.8).abs() < 1e-12);
    assert_eq!(cm.per_class_accuracy(), vec![Some(1.0), Some(1.0), Some(0.5)]);
    assert!(cm.to_string().contains("t\\p"));
    cm.reset();
    assert_eq!(cm.total(), 0);
    assert_eq!(ConfusionMatrix::new(2).per_class_accuracy(), vec![None, None]);
}
