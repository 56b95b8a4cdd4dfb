//! Stateless functional forms of the fused layer ops, each one op with its own backward.
//!
//! One file per op family, forward and backward side by side: [`linear`] and [`dense`] here,
//! convolution in [`conv`], pooling in [`pool`], batch normalisation in [`norm`]. Each
//! function is a single autograd node ([`Tensor::from_op`]) whose backward is written by hand.
//! Shape errors panic with the op's name and the shapes involved.

pub mod conv;
pub mod norm;
pub mod pool;

pub use conv::conv2d;
pub use norm::batch_norm;
pub use pool::{avg_pool2d, max_pool2d};

use ndarray::{Array2, Axis, Ix2};
use neurite_tensor::gemm::gemm;
use neurite_tensor::Tensor;

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

/// `y = x · K + b`, Keras' `Dense` layer without its activation, fused into one op: `x` is
/// `[..., in]`, `kernel` `[in, units]` (Keras' layout), `bias` `[units]`; the result is
/// `[..., units]`. The backward is two sgemms and a column sum.
///
/// # Panics
/// When the shapes do not fit (naming `dense` and the shapes).
pub fn dense(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>) -> Tensor {
    let (xd, kd) = (x.data(), kernel.data());
    let x_shape = xd.shape().to_vec();
    let k_shape = kd.shape().to_vec();
    assert!(
        k_shape.len() == 2 && !x_shape.is_empty() && x_shape[x_shape.len() - 1] == k_shape[0],
        "dense: input shape {x_shape:?} does not fit kernel shape {k_shape:?}"
    );
    let (in_f, units) = (k_shape[0], k_shape[1]);
    let rows: usize = x_shape[..x_shape.len() - 1].iter().product();
    let x2 = xd
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((rows, in_f))
        .expect("row-major");
    let k2 = kd.view().into_dimensionality::<Ix2>().expect("2-D kernel");
    let mut y = Array2::<f32>::zeros((rows, units));
    let beta = match bias {
        Some(b) => {
            let b = b.data();
            assert!(
                b.shape() == [units],
                "dense: bias shape {:?} does not fit kernel shape {k_shape:?}",
                b.shape()
            );
            let bv = b.view().into_dimensionality::<ndarray::Ix1>().expect("1-D bias");
            y.rows_mut().into_iter().for_each(|mut r| r.assign(&bv));
            1.0
        }
        None => 0.0,
    };
    gemm(1.0, &x2.view(), &k2, beta, &mut y.view_mut());
    let mut out_shape = x_shape.clone();
    *out_shape.last_mut().expect("non-empty") = units;
    let y = y.into_shape_with_order(ndarray::IxDyn(&out_shape)).expect("row-major");
    let mut inputs = vec![x, kernel];
    inputs.extend(bias);
    Tensor::from_op(y, &inputs, move |g, needs| {
        let g2 = g
            .view()
            .into_shape_with_order((rows, units))
            .expect("row-major gradient");
        let k2 = kd.view().into_dimensionality::<Ix2>().expect("2-D kernel");
        let gx = needs[0].then(|| {
            let mut gx = Array2::zeros((rows, in_f));
            gemm(1.0, &g2, &k2.t(), 0.0, &mut gx.view_mut());
            gx.into_shape_with_order(ndarray::IxDyn(&x_shape)).expect("row-major")
        });
        let gk = needs[1].then(|| {
            let mut gk = Array2::zeros((in_f, units));
            gemm(1.0, &x2.t(), &g2, 0.0, &mut gk.view_mut());
            gk.into_dyn()
        });
        let mut grads = vec![gx, gk];
        if needs.len() > 2 {
            grads.push(needs[2].then(|| g2.sum_axis(Axis(0)).into_dyn()));
        }
        grads
    })
}

/// `y = x Wᵀ + b`, PyTorch's `F.linear`, fused into one op: one sgemm reading `W` through a
/// transposed view, the bias added in the same pass, and a backward of two sgemms and a column
/// sum. `x` is `[..., in]`, `weight` `[out, in]`, `bias` `[out]`; the result is `[..., out]`.
///
/// # Panics
/// When the shapes do not fit (naming `linear` and the shapes).
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
    let (xd, wd) = (x.data(), weight.data());
    let x_shape = xd.shape().to_vec();
    let w_shape = wd.shape().to_vec();
    assert!(
        w_shape.len() == 2 && !x_shape.is_empty() && x_shape[x_shape.len() - 1] == w_shape[1],
        "linear: input shape {x_shape:?} does not fit weight shape {w_shape:?}"
    );
    let (out_f, in_f) = (w_shape[0], w_shape[1]);
    let rows: usize = x_shape[..x_shape.len() - 1].iter().product();
    let x2 = xd
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((rows, in_f))
        .expect("row-major");
    let w2 = wd.view().into_dimensionality::<Ix2>().expect("2-D weight");
    let bd = bias.map(|b| {
        let b = b.data();
        assert!(
            b.shape() == [out_f],
            "linear: bias shape {:?} does not fit weight shape {w_shape:?}",
            b.shape()
        );
        b
    });
    let mut y = Array2::<f32>::zeros((rows, out_f));
    if let Some(b) = &bd {
        let bv = b.view().into_dimensionality::<ndarray::Ix1>().expect("1-D bias");
        y.rows_mut().into_iter().for_each(|mut r| r.assign(&bv));
        gemm(1.0, &x2.view(), &w2.t(), 1.0, &mut y.view_mut());
    } else {
        gemm(1.0, &x2.view(), &w2.t(), 0.0, &mut y.view_mut());
    }
    let mut out_shape = x_shape.clone();
    *out_shape.last_mut().expect("non-empty") = out_f;
    let y = y.into_shape_with_order(ndarray::IxDyn(&out_shape)).expect("row-major");
    let mut inputs = vec![x, weight];
    if let Some(b) = bias {
        inputs.push(b);
    }
    Tensor::from_op(y, &inputs, move |g, needs| {
        let g2 = g
            .view()
            .into_shape_with_order((rows, out_f))
            .expect("row-major gradient");
        let w2 = wd.view().into_dimensionality::<Ix2>().expect("2-D weight");
        let gx = needs[0].then(|| {
            let mut gx = Array2::zeros((rows, in_f));
            gemm(1.0, &g2, &w2, 0.0, &mut gx.view_mut());
            gx.into_shape_with_order(ndarray::IxDyn(&x_shape)).expect("row-major")
        });
        let gw = needs[1].then(|| {
            let mut gw = Array2::zeros((out_f, in_f));
            gemm(1.0, &g2.t(), &x2.view(), 0.0, &mut gw.view_mut());
            gw.into_dyn()
        });
        let mut grads = vec![gx, gw];
        if needs.len() > 2 {
            grads.push(needs[2].then(|| g2.sum_axis(Axis(0)).into_dyn()));
        }
        grads
    })
}
