//! Stateless functional forms of the fused layer ops, each one op with its own backward.

use ndarray::{Array2, Axis, Ix2};
use neurite_tensor::gemm::gemm;
use neurite_tensor::Tensor;

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
    let x2 = xd.as_standard_layout().into_owned().into_shape_with_order((rows, in_f)).expect("row-major");
    let w2 = wd.view().into_dimensionality::<Ix2>().expect("2-D weight");
    let bd = bias.map(|b| {
        let b = b.data();
        assert!(b.shape() == [out_f], "linear: bias shape {:?} does not fit weight shape {w_shape:?}", b.shape());
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
        let g2 = g.view().into_shape_with_order((rows, out_f)).expect("row-major gradient");
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
