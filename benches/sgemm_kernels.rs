//! Paired A/B of the two sgemm kernels ([`Kernel::Avx2Fma`] against [`Kernel::Portable`],
//! i.e. matrixmultiply) on the products the workloads spend their time in. Each round times
//! both kernels back to back, alternating which goes first, and the speed-up is the ratio of
//! the two times in that round: on a noisy machine, where the speed drifts by tens of percent
//! over seconds, paired ratios are far steadier than separate medians.
//!
//! A plain program (criterion times one benchmark after another, so drift lands between the
//! kernels): `cargo bench --bench sgemm_kernels`. `RAYON_NUM_THREADS` sets the threads; the
//! products run on a pool worker, as the workloads do.

use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use neurite::tensor::gemm::{gemm_with, Kernel};
use neurite::tensor::{seeded_rng, Tensor};

const ROUNDS: usize = 21;

/// One product of the set: `[m, k] x [k, n]`, B read through a transposed view or not.
struct Case {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    b_transposed: bool,
    /// Products per timed block.
    reps: usize,
}

const CASES: &[Case] = &[
    Case {
        name: "W7 1024³",
        m: 1024,
        k: 1024,
        n: 1024,
        b_transposed: false,
        reps: 3,
    },
    Case {
        name: "W7 64x784x128",
        m: 64,
        k: 784,
        n: 128,
        b_transposed: false,
        reps: 300,
    },
    Case {
        name: "W5 x·Wᵀ 1000x784x128",
        m: 1000,
        k: 784,
        n: 128,
        b_transposed: true,
        reps: 10,
    },
    Case {
        name: "W1 x·Wᵀ 64x784x128",
        m: 64,
        k: 784,
        n: 128,
        b_transposed: true,
        reps: 300,
    },
    Case {
        name: "W1 dW = gᵀ·x 128x64x784",
        m: 128,
        k: 64,
        n: 784,
        b_transposed: false,
        reps: 300,
    },
    Case {
        name: "W3 conv2 64x288x576",
        m: 64,
        k: 288,
        n: 576,
        b_transposed: false,
        reps: 200,
    },
];

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let v = Tensor::uniform(&[rows, cols], -1.0, 1.0, &mut seeded_rng(seed)).to_vec();
    Array2::from_shape_vec((rows, cols), v).expect("rows * cols values")
}

/// Seconds per product over `reps` products.
fn seconds(kernel: Kernel, a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>, c: &mut Array2<f32>, reps: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        gemm_with(kernel, 1.0, a, b, 0.0, &mut c.view_mut());
    }
    start.elapsed().as_secs_f64() / reps as f64
}

/// Median, min and max.
fn summary(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    if !Kernel::Avx2Fma.is_available() {
        println!("this CPU has no AVX2+FMA: only the portable kernel runs here, nothing to compare");
        return;
    }
    println!(
        "{} threads, {ROUNDS} rounds; GFLOP/s median per kernel, paired speed-up avx2/portable median (min-max)",
        rayon::current_num_threads()
    );
    rayon::scope(|_| {
        for case in CASES {
            let a = random(case.m, case.k, 1);
            let b_store = if case.b_transposed {
                random(case.n, case.k, 2)
            } else {
                random(case.k, case.n, 2)
            };
            let b = if case.b_transposed { b_store.t() } else { b_store.view() };
            let mut c = Array2::zeros((case.m, case.n));
            let (mut ours, mut theirs, mut speedups) = (vec![], vec![], vec![]);
            for round in 0..ROUNDS {
                let (t_ours, t_theirs) = if round % 2 == 0 {
                    let t = seconds(Kernel::Avx2Fma, &a.view(), &b, &mut c, case.reps);
                    (t, seconds(Kernel::Portable, &a.view(), &b, &mut c, case.reps))
                } else {
                    let t = seconds(Kernel::Portable, &a.view(), &b, &mut c, case.reps);
                    (seconds(Kernel::Avx2Fma, &a.view(), &b, &mut c, case.reps), t)
                };
                let gflops = |t: f64| 2.0 * (case.m * case.k * case.n) as f64 / t / 1e9;
                ours.push(gflops(t_ours));
                theirs.push(gflops(t_theirs));
                speedups.push(t_theirs / t_ours);
            }
            let (s, lo, hi) = summary(speedups);
            println!(
                "{:<26} avx2 {:6.1}  portable {:6.1}  speed-up {s:.3} ({lo:.3}-{hi:.3})",
                case.name,
                summary(ours).0,
                summary(theirs).0
            );
        }
    });
}
