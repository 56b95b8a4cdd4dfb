//! Fused activations against their unfused compositions: `linear_relu`, `dense_relu` and
//! `conv2d_relu` give the same values and gradients as the op followed by `Tensor::relu`,
//! pass finite differences, and `Sequential` fuses `Linear`/`Conv2d` + `ReLU` without
//! changing a model's numbers or its parameter names.

use neurite_nn::functional::{conv2d, conv2d_relu, dense, dense_relu, linear, linear_relu};
use neurite_nn::{Conv2d, Dense, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential, Sigmoid};
use neurite_tensor::gradcheck::gradcheck;
use neurite_tensor::{seeded_rng, Tensor};

fn rand(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, -1.0, 1.0, &mut seeded_rng(seed))
}

/// Output values and input gradients (through `sum(f(inputs) * r)` with a fixed random `r`)
/// of `f` at fresh trainable copies of `inputs`.
fn values_and_grads(inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Tensor) -> (Vec<f32>, Vec<Vec<f32>>) {
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad_()).collect();
    let y = f(&leaves);
    let r = rand(&y.shape(), 77);
    (&y * &r).sum().backward();
    let grads = leaves.iter().map(|t| t.grad().expect("gradient").to_vec()).collect();
    (y.to_vec(), grads)
}

/// Asserts that `fused` and `unfused` agree exactly on values and gradients, and that the
/// values have both signs (so the ReLU really cuts something).
fn assert_same(
    name: &str,
    inputs: &[Tensor],
    fused: impl Fn(&[Tensor]) -> Tensor,
    unfused: impl Fn(&[Tensor]) -> Tensor,
) {
    let (yf, gf) = values_and_grads(inputs, fused);
    let (yu, gu) = values_and_grads(inputs, unfused);
    assert_eq!(yf, yu, "{name}: values differ");
    assert!(
        yf.contains(&0.0) && yf.iter().any(|&v| v > 0.0),
        "{name}: degenerate test data"
    );
    for (i, (f, u)) in gf.iter().zip(&gu).enumerate() {
        assert_eq!(f, u, "{name}: gradient of input {i} differs");
    }
}

#[test]
fn linear_relu_equals_linear_then_relu() {
    let inputs = [rand(&[7, 5], 1), rand(&[4, 5], 2), rand(&[4], 3)];
    assert_same(
        "linear_relu",
        &inputs,
        |t| linear_relu(&t[0], &t[1], Some(&t[2])),
        |t| linear(&t[0], &t[1], Some(&t[2])).relu(),
    );
    // Rank 3 input, no bias.
    let inputs = [rand(&[2, 3, 5], 4), rand(&[6, 5], 5)];
    assert_same(
        "linear_relu 3-D",
        &inputs,
        |t| linear_relu(&t[0], &t[1], None),
        |t| linear(&t[0], &t[1], None).relu(),
    );
}

#[test]
fn dense_relu_equals_dense_then_relu() {
    let inputs = [rand(&[6, 5], 6), rand(&[5, 3], 7), rand(&[3], 8)];
    assert_same(
        "dense_relu",
        &inputs,
        |t| dense_relu(&t[0], &t[1], Some(&t[2])),
        |t| dense(&t[0], &t[1], Some(&t[2])).relu(),
    );
}

#[test]
fn conv2d_relu_equals_conv2d_then_relu() {
    // Large enough for the parallel per-image path, plus a small padded, strided case.
    let inputs = [rand(&[8, 3, 12, 12], 9), rand(&[6, 3, 3, 3], 10), rand(&[6], 11)];
    assert_same(
        "conv2d_relu",
        &inputs,
        |t| conv2d_relu(&t[0], &t[1], Some(&t[2]), 1, 0, 1, 1),
        |t| conv2d(&t[0], &t[1], Some(&t[2]), 1, 0, 1, 1).relu(),
    );
    let inputs = [rand(&[2, 2, 7, 6], 12), rand(&[3, 2, 3, 2], 13)];
    assert_same(
        "conv2d_relu s2 p1",
        &inputs,
        |t| conv2d_relu(&t[0], &t[1], None, 2, 1, 1, 1),
        |t| conv2d(&t[0], &t[1], None, 2, 1, 1, 1).relu(),
    );
}

#[test]
fn fused_ops_pass_finite_differences() {
    let check = |name: &str, inputs: &[Tensor], f: &dyn Fn(&[Tensor]) -> Tensor| {
        if let Err(failure) = gradcheck(inputs, f, 1e-2, 2e-2) {
            panic!("{name}: {failure}");
        }
    };
    // Inputs bounded away from the kink: every pre-activation is at least 0.1 from zero.
    let x = Tensor::from_vec(vec![0.5, -0.25, 1.0, 0.75, -1.0, 0.3], &[2, 3]).unwrap();
    let w = Tensor::from_vec(vec![0.4, 0.2, -0.3, -0.5, 0.1, 0.6], &[2, 3]).unwrap();
    let b = Tensor::from_vec(vec![0.2, -0.1], &[2]).unwrap();
    check("linear_relu", &[x.clone(), w.clone(), b.clone()], &|t| {
        linear_relu(&t[0], &t[1], Some(&t[2]))
    });
    check("dense_relu", &[x, w.t().contiguous(), b], &|t| {
        dense_relu(&t[0], &t[1], Some(&t[2]))
    });
    let x = Tensor::from_vec(vec![0.3, -0.6, 0.9, 0.2, -0.4, 0.7, 0.1, 0.8, -0.5], &[1, 1, 3, 3]).unwrap();
    let w = Tensor::from_vec(vec![0.5, -0.25, 0.75, 1.0, -0.5, 0.25, 0.5, 1.0], &[2, 1, 2, 2]).unwrap();
    check("conv2d_relu", &[x, w], &|t| conv2d_relu(&t[0], &t[1], None, 1, 0, 1, 1));
}

/// Runs `model` on `x` and returns the output and every parameter's gradient by name.
fn run(model: &mut Sequential, x: &Tensor) -> (Vec<f32>, Vec<(String, Vec<f32>)>) {
    let y = model.forward(x);
    let r = rand(&y.shape(), 78);
    (&y * &r).sum().backward();
    let grads = model
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.grad().expect("gradient").to_vec()))
        .collect();
    (y.to_vec(), grads)
}

#[test]
fn sequential_fuses_relu_without_changing_numbers_or_names() {
    let mut rng = seeded_rng(5);
    let mut model = Sequential::new()
        .add(Conv2d::new(2, 4, 3, &mut rng))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(4 * 3 * 3, 8, &mut rng))
        .add(ReLU)
        .add(Linear::new(8, 3, &mut rng))
        .add(Sigmoid);
    let x = rand(&[3, 2, 8, 8], 6);
    let (y, grads) = run(&mut model, &x);

    // The same parameters through the unfused ops, layer by layer.
    let p: Vec<Tensor> = model.parameters().iter().map(|t| t.detach().requires_grad_()).collect();
    let h = conv2d(&x, &p[0], Some(&p[1]), 1, 0, 1, 1).relu();
    let h = neurite_nn::functional::max_pool2d(&h, 2, 2, 0).reshape(&[3, 36]);
    let h = linear(&h, &p[2], Some(&p[3])).relu();
    let y_ref = linear(&h, &p[4], Some(&p[5])).sigmoid();
    let r = rand(&y_ref.shape(), 78);
    (&y_ref * &r).sum().backward();

    assert_eq!(y, y_ref.to_vec());
    let names: Vec<&str> = grads.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "4.weight", "4.bias", "6.weight", "6.bias"]
    );
    for ((name, g), p) in grads.iter().zip(&p) {
        assert_eq!(g, &p.grad().unwrap().to_vec(), "gradient of {name}");
    }
}

#[test]
fn dense_with_relu_activation_equals_dense_then_relu() {
    let mut layer = Dense::new(4, "relu");
    let x = rand(&[5, 3], 7);
    let y = layer.forward(&x);
    let params = layer.parameters();
    assert_eq!(y.to_vec(), dense(&x, &params[0], Some(&params[1])).relu().to_vec());
}
