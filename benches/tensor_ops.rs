//! Criterion micro-benchmarks of the tensor core: sgemm with each kernel this CPU has, on
//! W7's shapes and W5's `x · Wᵀ` (reported as GFLOP/s through criterion's element throughput:
//! one element = one floating-point operation), element-wise
//! ops on 1M elements, softmax, and one forward+backward step of W1's MLP at batch 64.
//!
//! Run: `cargo bench --bench tensor_ops` (set `RAYON_NUM_THREADS` to fix the thread count).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array2, IxDyn};
use neurite::nn::functional::linear;
use neurite::tensor::gemm::{gemm_with, Kernel};
use neurite::tensor::{seeded_rng, Tensor};

fn sgemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgemm");
    // (m, k, n, whether B is read through a transposed view, as `x · Wᵀ` does)
    for &(m, k, n, b_transposed) in &[
        (64usize, 784usize, 128usize, false),
        (1024, 1024, 1024, false),
        (1000, 784, 128, true),
    ] {
        let mut rng = seeded_rng(0);
        let a = Tensor::uniform(&[m, k], -1.0, 1.0, &mut rng).data();
        let b_shape = if b_transposed { [n, k] } else { [k, n] };
        let b = Tensor::uniform(&b_shape, -1.0, 1.0, &mut rng).data();
        let a2 = a.view().into_dimensionality().unwrap();
        let b2 = b.view().into_dimensionality().unwrap();
        let b2 = if b_transposed { b2.reversed_axes() } else { b2 };
        let mut out = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        for kernel in [Kernel::Avx512, Kernel::Avx2Fma, Kernel::Portable]
            .into_iter()
            .filter(|k| k.is_available())
        {
            let t = if b_transposed { "ᵀ" } else { "" };
            group.bench_function(
                BenchmarkId::new(format!("{kernel:?}"), format!("{m}x{k}x{n}{t}")),
                |bench| bench.iter(|| gemm_with(kernel, 1.0, &a2, &b2, 0.0, &mut out.view_mut())),
            );
        }
    }
    group.finish();
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise_1M");
    let mut rng = seeded_rng(1);
    let x = Tensor::uniform(&[1 << 20], -1.0, 1.0, &mut rng);
    let y = Tensor::uniform(&[1 << 20], -1.0, 1.0, &mut rng);
    group.throughput(Throughput::Elements(1 << 20));
    group.bench_function("add", |b| b.iter(|| &x + &y));
    group.bench_function("relu", |b| b.iter(|| x.relu()));
    group.finish();
}

fn softmax(c: &mut Criterion) {
    let mut group = c.benchmark_group("softmax");
    for shape in [[64usize, 10usize], [1024, 1000]] {
        let x = Tensor::normal(&shape, 0.0, 3.0, &mut seeded_rng(2));
        group.throughput(Throughput::Elements((shape[0] * shape[1]) as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("{}x{}", shape[0], shape[1])), |b| {
            b.iter(|| x.softmax(1))
        });
    }
    group.finish();
}

/// One W1 training step's math: 784 -> 128 -> ReLU -> 10, cross-entropy, backward.
fn mlp_step(c: &mut Criterion) {
    let mut rng = seeded_rng(3);
    let w1 = Tensor::uniform(&[128, 784], -0.03, 0.03, &mut rng).requires_grad_();
    let b1 = Tensor::zeros(&[128]).requires_grad_();
    let w2 = Tensor::uniform(&[10, 128], -0.09, 0.09, &mut rng).requires_grad_();
    let b2 = Tensor::zeros(&[10]).requires_grad_();
    let x = Tensor::uniform(&[64, 784], 0.0, 1.0, &mut rng);
    let labels = ndarray::ArrayD::from_shape_fn(IxDyn(&[64, 1]), |p| p[0] % 10);
    c.bench_function("w1_mlp_forward_backward_b64", |b| {
        b.iter(|| {
            let h = linear(&x, &w1, Some(&b1)).relu();
            let logits = linear(&h, &w2, Some(&b2));
            let loss = logits.log_softmax(1).gather(1, &labels).mean().neg();
            loss.backward();
            for p in [&w1, &b1, &w2, &b2] {
                p.zero_grad();
            }
        })
    });
}

criterion_group!(benches, sgemm, elementwise, softmax, mlp_step);
criterion_main!(benches);
