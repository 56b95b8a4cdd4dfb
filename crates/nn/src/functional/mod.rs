//! Stateless functional forms of the fused layer ops, each one op with its own backward.
//!
//! One file per op family, forward and backward side by side: [`linear`] and [`dense`] here,
//! convolution in [`conv`], pooling in [`pool`], batch normalisation in [`norm`], the ReLU
//! epilogue that the affine and convolution ops can fuse in `epilogue.rs`. Each function is a
//! single autograd node ([`Tensor::from_op`]) whose backward is written by hand. Shape errors
//! panic with the op's name and the shapes involved.

pub mod conv;
mod epilogue;
pub mod norm;
pub mod pool;
mod winograd;

pub use conv::{conv2d, conv2d_relu};
pub use norm::{batch_norm, layer_norm};
pub use pool::{adaptive_avg_pool2d, avg_pool2d, max_pool2d};

use ndarray::{Array2, ArrayView2, Axis, Ix2};
use neurite_tensor::gemm::{gemm, product};
use neurite_tensor::Tensor;

pub(crate) use epilogue::Epilogue;

/// A pair of sizes `(height, width)` for kernels, strides, paddings and dilations; built from
/// one `usize` (the same for both axes, as PyTorch's `kernel_size=3`), a tuple or an array.
///
/// ```
/// use neurite_nn::functional::Size2;
/// assert_eq!(Size2::from(3), Size2(3, 3));
/// assert_eq!(Size2::from((2, 1)), Size2(2, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size2(pub usize, pub usize);

impl From<usize> for Size2 {
    fn from(v: usize) -> Size2 {
        Size2(v, v)
    }
}

impl From<(usize, usize)> for Size2 {
    fn from((h, w): (usize, usize)) -> Size2 {
        Size2(h, w)
    }
}

impl From<[usize; 2]> for Size2 {
    fn from([h, w]: [usize; 2]) -> Size2 {
        Size2(h, w)
    }
}

/// Whether a fused op should spread `work` (roughly, multiply-adds or elements touched) over
/// rayon's threads. Results never depend on it: every output is computed the same way.
pub(crate) fn worth_parallel(work: usize) -> bool {
    work >= neurite_tensor::parallel::PAR_MIN_ELEMS && rayon::current_num_threads() > 1
}

/// How an affine layer's weight matrix is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLayout {
    /// `[out, in]`: PyTorch's `Linear.weight`.
    OutIn,
    /// `[in, out]`: Keras' `Dense.kernel`.
    InOut,
}

/// The weight as an `[in, out]` view (a free transpose for PyTorch's layout).
pub(crate) fn in_out_view(wd: &neurite_tensor::TensorData, layout: WeightLayout) -> ndarray::ArrayView2<'_, f32> {
    let w = wd.view().into_dimensionality::<Ix2>().expect("2-D weight");
    match layout {
        WeightLayout::OutIn => w.reversed_axes(),
        WeightLayout::InOut => w,
    }
}

/// `out = x · W + b` into `out` (`[rows, out]`, row-major) for `x` `[rows, in]`, `W` read in
/// `layout`: the rows prefilled with the bias (zeros without one) and one sgemm accumulated
/// into them, the graph op's arithmetic without its allocations. The graph-free paths
/// ([`crate::infer::Inference`], [`crate::train::MlpStep`]) run their layers with it.
pub(crate) fn affine_into(
    x: &ArrayView2<'_, f32>,
    weight: &Tensor,
    layout: WeightLayout,
    bias: Option<&Tensor>,
    out: &mut [f32],
) {
    let beta = match bias {
        Some(b) => b.read(|b| {
            let b = b.as_slice().expect("a 1-D bias is contiguous");
            out.chunks_exact_mut(b.len()).for_each(|row| row.copy_from_slice(b));
            1.0
        }),
        None => 0.0,
    };
    weight.read(|w| {
        let w = in_out_view(w, layout);
        let mut y = ndarray::ArrayViewMut2::from_shape((x.nrows(), w.ncols()), out).expect("rows x outputs values");
        gemm(1.0, x, &w, beta, &mut y);
    });
}

/// `y = x · W + b` with `W` read through a view in the given layout, as one fused op: one sgemm
/// (a transposed weight is a free strided view), the bias added in the same pass, and a
/// backward of two sgemms and a column sum. `x` is `[..., in]`; it is not copied when it is
/// row-major already.
fn affine(
    op: &'static str,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    layout: WeightLayout,
    epilogue: Epilogue,
) -> Tensor {
    let (xd, wd) = (x.data(), weight.data());
    let x_shape = xd.shape().to_vec();
    let w_shape = wd.shape().to_vec();
    let (in_f, out_f) = match (layout, w_shape.as_slice()) {
        (WeightLayout::OutIn, &[o, i]) => (i, o),
        (WeightLayout::InOut, &[i, o]) => (i, o),
        _ => (usize::MAX, 0),
    };
    let what = match layout {
        WeightLayout::OutIn => "weight",
        WeightLayout::InOut => "kernel",
    };
    assert!(
        x_shape.last() == Some(&in_f),
        "{op}: input shape {x_shape:?} does not fit {what} shape {w_shape:?}"
    );
    let rows: usize = x_shape[..x_shape.len() - 1].iter().product();
    // A row-major [rows, in] handle on the input: shares storage when already contiguous.
    let x2 = if xd.is_standard_layout() {
        xd
    } else {
        xd.as_standard_layout().into_owned().into_shared()
    }
    .into_shape_with_order(ndarray::IxDyn(&[rows, in_f]))
    .expect("row-major");
    // The output starts as the bias repeated over the rows (one pass, no zero-fill first), or zeros.
    let (mut y, beta) = match bias {
        Some(b) => {
            let b = b.data();
            assert!(
                b.shape() == [out_f],
                "{op}: bias shape {:?} does not fit {what} shape {w_shape:?}",
                b.shape()
            );
            let bv: Vec<f32> = b.iter().copied().collect();
            let mut start = Vec::with_capacity(rows * out_f);
            (0..rows).for_each(|_| start.extend_from_slice(&bv));
            (
                Array2::from_shape_vec((rows, out_f), start).expect("rows * out values"),
                1.0,
            )
        }
        None => (Array2::<f32>::zeros((rows, out_f)), 0.0),
    };
    let x2v = x2.view().into_dimensionality::<Ix2>().expect("2-D input");
    gemm(1.0, &x2v, &in_out_view(&wd, layout), beta, &mut y.view_mut());
    epilogue.forward(y.as_slice_mut().expect("row-major"));
    let mut out_shape = x_shape.clone();
    *out_shape.last_mut().expect("non-empty") = out_f;
    let y = y
        .into_shape_with_order(ndarray::IxDyn(&out_shape))
        .expect("row-major")
        .into_shared();
    let y_kept = epilogue.keeps_output().then(|| y.clone());
    let mut inputs = vec![x, weight];
    inputs.extend(bias);
    Tensor::from_op(y, &inputs, move |g, needs| {
        let g = epilogue.backward(g, y_kept.as_ref());
        let g2 = g
            .view()
            .into_shape_with_order((rows, out_f))
            .expect("row-major gradient");
        let x2v = x2.view().into_dimensionality::<Ix2>().expect("2-D input");
        let gx = needs[0].then(|| {
            product(1.0, &g2, &in_out_view(&wd, layout).t())
                .into_shape_with_order(ndarray::IxDyn(&x_shape))
                .expect("row-major")
        });
        let gw = needs[1].then(|| match layout {
            WeightLayout::OutIn => product(1.0, &g2.t(), &x2v).into_dyn(),
            WeightLayout::InOut => product(1.0, &x2v.t(), &g2).into_dyn(),
        });
        let mut grads = vec![gx, gw];
        if needs.len() > 2 {
            grads.push(needs[2].then(|| g2.sum_axis(Axis(0)).into_dyn()));
        }
        grads
    })
}

/// `y = x · K + b`, Keras' `Dense` layer without its activation, fused into one op: `x` is
/// `[..., in]`, `kernel` `[in, units]` (Keras' layout), `bias` `[units]`; the result is
/// `[..., units]`. The backward is two sgemms and a column sum.
///
/// # Panics
/// When the shapes do not fit (naming `dense` and the shapes).
pub fn dense(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>) -> Tensor {
    affine("dense", x, kernel, bias, WeightLayout::InOut, Epilogue::Identity)
}

/// `relu(x · K + b)`: [`dense`] with the ReLU fused into the same op (applied to the output
/// in place; the backward masks the gradient by the output's sign), Keras'
/// `Dense(units, activation='relu')`. Same values and gradients as `dense(..).relu()`.
///
/// # Panics
/// As [`dense`].
pub fn dense_relu(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>) -> Tensor {
    affine("dense", x, kernel, bias, WeightLayout::InOut, Epilogue::Relu)
}

/// `y = x Wᵀ + b`, PyTorch's `F.linear`, fused into one op: one sgemm reading `W` through a
/// transposed view, the bias added in the same pass, and a backward of two sgemms and a column
/// sum. `x` is `[..., in]`, `weight` `[out, in]`, `bias` `[out]`; the result is `[..., out]`.
///
/// # Panics
/// When the shapes do not fit (naming `linear` and the shapes).
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
    affine("linear", x, weight, bias, WeightLayout::OutIn, Epilogue::Identity)
}

/// `relu(x Wᵀ + b)`: [`linear`] with the ReLU fused into the same op (applied to the output in
/// place; the backward masks the gradient by the output's sign), what `nn.Linear` followed by
/// `nn.ReLU` computes. Same values and gradients as `linear(..).relu()`.
///
/// ```
/// use neurite_nn::functional::{linear, linear_relu};
/// use neurite_tensor::Tensor;
/// let x = Tensor::from_vec(vec![1.0, -2.0], &[1, 2]).unwrap();
/// let w = Tensor::from_vec(vec![1.0, 1.0, 1.0, -1.0], &[2, 2]).unwrap();
/// assert_eq!(linear(&x, &w, None).to_vec(), vec![-1.0, 3.0]);
/// assert_eq!(linear_relu(&x, &w, None).to_vec(), vec![0.0, 3.0]);
/// ```
///
/// # Panics
/// As [`linear`].
pub fn linear_relu(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
    affine("linear", x, weight, bias, WeightLayout::OutIn, Epilogue::Relu)
}
