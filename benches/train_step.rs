//! Criterion benchmarks of one training step of W1's and W2's MLPs (issue 15, part 4): the
//! autograd graph step (`train_step`) beside the compiled `MlpStep` that `fit` runs for MLPs,
//! and the pieces of a graph step on their own (forward, loss, backward, zero_grad, gradient
//! norm and its finiteness check, optimizer update), so the per-step overhead shows per op.
//!
//! Run: `cargo bench --bench train_step` (set `RAYON_NUM_THREADS` to fix the thread count).
//! Everything runs on a worker of rayon's pool, as `fit` does.

use criterion::{criterion_group, Criterion, Throughput};
use neurite::nn::loss::cross_entropy;
use neurite::nn::optim::{grad_norm, grad_norm_is_finite, Adam, Optimizer, Sgd};
use neurite::nn::spec::ModelSpec;
use neurite::nn::train::{train_step, Batch, Loss, MlpStep};
use neurite::nn::{Module, Sequential};
use neurite::tensor::{seeded_rng, Tensor};

/// A batch of `rows` MNIST-shaped rows with cycling labels.
fn batch(rows: usize) -> Batch {
    let x = Tensor::uniform(&[rows, 784], 0.0, 1.0, &mut seeded_rng(1));
    Batch::new(x, (0..rows).map(|i| (i * 7) % 10).collect())
}

/// The graph step beside the compiled step, for one model and optimizer.
fn graph_and_fused(
    c: &mut Criterion,
    name: &str,
    spec: &ModelSpec,
    rows: usize,
    make_opt: impl Fn(Vec<Tensor>) -> Box<dyn Optimizer>,
) {
    let batch = batch(rows);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(rows as u64));
    let mut model = spec.build(&mut seeded_rng(0));
    let mut opt = make_opt(model.parameters());
    group.bench_function("graph_step", |b| {
        b.iter(|| train_step(&mut model, opt.as_mut(), &batch, Loss::CrossEntropy, None))
    });
    let mut model = spec.build(&mut seeded_rng(0));
    let mut opt = make_opt(model.parameters());
    let mut step = MlpStep::new(&mut model).expect("an MLP");
    group.bench_function("mlp_step", |b| b.iter(|| step.step(opt.as_mut(), &batch, None)));
    group.finish();
}

/// The pieces of W1's graph step, each on its own.
fn graph_pieces(c: &mut Criterion) {
    let batch = batch(64);
    let mut model: Sequential = ModelSpec::w1().build(&mut seeded_rng(0));
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let mut group = c.benchmark_group("w1_graph_pieces_b64");
    group.bench_function("forward", |b| b.iter(|| model.forward(&batch.inputs)));
    let logits = model.forward(&batch.inputs).detach().requires_grad_();
    group.bench_function("loss_forward_backward", |b| {
        b.iter(|| {
            cross_entropy(&logits, &batch.labels).backward();
            logits.zero_grad();
        })
    });
    group.bench_function("forward_loss_backward", |b| {
        b.iter(|| {
            opt.zero_grad();
            cross_entropy(&model.forward(&batch.inputs), &batch.labels).backward();
        })
    });
    // The pieces below read the gradients of one backward pass.
    opt.zero_grad();
    cross_entropy(&model.forward(&batch.inputs), &batch.labels).backward();
    group.bench_function("grad_norm", |b| b.iter(|| grad_norm(opt.parameters())));
    group.bench_function("grad_norm_is_finite", |b| {
        b.iter(|| grad_norm_is_finite(opt.parameters()))
    });
    group.bench_function("sgd_update", |b| b.iter(|| opt.step()));
    group.finish();
}

/// W2's gradient norm and Adam update on their own (670K parameters: more than the L2 cache).
fn w2_update_pieces(c: &mut Criterion) {
    let batch = batch(128);
    let mut model: Sequential = ModelSpec::w2().build(&mut seeded_rng(0));
    let mut opt = Adam::new(model.parameters(), 1e-3);
    cross_entropy(&model.forward(&batch.inputs), &batch.labels).backward();
    let mut group = c.benchmark_group("w2_update_pieces_b128");
    group.bench_function("grad_norm", |b| b.iter(|| grad_norm(opt.parameters())));
    group.bench_function("grad_norm_is_finite", |b| {
        b.iter(|| grad_norm_is_finite(opt.parameters()))
    });
    group.bench_function("adam_update", |b| b.iter(|| opt.step()));
    group.finish();
}

fn steps(c: &mut Criterion) {
    graph_and_fused(c, "w1_step_sgd_b64", &ModelSpec::w1(), 64, |p| {
        Box::new(Sgd::new(p, 0.1))
    });
    graph_and_fused(c, "w2_step_adam_b128", &ModelSpec::w2(), 128, |p| {
        Box::new(Adam::new(p, 1e-3))
    });
}

criterion_group!(benches, steps, graph_pieces, w2_update_pieces);

/// `criterion_main!`, but on a worker of rayon's pool, as `fit` runs its steps: the parallel
/// ops then run on the pool instead of waking it from outside on every call.
fn main() {
    // As the training binaries do: freed buffers stay with the allocator, so the graph step's
    // fresh arrays do not pay page faults (the comparison is with `fit` as it runs).
    neurite::tensor::alloc::retain_freed_buffers();
    rayon::scope(|_| {
        benches();
        criterion::Criterion::default().configure_from_args().final_summary();
    });
}
