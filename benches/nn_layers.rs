//! Criterion micro-benchmarks of the nn crate's fused ops, forward and forward+backward:
//! conv2d (W3's second convolution, also with each half of its backward alone, and W4's two), max_pool2d (W3's), linear (W1's hidden layer) and
//! cross-entropy from logits.
//!
//! Run: `cargo bench --bench nn_layers` (set `RAYON_NUM_THREADS` to fix the thread count, and
//! `NEURITE_CONV=im2col` or `winograd` to force a convolution algorithm).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use neurite::nn::functional::{conv2d, linear, max_pool2d};
use neurite::nn::loss::cross_entropy;
use neurite::tensor::{no_grad, seeded_rng, Tensor};

/// Benchmarks `forward` alone (no graph) and forward + backward of its sum.
fn forward_and_backward(c: &mut Criterion, name: &str, images: u64, params: &[&Tensor], forward: impl Fn() -> Tensor) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(images));
    group.bench_function("forward", |b| b.iter(|| no_grad(&forward)));
    group.bench_function("forward_backward", |b| {
        b.iter(|| {
            forward().sum().backward();
            for p in params {
                p.zero_grad();
            }
        })
    });
    group.finish();
}

fn conv(c: &mut Criterion) {
    let mut rng = seeded_rng(0);
    // W3's second convolution: [64, 32, 26, 26] -> [64, 64, 24, 24].
    let x = Tensor::uniform(&[64, 32, 26, 26], 0.0, 1.0, &mut rng).requires_grad_();
    let w = Tensor::uniform(&[64, 32, 3, 3], -0.06, 0.06, &mut rng).requires_grad_();
    let b = Tensor::zeros(&[64]).requires_grad_();
    forward_and_backward(c, "conv2d_w3_32to64_26x26_b64", 64, &[&x, &w, &b], || {
        conv2d(&x, &w, Some(&b), 1, 0, 1, 1)
    });
    // The same convolution with only the input's gradient, then only the weight's and bias's:
    // the two halves of its backward.
    let xd = x.detach();
    let (wd, bd) = (w.detach(), b.detach());
    let xg = x.detach().requires_grad_();
    forward_and_backward(c, "conv2d_w3_32to64_26x26_b64_input_grad", 64, &[&xg], || {
        conv2d(&xg, &wd, Some(&bd), 1, 0, 1, 1)
    });
    forward_and_backward(c, "conv2d_w3_32to64_26x26_b64_weight_grad", 64, &[&w, &b], || {
        conv2d(&xd, &w, Some(&b), 1, 0, 1, 1)
    });
    // W4's second convolution, padded: [64, 32, 16, 16] -> [64, 64, 16, 16].
    let x2 = Tensor::uniform(&[64, 32, 16, 16], 0.0, 1.0, &mut rng).requires_grad_();
    let w2 = Tensor::uniform(&[64, 32, 3, 3], -0.06, 0.06, &mut rng).requires_grad_();
    let b2 = Tensor::zeros(&[64]).requires_grad_();
    forward_and_backward(c, "conv2d_w4_32to64_16x16_pad1_b64", 64, &[&x2, &w2, &b2], || {
        conv2d(&x2, &w2, Some(&b2), 1, 1, 1, 1)
    });
    // W4's first convolution, padded: [64, 3, 32, 32] -> [64, 32, 32, 32].
    let x = Tensor::uniform(&[64, 3, 32, 32], 0.0, 1.0, &mut rng);
    let w = Tensor::uniform(&[32, 3, 3, 3], -0.2, 0.2, &mut rng).requires_grad_();
    let b = Tensor::zeros(&[32]).requires_grad_();
    forward_and_backward(c, "conv2d_w4_3to32_32x32_pad1_b64", 64, &[&w, &b], || {
        conv2d(&x, &w, Some(&b), 1, 1, 1, 1)
    });
}

fn pool(c: &mut Criterion) {
    let mut rng = seeded_rng(3);
    // W3's pool: [64, 64, 24, 24] -> [64, 64, 12, 12].
    let x = Tensor::uniform(&[64, 64, 24, 24], -1.0, 1.0, &mut rng).requires_grad_();
    forward_and_backward(c, "max_pool2d_w3_2x2_b64", 64, &[&x], || max_pool2d(&x, 2, 2, 0));
}

fn linear_layer(c: &mut Criterion) {
    let mut rng = seeded_rng(1);
    let x = Tensor::uniform(&[64, 784], 0.0, 1.0, &mut rng);
    let w = Tensor::uniform(&[128, 784], -0.035, 0.035, &mut rng).requires_grad_();
    let b = Tensor::zeros(&[128]).requires_grad_();
    forward_and_backward(c, "linear_784to128_b64", 64, &[&w, &b], || linear(&x, &w, Some(&b)));
}

fn loss(c: &mut Criterion) {
    let mut rng = seeded_rng(2);
    let logits = Tensor::normal(&[64, 10], 0.0, 3.0, &mut rng).requires_grad_();
    let labels: Vec<usize> = (0..64).map(|i| (i * 7) % 10).collect();
    forward_and_backward(c, "cross_entropy_64x10", 64, &[&logits], || {
        cross_entropy(&logits, &labels)
    });
}

criterion_group!(benches, conv, pool, linear_layer, loss);
criterion_main!(benches);
