//! Layer tests against outside truth: naive reference loops, central finite differences, and
//! bit-identical results with 1 and 2 threads.

use neurite_nn::functional::{avg_pool2d, batch_norm, conv2d, max_pool2d};
use neurite_nn::loss::{binary_cross_entropy_with_logits_with, cross_entropy_with, mse_loss_with, Reduction};
use neurite_tensor::gradcheck::gradcheck;
use neurite_tensor::{seeded_rng, Tensor};

/// Compares autograd with central differences for `f` at `inputs` (all trainable), through
/// `loss = sum(f(inputs) * r)` with a fixed random `r`. Computed in f64 where it matters.
fn check(name: &str, inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Tensor) {
    if let Err(failure) = gradcheck(inputs, f, 1e-2, 2e-2) {
        panic!("{name}: {failure}");
    }
}

fn rand(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, -1.0, 1.0, &mut seeded_rng(seed))
}

/// Values whose pairwise gaps are at least 0.05 (so max-pool's argmax is stable under ±eps).
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    use rand::seq::SliceRandom;
    let n: usize = shape.iter().product();
    let mut v: Vec<f32> = (0..n).map(|i| i as f32 * 0.05 - n as f32 * 0.025).collect();
    v.shuffle(&mut seeded_rng(seed));
    Tensor::from_vec(v, shape).unwrap()
}

/// The textbook convolution loop.
#[allow(clippy::too_many_arguments)]
fn naive_conv(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    s: (usize, usize),
    p: (usize, usize),
    d: (usize, usize),
) -> Vec<f32> {
    let (xs, ws) = (x.shape(), w.shape());
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]);
    let (o, kh, kw) = (ws[0], ws[2], ws[3]);
    let oh = (h + 2 * p.0 - d.0 * (kh - 1) - 1) / s.0 + 1;
    let ow = (wd + 2 * p.1 - d.1 * (kw - 1) - 1) / s.1 + 1;
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let bv = b.map(|b| b.to_vec());
    let mut out = vec![0.0f32; n * o * oh * ow];
    for ni in 0..n {
        for oc in 0..o {
            for y in 0..oh {
                for xx in 0..ow {
                    let mut acc = bv.as_ref().map_or(0.0, |b| b[oc]) as f64;
                    for ci in 0..c {
                        for ki in 0..kh {
                            for kj in 0..kw {
                                let ih = (y * s.0 + ki * d.0) as isize - p.0 as isize;
                                let iw = (xx * s.1 + kj * d.1) as isize - p.1 as isize;
                                if ih < 0 || iw < 0 || ih >= h as isize || iw >= wd as isize {
                                    continue;
                                }
                                let xi = ((ni * c + ci) * h + ih as usize) * wd + iw as usize;
                                let wi = ((oc * c + ci) * kh + ki) * kw + kj;
                                acc += xv[xi] as f64 * wv[wi] as f64;
                            }
                        }
                    }
                    out[((ni * o + oc) * oh + y) * ow + xx] = acc as f32;
                }
            }
        }
    }
    out
}

fn assert_close(name: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{name}: element {i}: {a} vs {b}"
        );
    }
}

#[test]
fn conv2d_forward_matches_naive_loops() {
    let cases = [
        ((2, 3, 7, 6), (4, 3, 3, 3), (1, 1), (0, 0), (1, 1)),
        ((2, 3, 7, 6), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1)),
        ((2, 3, 7, 6), (4, 3, 3, 2), (2, 2), (1, 0), (1, 1)),
        ((1, 2, 9, 8), (3, 2, 3, 3), (1, 2), (2, 1), (2, 2)),
        ((3, 1, 5, 5), (2, 1, 1, 1), (2, 1), (0, 0), (1, 1)),
        ((2, 2, 4, 4), (2, 2, 5, 5), (3, 3), (2, 2), (1, 1)),
    ];
    for (i, (xs, ws, s, p, d)) in cases.into_iter().enumerate() {
        let x = rand(&[xs.0, xs.1, xs.2, xs.3], 10 + i as u64);
        let w = rand(&[ws.0, ws.1, ws.2, ws.3], 20 + i as u64);
        let b = rand(&[ws.0], 30 + i as u64);
        let got = conv2d(&x, &w, Some(&b), s, p, d, 1);
        assert_close(
            &format!("conv case {i}"),
            &got.to_vec(),
            &naive_conv(&x, &w, Some(&b), s, p, d),
            1e-5,
        );
        let got = conv2d(&x, &w, None, s, p, d, 1);
        assert_close(
            &format!("conv case {i} no bias"),
            &got.to_vec(),
            &naive_conv(&x, &w, None, s, p, d),
            1e-5,
        );
    }
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    let cases = [
        ((1, 1), (0, 0), (1, 1)),
        ((2, 2), (1, 1), (1, 1)),
        ((1, 2), (1, 0), (2, 1)),
    ];
    for (s, p, d) in cases {
        let name = format!("conv2d stride {s:?} padding {p:?} dilation {d:?}");
        check(
            &name,
            &[rand(&[2, 2, 6, 5], 1), rand(&[3, 2, 3, 2], 2), rand(&[3], 3)],
            |t| conv2d(&t[0], &t[1], Some(&t[2]), s, p, d, 1),
        );
    }
    // A batch larger than one weight-gradient chunk, without bias.
    check(
        "conv2d batch 9",
        &[rand(&[9, 1, 4, 4], 4), rand(&[2, 1, 2, 2], 5)],
        |t| conv2d(&t[0], &t[1], None, 1, 0, 1, 1),
    );
}

#[test]
fn conv2d_is_bitwise_deterministic_across_thread_counts() {
    // Big enough to take the parallel paths (per image, per chunk and inside the sgemm).
    let x = rand(&[16, 8, 20, 20], 7);
    let w = rand(&[32, 8, 3, 3], 8);
    let b = rand(&[32], 9);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let (x, w, b) = (x.requires_grad_(), w.requires_grad_(), b.requires_grad_());
            let y = conv2d(&x, &w, Some(&b), 1, 1, 1, 1);
            let r = Tensor::uniform(&y.shape(), -1.0, 1.0, &mut seeded_rng(1));
            (&y * &r).sum().backward();
            (
                y.to_vec(),
                x.grad().unwrap().to_vec(),
                w.grad().unwrap().to_vec(),
                b.grad().unwrap().to_vec(),
            )
        })
    };
    let (one, two) = (run(1), run(2));
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&two.0), "output");
    assert_eq!(bits(&one.1), bits(&two.1), "input grad");
    assert_eq!(bits(&one.2), bits(&two.2), "weight grad");
    assert_eq!(bits(&one.3), bits(&two.3), "bias grad");
}

/// `dW` and `db` of `loss = sum(conv2d(x, w, b, 1, p, 1, 1) * r)` for a 3x3 kernel, in f64:
/// `dW[o][c][a][b] = Σ r[n][o][i][j] · x[n][c][i + a - p][j + b - p]`, `db[o] = Σ r[n][o]`.
fn naive_param_grads(x: &Tensor, r: &Tensor, o: usize, p: usize) -> (Vec<f32>, Vec<f32>) {
    let (xs, rs) = (x.shape(), r.shape());
    let (n, c, h, w, oh, ow) = (xs[0], xs[1], xs[2], xs[3], rs[2], rs[3]);
    let (xv, rv) = (x.to_vec(), r.to_vec());
    let mut dw = vec![0.0f64; o * c * 9];
    let mut db = vec![0.0f64; o];
    for ni in 0..n {
        for oi in 0..o {
            for i in 0..oh {
                for j in 0..ow {
                    let g = rv[((ni * o + oi) * oh + i) * ow + j] as f64;
                    db[oi] += g;
                    for ci in 0..c {
                        for a in 0..3 {
                            for b in 0..3 {
                                let (ih, iw) = ((i + a) as isize - p as isize, (j + b) as isize - p as isize);
                                if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < w {
                                    let xi = ((ni * c + ci) * h + ih as usize) * w + iw as usize;
                                    dw[((oi * c + ci) * 3 + a) * 3 + b] += g * xv[xi] as f64;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (
        dw.into_iter().map(|v| v as f32).collect(),
        db.into_iter().map(|v| v as f32).collect(),
    )
}

#[test]
fn conv2d_winograd_shapes_match_naive_loops() {
    // Stride-1 3x3 convolutions with 16 or more input channels take the Winograd F(2x2, 3x3)
    // forward and weight gradient (`functional::conv::Algorithm`): odd and even output sizes,
    // padding 0 and 1, with and without bias.
    let cases = [
        ((3, 16, 9, 8), 5, 0),
        ((2, 16, 7, 7), 4, 1),
        ((1, 24, 6, 11), 17, 1),
        ((5, 17, 5, 4), 3, 0),
    ];
    for (i, (xs, o, p)) in cases.into_iter().enumerate() {
        let x = rand(&[xs.0, xs.1, xs.2, xs.3], 50 + i as u64);
        let w = rand(&[o, xs.1, 3, 3], 60 + i as u64).requires_grad_();
        let b = rand(&[o], 70 + i as u64).requires_grad_();
        let y = conv2d(&x, &w, Some(&b), 1, p, 1, 1);
        assert_close(
            &format!("winograd case {i}"),
            &y.to_vec(),
            &naive_conv(&x, &w, Some(&b), (1, 1), (p, p), (1, 1)),
            1e-5,
        );
        let r = rand(&y.shape(), 80 + i as u64);
        (&y * &r).sum().backward();
        let (dw, db) = naive_param_grads(&x, &r, o, p);
        // The weight gradient sums N·OH·OW products of values in [-1, 1].
        assert_close(&format!("winograd case {i} dW"), &w.grad().unwrap().to_vec(), &dw, 1e-5);
        assert_close(&format!("winograd case {i} db"), &b.grad().unwrap().to_vec(), &db, 1e-5);
        let y = conv2d(&x, &w.detach(), None, 1, p, 1, 1);
        assert_close(
            &format!("winograd case {i} no bias"),
            &y.to_vec(),
            &naive_conv(&x, &w, None, (1, 1), (p, p), (1, 1)),
            1e-5,
        );
    }
}

#[test]
fn conv2d_non_finite_inputs_land_where_the_direct_sum_puts_them() {
    // Winograd transforms a 4x4 patch per tile, so a non-finite input would meet products the
    // direct sum never forms (inf - inf, 0 · NaN); such operands run on im2col instead.
    let (c, o) = (16, 8);
    let at = |r: usize, col: usize| r * 7 + col;
    let base = rand(&[1, c, 7, 7], 90).to_vec();
    let w = rand(&[o, c, 3, 3], 91).requires_grad_();
    // +inf at channel 0, row 2, column 0: outputs (0..=2, 0) see it once, as inf · w[o][0][2 - i][0].
    let mut xv = base.clone();
    xv[at(2, 0)] = f32::INFINITY;
    let x = Tensor::from_vec(xv, &[1, c, 7, 7]).unwrap();
    let y = conv2d(&x, &w.detach(), None, 1, 0, 1, 1).to_vec();
    let wv = w.to_vec();
    for oi in 0..o {
        for i in 0..5 {
            for j in 0..5 {
                let v = y[(oi * 5 + i) * 5 + j];
                if j == 0 && i <= 2 {
                    let tap = wv[(oi * c * 3 + (2 - i)) * 3];
                    assert_eq!(v, f32::INFINITY * tap.signum(), "output ({oi}, {i}, {j})");
                } else {
                    assert!(v.is_finite(), "output ({oi}, {i}, {j}): {v}");
                }
            }
        }
    }
    // NaN at channel 0, row 6 (the last), column 3: only the bottom filter row (a = 2) of the
    // weight gradient multiplies it; the rest of the gradient stays finite.
    let mut xv = base;
    xv[at(6, 3)] = f32::NAN;
    let x = Tensor::from_vec(xv, &[1, c, 7, 7]).unwrap();
    let y = conv2d(&x, &w, None, 1, 0, 1, 1);
    (&y * &rand(&y.shape(), 92)).sum().backward();
    let gw = w.grad().unwrap().to_vec();
    for (k, v) in gw.iter().enumerate() {
        let (ci, a) = ((k / 9) % c, (k % 9) / 3);
        assert_eq!(v.is_nan(), ci == 0 && a == 2, "weight grad {k}: {v}");
    }
}

#[test]
fn conv2d_winograd_is_bitwise_deterministic_across_thread_counts() {
    // W3's second convolution on 8 images: several Winograd chunks, run in parallel with 2
    // threads.
    let x = rand(&[8, 32, 26, 26], 17);
    let w = rand(&[64, 32, 3, 3], 18);
    let b = rand(&[64], 19);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let (x, w, b) = (x.requires_grad_(), w.requires_grad_(), b.requires_grad_());
            let y = conv2d(&x, &w, Some(&b), 1, 0, 1, 1);
            let r = Tensor::uniform(&y.shape(), -1.0, 1.0, &mut seeded_rng(2));
            (&y * &r).sum().backward();
            let bits = |t: &Tensor| t.to_vec().iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            [
                bits(&y),
                bits(&x.grad().unwrap()),
                bits(&w.grad().unwrap()),
                bits(&b.grad().unwrap()),
            ]
        })
    };
    let (one, two) = (run(1), run(2));
    for (part, (a, b)) in ["output", "input grad", "weight grad", "bias grad"]
        .iter()
        .zip(one.iter().zip(&two))
    {
        assert_eq!(a, b, "{part}");
    }
}

#[test]
#[should_panic(expected = "conv2d: input shape [2, 3, 8, 8] does not fit weight shape [4, 2, 3, 3]")]
fn conv2d_channel_mismatch_names_shapes() {
    conv2d(
        &Tensor::zeros(&[2, 3, 8, 8]),
        &Tensor::zeros(&[4, 2, 3, 3]),
        None,
        1,
        0,
        1,
        1,
    );
}

#[test]
fn pooling_forward_and_gradients() {
    let x = distinct(&[2, 2, 5, 6], 3);
    let y = max_pool2d(&x, 2, 2, 0);
    assert_eq!(y.shape(), vec![2, 2, 2, 3]);
    let xv = x.to_vec();
    let want: Vec<f32> = (0..4)
        .flat_map(|pl| (0..2).flat_map(move |i| (0..3).map(move |j| (pl, i, j))))
        .map(|(pl, i, j)| {
            let at = |a: usize, b: usize| xv[pl * 30 + (2 * i + a) * 6 + 2 * j + b];
            at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1))
        })
        .collect();
    assert_eq!(y.to_vec(), want);
    check("max_pool2d 2x2", std::slice::from_ref(&x), |t| {
        max_pool2d(&t[0], 2, 2, 0)
    });
    check("max_pool2d 3x3 s2 p1", std::slice::from_ref(&x), |t| {
        max_pool2d(&t[0], 3, 2, 1)
    });
    check("max_pool2d (2,3) s1", std::slice::from_ref(&x), |t| {
        max_pool2d(&t[0], (2, 3), 1, 0)
    });
    check("avg_pool2d 2x2", std::slice::from_ref(&x), |t| {
        avg_pool2d(&t[0], 2, 2, 0)
    });
    check("avg_pool2d 3x3 s2 p1", std::slice::from_ref(&x), |t| {
        avg_pool2d(&t[0], 3, 2, 1)
    });
    // Padding counts as zero in the average (count_include_pad=True).
    let y = avg_pool2d(&Tensor::ones(&[1, 1, 2, 2]), 2, 1, 1);
    assert_eq!(y.to_vec(), vec![0.25, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 0.25]);
}

#[test]
fn batch_norm_gradients_train_and_eval() {
    for shape in [vec![6, 3], vec![4, 3, 5], vec![3, 2, 3, 3]] {
        let c = shape[1];
        let x = rand(&shape, 40);
        let (w, b) = (rand(&[c], 41).add_scalar(1.5), rand(&[c], 42));
        check(
            &format!("batch_norm train {shape:?}"),
            &[x.clone(), w.clone(), b.clone()],
            |t| batch_norm(&t[0], None, None, Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5),
        );
        let (rm, rv) = (rand(&[c], 43), rand(&[c], 44).abs().add_scalar(0.5));
        check(&format!("batch_norm eval {shape:?}"), &[x, w, b], |t| {
            batch_norm(&t[0], Some(&rm), Some(&rv), Some(&t[1]), Some(&t[2]), false, 0.1, 1e-5)
        });
    }
}

#[test]
fn losses_gradients_match_finite_differences() {
    let targets = [2usize, 0, 4];
    for (red, ls) in [
        (Reduction::Mean, 0.0),
        (Reduction::Sum, 0.0),
        (Reduction::Mean, 0.2),
        (Reduction::None, 0.1),
    ] {
        check(
            &format!("cross_entropy {red:?} smoothing {ls}"),
            &[rand(&[3, 5], 50).mul_scalar(3.0)],
            |t| cross_entropy_with(&t[0], &targets, red, ls),
        );
    }
    let target = rand(&[4, 3], 52).abs();
    for red in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        check(&format!("mse {red:?}"), &[rand(&[4, 3], 51)], |t| {
            mse_loss_with(&t[0], &target, red)
        });
        check(
            &format!("bce_with_logits {red:?}"),
            &[rand(&[4, 3], 53).mul_scalar(4.0), target.clone()],
            |t| binary_cross_entropy_with_logits_with(&t[0], &t[1], red),
        );
    }
}

#[test]
fn cross_entropy_is_stable_and_checks_targets() {
    let logits = Tensor::from_vec(vec![1000.0, -1000.0, 0.0, 0.0], &[2, 2]).unwrap();
    let l = cross_entropy_with(&logits, &[0, 1], Reduction::None, 0.0).to_vec();
    assert_eq!(l[0], 0.0);
    assert!((l[1] - 2f32.ln()).abs() < 1e-6);
    let err = std::panic::catch_unwind(|| cross_entropy_with(&Tensor::zeros(&[2, 3]), &[0, 3], Reduction::Mean, 0.0))
        .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("cross_entropy: target 3 at position 1 is out of range for 3 classes"),
        "{msg}"
    );
}
