//! Matrix products: 2-D `[m, k] x [k, n]`, batched 3-D `[b, m, k] x [b, k, n]`, and a batch
//! times one matrix `[b, m, k] x [k, n]`. Gradients multiply by transposed *views*; nothing is
//! copied to transpose.

use ndarray::{Array3, ArrayD, Axis, Ix2, Ix3};

use crate::gemm::{gemm, product};
use crate::tensor::{Tensor, TensorData};

fn as2(d: &TensorData) -> ndarray::ArrayView2<'_, f32> {
    d.view().into_dimensionality::<Ix2>().expect("rank checked")
}

fn as3(d: &TensorData) -> ndarray::ArrayView3<'_, f32> {
    d.view().into_dimensionality::<Ix3>().expect("rank checked")
}

/// Matrix `i` of a batched right operand, or the one shared matrix.
fn b_of(bd: &TensorData, i: usize) -> ndarray::ArrayView2<'_, f32> {
    if bd.ndim() == 2 {
        as2(bd)
    } else {
        as3(bd).index_axis_move(Axis(0), i)
    }
}

fn matmul_2d(a: &Tensor, b: &Tensor, ad: TensorData, bd: TensorData) -> Tensor {
    let out = product(1.0, &as2(&ad), &as2(&bd));
    Tensor::from_op(out.into_dyn(), &[a, b], move |g, needs| {
        let g = g.view().into_dimensionality::<Ix2>().expect("2-D gradient");
        let ga = needs[0].then(|| product(1.0, &g, &as2(&bd).t()).into_dyn());
        let gb = needs[1].then(|| product(1.0, &as2(&ad).t(), &g).into_dyn());
        vec![ga, gb]
    })
}

fn matmul_batched(a: &Tensor, b: &Tensor, ad: TensorData, bd: TensorData) -> Tensor {
    let (batch, m, k) = (ad.shape()[0], ad.shape()[1], ad.shape()[2]);
    let shared_b = bd.ndim() == 2;
    let n = *bd.shape().last().expect("rank checked");
    let mut out = Array3::<f32>::zeros((batch, m, n));
    {
        use rayon::prelude::*;
        let av = as3(&ad);
        let outs: Vec<_> = out.axis_iter_mut(Axis(0)).collect();
        outs.into_par_iter().enumerate().for_each(|(i, mut c)| {
            gemm(1.0, &av.index_axis(Axis(0), i), &b_of(&bd, i), 0.0, &mut c);
        });
    }
    let b_shape = bd.shape().to_vec();
    Tensor::from_op(out.into_dyn(), &[a, b], move |g, needs| {
        let g = g.view().into_dimensionality::<Ix3>().expect("3-D gradient");
        let av = as3(&ad);
        let ga = needs[0].then(|| {
            let mut ga = Array3::zeros((batch, m, k));
            for (i, mut gai) in ga.axis_iter_mut(Axis(0)).enumerate() {
                gemm(1.0, &g.index_axis(Axis(0), i), &b_of(&bd, i).t(), 0.0, &mut gai);
            }
            ga.into_dyn()
        });
        let gb = needs[1].then(|| {
            let mut gb = ArrayD::<f32>::zeros(ndarray::IxDyn(&b_shape));
            if shared_b {
                let mut gb2 = gb.view_mut().into_dimensionality::<Ix2>().expect("2-D");
                for i in 0..batch {
                    let beta = if i == 0 { 0.0 } else { 1.0 };
                    gemm(
                        1.0,
                        &av.index_axis(Axis(0), i).t(),
                        &g.index_axis(Axis(0), i),
                        beta,
                        &mut gb2,
                    );
                }
            } else {
                let mut gb3 = gb.view_mut().into_dimensionality::<Ix3>().expect("3-D");
                for (i, mut gbi) in gb3.axis_iter_mut(Axis(0)).enumerate() {
                    gemm(
                        1.0,
                        &av.index_axis(Axis(0), i).t(),
                        &g.index_axis(Axis(0), i),
                        0.0,
                        &mut gbi,
                    );
                }
            }
            gb
        });
        vec![ga, gb]
    })
}

impl Tensor {
    /// Matrix product, like `torch.matmul` for 2-D and 3-D operands:
    /// `[m, k] x [k, n] -> [m, n]`, `[b, m, k] x [b, k, n] -> [b, m, n]`,
    /// `[b, m, k] x [k, n] -> [b, m, n]`. Transposed views multiply without a copy.
    ///
    /// ```
    /// use neurite_tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let i = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]).unwrap();
    /// assert_eq!(a.matmul(&i).to_vec(), a.to_vec());
    /// assert_eq!(a.t().matmul(&i).to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// When the ranks are unsupported or inner sizes differ (naming `matmul` and both shapes).
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        let (ad, bd) = (self.data(), other.data());
        let (sa, sb) = (ad.shape().to_vec(), bd.shape().to_vec());
        let fail = || -> ! { panic!("matmul: shapes {sa:?} and {sb:?} cannot be multiplied") };
        match (sa.len(), sb.len()) {
            (2, 2) if sa[1] == sb[0] => matmul_2d(self, other, ad, bd),
            (3, 3) if sa[0] == sb[0] && sa[2] == sb[1] => matmul_batched(self, other, ad, bd),
            (3, 2) if sa[2] == sb[0] => matmul_batched(self, other, ad, bd),
            _ => fail(),
        }
    }
}
