//! Finite-difference gradient checks for every differentiable op and a small MLP.
//!
//! Each check builds `loss = sum(op(inputs) * r)` with a fixed random `r`, so every output
//! element's gradient matters, and compares autograd's gradients with central differences.

use ndarray::{ArrayD, IxDyn};
use neurite_tensor::gradcheck::gradcheck;
use neurite_tensor::{seeded_rng, Tensor};

/// Compares autograd with central differences for `f` at `inputs` (all trainable).
fn check(name: &str, inputs: Vec<Tensor>, f: impl Fn(&[Tensor]) -> Tensor) {
    if let Err(failure) = gradcheck(&inputs, f, 1e-2, 2e-2) {
        panic!("{name}: {failure}");
    }
}

fn rand(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, -1.0, 1.0, &mut seeded_rng(seed))
}

/// Values bounded away from zero (for ops with a kink or pole there).
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let t = rand(shape, seed);
    let v: Vec<f32> = t
        .to_vec()
        .iter()
        .map(|x| if *x >= 0.0 { x + 0.3 } else { x - 0.3 })
        .collect();
    Tensor::from_vec(v, shape).unwrap()
}

fn positive(shape: &[usize], seed: u64) -> Tensor {
    let v: Vec<f32> = rand(shape, seed).to_vec().iter().map(|x| x.abs() + 0.5).collect();
    Tensor::from_vec(v, shape).unwrap()
}

#[test]
fn broadcasting_arithmetic() {
    let (a, b) = (rand(&[2, 3, 4], 1), away_from_zero(&[3, 1], 2));
    check("add", vec![a.clone(), b.clone()], |x| &x[0] + &x[1]);
    check("sub", vec![a.clone(), b.clone()], |x| &x[0] - &x[1]);
    check("mul", vec![a.clone(), b.clone()], |x| &x[0] * &x[1]);
    check("div", vec![a.clone(), b.clone()], |x| &x[0] / &x[1]);
    check("maximum", vec![a.clone(), away_from_zero(&[4], 3)], |x| {
        x[0].maximum(&x[1])
    });
    check("scalar ops", vec![a], |x| (&x[0] * 3.0 + 1.0) / 2.0 - 0.5);
}

#[test]
fn unary_math() {
    let x = rand(&[3, 5], 4);
    let nz = away_from_zero(&[3, 5], 5);
    let pos = positive(&[3, 5], 6);
    check("exp", vec![x.clone()], |x| x[0].exp());
    check("ln", vec![pos.clone()], |x| x[0].ln());
    check("sqrt", vec![pos.clone()], |x| x[0].sqrt());
    check("powf", vec![pos], |x| x[0].powf(2.5));
    check("abs", vec![nz.clone()], |x| x[0].abs());
    check("relu", vec![nz.clone()], |x| x[0].relu());
    check("leaky_relu", vec![nz], |x| x[0].leaky_relu(0.1));
    check("sigmoid", vec![x.clone()], |x| x[0].sigmoid());
    check("tanh", vec![x.clone()], |x| x[0].tanh());
    check("gelu", vec![x.clone()], |x| x[0].gelu());
    check("square", vec![x.clone()], |x| x[0].square());
    check("neg", vec![x], |x| -&x[0]);
}

#[test]
fn reductions() {
    let x = rand(&[3, 4, 2], 7);
    check("sum", vec![x.clone()], |x| x[0].sum());
    check("mean", vec![x.clone()], |x| x[0].mean());
    for axis in 0..3 {
        for keep in [false, true] {
            check("sum_axis", vec![x.clone()], |x| x[0].sum_axis(axis, keep));
            check("mean_axis", vec![x.clone()], |x| x[0].mean_axis(axis, keep));
            check("max_axis", vec![x.clone()], |x| x[0].max_axis(axis, keep));
            check("min_axis", vec![x.clone()], |x| x[0].min_axis(axis, keep));
        }
    }
}

#[test]
fn matmul_all_forms() {
    check("matmul 2d", vec![rand(&[3, 4], 8), rand(&[4, 5], 9)], |x| {
        x[0].matmul(&x[1])
    });
    check("matmul transposed", vec![rand(&[4, 3], 10), rand(&[5, 4], 11)], |x| {
        x[0].t().matmul(&x[1].t())
    });
    check(
        "matmul batched",
        vec![rand(&[2, 3, 4], 12), rand(&[2, 4, 2], 13)],
        |x| x[0].matmul(&x[1]),
    );
    check(
        "matmul batch x matrix",
        vec![rand(&[2, 3, 4], 14), rand(&[4, 2], 15)],
        |x| x[0].matmul(&x[1]),
    );
}

#[test]
fn softmax_family() {
    let x = rand(&[3, 5], 16);
    for axis in 0..2 {
        check("softmax", vec![x.clone()], |x| x[0].softmax(axis));
        check("log_softmax", vec![x.clone()], |x| x[0].log_softmax(axis));
    }
}

#[test]
fn shape_ops() {
    let x = rand(&[2, 3, 4], 17);
    check("reshape", vec![x.clone()], |x| x[0].reshape(&[6, 4]));
    check("permute", vec![x.clone()], |x| x[0].permute(&[2, 0, 1]));
    check("transpose then reshape", vec![x.clone()], |x| {
        x[0].transpose(0, 2).reshape(&[4, 6])
    });
    check("narrow", vec![x.clone()], |x| x[0].narrow(1, 1, 2));
    check("flatten_from", vec![x.clone()], |x| x[0].flatten_from(1));
    check("unsqueeze/squeeze", vec![x.clone()], |x| x[0].unsqueeze(1).squeeze(1));
    check("broadcast_to", vec![rand(&[3, 1], 18)], |x| {
        x[0].broadcast_to(&[2, 3, 4])
    });
    check("concat", vec![x.clone(), rand(&[2, 1, 4], 19)], |x| {
        Tensor::concat(&[&x[0], &x[1]], 1)
    });
    check("stack", vec![rand(&[3, 2], 20), rand(&[3, 2], 21)], |x| {
        Tensor::stack(&[&x[0], &x[1]], 1)
    });
    check("contiguous", vec![x], |x| x[0].permute(&[1, 0, 2]).contiguous());
}

#[test]
fn indexing() {
    let x = rand(&[4, 3], 22);
    check("index_select", vec![x.clone()], |x| x[0].index_select(0, &[3, 0, 3, 1]));
    let idx = ArrayD::from_shape_vec(IxDyn(&[4, 2]), vec![0, 2, 1, 1, 2, 0, 0, 0]).unwrap();
    check("gather", vec![x], move |x| x[0].gather(1, &idx));
}

/// A 2-layer MLP with softmax cross-entropy, written from primitive ops.
#[test]
fn mlp_with_cross_entropy() {
    let x = rand(&[5, 4], 23);
    let labels = ArrayD::from_shape_vec(IxDyn(&[5, 1]), vec![0, 2, 1, 2, 0]).unwrap();
    let params = [rand(&[4, 6], 24), rand(&[6], 25), rand(&[6, 3], 26), rand(&[3], 27)];
    check("mlp", params.to_vec(), move |p| {
        let h = (x.matmul(&p[0]) + &p[1]).tanh();
        let logits = h.matmul(&p[2]) + &p[3];
        logits.log_softmax(1).gather(1, &labels).mean().neg()
    });
}

#[test]
fn gradients_accumulate_until_zeroed() {
    let w = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap().requires_grad_();
    (&w * 3.0).sum().backward();
    (&w * 3.0).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    w.zero_grad();
    assert!(w.grad().is_none());
    // A tensor used twice in one graph gets both contributions.
    (&w * &w).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 4.0]);
}

#[test]
fn no_grad_records_nothing() {
    let w = Tensor::ones(&[3]).requires_grad_();
    let y = neurite_tensor::no_grad(|| (&w * 2.0).exp().sum());
    assert!(!y.requires_grad());
    assert!(y.is_leaf());
    y.backward();
    assert!(w.grad().is_none());
    assert!(neurite_tensor::is_grad_enabled());
}
