//! Comparisons (0/1 masks, no gradient) and argmax/argmin.

use ndarray::{Axis, IxDyn};

use crate::parallel::zip_map;
use crate::shape::{broadcast_shapes, check_axis};
use crate::tensor::Tensor;

fn compare(a: &Tensor, b: &Tensor, op: &str, f: impl Fn(f32, f32) -> bool + Sync + Send) -> Tensor {
    let (ad, bd) = (a.data(), b.data());
    let shape = broadcast_shapes(op, ad.shape(), bd.shape());
    let av = ad.broadcast(IxDyn(&shape)).expect("checked");
    let bv = bd.broadcast(IxDyn(&shape)).expect("checked");
    Tensor::from_array(zip_map(&av, &bv, |x, y| if f(x, y) { 1.0 } else { 0.0 }))
}

impl Tensor {
    /// 1.0 where `self > other`, else 0.0 (broadcasting; not differentiable).
    pub fn gt(&self, other: &Tensor) -> Tensor {
        compare(self, other, "gt", |x, y| x > y)
    }

    /// 1.0 where `self < other`, else 0.0.
    pub fn lt(&self, other: &Tensor) -> Tensor {
        compare(self, other, "lt", |x, y| x < y)
    }

    /// 1.0 where `self >= other`, else 0.0.
    pub fn ge(&self, other: &Tensor) -> Tensor {
        compare(self, other, "ge", |x, y| x >= y)
    }

    /// 1.0 where `self <= other`, else 0.0.
    pub fn le(&self, other: &Tensor) -> Tensor {
        compare(self, other, "le", |x, y| x <= y)
    }

    /// 1.0 where `self == other`, else 0.0.
    pub fn eq_elem(&self, other: &Tensor) -> Tensor {
        compare(self, other, "eq", |x, y| x == y)
    }

    /// Indices of the largest value along `axis` (the first one on ties), in row-major order
    /// of the remaining axes. For logits of shape `[batch, classes]` and `axis = 1` this is the
    /// predicted class per sample.
    ///
    /// ```
    /// use neurite_tensor::Tensor;
    /// let logits = Tensor::from_vec(vec![0.1, 2.0, -1.0, 3.0, 0.0, 1.0], &[2, 3]).unwrap();
    /// assert_eq!(logits.argmax(1), vec![1, 0]);
    /// ```
    pub fn argmax(&self, axis: usize) -> Vec<usize> {
        self.arg_best(axis, "argmax", |v, best| v > best)
    }

    /// Indices of the smallest value along `axis` (the first one on ties).
    pub fn argmin(&self, axis: usize) -> Vec<usize> {
        self.arg_best(axis, "argmin", |v, best| v < best)
    }

    fn arg_best(&self, axis: usize, op: &str, better: impl Fn(f32, f32) -> bool) -> Vec<usize> {
        self.read(|d| {
            check_axis(op, axis, d.shape());
            assert!(
                d.shape()[axis] > 0,
                "{op}: axis {axis} of shape {:?} is empty",
                d.shape()
            );
            d.lanes(Axis(axis))
                .into_iter()
                .map(|lane| {
                    let mut best = (0, lane[0]);
                    for (i, &v) in lane.iter().enumerate().skip(1) {
                        // NaN wins so that it is visible, as in PyTorch.
                        if better(v, best.1) || (v.is_nan() && !best.1.is_nan()) {
                            best = (i, v);
                        }
                    }
                    best.0
                })
                .collect()
        })
    }
}
