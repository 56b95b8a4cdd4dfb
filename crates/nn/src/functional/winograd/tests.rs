//! Winograd F(2x2, 3x3) against f64 references of the direct convolution and its gradients,
//! over shapes with partial tiles, paddings 0 to 2, channel counts from 1 to 33 and several
//! chunks; and bit-identity with 1 and 2 threads.

use super::super::epilogue::Epilogue;
use super::{filter_transform, flipped_filters, forward, weight_grad, Plan};

/// Relative error allowed against the f64 reference, as a fraction of the sum of the absolute
/// values of the products that make the element (the scale of the rounding error of any f32
/// summation of them). Winograd adds and subtracts up to 4x4 inputs and filter taps before each
/// of its 16 products and 4x4 of those after, so its error is a small multiple of f32's
/// epsilon (6e-8) times that scale: the largest ratio measured on these shapes is 7e-7 (the
/// input gradient of the one-channel case), 2e-7 for the forward. A dropped or misplaced term
/// would be off by a whole product, a ratio of about `1/(9·C)` (above 3e-3 here).
const TOL: f64 = 4e-6;

/// `len` values uniform in `[-1, 1)` from a splitmix64 stream seeded with `seed`.
fn rand_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// One case: images, input channels, output channels, input size, padding.
type Case = (usize, usize, usize, (usize, usize), (usize, usize));

const CASES: [Case; 8] = [
    (2, 3, 4, (7, 6), (0, 0)),    // 5x4 output: a partial row of tiles
    (2, 3, 4, (7, 6), (1, 1)),    // 7x6 output, padded
    (1, 1, 1, (3, 3), (0, 0)),    // one output pixel, one partial tile
    (3, 5, 2, (6, 9), (1, 0)),    // mixed padding
    (2, 2, 3, (4, 5), (2, 2)),    // padding 2 (the input gradient of padding 0)
    (3, 17, 9, (30, 30), (0, 0)), // 196 tiles: one image per chunk, three chunks
    (5, 16, 33, (9, 8), (1, 1)),  // several images in one chunk
    (1, 33, 16, (11, 13), (0, 1)),
];

/// `x` `[N, C, H, W]` convolved with `w` `[O, C, 3, 3]` (stride 1) in f64, and each output's
/// sum of absolute products.
fn reference(p: &Plan, n: usize, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> (Vec<f64>, Vec<f64>) {
    let mut y = vec![0.0f64; n * p.o * p.oh * p.ow];
    let mut scale = y.clone();
    for ni in 0..n {
        for oi in 0..p.o {
            for r in 0..p.oh {
                for col in 0..p.ow {
                    let at = ((ni * p.o + oi) * p.oh + r) * p.ow + col;
                    let b = bias.map_or(0.0, |b| f64::from(b[oi]));
                    let (mut acc, mut abs) = (b, b.abs());
                    for ci in 0..p.c {
                        for a in 0..3 {
                            for bb in 0..3 {
                                let ih = (r + a) as isize - p.ph as isize;
                                let iw = (col + bb) as isize - p.pw as isize;
                                if ih < 0 || iw < 0 || ih >= p.h as isize || iw >= p.w as isize {
                                    continue;
                                }
                                let xv = f64::from(x[((ni * p.c + ci) * p.h + ih as usize) * p.w + iw as usize]);
                                let wv = f64::from(w[((oi * p.c + ci) * 3 + a) * 3 + bb]);
                                acc += xv * wv;
                                abs += (xv * wv).abs();
                            }
                        }
                    }
                    y[at] = acc;
                    scale[at] = abs;
                }
            }
        }
    }
    (y, scale)
}

/// `dW[o][c][a][b] = Σ gy[n][o][r][col] · x[n][c][r + a - ph][col + b - pw]` in f64, and the
/// sums of absolute products.
fn reference_weight_grad(p: &Plan, n: usize, x: &[f32], gy: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let mut dw = vec![0.0f64; p.o * p.c * 9];
    let mut scale = dw.clone();
    for ni in 0..n {
        for oi in 0..p.o {
            for ci in 0..p.c {
                for a in 0..3 {
                    for b in 0..3 {
                        let k = ((oi * p.c + ci) * 3 + a) * 3 + b;
                        for r in 0..p.oh {
                            for col in 0..p.ow {
                                let ih = (r + a) as isize - p.ph as isize;
                                let iw = (col + b) as isize - p.pw as isize;
                                if ih < 0 || iw < 0 || ih >= p.h as isize || iw >= p.w as isize {
                                    continue;
                                }
                                let g = f64::from(gy[((ni * p.o + oi) * p.oh + r) * p.ow + col]);
                                let xv = f64::from(x[((ni * p.c + ci) * p.h + ih as usize) * p.w + iw as usize]);
                                dw[k] += g * xv;
                                scale[k] += (g * xv).abs();
                            }
                        }
                    }
                }
            }
        }
    }
    (dw, scale)
}

/// `dX` in f64: `dX[n][c][i][j] = Σ gy[n][o][i - a + ph][j - b + pw] · w[o][c][a][b]`.
fn reference_input_grad(p: &Plan, n: usize, w: &[f32], gy: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let mut dx = vec![0.0f64; n * p.c * p.h * p.w];
    let mut scale = dx.clone();
    for ni in 0..n {
        for oi in 0..p.o {
            for r in 0..p.oh {
                for col in 0..p.ow {
                    let g = f64::from(gy[((ni * p.o + oi) * p.oh + r) * p.ow + col]);
                    for ci in 0..p.c {
                        for a in 0..3 {
                            for b in 0..3 {
                                let ih = (r + a) as isize - p.ph as isize;
                                let iw = (col + b) as isize - p.pw as isize;
                                if ih < 0 || iw < 0 || ih >= p.h as isize || iw >= p.w as isize {
                                    continue;
                                }
                                let at = ((ni * p.c + ci) * p.h + ih as usize) * p.w + iw as usize;
                                let v = g * f64::from(w[((oi * p.c + ci) * 3 + a) * 3 + b]);
                                dx[at] += v;
                                scale[at] += v.abs();
                            }
                        }
                    }
                }
            }
        }
    }
    (dx, scale)
}

/// The largest `|got - want| / scale` (a zero scale counts as 1, so an exact zero must come out
/// zero), asserting it is at most [`TOL`].
fn assert_close(name: &str, got: &[f32], want: &[f64], scale: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "{name}: length");
    let mut worst = 0.0f64;
    for (i, ((&g, &w), &s)) in got.iter().zip(want).zip(scale).enumerate() {
        let ratio = (f64::from(g) - w).abs() / if s > 0.0 { s } else { 1.0 };
        assert!(
            ratio <= TOL,
            "{name}: element {i}: {g} vs {w} (scale {s}, ratio {ratio:e})"
        );
        worst = worst.max(ratio);
    }
    worst
}

/// The forward for a case: input, filters, bias, output.
fn run_forward(p: &Plan, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let x = rand_vec(n * p.c * p.h * p.w, seed);
    let w = rand_vec(p.o * p.c * 9, seed + 1);
    let b = rand_vec(p.o, seed + 2);
    let mut y = vec![f32::NAN; n * p.o * p.oh * p.ow];
    forward(
        p,
        n,
        &x,
        &filter_transform(p.o, p.c, &w),
        Some(&b),
        Epilogue::Identity,
        &mut y,
    );
    (x, w, b, y)
}

/// The input gradient as `conv2d`'s backward computes it: the forward of the gradient with
/// the flipped, transposed filters and padding `2 - p`.
fn input_grad(p: &Plan, n: usize, w: &[f32], gy: &[f32]) -> Vec<f32> {
    let u = filter_transform(p.c, p.o, &flipped_filters(p.o, p.c, w));
    let back = Plan::new(p.o, p.c, (p.oh, p.ow), (2 - p.ph, 2 - p.pw));
    assert_eq!((back.oh, back.ow), (p.h, p.w), "input gradient plan");
    let mut dx = vec![f32::NAN; n * p.c * p.h * p.w];
    forward(&back, n, gy, &u, None, Epilogue::Identity, &mut dx);
    dx
}

#[test]
fn forward_matches_direct_convolution() {
    let mut worst = 0.0f64;
    for (i, &(n, c, o, hw, pad)) in CASES.iter().enumerate() {
        let p = Plan::new(c, o, hw, pad);
        let (x, w, b, y) = run_forward(&p, n, 100 + 10 * i as u64);
        let (want, scale) = reference(&p, n, &x, &w, Some(&b));
        worst = worst.max(assert_close(&format!("forward case {i}"), &y, &want, &scale));
    }
    // The tolerance is not vacuous: a plain f32 sum would come within it too, but Winograd
    // is not exact either.
    assert!(worst > 0.0, "Winograd matched f64 exactly on every case");
}

#[test]
fn input_gradient_matches_direct_convolution() {
    for (i, &(n, c, o, hw, pad)) in CASES.iter().enumerate() {
        let p = Plan::new(c, o, hw, pad);
        let w = rand_vec(o * c * 9, 200 + i as u64);
        let gy = rand_vec(n * o * p.oh * p.ow, 300 + i as u64);
        let (want, scale) = reference_input_grad(&p, n, &w, &gy);
        assert_close(
            &format!("input grad case {i}"),
            &input_grad(&p, n, &w, &gy),
            &want,
            &scale,
        );
    }
}

#[test]
fn weight_gradient_matches_direct_convolution() {
    for (i, &(n, c, o, hw, pad)) in CASES.iter().enumerate() {
        let p = Plan::new(c, o, hw, pad);
        let x = rand_vec(n * c * p.h * p.w, 400 + i as u64);
        let gy = rand_vec(n * o * p.oh * p.ow, 500 + i as u64);
        let (want, scale) = reference_weight_grad(&p, n, &x, &gy);
        assert_close(
            &format!("weight grad case {i}"),
            &weight_grad(&p, n, &x, &gy),
            &want,
            &scale,
        );
    }
}

#[test]
fn results_are_bit_identical_with_one_and_two_threads() {
    // Large enough for the parallel paths: 8 chunks of images, and products above the sgemm's
    // own split.
    let (n, p) = (8, Plan::new(32, 64, (26, 26), (1, 1)));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let (x, w, _, y) = run_forward(&p, n, 7);
            let gy = rand_vec(y.len(), 8);
            (y, input_grad(&p, n, &w, &gy), weight_grad(&p, n, &x, &gy))
        })
    };
    let (one, two) = (run(1), run(2));
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&two.0), "output");
    assert_eq!(bits(&one.1), bits(&two.1), "input grad");
    assert_eq!(bits(&one.2), bits(&two.2), "weight grad");
}
