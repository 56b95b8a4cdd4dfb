//! Optimizers, schedules and gradient clipping against hand-computed PyTorch semantics.
//! (Bit-level parity with PyTorch itself is in `optim_parity.rs`.)

use neurite_nn::optim::{
    clip_grad_norm, clip_grad_value, grad_norm, grad_norm_is_finite, zero_grad, Adam, AdamW, ConstantLr,
    CosineAnnealingLr, LinearWarmup, LrSchedule, Optimizer, Sgd, StepLr,
};
use neurite_tensor::{seeded_rng, Tensor};

/// A trainable tensor and the loss `sum(c * w)`, whose gradient is `c`.
fn param(values: &[f32]) -> Tensor {
    Tensor::from_vec(values.to_vec(), &[values.len()])
        .unwrap()
        .requires_grad_()
}

fn set_grad(w: &Tensor, grad: &[f32]) {
    w.zero_grad();
    let c = Tensor::from_vec(grad.to_vec(), &[grad.len()]).unwrap();
    (w * &c).sum().backward();
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "element {i}: {x} vs {y}");
    }
}

#[test]
fn sgd_plain_and_weight_decay() {
    let w = param(&[1.0, -2.0]);
    let mut opt = Sgd::new(vec![w.clone()], 0.1).with_weight_decay(0.5);
    set_grad(&w, &[1.0, 1.0]);
    opt.step();
    // d = g + 0.5 w = (1.5, 0); w - 0.1 d
    close(&w.to_vec(), &[0.85, -2.0], 1e-7);
    assert_eq!(opt.steps(), 1);
}

/// A scalar re-statement of torch.optim.SGD's loop, in f64.
fn sgd_reference(w0: f64, grads: &[f64], lr: f64, m: f64, damp: f64, nesterov: bool, wd: f64) -> f64 {
    let (mut w, mut buf) = (w0, None::<f64>);
    for &g in grads {
        let mut d = g + wd * w;
        if m != 0.0 {
            let b = match buf {
                None => d,
                Some(b) => m * b + (1.0 - damp) * d,
            };
            buf = Some(b);
            d = if nesterov { d + m * b } else { b };
        }
        w -= lr * d;
    }
    w
}

#[test]
fn sgd_momentum_variants_follow_pytorch_rules() {
    let grads = [0.5f32, -1.25, 2.0, 0.75];
    for (m, damp, nesterov, wd) in [(0.9, 0.0, false, 0.0), (0.9, 0.0, true, 1e-2), (0.5, 0.3, false, 0.1)] {
        let w = param(&[0.7]);
        let mut opt = Sgd::new(vec![w.clone()], 0.05)
            .with_momentum(m)
            .with_dampening(damp)
            .with_nesterov(nesterov)
            .with_weight_decay(wd);
        for &g in &grads {
            set_grad(&w, &[g]);
            opt.step();
        }
        let grads64: Vec<f64> = grads.iter().map(|&g| f64::from(g)).collect();
        let expected = sgd_reference(0.7, &grads64, 0.05, m.into(), damp.into(), nesterov, wd.into());
        close(&w.to_vec(), &[expected as f32], 1e-6);
        assert!(opt.momentum_buffer(0).is_some());
    }
}

#[test]
#[should_panic(expected = "Nesterov momentum requires zero dampening")]
fn sgd_nesterov_with_dampening_panics() {
    let _ = Sgd::new(vec![param(&[1.0])], 0.1)
        .with_momentum(0.9)
        .with_dampening(0.1)
        .with_nesterov(true);
}

#[test]
#[should_panic(expected = "Nesterov momentum requires a momentum above 0")]
fn sgd_nesterov_without_momentum_panics() {
    let w = param(&[1.0]);
    let mut opt = Sgd::new(vec![w.clone()], 0.1).with_nesterov(true);
    set_grad(&w, &[1.0]);
    opt.step();
}

#[test]
#[should_panic(expected = "appears more than once")]
fn duplicate_parameters_are_rejected() {
    let w = param(&[1.0]);
    let _ = Sgd::new(vec![w.clone(), w], 0.1);
}

#[test]
#[should_panic(expected = "is not a leaf")]
fn non_leaf_parameters_are_rejected() {
    let w = param(&[1.0]);
    let _ = Adam::new(vec![&w * 2.0], 0.1);
}

#[test]
fn parameters_without_gradient_are_skipped_and_keep_no_state() {
    let (a, b) = (param(&[1.0]), param(&[2.0]));
    let mut opt = Sgd::new(vec![a.clone(), b.clone()], 0.1).with_momentum(0.9);
    set_grad(&a, &[1.0]);
    opt.step();
    assert_eq!(b.to_vec(), vec![2.0]);
    assert!(opt.momentum_buffer(0).is_some() && opt.momentum_buffer(1).is_none());
    let mut adam = Adam::new(vec![a.clone(), b.clone()], 0.1);
    adam.step();
    assert_eq!(b.to_vec(), vec![2.0]);
}

/// A scalar re-statement of torch.optim.Adam / AdamW, in f64.
#[allow(clippy::too_many_arguments)]
fn adam_reference(w0: f64, grads: &[f64], lr: f64, b1: f64, b2: f64, eps: f64, wd: f64, decoupled: bool) -> f64 {
    let (mut w, mut m, mut v) = (w0, 0.0, 0.0);
    for (i, &g) in grads.iter().enumerate() {
        let t = (i + 1) as i32;
        let mut g = g;
        if decoupled {
            w *= 1.0 - lr * wd;
        } else {
            g += wd * w;
        }
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let denom = v.sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
        w -= lr / (1.0 - b1.powi(t)) * m / denom;
    }
    w
}

#[test]
fn adam_and_adamw_follow_pytorch_rules() {
    let grads = [0.5f32, -1.25, 2.0, 0.75, 0.01];
    let grads64: Vec<f64> = grads.iter().map(|&g| f64::from(g)).collect();
    for decoupled in [false, true] {
        for wd in [0.0f32, 0.1] {
            let w = param(&[0.7]);
            let mut opt: Box<dyn Optimizer> = if decoupled {
                Box::new(
                    AdamW::new(vec![w.clone()], 0.01)
                        .with_betas(0.8, 0.99)
                        .with_eps(1e-6)
                        .with_weight_decay(wd),
                )
            } else {
                Box::new(
                    Adam::new(vec![w.clone()], 0.01)
                        .with_betas(0.8, 0.99)
                        .with_eps(1e-6)
                        .with_weight_decay(wd),
                )
            };
            for &g in &grads {
                set_grad(&w, &[g]);
                opt.step();
            }
            let expected = adam_reference(0.7, &grads64, 0.01, 0.8, 0.99, 1e-6, wd.into(), decoupled);
            close(&w.to_vec(), &[expected as f32], 2e-6);
        }
    }
}

#[test]
fn adamw_default_weight_decay_is_pytorch_default() {
    let w = param(&[1.0]);
    let mut opt = AdamW::new(vec![w.clone()], 0.1);
    set_grad(&w, &[0.0]);
    opt.step();
    close(&w.to_vec(), &[1.0 - 0.1 * 0.01], 1e-7);
}

#[test]
fn updates_are_in_place_and_visible_through_the_model_handles() {
    let w = param(&[1.0, 2.0, 3.0]);
    let model_handle = w.clone();
    let before = w.read(|d| d.as_ptr());
    for mut opt in [
        Box::new(Sgd::new(vec![w.clone()], 0.1).with_momentum(0.9)) as Box<dyn Optimizer>,
        Box::new(Adam::new(vec![w.clone()], 0.1)),
        Box::new(AdamW::new(vec![w.clone()], 0.1)),
    ] {
        for _ in 0..3 {
            set_grad(&w, &[1.0, 1.0, 1.0]);
            opt.step();
        }
    }
    assert_eq!(
        w.read(|d| d.as_ptr()),
        before,
        "the update copied the parameter storage"
    );
    assert!(model_handle.to_vec()[0] < 1.0);
}

#[test]
fn large_updates_are_identical_on_one_and_many_threads() {
    // Above the parallel threshold, with an odd size so chunks are uneven.
    let n = neurite_tensor::parallel::PAR_MIN_ELEMS * 2 + 17;
    let mut rng = seeded_rng(3);
    let init = Tensor::uniform(&[n], -1.0, 1.0, &mut rng).to_vec();
    let grad = Tensor::uniform(&[n], -1.0, 1.0, &mut rng).to_vec();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let w = param(&init);
            let mut opts: Vec<Box<dyn Optimizer>> = vec![
                Box::new(Sgd::new(vec![w.clone()], 0.1).with_momentum(0.9).with_nesterov(true)),
                Box::new(Adam::new(vec![w.clone()], 0.01).with_weight_decay(0.1)),
            ];
            for opt in &mut opts {
                for _ in 0..2 {
                    set_grad(&w, &grad);
                    opt.step();
                }
            }
            set_grad(&w, &grad);
            let norm = clip_grad_norm(std::slice::from_ref(&w), 1.0);
            (w.to_vec(), norm, w.grad().unwrap().to_vec())
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn zero_grad_clears_all_gradients() {
    let (a, b) = (param(&[1.0]), param(&[2.0]));
    set_grad(&a, &[1.0]);
    set_grad(&b, &[1.0]);
    let opt = Sgd::new(vec![a.clone()], 0.1);
    opt.zero_grad();
    assert!(a.grad().is_none() && b.grad().is_some());
    zero_grad(std::slice::from_ref(&b));
    assert!(b.grad().is_none());
}

#[test]
fn clip_grad_norm_matches_torch() {
    let (a, b, c) = (param(&[0.0, 0.0]), param(&[0.0]), param(&[0.0]));
    set_grad(&a, &[3.0, 0.0]);
    set_grad(&b, &[4.0]);
    // c has no gradient and is skipped.
    let params = [a.clone(), b.clone(), c.clone()];
    assert_eq!(grad_norm(&params), 5.0);
    let total = clip_grad_norm(&params, 2.0);
    assert_eq!(total, 5.0);
    let coef = 2.0f32 / (5.0 + 1e-6);
    close(&a.grad().unwrap().to_vec(), &[3.0 * coef, 0.0], 1e-7);
    close(&b.grad().unwrap().to_vec(), &[4.0 * coef], 1e-7);
    assert!(c.grad().is_none());
    // Below the limit nothing changes.
    let g_before = a.grad().unwrap().to_vec();
    clip_grad_norm(&params, 10.0);
    assert_eq!(a.grad().unwrap().to_vec(), g_before);
}

#[test]
fn clip_grad_norm_reports_non_finite_norms() {
    let a = param(&[0.0, 0.0]);
    set_grad(&a, &[f32::NAN, 1.0]);
    assert!(clip_grad_norm(std::slice::from_ref(&a), 1.0).is_nan());
    let b = param(&[0.0]);
    set_grad(&b, &[f32::INFINITY]);
    assert_eq!(clip_grad_norm(&[b], 1.0), f32::INFINITY);
}

#[test]
fn grad_norm_is_finite_agrees_with_the_norm() {
    let big = f32::MAX / 4.0;
    let cases: Vec<Vec<Vec<f32>>> = vec![
        vec![vec![1.0, -2.0], vec![3.0]],
        vec![vec![0.0; 40]],
        vec![vec![f32::NAN, 1.0]],
        vec![vec![1.0], vec![-f32::INFINITY]],
        vec![vec![-f32::NAN; 3]],
        // Finite values whose norm overflows f32 (the bound cannot decide: the norm is taken).
        vec![vec![big; 40]],
        // Near the bound but with a finite norm.
        vec![vec![big, 0.0, 0.0]],
        vec![vec![f32::MAX]],
        // Many elements (the vectorised path), one of them NaN at the end.
        vec![(0..5000).map(|i| if i == 4999 { f32::NAN } else { i as f32 }).collect()],
        vec![(0..5000).map(|i| i as f32 - 2500.0).collect()],
    ];
    for grads in cases {
        let params: Vec<Tensor> = grads
            .iter()
            .map(|g| {
                let p = param(&vec![0.0; g.len()]);
                set_grad(&p, g);
                p
            })
            .collect();
        let want = grad_norm(&params).is_finite();
        assert_eq!(grad_norm_is_finite(&params), want, "{grads:?}");
    }
    // Tensors without a gradient are skipped, as by grad_norm.
    assert!(grad_norm_is_finite(&[param(&[1.0])]));
}

#[test]
fn clip_grad_value_clamps() {
    let a = param(&[0.0, 0.0, 0.0]);
    set_grad(&a, &[-3.0, 0.5, 2.0]);
    clip_grad_value(std::slice::from_ref(&a), 1.0);
    assert_eq!(a.grad().unwrap().to_vec(), vec![-1.0, 0.5, 1.0]);
}

#[test]
fn step_lr_closed_form() {
    let s = StepLr::new(0.1, 3, 0.5);
    let lrs: Vec<f32> = (0..8).map(|t| s.lr(t)).collect();
    close(&lrs, &[0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], 1e-7);
}

#[test]
fn cosine_annealing_closed_form() {
    let s = CosineAnnealingLr::new(0.1, 10, 0.001);
    for t in 0..=20 {
        let expected = 0.001 + (0.1 - 0.001) * (1.0 + (std::f64::consts::PI * t as f64 / 10.0).cos()) / 2.0;
        close(&[s.lr(t)], &[expected as f32], 1e-7);
    }
    close(&[s.lr(0), s.lr(5), s.lr(10)], &[0.1, 0.0505, 0.001], 1e-6);
}

#[test]
fn linear_warmup_then_inner_schedule() {
    let s = LinearWarmup::new(4, 0.25, StepLr::new(0.2, 2, 0.1));
    let lrs: Vec<f32> = (0..8).map(|t| s.lr(t)).collect();
    // factors 0.25, 0.4375, 0.625, 0.8125 of 0.2; then StepLr from its index 0.
    close(&lrs, &[0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2, 0.02, 0.02], 1e-6);
    let c = LinearWarmup::new(2, 0.5, ConstantLr(1.0));
    assert_eq!((0..4).map(|t| c.lr(t)).collect::<Vec<_>>(), vec![0.5, 0.75, 1.0, 1.0]);
}

#[test]
fn schedule_sets_the_optimizer_rate() {
    let w = param(&[1.0]);
    let mut opt = Adam::new(vec![w], 0.5);
    let lr = StepLr::new(1.0, 1, 0.5).apply(&mut opt, 2);
    assert_eq!(lr, 0.25);
    assert_eq!(opt.learning_rate(), 0.25);
}
