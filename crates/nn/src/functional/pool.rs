//! 2-D max and average pooling over NCHW tensors, each one fused op with its own backward.
//!
//! Every `(image, channel)` plane is independent; large inputs are split over rayon's threads
//! by planes, so results are the same for any thread count.

use std::hint::select_unpredictable;

use ndarray::{ArrayD, IxDyn};
use neurite_tensor::Tensor;
use rayon::prelude::*;

use super::conv::{out_size, standard};
use super::{worth_parallel, Size2};

/// Pooling geometry for one plane.
#[derive(Debug, Clone, Copy)]
struct PoolGeom {
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    oh: usize,
    ow: usize,
}

impl PoolGeom {
    /// Checks the arguments the way PyTorch does and computes the output size.
    fn new(op: &str, shape: &[usize], kernel: Size2, stride: Size2, padding: Size2) -> PoolGeom {
        assert!(
            shape.len() == 4,
            "{op}: expected an input of shape [N, C, H, W], got {shape:?}"
        );
        let (Size2(kh, kw), Size2(sh, sw), Size2(ph, pw)) = (kernel, stride, padding);
        assert!(
            kh > 0 && kw > 0 && sh > 0 && sw > 0,
            "{op}: kernel ({kh}, {kw}) and stride ({sh}, {sw}) must be positive"
        );
        assert!(
            2 * ph <= kh && 2 * pw <= kw,
            "{op}: padding ({ph}, {pw}) must be at most half the kernel size ({kh}, {kw})"
        );
        let (h, w) = (shape[2], shape[3]);
        match (out_size(h, kh, sh, ph, 1), out_size(w, kw, sw, pw, 1)) {
            (Some(oh), Some(ow)) if oh > 0 && ow > 0 => PoolGeom {
                h,
                w,
                kh,
                kw,
                sh,
                sw,
                ph,
                pw,
                oh,
                ow,
            },
            _ => panic!("{op}: kernel ({kh}, {kw}) with padding ({ph}, {pw}) does not fit input shape {shape:?}"),
        }
    }

    /// The input rows (or columns) a window starting at output `o` covers, clipped to the input.
    #[inline]
    fn window(o: usize, s: usize, p: usize, k: usize, n: usize) -> (usize, usize) {
        let start = (o * s) as isize - p as isize;
        let end = (start + k as isize).min(n as isize);
        (start.max(0) as usize, end.max(0) as usize)
    }
}

/// Runs `f(plane_index, input_plane, output_plane)` over all planes, in parallel when large.
fn for_planes(
    work: usize,
    x: &[f32],
    out: &mut [f32],
    in_plane: usize,
    out_plane: usize,
    f: impl Fn(usize, &[f32], &mut [f32]) + Sync + Send,
) {
    if worth_parallel(work) {
        out.par_chunks_mut(out_plane)
            .zip(x.par_chunks(in_plane))
            .enumerate()
            .with_min_len(8)
            .for_each(|(i, (o, xi))| f(i, xi, o));
    } else {
        out.chunks_mut(out_plane)
            .zip(x.chunks(in_plane))
            .enumerate()
            .for_each(|(i, (o, xi))| f(i, xi, o));
    }
}

/// Max pooling of one plane, any geometry: each window's first maximum in row-major order
/// (a NaN takes over, as in PyTorch's kernel) and its index in the plane.
///
/// Both pooling loops select with `select_unpredictable`: plain `if` selects compile to
/// branches here, which random data mispredicts half the time.
fn max_pool_plane(g: &PoolGeom, xi: &[f32], yo: &mut [f32], io: &mut [u32]) {
    for oh in 0..g.oh {
        let (h0, h1) = PoolGeom::window(oh, g.sh, g.ph, g.kh, g.h);
        for ow in 0..g.ow {
            let (w0, w1) = PoolGeom::window(ow, g.sw, g.pw, g.kw, g.w);
            let mut best = f32::NEG_INFINITY;
            let mut best_i = h0 * g.w + w0;
            for ih in h0..h1 {
                let base = ih * g.w;
                for (iw, &v) in xi[base + w0..base + w1].iter().enumerate() {
                    let take = (v > best) | v.is_nan();
                    best = select_unpredictable(take, v, best);
                    best_i = select_unpredictable(take, base + w0 + iw, best_i);
                }
            }
            yo[oh * g.ow + ow] = best;
            io[oh * g.ow + ow] = best_i as u32;
        }
    }
}

/// [`max_pool_plane`] for the most common case, 2x2 windows at stride 2 without padding: each
/// output row reads two input rows as pairs, with no per-window bounds work.
fn max_pool_plane_2x2(g: &PoolGeom, xi: &[f32], yo: &mut [f32], io: &mut [u32]) {
    let w = g.w;
    for (r, (yrow, irow)) in yo.chunks_exact_mut(g.ow).zip(io.chunks_exact_mut(g.ow)).enumerate() {
        let base = 2 * r * w;
        let top = xi[base..base + 2 * g.ow].chunks_exact(2);
        let bottom = xi[base + w..base + w + 2 * g.ow].chunks_exact(2);
        for (c, (((y, i), t), b)) in yrow.iter_mut().zip(irow.iter_mut()).zip(top).zip(bottom).enumerate() {
            let j = (base + 2 * c) as u32;
            let (mut best, mut best_i) = (t[0], j);
            for (v, vi) in [(t[1], j + 1), (b[0], j + w as u32), (b[1], j + w as u32 + 1)] {
                let take = (v > best) | v.is_nan();
                best = select_unpredictable(take, v, best);
                best_i = select_unpredictable(take, vi, best_i);
            }
            (*y, *i) = (best, best_i);
        }
    }
}

/// 2-D max pooling, PyTorch's `F.max_pool2d` (dilation 1, floor mode), as one fused op.
///
/// `x` is `[N, C, H, W]`; padding counts as `-inf`. Each window's first maximum (in row-major
/// order; a NaN takes over, as in PyTorch's kernel) is remembered, and the backward sends the gradient to it.
///
/// ```
/// use neurite_nn::functional::max_pool2d;
/// use neurite_tensor::Tensor;
/// let x = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
/// let y = max_pool2d(&x, 2, 2, 0);
/// assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
/// ```
///
/// # Panics
/// When `x` is not 4-D, the kernel does not fit, or the padding exceeds half the kernel.
pub fn max_pool2d(x: &Tensor, kernel: impl Into<Size2>, stride: impl Into<Size2>, padding: impl Into<Size2>) -> Tensor {
    let xd = standard(x.data());
    let shape = xd.shape().to_vec();
    let g = PoolGeom::new("max_pool2d", &shape, kernel.into(), stride.into(), padding.into());
    let planes = shape[0] * shape[1];
    let (in_plane, out_plane) = (g.h * g.w, g.oh * g.ow);
    let mut out = vec![0.0f32; planes * out_plane];
    let mut idx = vec![0u32; planes * out_plane];
    let x_sl = xd.as_slice().expect("standard layout");
    let two_by_two = (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw) == (2, 2, 2, 2, 0, 0);
    let pool = |xi: &[f32], yo: &mut [f32], io: &mut [u32]| {
        if two_by_two {
            max_pool_plane_2x2(&g, xi, yo, io)
        } else {
            max_pool_plane(&g, xi, yo, io)
        }
    };
    let work = planes * out_plane * g.kh * g.kw;
    if worth_parallel(work) {
        out.par_chunks_mut(out_plane)
            .zip(idx.par_chunks_mut(out_plane))
            .zip(x_sl.par_chunks(in_plane))
            .with_min_len(8)
            .for_each(|((yo, io), xi)| pool(xi, yo, io));
    } else {
        for ((yo, io), xi) in out
            .chunks_mut(out_plane)
            .zip(idx.chunks_mut(out_plane))
            .zip(x_sl.chunks(in_plane))
        {
            pool(xi, yo, io);
        }
    }
    let out = ArrayD::from_shape_vec(IxDyn(&[shape[0], shape[1], g.oh, g.ow]), out).expect("output shape");
    Tensor::from_op(out, &[x], move |grad, _needs| {
        let gd = grad.as_standard_layout();
        let g_sl = gd.as_slice().expect("standard layout");
        let mut dx = vec![0.0f32; planes * in_plane];
        let scatter = |plane: usize, gi: &[f32], dxi: &mut [f32]| {
            let ii = &idx[plane * out_plane..(plane + 1) * out_plane];
            for (&j, &v) in ii.iter().zip(gi) {
                dxi[j as usize] += v;
            }
        };
        for_planes(planes * out_plane, g_sl, &mut dx, out_plane, in_plane, scatter);
        vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input shape"))]
    })
}

/// 2-D average pooling, PyTorch's `F.avg_pool2d` (floor mode, `count_include_pad=True`), as
/// one fused op: every window's sum is divided by `kh·kw`, padding counting as zeros.
///
/// ```
/// use neurite_nn::functional::avg_pool2d;
/// use neurite_tensor::Tensor;
/// let x = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
/// let y = avg_pool2d(&x, 2, 2, 0);
/// assert_eq!(y.to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
/// ```
///
/// # Panics
/// When `x` is not 4-D, the kernel does not fit, or the padding exceeds half the kernel.
pub fn avg_pool2d(x: &Tensor, kernel: impl Into<Size2>, stride: impl Into<Size2>, padding: impl Into<Size2>) -> Tensor {
    let xd = standard(x.data());
    let shape = xd.shape().to_vec();
    let g = PoolGeom::new("avg_pool2d", &shape, kernel.into(), stride.into(), padding.into());
    let planes = shape[0] * shape[1];
    let (in_plane, out_plane) = (g.h * g.w, g.oh * g.ow);
    let inv = 1.0 / (g.kh * g.kw) as f32;
    let mut out = vec![0.0f32; planes * out_plane];
    let x_sl = xd.as_slice().expect("standard layout");
    let work = planes * out_plane * g.kh * g.kw;
    for_planes(work, x_sl, &mut out, in_plane, out_plane, |_, xi, yo| {
        for oh in 0..g.oh {
            let (h0, h1) = PoolGeom::window(oh, g.sh, g.ph, g.kh, g.h);
            for ow in 0..g.ow {
                let (w0, w1) = PoolGeom::window(ow, g.sw, g.pw, g.kw, g.w);
                let mut s = 0.0f32;
                for ih in h0..h1 {
                    s += xi[ih * g.w + w0..ih * g.w + w1].iter().sum::<f32>();
                }
                yo[oh * g.ow + ow] = s * inv;
            }
        }
    });
    let out = ArrayD::from_shape_vec(IxDyn(&[shape[0], shape[1], g.oh, g.ow]), out).expect("output shape");
    Tensor::from_op(out, &[x], move |grad, _needs| {
        let gd = grad.as_standard_layout();
        let g_sl = gd.as_slice().expect("standard layout");
        let mut dx = vec![0.0f32; planes * in_plane];
        for_planes(work, g_sl, &mut dx, out_plane, in_plane, |_, gi, dxi| {
            for oh in 0..g.oh {
                let (h0, h1) = PoolGeom::window(oh, g.sh, g.ph, g.kh, g.h);
                for ow in 0..g.ow {
                    let (w0, w1) = PoolGeom::window(ow, g.sw, g.pw, g.kw, g.w);
                    let v = gi[oh * g.ow + ow] * inv;
                    for ih in h0..h1 {
                        dxi[ih * g.w + w0..ih * g.w + w1].iter_mut().for_each(|d| *d += v);
                    }
                }
            }
        });
        vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input shape"))]
    })
}

/// The input range `[start, end)` that output bin `i` of `out` covers over `n` inputs, as in
/// PyTorch: `floor(i·n/out) .. ceil((i+1)·n/out)`.
#[inline]
fn adaptive_bin(i: usize, out: usize, n: usize) -> (usize, usize) {
    (i * n / out, ((i + 1) * n).div_ceil(out))
}

/// Adaptive 2-D average pooling, PyTorch's `F.adaptive_avg_pool2d`, as one fused op: the
/// output is `[N, C, oh, ow]` for any input size, output `(i, j)` averaging input rows
/// `floor(i·H/oh) .. ceil((i+1)·H/oh)` and the columns likewise (bins overlap when the size
/// does not divide). `output = (1, 1)` is global average pooling.
///
/// ```
/// use neurite_nn::functional::adaptive_avg_pool2d;
/// use neurite_tensor::Tensor;
/// let x = Tensor::arange(0.0, 9.0, 1.0).reshape(&[1, 1, 3, 3]);
/// // Rows and columns {0, 1} and {1, 2}.
/// assert_eq!(adaptive_avg_pool2d(&x, 2).to_vec(), vec![2.0, 3.0, 5.0, 6.0]);
/// assert_eq!(adaptive_avg_pool2d(&x, 1).to_vec(), vec![4.0]);
/// ```
///
/// # Panics
/// When `x` is not 4-D with non-empty planes, or an output size is zero.
pub fn adaptive_avg_pool2d(x: &Tensor, output: impl Into<Size2>) -> Tensor {
    let xd = standard(x.data());
    let shape = xd.shape().to_vec();
    let Size2(oh, ow) = output.into();
    assert!(
        shape.len() == 4 && shape[2] > 0 && shape[3] > 0,
        "adaptive_avg_pool2d: expected an input of shape [N, C, H, W] with H, W > 0, got {shape:?}"
    );
    assert!(
        oh > 0 && ow > 0,
        "adaptive_avg_pool2d: output size ({oh}, {ow}) must be positive (input {shape:?})"
    );
    let (h, w) = (shape[2], shape[3]);
    let planes = shape[0] * shape[1];
    let (in_plane, out_plane) = (h * w, oh * ow);
    let mut out = vec![0.0f32; planes * out_plane];
    let x_sl = xd.as_slice().expect("standard layout");
    let work = planes * in_plane.max(out_plane);
    for_planes(work, x_sl, &mut out, in_plane, out_plane, |_, xi, yo| {
        for i in 0..oh {
            let (h0, h1) = adaptive_bin(i, oh, h);
            for j in 0..ow {
                let (w0, w1) = adaptive_bin(j, ow, w);
                let mut s = 0.0f32;
                for ih in h0..h1 {
                    s += xi[ih * w + w0..ih * w + w1].iter().sum::<f32>();
                }
                yo[i * ow + j] = s / ((h1 - h0) * (w1 - w0)) as f32;
            }
        }
    });
    let out = ArrayD::from_shape_vec(IxDyn(&[shape[0], shape[1], oh, ow]), out).expect("output shape");
    Tensor::from_op(out, &[x], move |grad, _needs| {
        let gd = grad.as_standard_layout();
        let g_sl = gd.as_slice().expect("standard layout");
        let mut dx = vec![0.0f32; planes * in_plane];
        for_planes(work, g_sl, &mut dx, out_plane, in_plane, |_, gi, dxi| {
            for i in 0..oh {
                let (h0, h1) = adaptive_bin(i, oh, h);
                for j in 0..ow {
                    let (w0, w1) = adaptive_bin(j, ow, w);
                    let v = gi[i * ow + j] / ((h1 - h0) * (w1 - w0)) as f32;
                    for ih in h0..h1 {
                        dxi[ih * w + w0..ih * w + w1].iter_mut().for_each(|d| *d += v);
                    }
                }
            }
        });
        vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input shape"))]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Values from a small set, so windows hold ties; some NaNs and infinities too.
    fn value() -> impl Strategy<Value = f32> {
        prop_oneof![
            8 => (-3i8..=3).prop_map(f32::from),
            1 => Just(f32::NAN),
            1 => Just(f32::NEG_INFINITY),
        ]
    }

    proptest! {
        /// The 2x2 fast path picks the same values and indices as the general loop.
        #[test]
        fn max_pool_2x2_matches_general((h, w, x) in (2usize..13, 2usize..13)
            .prop_flat_map(|(h, w)| (Just(h), Just(w), prop::collection::vec(value(), h * w))))
        {
            let g = PoolGeom::new("test", &[1, 1, h, w], Size2(2, 2), Size2(2, 2), Size2(0, 0));
            let n = g.oh * g.ow;
            let (mut y_fast, mut i_fast) = (vec![0.0; n], vec![0; n]);
            let (mut y_ref, mut i_ref) = (vec![0.0; n], vec![0; n]);
            max_pool_plane_2x2(&g, &x, &mut y_fast, &mut i_fast);
            max_pool_plane(&g, &x, &mut y_ref, &mut i_ref);
            prop_assert_eq!(&i_fast, &i_ref);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&y_fast), bits(&y_ref));
        }
    }
}
