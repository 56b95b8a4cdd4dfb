//! Paired A/B/C of the sgemm kernels ([`Kernel::Avx512`], [`Kernel::Avx2Fma`] and
//! [`Kernel::Portable`], i.e. matrixmultiply) on the products the workloads spend their time
//! in, plus what [`gemm`] picks per shape (`auto`). Each round times every kernel back to
//! back, rotating which goes first, and a speed-up is the ratio of two times in the same
//! round: on a noisy machine, where the speed drifts by tens of percent over seconds, paired
//! ratios are far steadier than separate medians.
//!
//! A plain program (criterion times one benchmark after another, so drift lands between the
//! kernels): `cargo bench --bench sgemm_kernels [-- FILTER]`, where `FILTER` keeps the cases
//! whose name contains it. `RAYON_NUM_THREADS` sets the threads; the products run on a pool
//! worker, as the workloads do. `NEURITE_SGEMM` forces `auto` to one kernel.

use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use neurite::tensor::gemm::{gemm, gemm_with, Kernel};
use neurite::tensor::{seeded_rng, Tensor};

const ROUNDS: usize = 15;

/// One product of the set: `[m, k] x [k, n]`, each operand read through a transposed view or
/// not, with `beta` (1: accumulate, as a bias or a gradient sum does).
struct Case {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    a_transposed: bool,
    b_transposed: bool,
    beta: f32,
}

const fn case(name: &'static str, (m, k, n): (usize, usize, usize), a_t: bool, b_t: bool, beta: f32) -> Case {
    Case {
        name,
        m,
        k,
        n,
        a_transposed: a_t,
        b_transposed: b_t,
        beta,
    }
}

/// The workloads' products (W1/W5: the 784-128-10 MLP at batch 64 and 1000, weights stored
/// `[out, in]`; W3/W4: per-image im2col products of the second convolution).
const CASES: &[Case] = &[
    case("W7 1024³", (1024, 1024, 1024), false, false, 0.0),
    case("W7 64x784x128", (64, 784, 128), false, false, 0.0),
    case("W1 y = x·Wᵀ 64x784x128", (64, 784, 128), false, true, 1.0),
    case("W1 dx = g·W 64x128x784", (64, 128, 784), false, false, 0.0),
    case("W1 dW = gᵀ·x 128x64x784", (128, 64, 784), true, false, 0.0),
    case("W1 y2 = h·W2ᵀ 64x128x10", (64, 128, 10), false, true, 1.0),
    case("W1 dW2 = gᵀ·h 10x64x128", (10, 64, 128), true, false, 0.0),
    case("W1 dh = g·W2 64x10x128", (64, 10, 128), false, false, 0.0),
    case("W5 y = x·Wᵀ 1000x784x128", (1000, 784, 128), false, true, 1.0),
    case("W5 y2 = h·W2ᵀ 1000x128x10", (1000, 128, 10), false, true, 1.0),
    case("W3 conv1 32x9x676", (32, 9, 676), false, false, 1.0),
    case("W3 conv2 64x288x576", (64, 288, 576), false, false, 1.0),
    case("W3 conv2 dcol = Wᵀ·g 288x64x576", (288, 64, 576), true, false, 0.0),
    case("W3 conv2 dW = g·colᵀ 64x576x288", (64, 576, 288), false, true, 1.0),
    case("W4 conv1 32x27x1024", (32, 27, 1024), false, false, 1.0),
    case("W4 conv2 64x288x256", (64, 288, 256), false, false, 1.0),
];

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let v = Tensor::uniform(&[rows, cols], -1.0, 1.0, &mut seeded_rng(seed)).to_vec();
    Array2::from_shape_vec((rows, cols), v).expect("rows * cols values")
}

/// Seconds per product over `reps` products; `None` runs [`gemm`]'s own choice.
fn seconds(
    kernel: Option<Kernel>,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut Array2<f32>,
    reps: usize,
) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        match kernel {
            Some(kernel) => gemm_with(kernel, 1.0, a, b, beta, &mut c.view_mut()),
            None => gemm(1.0, a, b, beta, &mut c.view_mut()),
        }
    }
    start.elapsed().as_secs_f64() / reps as f64
}

/// Median, min and max.
fn summary(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut kernels: Vec<Option<Kernel>> = [Kernel::Avx512, Kernel::Avx2Fma, Kernel::Portable]
        .into_iter()
        .filter(|k| k.is_available())
        .map(Some)
        .collect();
    kernels.push(None);
    let name = |k: Option<Kernel>| k.map_or("auto".to_string(), |k| format!("{k:?}"));
    println!(
        "{} threads, {ROUNDS} rounds; GFLOP/s median (min-max) per kernel; paired time ratio to the first kernel, median (min-max)",
        rayon::current_num_threads()
    );
    rayon::scope(|_| {
        for case in CASES
            .iter()
            .filter(|c| filter.as_ref().is_none_or(|f| c.name.contains(f.as_str())))
        {
            let a_store = if case.a_transposed {
                random(case.k, case.m, 1)
            } else {
                random(case.m, case.k, 1)
            };
            let b_store = if case.b_transposed {
                random(case.n, case.k, 2)
            } else {
                random(case.k, case.n, 2)
            };
            let a = if case.a_transposed { a_store.t() } else { a_store.view() };
            let b = if case.b_transposed { b_store.t() } else { b_store.view() };
            let mut c = Array2::zeros((case.m, case.n));
            let flops = 2.0 * (case.m * case.k * case.n) as f64;
            // About 20 ms per timed block.
            let reps = ((4e9 / flops) as usize).clamp(1, 20_000);
            let mut times = vec![vec![]; kernels.len()];
            for round in 0..ROUNDS {
                for i in 0..kernels.len() {
                    let i = (i + round) % kernels.len();
                    times[i].push(seconds(kernels[i], &a, &b, case.beta, &mut c, reps));
                }
            }
            println!("{}", case.name);
            for (i, &kernel) in kernels.iter().enumerate() {
                let (g, lo, hi) = summary(times[i].iter().map(|t| flops / t / 1e9).collect());
                let (r, rlo, rhi) = summary(times[i].iter().zip(&times[0]).map(|(t, t0)| t / t0).collect());
                println!(
                    "  {:<9} {g:6.1} ({lo:6.1}-{hi:6.1}) GFLOP/s   time/{}: {r:.3} ({rlo:.3}-{rhi:.3})",
                    name(kernel),
                    name(kernels[0])
                );
            }
        }
    });
}
