//! Property tests against naive reference implementations: broadcasting, matmul in every
//! layout, reductions, and softmax on extreme values.

use ndarray::{ArrayD, IxDyn};
use neurite_tensor::{seeded_rng, Tensor};
use proptest::prelude::*;

fn tensor(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, -2.0, 2.0, &mut seeded_rng(seed))
}

/// Naive triple loop in f64.
fn naive_matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                s += a[i * k + p] as f64 * b[p * n + j] as f64;
            }
            c[i * n + j] = s as f32;
        }
    }
    c
}

fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

/// A shape of rank 1-4 and a second shape broadcast-compatible with it.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..4, 1..5)
        .prop_flat_map(|shape| {
            let n = shape.len();
            (Just(shape), prop::collection::vec(any::<bool>(), n), 0..=n)
        })
        .prop_map(|(shape, ones, drop)| {
            let other: Vec<usize> = shape
                .iter()
                .zip(&ones)
                .map(|(&d, &one)| if one { 1 } else { d })
                .collect();
            (shape, other[drop..].to_vec())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn broadcasting_matches_naive((sa, sb) in broadcast_pair(), seed in 0u64..1000, swap in any::<bool>()) {
        let (sa, sb) = if swap { (sb, sa) } else { (sa, sb) };
        let (a, b) = (tensor(&sa, seed), tensor(&sb, seed + 1));
        let out_shape = neurite_tensor::shape::broadcast_shapes("test", &sa, &sb);
        let (ad, bd) = (a.data(), b.data());
        let rank = out_shape.len();
        let want: Vec<f32> = ArrayD::<f32>::zeros(IxDyn(&out_shape))
            .indexed_iter()
            .map(|(pos, _)| {
                // Naive broadcasting: align right, index 0 on size-1 axes.
                let pick = |shape: &[usize]| -> Vec<usize> {
                    let off = rank - shape.len();
                    shape.iter().enumerate().map(|(i, &d)| if d == 1 { 0 } else { pos[i + off] }).collect()
                };
                ad[IxDyn(&pick(&sa))] * bd[IxDyn(&pick(&sb))] + ad[IxDyn(&pick(&sa))]
            })
            .collect();
        let got = (&a * &b + &a).to_vec();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn matmul_matches_naive(m in 1usize..40, k in 1usize..40, n in 1usize..40, seed in 0u64..1000,
                            ta in any::<bool>(), tb in any::<bool>()) {
        let a = tensor(&[m, k], seed);
        let b = tensor(&[k, n], seed + 7);
        // Build each operand either directly or as a transposed view of its transpose.
        let a_op = if ta { a.t().contiguous().t() } else { a.clone() };
        let b_op = if tb { b.t().contiguous().t() } else { b.clone() };
        let want = naive_matmul(&a.to_vec(), &b.to_vec(), m, k, n);
        assert_close(&a_op.matmul(&b_op).to_vec(), &want, 1e-5, "matmul");
    }

    #[test]
    fn strided_and_batched_matmul(b in 1usize..4, m in 1usize..20, k in 1usize..20, n in 1usize..20, seed in 0u64..100) {
        // A strided operand: every other column of a wider matrix.
        let wide = tensor(&[b, m, 2 * k], seed);
        let a = wide.reshape(&[b, m, k, 2]).narrow(3, 0, 1).reshape(&[b, m, k]);
        let rhs = tensor(&[b, k, n], seed + 3);
        let got = a.matmul(&rhs).to_vec();
        let mut want = Vec::new();
        for i in 0..b {
            let ai = a.narrow(0, i, 1).to_vec();
            let bi = rhs.narrow(0, i, 1).to_vec();
            want.extend(naive_matmul(&ai, &bi, m, k, n));
        }
        assert_close(&got, &want, 1e-5, "batched");
        // Batch times one shared matrix.
        let shared = tensor(&[k, n], seed + 5);
        let got = a.matmul(&shared).to_vec();
        let want: Vec<f32> = (0..b).flat_map(|i| naive_matmul(&a.narrow(0, i, 1).to_vec(), &shared.to_vec(), m, k, n)).collect();
        assert_close(&got, &want, 1e-5, "batch x matrix");
    }

    #[test]
    fn reductions_match_naive(rows in 1usize..30, cols in 1usize..30, seed in 0u64..1000) {
        let t = tensor(&[rows, cols], seed);
        let v = t.to_vec();
        let row = |i: usize| v[i * cols..(i + 1) * cols].to_vec();
        let col = |j: usize| (0..rows).map(|i| v[i * cols + j]).collect::<Vec<f32>>();
        let sum = |x: Vec<f32>| x.iter().map(|&a| a as f64).sum::<f64>() as f32;
        let max = |x: Vec<f32>| x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = |x: Vec<f32>| x.iter().copied().fold(f32::INFINITY, f32::min);
        assert_close(&t.sum_axis(1, false).to_vec(), &(0..rows).map(|i| sum(row(i))).collect::<Vec<_>>(), 1e-5, "sum rows");
        assert_close(&t.sum_axis(0, true).to_vec(), &(0..cols).map(|j| sum(col(j))).collect::<Vec<_>>(), 1e-5, "sum cols");
        assert_close(&t.mean_axis(0, false).to_vec(), &(0..cols).map(|j| sum(col(j)) / rows as f32).collect::<Vec<_>>(), 1e-5, "mean");
        prop_assert_eq!(t.max_axis(1, false).to_vec(), (0..rows).map(|i| max(row(i))).collect::<Vec<_>>());
        prop_assert_eq!(t.min_axis(0, false).to_vec(), (0..cols).map(|j| min(col(j))).collect::<Vec<_>>());
        assert_close(&[t.sum().item()], &[sum(v.clone())], 1e-5, "sum all");
        let am = t.argmax(1);
        for (i, &j) in am.iter().enumerate() {
            prop_assert_eq!(v[i * cols + j], max(row(i)));
        }
    }

    #[test]
    fn softmax_is_stable_on_extreme_logits(scale in prop::sample::select(vec![1.0f32, 100.0, 1e4, 1e30]), seed in 0u64..1000) {
        let x = tensor(&[4, 7], seed) * scale;
        let p = x.softmax(1);
        let lp = x.log_softmax(1);
        for (i, row) in p.to_vec().chunks(7).enumerate() {
            prop_assert!(row.iter().all(|v| v.is_finite() && *v >= 0.0), "row {} = {:?}", i, row);
            prop_assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        prop_assert!(lp.to_vec().iter().all(|v| v.is_finite() && *v <= 0.0));
        // Naive reference in f64 with the max subtracted.
        let xv = x.to_vec();
        for r in 0..4 {
            let row = &xv[r * 7..(r + 1) * 7];
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let z: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
            let probs = p.to_vec();
            for (c, &v) in row.iter().enumerate() {
                let want = (v as f64 - m).exp() / z;
                prop_assert!((probs[r * 7 + c] as f64 - want).abs() < 1e-5);
            }
        }
    }
}

#[test]
fn matmul_odd_sizes() {
    for (m, k, n) in [(1, 1, 1), (17, 33, 1), (1, 33, 17), (17, 33, 19), (64, 784, 128)] {
        let a = tensor(&[m, k], 1);
        let b = tensor(&[k, n], 2);
        let want = naive_matmul(&a.to_vec(), &b.to_vec(), m, k, n);
        assert_close(&a.matmul(&b).to_vec(), &want, 1e-4, "odd sizes");
    }
}

#[test]
fn large_parallel_matmul_matches_naive() {
    // Tall products are split by rows of C, wide ones by columns.
    for (m, k, n) in [(256, 300, 130), (40, 300, 400)] {
        let a = tensor(&[m, k], 3);
        let b = tensor(&[k, n], 4);
        let want = naive_matmul(&a.to_vec(), &b.to_vec(), m, k, n);
        assert_close(&a.matmul(&b).to_vec(), &want, 1e-4, "large");
    }
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let err = std::panic::catch_unwind(|| Tensor::zeros(&[2, 3]).add(&Tensor::zeros(&[4]))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("add") && msg.contains("[2, 3]") && msg.contains("[4]"),
        "{msg}"
    );
    let err = std::panic::catch_unwind(|| Tensor::zeros(&[2, 3]).matmul(&Tensor::zeros(&[2, 3]))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("matmul") && msg.contains("[2, 3]"), "{msg}");
    assert!(Tensor::from_vec(vec![1.0; 5], &[2, 3]).is_err());
    assert!(Tensor::zeros(&[2, 3]).try_reshape(&[4]).is_err());
}
