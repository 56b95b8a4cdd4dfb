//! The same seed and inputs give bit-identical results with 1 and with 2 threads.

use neurite_tensor::{seeded_rng, Tensor};

/// Runs a workload big enough to take every parallel path (element-wise, reductions,
/// softmax, split matmul) and returns its values and gradients.
fn workload() -> Vec<Vec<f32>> {
    let mut rng = seeded_rng(42);
    let x = Tensor::uniform(&[512, 784], 0.0, 1.0, &mut rng);
    let w1 = Tensor::normal(&[784, 256], 0.0, 0.05, &mut rng).requires_grad_();
    let w2 = Tensor::normal(&[256, 10], 0.0, 0.05, &mut rng).requires_grad_();
    let h = x.matmul(&w1).relu();
    let logits = h.matmul(&w2);
    let p = logits.log_softmax(1);
    let loss = p.mean().neg() + (&x * &x).sum_axis(0, false).sum() * 1e-6 + x.exp().sum() * 1e-9;
    loss.backward();
    // A wide product (split by columns of C) besides the tall ones above.
    let wide = x
        .narrow(0, 0, 48)
        .matmul(&Tensor::uniform(&[784, 1024], -1.0, 1.0, &mut rng));
    vec![
        loss.to_vec(),
        w1.grad().unwrap().to_vec(),
        w2.grad().unwrap().to_vec(),
        x.gelu().sum_axis(1, false).to_vec(),
        wide.to_vec(),
    ]
}

fn run_with_threads(n: usize) -> Vec<Vec<f32>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(workload)
}

#[test]
fn one_and_two_threads_agree_bitwise() {
    let one = run_with_threads(1);
    let two = run_with_threads(2);
    let four = run_with_threads(4);
    for (i, ((a, b), c)) in one.iter().zip(&two).zip(&four).enumerate() {
        let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b), "output {i} differs between 1 and 2 threads");
        assert_eq!(bits(a), bits(c), "output {i} differs between 1 and 4 threads");
    }
}

#[test]
fn same_seed_same_numbers() {
    let a = Tensor::normal(&[100], 0.0, 1.0, &mut seeded_rng(5)).to_vec();
    let b = Tensor::normal(&[100], 0.0, 1.0, &mut seeded_rng(5)).to_vec();
    let c = Tensor::normal(&[100], 0.0, 1.0, &mut seeded_rng(6)).to_vec();
    assert_eq!(a, b);
    assert_ne!(a, c);
}
