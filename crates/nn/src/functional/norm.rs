//! Batch normalisation over `[N, C, *]` tensors and layer normalisation over trailing axes,
//! each one fused op with its own backward.
//!
//! Statistics are accumulated per channel (per row for layer norm) in f64, in a fixed order,
//! so results do not depend on the thread count; the element-wise passes split over
//! `(image, channel)` planes (rows).

use ndarray::{ArrayD, IxDyn};
use neurite_tensor::Tensor;
use rayon::prelude::*;

use super::conv::standard;
use super::worth_parallel;

/// Sums `f(value, channel)` over every element of channel `ch`, in f64.
fn channel_sum(x: &[f32], n: usize, c: usize, s: usize, ch: usize, f: impl Fn(usize, f32) -> f64) -> f64 {
    let mut acc = 0.0f64;
    for i in 0..n {
        let base = (i * c + ch) * s;
        for (j, &v) in x[base..base + s].iter().enumerate() {
            acc += f(base + j, v);
        }
    }
    acc
}

/// Computes one value per channel, in parallel when the tensor is large.
fn per_channel(len: usize, c: usize, f: impl Fn(usize) -> (f64, f64) + Sync + Send) -> Vec<(f64, f64)> {
    if worth_parallel(len) && c > 1 {
        (0..c).into_par_iter().map(f).collect()
    } else {
        (0..c).map(f).collect()
    }
}

/// Maps every element with `f(flat_index, channel)`, split by planes.
fn map_planes(len: usize, c: usize, s: usize, f: impl Fn(usize, usize) -> f32 + Sync + Send) -> Vec<f32> {
    let mut out = vec![0.0f32; len];
    let plane = |(pi, o): (usize, &mut [f32])| {
        let ch = pi % c;
        for (j, v) in o.iter_mut().enumerate() {
            *v = f(pi * s + j, ch);
        }
    };
    if s == 0 {
        return out;
    }
    if worth_parallel(len) {
        out.par_chunks_mut(s).enumerate().with_min_len(4).for_each(plane);
    } else {
        out.chunks_mut(s).enumerate().for_each(plane);
    }
    out
}

/// Batch normalisation, PyTorch's `F.batch_norm`, over `x: [N, C]` or `[N, C, ...]`.
///
/// In training mode (`training = true`) each channel is normalised with the batch mean and
/// biased variance, and the running statistics, when given, are updated in place:
/// `running = (1 - momentum)·running + momentum·batch`, with the *unbiased* variance, as PyTorch
/// does. In evaluation mode the running statistics are used (and are required). `weight` and
/// `bias` (`[C]`) are the affine scale and shift. The gradient flows to `x`, `weight` and `bias`.
///
/// ```
/// use neurite_nn::functional::batch_norm;
/// use neurite_tensor::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 3.0], &[2, 1]).unwrap();
/// let y = batch_norm(&x, None, None, None, None, true, 0.1, 0.0);
/// assert_eq!(y.to_vec(), vec![-1.0, 1.0]);
/// ```
///
/// # Panics
/// When `x` has fewer than 2 axes, a per-channel tensor is not `[C]`, training mode sees one
/// value per channel, or evaluation mode has no running statistics.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f32,
    eps: f32,
) -> Tensor {
    let xd = standard(x.data());
    let shape = xd.shape().to_vec();
    assert!(
        shape.len() >= 2,
        "batch_norm: expected an input of shape [N, C, ...], got {shape:?}"
    );
    let (n, c) = (shape[0], shape[1]);
    let s: usize = shape[2..].iter().product();
    let m = n * s;
    let per_ch = |name: &str, t: Option<&Tensor>| -> Option<Vec<f32>> {
        t.map(|t| {
            let sh = t.shape();
            assert!(
                sh == [c],
                "batch_norm: {name} shape {sh:?} does not fit input shape {shape:?} (expected [{c}])"
            );
            t.to_vec()
        })
    };
    let gamma = per_ch("weight", weight);
    let beta = per_ch("bias", bias);
    let rm = per_ch("running_mean", running_mean);
    let rv = per_ch("running_var", running_var);
    let x_sl = xd.as_slice().expect("standard layout");
    let len = x_sl.len();

    // Per channel: the mean and 1/sqrt(var + eps) used to normalise.
    let stats: Vec<(f64, f64)> = if training {
        assert!(
            m > 1,
            "batch_norm: expected more than 1 value per channel when training, got input shape {shape:?}"
        );
        let st = per_channel(len, c, |ch| {
            let mean = channel_sum(x_sl, n, c, s, ch, |_, v| v as f64) / m as f64;
            let var = channel_sum(x_sl, n, c, s, ch, |_, v| (v as f64 - mean).powi(2)) / m as f64;
            (mean, var)
        });
        let mom = momentum as f64;
        if let (Some(t), Some(rm)) = (running_mean, &rm) {
            let upd: Vec<f32> = rm
                .iter()
                .zip(&st)
                .map(|(&r, &(mu, _))| ((1.0 - mom) * r as f64 + mom * mu) as f32)
                .collect();
            t.update(|mut v| v.iter_mut().zip(upd).for_each(|(d, u)| *d = u));
        }
        if let (Some(t), Some(rv)) = (running_var, &rv) {
            let unbias = m as f64 / (m - 1) as f64;
            let upd: Vec<f32> = rv
                .iter()
                .zip(&st)
                .map(|(&r, &(_, var))| ((1.0 - mom) * r as f64 + mom * var * unbias) as f32)
                .collect();
            t.update(|mut v| v.iter_mut().zip(upd).for_each(|(d, u)| *d = u));
        }
        st.into_iter()
            .map(|(mu, var)| (mu, 1.0 / (var + eps as f64).sqrt()))
            .collect()
    } else {
        let (rm, rv) = match (&rm, &rv) {
            (Some(a), Some(b)) => (a, b),
            _ => panic!("batch_norm: evaluation mode needs running_mean and running_var (input shape {shape:?})"),
        };
        rm.iter()
            .zip(rv)
            .map(|(&mu, &var)| (mu as f64, 1.0 / (var as f64 + eps as f64).sqrt()))
            .collect()
    };
    let scale: Vec<f32> = (0..c)
        .map(|ch| (stats[ch].1 * gamma.as_ref().map_or(1.0, |g| g[ch] as f64)) as f32)
        .collect();
    let shift: Vec<f32> = (0..c)
        .map(|ch| (beta.as_ref().map_or(0.0, |b| b[ch] as f64) - stats[ch].0 * scale[ch] as f64) as f32)
        .collect();
    let y = map_planes(len, c, s, |i, ch| x_sl[i] * scale[ch] + shift[ch]);
    let y = ArrayD::from_shape_vec(IxDyn(&shape), y).expect("output shape");

    let mut inputs = vec![x];
    let has_w = weight.is_some();
    inputs.extend(weight);
    inputs.extend(bias);
    Tensor::from_op(y, &inputs, move |grad, needs| {
        let gd = grad.as_standard_layout();
        let g_sl = gd.as_slice().expect("standard layout");
        let x_sl = xd.as_slice().expect("standard layout");
        let xhat = |i: usize, ch: usize| ((x_sl[i] as f64 - stats[ch].0) * stats[ch].1) as f32;
        // Per channel: Σ dy and Σ dy·x̂.
        let sums = per_channel(len, c, |ch| {
            let sdy = channel_sum(g_sl, n, c, s, ch, |_, v| v as f64);
            let sdyx = channel_sum(g_sl, n, c, s, ch, |i, v| v as f64 * xhat(i, ch) as f64);
            (sdy, sdyx)
        });
        let gx = needs[0].then(|| {
            let gam = |ch: usize| gamma.as_ref().map_or(1.0, |g| g[ch] as f64);
            let dx = if training {
                let coef: Vec<(f32, f32, f32)> = (0..c)
                    .map(|ch| {
                        let k = gam(ch) * stats[ch].1;
                        (
                            k as f32,
                            (k * sums[ch].0 / m as f64) as f32,
                            (k * sums[ch].1 / m as f64) as f32,
                        )
                    })
                    .collect();
                map_planes(len, c, s, |i, ch| {
                    let (k, a, b) = coef[ch];
                    k * g_sl[i] - a - b * xhat(i, ch)
                })
            } else {
                let k: Vec<f32> = (0..c).map(|ch| (gam(ch) * stats[ch].1) as f32).collect();
                map_planes(len, c, s, |i, ch| g_sl[i] * k[ch])
            };
            ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input shape")
        });
        let mut grads = vec![gx];
        let mut next = 1;
        if has_w {
            grads.push(
                needs[next].then(|| {
                    ArrayD::from_shape_vec(IxDyn(&[c]), sums.iter().map(|t| t.1 as f32).collect()).expect("[C]")
                }),
            );
            next += 1;
        }
        if needs.len() > next {
            grads.push(
                needs[next].then(|| {
                    ArrayD::from_shape_vec(IxDyn(&[c]), sums.iter().map(|t| t.0 as f32).collect()).expect("[C]")
                }),
            );
        }
        grads
    })
}

/// Runs `f(row, input_row, output_row)` over rows of `d` values, in parallel when large; every
/// row is independent, so results do not depend on the thread count.
fn map_rows(x: &[f32], d: usize, f: impl Fn(usize, &[f32], &mut [f32]) + Sync + Send) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    if worth_parallel(x.len()) {
        out.par_chunks_mut(d)
            .zip(x.par_chunks(d))
            .enumerate()
            .with_min_len(4)
            .for_each(|(r, (o, xr))| f(r, xr, o));
    } else {
        out.chunks_mut(d)
            .zip(x.chunks(d))
            .enumerate()
            .for_each(|(r, (o, xr))| f(r, xr, o));
    }
    out
}

/// `x̂ = (v - mean)·rstd` for a value of row `r`, from that row's `(mean, rstd)`.
#[inline]
fn normalized(stats: &[(f64, f64)], r: usize, v: f32) -> f32 {
    ((v as f64 - stats[r].0) * stats[r].1) as f32
}

/// Layer normalisation, PyTorch's `F.layer_norm(x, normalized_shape, weight, bias, eps)`: every
/// slice over the trailing `normalized_shape` axes is normalised with its own mean and biased
/// variance (accumulated in f64), then scaled by `weight` and shifted by `bias` (both of shape
/// `normalized_shape`, element-wise). The gradient flows to `x`, `weight` and `bias`; the
/// parameter gradients are summed over rows in row order.
///
/// ```
/// use neurite_nn::functional::layer_norm;
/// use neurite_tensor::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 3.0, 10.0, 30.0], &[2, 2]).unwrap();
/// let y = layer_norm(&x, &[2], None, None, 0.0);
/// assert_eq!(y.to_vec(), vec![-1.0, 1.0, -1.0, 1.0]);
/// ```
///
/// # Panics
/// When `normalized_shape` is empty or holds a zero, `x`'s trailing axes are not
/// `normalized_shape`, or `weight`/`bias` are not of that shape (the message names
/// `layer_norm` and the shapes).
pub fn layer_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f32,
) -> Tensor {
    let xd = standard(x.data());
    let shape = xd.shape().to_vec();
    let norm = normalized_shape.to_vec();
    assert!(
        !norm.is_empty() && norm.iter().all(|&v| v > 0),
        "layer_norm: normalized_shape {norm:?} must be non-empty with positive sizes (input shape {shape:?})"
    );
    assert!(
        shape.len() >= norm.len() && shape[shape.len() - norm.len()..] == norm[..],
        "layer_norm: input shape {shape:?} does not end in normalized_shape {norm:?}"
    );
    let per_elem = |name: &str, t: Option<&Tensor>| -> Option<Vec<f32>> {
        t.map(|t| {
            let sh = t.shape();
            assert!(
                sh == norm,
                "layer_norm: {name} shape {sh:?} does not fit normalized_shape {norm:?} (input shape {shape:?})"
            );
            t.to_vec()
        })
    };
    let gamma = per_elem("weight", weight);
    let beta = per_elem("bias", bias);
    let d: usize = norm.iter().product();
    let x_sl = xd.as_slice().expect("standard layout");
    let rows = x_sl.len() / d;

    // Per row: the mean and 1/sqrt(var + eps).
    let stats: Vec<(f64, f64)> = x_sl
        .chunks(d)
        .map(|r| {
            let mean = r.iter().map(|&v| v as f64).sum::<f64>() / d as f64;
            let var = r.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / d as f64;
            (mean, 1.0 / (var + eps as f64).sqrt())
        })
        .collect();
    let y = map_rows(x_sl, d, |r, xr, yr| {
        for (j, (y, &v)) in yr.iter_mut().zip(xr).enumerate() {
            let g = gamma.as_ref().map_or(1.0, |g| g[j]);
            let b = beta.as_ref().map_or(0.0, |b| b[j]);
            *y = normalized(&stats, r, v) * g + b;
        }
    });
    let y = ArrayD::from_shape_vec(IxDyn(&shape), y).expect("output shape");

    let mut inputs = vec![x];
    let has_w = weight.is_some();
    inputs.extend(weight);
    inputs.extend(bias);
    Tensor::from_op(y, &inputs, move |grad, needs| {
        let gd = grad.as_standard_layout();
        let g_sl = gd.as_slice().expect("standard layout");
        let x_sl = xd.as_slice().expect("standard layout");
        let xhat = |r: usize, v: f32| normalized(&stats, r, v);
        let gx = needs[0].then(|| {
            // dx = rstd·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) with dx̂ = dy·γ, per row.
            let dx = map_rows(g_sl, d, |r, gr, dxr| {
                let xr = &x_sl[r * d..(r + 1) * d];
                let dxhat = |j: usize| gr[j] as f64 * gamma.as_ref().map_or(1.0, |g| g[j] as f64);
                let (mut s1, mut s2) = (0.0f64, 0.0f64);
                for (j, &v) in xr.iter().enumerate() {
                    s1 += dxhat(j);
                    s2 += dxhat(j) * xhat(r, v) as f64;
                }
                let (m1, m2) = (s1 / d as f64, s2 / d as f64);
                for (j, (o, &v)) in dxr.iter_mut().zip(xr).enumerate() {
                    *o = ((dxhat(j) - m1 - xhat(r, v) as f64 * m2) * stats[r].1) as f32;
                }
            });
            ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input shape")
        });
        let need_w = has_w && needs[1];
        let need_b = needs.len() > 1 + has_w as usize && needs[1 + has_w as usize];
        // Σ over rows, in row order: dγ = Σ dy·x̂, dβ = Σ dy.
        let (mut dg, mut db) = (vec![0.0f64; d], vec![0.0f64; d]);
        if need_w || need_b {
            for r in 0..rows {
                let (gr, xr) = (&g_sl[r * d..(r + 1) * d], &x_sl[r * d..(r + 1) * d]);
                for j in 0..d {
                    dg[j] += gr[j] as f64 * xhat(r, xr[j]) as f64;
                    db[j] += gr[j] as f64;
                }
            }
        }
        let param = |v: &[f64]| {
            ArrayD::from_shape_vec(IxDyn(&norm), v.iter().map(|&a| a as f32).collect()).expect("param shape")
        };
        let mut grads = vec![gx];
        if has_w {
            grads.push(need_w.then(|| param(&dg)));
        }
        if needs.len() > grads.len() {
            grads.push(need_b.then(|| param(&db)));
        }
        grads
    })
}
