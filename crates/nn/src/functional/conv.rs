//! 2-D convolution over NCHW tensors as one fused op: im2col + sgemm forward; sgemm + col2im
//! for the input gradient, sgemm for the weight gradient and a sum for the bias gradient.
//!
//! Work is done one image at a time, so the column matrix (`[C·kh·kw, OH·OW]`) exists for one
//! image per worker, never for the whole batch. Images run in parallel on rayon's pool. The
//! weight and bias gradients are reduced over fixed chunks of 4 images, each chunk
//! summed in image order, then the chunk partials summed in chunk order: the result is
//! bit-identical whatever the number of threads.
//!
//! Grouped convolution (`groups = G`, depthwise when `G = C`) runs the same im2col + sgemm
//! per group inside each image: group `g` reads input channels `g·C/G ..`, which are
//! contiguous in NCHW, and writes output channels `g·O/G ..` with weight rows `g·O/G ..`.
//!
//! Stride-1, undilated, ungrouped 3x3 convolutions with padding up to 2 run on Winograd
//! F(2x2, 3x3) instead (`winograd.rs`) where that pays ([`Algorithm`]): the forward and the
//! weight gradient when the input has at least [`WINOGRAD_MIN_CHANNELS`] channels; the input
//! gradient stays on im2col unless forced. The `NEURITE_CONV` environment variable (`im2col`
//! or `winograd`) forces one algorithm wherever it applies.

use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewMut2, Axis, IxDyn, Slice};
use neurite_tensor::gemm::gemm;
use neurite_tensor::{Tensor, TensorData};
use rayon::prelude::*;

use super::epilogue::Epilogue;
use super::winograd::{self, Plan};
use super::{worth_parallel, Size2};

/// The environment variable that forces a convolution algorithm (see [`Algorithm::forced`]).
pub const ALGORITHM_ENV: &str = "NEURITE_CONV";

/// Channel count from which a Winograd-eligible product runs on Winograd F(2x2, 3x3) rather
/// than im2col (the channels summed over: the input's for the forward and the weight
/// gradient, the output's for the input gradient). Below it the 16 products are too thin.
pub const WINOGRAD_MIN_CHANNELS: usize = 16;

/// How a part of a convolution (forward, input gradient, weight gradient) is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Columns of the image (im2col) times the weight matrix, one image at a time.
    Im2col,
    /// Winograd F(2x2, 3x3): 16 products over the 4x4-transformed tiles of chunks of images
    /// (stride-1, undilated, ungrouped 3x3 convolutions with padding at most 2 only).
    Winograd,
}

impl Algorithm {
    /// The algorithm `NEURITE_CONV` names (`im2col` or `winograd`, any case), if set; an
    /// unknown name is reported once on stderr and ignored. Read once per process.
    pub fn forced() -> Option<Algorithm> {
        static FORCED: std::sync::OnceLock<Option<Algorithm>> = std::sync::OnceLock::new();
        *FORCED.get_or_init(|| {
            let name = std::env::var(ALGORITHM_ENV).ok()?;
            match name.trim().to_ascii_lowercase().as_str() {
                "im2col" => Some(Algorithm::Im2col),
                "winograd" => Some(Algorithm::Winograd),
                _ => {
                    eprintln!("neurite: {ALGORITHM_ENV}={name}: expected `im2col` or `winograd`; choosing per shape");
                    None
                }
            }
        })
    }

    /// The algorithm for the forward or the weight gradient of a convolution whose input has
    /// `channels` channels: im2col when the geometry does not allow Winograd (`eligible`
    /// false), else the forced one if any, else Winograd from [`WINOGRAD_MIN_CHANNELS`]
    /// channels. A function of the shape alone, so results never depend on the thread count.
    pub fn choose(eligible: bool, channels: usize) -> Algorithm {
        if !eligible {
            return Algorithm::Im2col;
        }
        Algorithm::forced().unwrap_or(if channels >= WINOGRAD_MIN_CHANNELS {
            Algorithm::Winograd
        } else {
            Algorithm::Im2col
        })
    }

    /// The algorithm for the input gradient: im2col unless Winograd is forced (and the
    /// geometry allows it). Winograd's input gradient, a convolution of the output gradient
    /// padded by `2 - p`, transforms `O` channels of a larger plane and measured slower than
    /// im2col + col2im on W3's second convolution (16.3 ms against 12.7 ms, one core), and
    /// level on W4's.
    pub fn choose_input_grad(eligible: bool) -> Algorithm {
        match Algorithm::forced() {
            Some(Algorithm::Winograd) if eligible => Algorithm::Winograd,
            _ => Algorithm::Im2col,
        }
    }
}

/// The rows of group `gi`'s filters (`og` per group) in the `[out, k]` weight matrix. (A
/// `Slice`, not ndarray's `s!`, whose expansion allows `unsafe_code`, which this crate forbids.)
fn group_rows(gi: usize, og: usize) -> Slice {
    Slice::from(gi * og..(gi + 1) * og)
}

/// Images whose weight-gradient contributions are summed together before the fixed-order
/// reduction across chunks. Independent of the thread count, which keeps results deterministic.
const CHUNK: usize = 4;

/// The geometry of one convolution: input plane, kernel, stride, padding, dilation, output.
/// `c` is the channel count of one group; an image has `groups·c` channels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geom {
    pub groups: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Geom {
    /// Whether Winograd F(2x2, 3x3) computes this convolution: one group, a 3x3 kernel,
    /// stride 1, dilation 1 and padding at most 2 (so that the input gradient, padded by
    /// `2 - p`, is such a convolution too).
    fn winograd_eligible(&self) -> bool {
        self.groups == 1
            && (self.kh, self.kw, self.sh, self.sw, self.dh, self.dw) == (3, 3, 1, 1, 1, 1)
            && self.ph <= 2
            && self.pw <= 2
    }

    /// The Winograd plan of the forward, for `o` output channels.
    fn winograd_plan(&self, o: usize) -> Plan {
        Plan::new(self.c, o, (self.h, self.w), (self.ph, self.pw))
    }

    /// Rows of the column matrix: `C·kh·kw`.
    fn k(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Columns of the column matrix: `OH·OW`.
    fn p(&self) -> usize {
        self.oh * self.ow
    }

    /// Values in one group's slice of an input image: `c·H·W`.
    fn group_img(&self) -> usize {
        self.c * self.h * self.w
    }

    /// Values in one input image: `groups·c·H·W`.
    fn img(&self) -> usize {
        self.groups * self.group_img()
    }
}

/// PyTorch's output size `(n + 2p - d(k-1) - 1) / s + 1`, or `None` when the (dilated) kernel
/// is larger than the padded input.
pub(crate) fn out_size(n: usize, k: usize, s: usize, p: usize, d: usize) -> Option<usize> {
    let span = d * (k - 1) + 1;
    (n + 2 * p).checked_sub(span).map(|r| r / s + 1)
}

/// The output positions `o` in `0..out` whose input index `o·s + off` lies in `0..n`, as a
/// half-open range `lo..hi` (empty when none does).
#[inline]
fn valid_range(n: usize, out: usize, s: usize, off: isize) -> (usize, usize) {
    let lo = if off >= 0 { 0 } else { (off.unsigned_abs()).div_ceil(s) };
    let last = n as isize - 1 - off;
    let hi = if last < 0 { 0 } else { (last as usize / s + 1).min(out) };
    (lo.min(hi), hi)
}

/// Writes the column matrix of one image: `col[(c, ki, kj), (oh, ow)] = x[c, oh·sh + ki·dh - ph,
/// ow·sw + kj·dw - pw]`, zero where that falls in the padding. Each row is filled from
/// contiguous runs of the input row (a `memcpy` at stride 1).
fn im2col(g: &Geom, x: &[f32], col: &mut [f32]) {
    let p = g.p();
    for c in 0..g.c {
        let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ki in 0..g.kh {
            let off_h = (ki * g.dh) as isize - g.ph as isize;
            let (oh_lo, oh_hi) = valid_range(g.h, g.oh, g.sh, off_h);
            for kj in 0..g.kw {
                let off_w = (kj * g.dw) as isize - g.pw as isize;
                let (ow_lo, ow_hi) = valid_range(g.w, g.ow, g.sw, off_w);
                let row = ((c * g.kh + ki) * g.kw + kj) * p;
                let dst = &mut col[row..row + p];
                dst[..oh_lo * g.ow].fill(0.0);
                dst[oh_hi * g.ow..].fill(0.0);
                for oh in oh_lo..oh_hi {
                    let ih = ((oh * g.sh) as isize + off_h) as usize;
                    let src = &plane[ih * g.w..(ih + 1) * g.w];
                    let d = &mut dst[oh * g.ow..(oh + 1) * g.ow];
                    d[..ow_lo].fill(0.0);
                    d[ow_hi..].fill(0.0);
                    if ow_lo < ow_hi {
                        let iw0 = ((ow_lo * g.sw) as isize + off_w) as usize;
                        let run = &mut d[ow_lo..ow_hi];
                        if g.sw == 1 {
                            run.copy_from_slice(&src[iw0..iw0 + run.len()]);
                        } else {
                            for (i, v) in run.iter_mut().enumerate() {
                                *v = src[iw0 + i * g.sw];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every column-matrix entry back onto the input position it
/// was read from (`dx` must be zeroed by the caller). Same loop order, so it is as cache-friendly.
fn col2im(g: &Geom, col: &[f32], dx: &mut [f32]) {
    let p = g.p();
    for c in 0..g.c {
        let plane = &mut dx[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ki in 0..g.kh {
            let off_h = (ki * g.dh) as isize - g.ph as isize;
            let (oh_lo, oh_hi) = valid_range(g.h, g.oh, g.sh, off_h);
            for kj in 0..g.kw {
                let off_w = (kj * g.dw) as isize - g.pw as isize;
                let (ow_lo, ow_hi) = valid_range(g.w, g.ow, g.sw, off_w);
                if ow_lo >= ow_hi {
                    continue;
                }
                let row = ((c * g.kh + ki) * g.kw + kj) * p;
                let src = &col[row..row + p];
                for oh in oh_lo..oh_hi {
                    let ih = ((oh * g.sh) as isize + off_h) as usize;
                    let dst = &mut plane[ih * g.w..(ih + 1) * g.w];
                    let s = &src[oh * g.ow + ow_lo..oh * g.ow + ow_hi];
                    let iw0 = ((ow_lo * g.sw) as isize + off_w) as usize;
                    if g.sw == 1 {
                        for (d, v) in dst[iw0..iw0 + s.len()].iter_mut().zip(s) {
                            *d += v;
                        }
                    } else {
                        for (i, v) in s.iter().enumerate() {
                            dst[iw0 + i * g.sw] += v;
                        }
                    }
                }
            }
        }
    }
}

/// Whether every value is finite (neither NaN nor infinite): `v · 0` is a signed zero for
/// finite `v` and NaN otherwise, summed in 16 lanes so that the loop vectorises.
fn all_finite(v: &[f32]) -> bool {
    let mut acc = [0.0f32; 16];
    let mut chunks = v.chunks_exact(16);
    for chunk in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a += x * 0.0;
        }
    }
    let rest: f32 = chunks.remainder().iter().map(|&x| x * 0.0).sum();
    !(rest.is_nan() || acc.iter().any(|a| a.is_nan()))
}

/// A standard-layout (row-major, contiguous) handle to `a`, copying only when needed.
pub(crate) fn standard(a: TensorData) -> TensorData {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned().into_shared()
    }
}

/// 2-D convolution, PyTorch's `F.conv2d(x, weight, bias, stride, padding, dilation, groups)`,
/// as one fused op.
///
/// `x` is `[N, C, H, W]`, `weight` `[O, C/groups, kh, kw]`, `bias` `[O]`; the result is
/// `[N, O, OH, OW]` with `OH = (H + 2·pad_h - dil_h·(kh-1) - 1) / stride_h + 1` (likewise for
/// the width). `stride`, `padding` and `dilation` take one number for both axes or a pair.
/// With `groups = G` the channels are split into `G` groups convolved separately (output
/// channels `g·O/G ..` see only input channels `g·C/G ..`); `groups = C` is a depthwise
/// convolution.
///
/// ```
/// use neurite_nn::functional::conv2d;
/// use neurite_tensor::Tensor;
/// let x = Tensor::ones(&[1, 1, 4, 4]);
/// let w = Tensor::ones(&[2, 1, 3, 3]);
/// let y = conv2d(&x, &w, None, 1, 1, 1, 1); // stride 1, padding 1, dilation 1, groups 1
/// assert_eq!(y.shape(), vec![1, 2, 4, 4]);
/// assert_eq!(y.to_vec()[0], 4.0); // a corner sees 2x2 ones
/// assert_eq!(y.to_vec()[5], 9.0); // an inner pixel sees all 9
///
/// // Depthwise: each of 3 channels has its own 1x1 kernel (scales 1, 2, 3).
/// let x = Tensor::ones(&[1, 3, 2, 2]);
/// let w = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3, 1, 1, 1]).unwrap();
/// assert_eq!(conv2d(&x, &w, None, 1, 0, 1, 3).to_vec(), [1., 1., 1., 1., 2., 2., 2., 2., 3., 3., 3., 3.]);
/// ```
///
/// # Panics
/// When `x` or `weight` is not 4-D, `groups` is zero or does not divide `C` and `O`, the
/// weight's channel count is not `C/groups`, the bias is not `[O]`, a stride or dilation is
/// zero, or the kernel does not fit the padded input (the message names `conv2d` and the
/// shapes).
pub fn conv2d(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: impl Into<Size2>,
    padding: impl Into<Size2>,
    dilation: impl Into<Size2>,
    groups: usize,
) -> Tensor {
    let geometry = (stride.into(), padding.into(), dilation.into());
    conv2d_with(x, weight, bias, geometry, groups, Epilogue::Identity)
}

/// `relu(conv2d(..))` as one op: [`conv2d`] with the ReLU applied to each image's output while
/// it is still in cache, and the backward masking the gradient by the output's sign (what
/// `nn.Conv2d` followed by `nn.ReLU` computes). Same values and gradients as
/// `conv2d(..).relu()`, without the separate pass, allocation and backward of the activation.
///
/// ```
/// use neurite_nn::functional::{conv2d, conv2d_relu};
/// use neurite_tensor::Tensor;
/// let x = Tensor::arange(-4.0, 5.0, 1.0).reshape(&[1, 1, 3, 3]);
/// let w = Tensor::ones(&[1, 1, 1, 1]);
/// assert_eq!(conv2d_relu(&x, &w, None, 1, 0, 1, 1).to_vec(), conv2d(&x, &w, None, 1, 0, 1, 1).relu().to_vec());
/// ```
///
/// # Panics
/// As [`conv2d`].
pub fn conv2d_relu(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: impl Into<Size2>,
    padding: impl Into<Size2>,
    dilation: impl Into<Size2>,
    groups: usize,
) -> Tensor {
    let geometry = (stride.into(), padding.into(), dilation.into());
    conv2d_with(x, weight, bias, geometry, groups, Epilogue::Relu)
}

/// [`conv2d`] with an [`Epilogue`]; `geometry` is (stride, padding, dilation).
fn conv2d_with(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    geometry: (Size2, Size2, Size2),
    groups: usize,
    epilogue: Epilogue,
) -> Tensor {
    let (Size2(sh, sw), Size2(ph, pw), Size2(dh, dw)) = geometry;
    let xd = standard(x.data());
    let wd = standard(weight.data());
    let (xs, ws) = (xd.shape().to_vec(), wd.shape().to_vec());
    assert!(
        xs.len() == 4 && ws.len() == 4,
        "conv2d: input shape {xs:?} does not fit weight shape {ws:?} (expected input [N, C, H, W] and weight \
         [O, C/groups, kh, kw])"
    );
    assert!(
        groups > 0 && xs[1].is_multiple_of(groups) && ws[0].is_multiple_of(groups),
        "conv2d: groups = {groups} must divide the input channels and the output channels (input shape {xs:?}, \
         weight shape {ws:?})"
    );
    assert!(
        xs[1] == ws[1] * groups,
        "conv2d: input shape {xs:?} does not fit weight shape {ws:?} with groups = {groups} (expected input \
         [N, C, H, W] and weight [O, C/groups, kh, kw])"
    );
    assert!(
        sh > 0 && sw > 0 && dh > 0 && dw > 0,
        "conv2d: stride ({sh}, {sw}) and dilation ({dh}, {dw}) must be positive"
    );
    let (n, c, h, w) = (xs[0], ws[1], xs[2], xs[3]);
    let (o, kh, kw) = (ws[0], ws[2], ws[3]);
    assert!(kh > 0 && kw > 0, "conv2d: empty kernel in weight shape {ws:?}");
    let (oh, ow) = match (out_size(h, kh, sh, ph, dh), out_size(w, kw, sw, pw, dw)) {
        (Some(oh), Some(ow)) => (oh, ow),
        _ => panic!(
            "conv2d: kernel {kh}x{kw} with dilation ({dh}, {dw}) does not fit input shape {xs:?} with padding ({ph}, {pw})"
        ),
    };
    let bd = bias.map(|b| {
        let b = standard(b.data());
        assert!(
            b.shape() == [o],
            "conv2d: bias shape {:?} does not fit weight shape {ws:?}",
            b.shape()
        );
        b
    });
    let g = Geom {
        groups,
        c,
        h,
        w,
        kh,
        kw,
        sh,
        sw,
        ph,
        pw,
        dh,
        dw,
        oh,
        ow,
    };
    let (k, p) = (g.k(), g.p());
    let w2 = wd.view().into_shape_with_order((o, k)).expect("row-major weight");
    let x_sl = xd.as_slice().expect("standard layout");
    let b_sl = bd.as_ref().map(|b| b.as_slice().expect("standard layout"));

    let mut out = vec![0.0f32; n * o * p];
    // Winograd mixes each 4x4 input patch (and each filter's taps), so a NaN or infinity would
    // reach outputs whose direct sum never meets it: non-finite operands run on im2col, which
    // puts them where PyTorch does.
    let w_finite = all_finite(wd.as_slice().expect("standard layout"));
    let eligible = g.winograd_eligible() && w_finite;
    if Algorithm::choose(eligible, c) == Algorithm::Winograd && all_finite(x_sl) {
        let u = winograd::filter_transform(o, c, wd.as_slice().expect("standard layout"));
        winograd::forward(&g.winograd_plan(o), n, x_sl, &u, b_sl, epilogue, &mut out);
    } else {
        im2col_forward(&g, &w2, x_sl, b_sl, n, o, epilogue, &mut out);
    }
    let out = ArrayD::from_shape_vec(IxDyn(&[n, o, oh, ow]), out)
        .expect("output shape")
        .into_shared();
    let out_kept = epilogue.keeps_output().then(|| out.clone());

    let mut inputs = vec![x, weight];
    inputs.extend(bias);
    Tensor::from_op(out, &inputs, move |grad, needs| {
        let grad = epilogue.backward(grad, out_kept.as_ref());
        let gd = grad.as_standard_layout();
        let g_sl = gd.as_slice().expect("standard layout");
        let w2 = wd.view().into_shape_with_order((o, k)).expect("row-major weight");
        let x_sl = xd.as_slice().expect("standard layout");
        let w_sl = wd.as_slice().expect("standard layout");
        let gx = needs[0].then(|| match Algorithm::choose_input_grad(eligible && all_finite(g_sl)) {
            Algorithm::Winograd => winograd_input_grad(&g, w_sl, g_sl, n, o),
            Algorithm::Im2col => input_grad(&g, &w2, g_sl, n, o),
        });
        let need_b = needs.len() > 2 && needs[2];
        let (gw, gb) = if needs[1] || need_b {
            let wino_w = needs[1]
                && Algorithm::choose(eligible, c) == Algorithm::Winograd
                && all_finite(x_sl)
                && all_finite(g_sl);
            let (gw, gb) = weight_grads(&g, x_sl, g_sl, n, o, needs[1] && !wino_w, need_b);
            let gw = if wino_w {
                let dw = winograd::weight_grad(&g.winograd_plan(o), n, x_sl, g_sl);
                Some(ArrayD::from_shape_vec(IxDyn(&[o, k]), dw).expect("weight shape"))
            } else {
                gw
            };
            (
                gw.map(|a| a.into_shape_with_order(IxDyn(&[o, c, kh, kw])).expect("weight shape")),
                gb,
            )
        } else {
            (None, None)
        };
        let mut grads = vec![gx, gw];
        if needs.len() > 2 {
            grads.push(gb.map(|v| ArrayD::from_shape_vec(IxDyn(&[o]), v).expect("bias shape")));
        }
        grads
    })
}

/// The im2col forward: per image and group `Y_g = W_g · col(X_g)` (plus the bias), then the
/// epilogue; images in parallel, each independent.
#[allow(clippy::too_many_arguments)] // the geometry, the operands and the epilogue
fn im2col_forward(
    g: &Geom,
    w2: &ArrayView2<'_, f32>,
    x_sl: &[f32],
    b_sl: Option<&[f32]>,
    n: usize,
    o: usize,
    epilogue: Epilogue,
    out: &mut [f32],
) {
    let (k, p) = (g.k(), g.p());
    let og = o / g.groups;
    let one_image = |col: &mut Vec<f32>, y: &mut [f32], xi: &[f32]| {
        if let Some(b) = b_sl {
            for (row, &bv) in y.chunks_mut(p).zip(b) {
                row.fill(bv);
            }
        }
        let beta = if b_sl.is_some() { 1.0 } else { 0.0 };
        for (gi, (yg, xg)) in y.chunks_mut(og * p).zip(xi.chunks(g.group_img())).enumerate() {
            im2col(g, xg, col);
            let colv = ArrayView2::from_shape((k, p), &col[..]).expect("col shape");
            let mut yv = ArrayViewMut2::from_shape((og, p), yg).expect("output shape");
            gemm(1.0, &w2.slice_axis(Axis(0), group_rows(gi, og)), &colv, beta, &mut yv);
        }
        epilogue.forward(y);
    };
    if n > 1 && worth_parallel(n * o * p * k) {
        out.par_chunks_mut(o * p)
            .zip(x_sl.par_chunks(g.img()))
            .for_each_init(|| vec![0.0f32; k * p], |col, (y, xi)| one_image(col, y, xi));
    } else {
        let mut col = vec![0.0f32; k * p];
        for (y, xi) in out.chunks_mut(o * p).zip(x_sl.chunks(g.img())) {
            one_image(&mut col, y, xi);
        }
    }
}

/// `dX` by Winograd: the convolution of `dY` (padded by `2 - p`) with the flipped, transposed
/// filters (`[C, O, 3, 3]`), which is stride-1 3x3 again.
fn winograd_input_grad(g: &Geom, w: &[f32], gy: &[f32], n: usize, o: usize) -> ArrayD<f32> {
    let flipped = winograd::flipped_filters(o, g.c, w);
    let u = winograd::filter_transform(g.c, o, &flipped);
    let plan = Plan::new(o, g.c, (g.oh, g.ow), (2 - g.ph, 2 - g.pw));
    let mut dx = vec![0.0f32; n * g.img()];
    winograd::forward(&plan, n, gy, &u, None, Epilogue::Identity, &mut dx);
    ArrayD::from_shape_vec(IxDyn(&[n, g.c, g.h, g.w]), dx).expect("input shape")
}

/// `dX`: per image and group `dcol = W_gᵀ · dY_g` then [`col2im`]; images in parallel, each
/// independent.
fn input_grad(g: &Geom, w2: &ArrayView2<'_, f32>, gy: &[f32], n: usize, o: usize) -> ArrayD<f32> {
    let (k, p) = (g.k(), g.p());
    let (img, og) = (g.img(), o / g.groups);
    let mut dx = vec![0.0f32; n * img];
    let one_image = |dcol: &mut Vec<f32>, dxi: &mut [f32], gyi: &[f32]| {
        for (gi, (dxg, gyg)) in dxi.chunks_mut(g.group_img()).zip(gyi.chunks(og * p)).enumerate() {
            let gyv = ArrayView2::from_shape((og, p), gyg).expect("grad shape");
            let mut dcolv = ArrayViewMut2::from_shape((k, p), &mut dcol[..]).expect("col shape");
            let wg = w2.slice_axis(Axis(0), group_rows(gi, og));
            gemm(1.0, &wg.t(), &gyv, 0.0, &mut dcolv);
            col2im(g, dcol, dxg);
        }
    };
    if n > 1 && worth_parallel(n * o * p * k) {
        dx.par_chunks_mut(img)
            .zip(gy.par_chunks(o * p))
            .for_each_init(|| vec![0.0f32; k * p], |dcol, (dxi, gyi)| one_image(dcol, dxi, gyi));
    } else {
        let mut dcol = vec![0.0f32; k * p];
        for (dxi, gyi) in dx.chunks_mut(img).zip(gy.chunks(o * p)) {
            one_image(&mut dcol, dxi, gyi);
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[n, g.groups * g.c, g.h, g.w]), dx).expect("input shape")
}

/// `dW_g = Σₙ dYₙ_g · colₙ_gᵀ` (per group `g`: its weight rows, its input channels) and
/// `db = Σₙ Σₚ dYₙ`, summed per fixed chunk of images in image order, then over chunks in
/// chunk order (deterministic for any thread count).
fn weight_grads(
    g: &Geom,
    x: &[f32],
    gy: &[f32],
    n: usize,
    o: usize,
    need_w: bool,
    need_b: bool,
) -> (Option<ArrayD<f32>>, Option<Vec<f32>>) {
    let (k, p) = (g.k(), g.p());
    let (img, og) = (g.img(), o / g.groups);
    let chunk = |ci: usize| -> (Option<Array2<f32>>, Vec<f32>) {
        let mut dw = need_w.then(|| Array2::<f32>::zeros((o, k)));
        let mut db = vec![0.0f32; if need_b { o } else { 0 }];
        let mut col = if need_w { vec![0.0f32; k * p] } else { Vec::new() };
        for i in ci * CHUNK..((ci + 1) * CHUNK).min(n) {
            let gyi = &gy[i * o * p..(i + 1) * o * p];
            if let Some(dw) = dw.as_mut() {
                let xi = &x[i * img..(i + 1) * img];
                for (gi, (xg, gyg)) in xi.chunks(g.group_img()).zip(gyi.chunks(og * p)).enumerate() {
                    im2col(g, xg, &mut col);
                    let colv = ArrayView2::from_shape((k, p), &col[..]).expect("col shape");
                    let gyv = ArrayView2::from_shape((og, p), gyg).expect("grad shape");
                    let mut dwg = dw.slice_axis_mut(Axis(0), group_rows(gi, og));
                    gemm(1.0, &gyv, &colv.t(), 1.0, &mut dwg);
                }
            }
            for (b, row) in db.iter_mut().zip(gyi.chunks(p)) {
                *b += row.iter().sum::<f32>();
            }
        }
        (dw, db)
    };
    let chunks = n.div_ceil(CHUNK);
    let partials: Vec<(Option<Array2<f32>>, Vec<f32>)> = if chunks > 1 && worth_parallel(n * o * p * k) {
        (0..chunks).into_par_iter().map(chunk).collect()
    } else {
        (0..chunks).map(chunk).collect()
    };
    let mut dw: Option<Array2<f32>> = None;
    let mut db: Option<Vec<f32>> = None;
    for (pw, pb) in partials {
        if let Some(pw) = pw {
            match dw.as_mut() {
                Some(acc) => *acc += &pw,
                None => dw = Some(pw),
            }
        }
        if need_b {
            match db.as_mut() {
                Some(acc) => acc.iter_mut().zip(&pb).for_each(|(a, b)| *a += b),
                None => db = Some(pb),
            }
        }
    }
    if need_w && dw.is_none() {
        dw = Some(Array2::zeros((o, k)));
    }
    if need_b && db.is_none() {
        db = Some(vec![0.0; o]);
    }
    (dw.map(Array2::into_dyn), db)
}
