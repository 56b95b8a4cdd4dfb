//! Reductions: sum, mean, max and min over all elements or along one axis, with `keepdim`.

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use crate::parallel::{sum_all, PAR_MIN_ELEMS};
use crate::shape::check_axis;
use crate::tensor::{Tensor, TensorData};

/// Sum of `d` along `axis` (axis removed). Each output is one sequential lane sum, so the
/// result is the same with any thread count.
fn sum_along(d: &TensorData, axis: usize) -> ArrayD<f32> {
    if d.len() < PAR_MIN_ELEMS {
        return d.sum_axis(Axis(axis));
    }
    let mut out_shape = d.shape().to_vec();
    out_shape.remove(axis);
    let mut out = ArrayD::zeros(IxDyn(&out_shape));
    Zip::from(&mut out)
        .and(d.lanes(Axis(axis)))
        .par_for_each(|o, lane| *o = lane.sum());
    out
}

fn expand_back(g: &ArrayD<f32>, axis: usize, keepdim: bool) -> ArrayD<f32> {
    if keepdim {
        g.clone()
    } else {
        g.clone().insert_axis(Axis(axis))
    }
}

impl Tensor {
    /// Sum of all elements, as a rank-0 tensor.
    pub fn sum(&self) -> Tensor {
        let d = self.data();
        let shape = d.shape().to_vec();
        let value = ArrayD::from_elem(IxDyn(&[]), sum_all(&d.view()));
        Tensor::from_op(value, &[self], move |g, _| {
            vec![Some(ArrayD::from_elem(
                IxDyn(&shape),
                g.iter().copied().next().unwrap_or(0.0),
            ))]
        })
    }

    /// Mean of all elements, as a rank-0 tensor.
    pub fn mean(&self) -> Tensor {
        let n = self.numel().max(1) as f32;
        self.sum().mul_scalar(1.0 / n)
    }

    /// Sum along `axis`; `keepdim` keeps it with size 1.
    ///
    /// ```
    /// use neurite_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(t.sum_axis(0, false).to_vec(), vec![5.0, 7.0, 9.0]);
    /// assert_eq!(t.sum_axis(1, true).shape(), vec![2, 1]);
    /// ```
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        let d = self.data();
        check_axis("sum_axis", axis, d.shape());
        let shape = d.shape().to_vec();
        let mut value = sum_along(&d, axis);
        if keepdim {
            value = value.insert_axis(Axis(axis));
        }
        Tensor::from_op(value, &[self], move |g, _| {
            let g = expand_back(g, axis, keepdim);
            vec![Some(g.broadcast(IxDyn(&shape)).expect("reduced shape").to_owned())]
        })
    }

    /// Mean along `axis`; `keepdim` keeps it with size 1.
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        let n = self.dim(axis).max(1) as f32;
        self.sum_axis(axis, keepdim).mul_scalar(1.0 / n)
    }

    /// Maximum along `axis`; the gradient flows to the first maximal element of each lane.
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        self.extreme_axis(axis, keepdim, "max_axis", |v, best| v > best)
    }

    /// Minimum along `axis`; the gradient flows to the first minimal element of each lane.
    pub fn min_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        self.extreme_axis(axis, keepdim, "min_axis", |v, best| v < best)
    }

    /// Largest element (rank-0); the gradient flows to its first occurrence (PyTorch's
    /// `max()` splits it evenly among tied maxima).
    pub fn max(&self) -> Tensor {
        self.reshape(&[self.numel()]).max_axis(0, false)
    }

    /// Smallest element (rank-0); the gradient flows to its first occurrence (PyTorch's
    /// `min()` splits it evenly among tied minima).
    pub fn min(&self) -> Tensor {
        self.reshape(&[self.numel()]).min_axis(0, false)
    }

    fn extreme_axis(&self, axis: usize, keepdim: bool, op: &'static str, better: fn(f32, f32) -> bool) -> Tensor {
        let d = self.data();
        check_axis(op, axis, d.shape());
        assert!(
            d.shape()[axis] > 0,
            "{op}: axis {axis} of shape {:?} is empty",
            d.shape()
        );
        let shape = d.shape().to_vec();
        let mut out_shape = shape.clone();
        out_shape.remove(axis);
        let mut values = ArrayD::zeros(IxDyn(&out_shape));
        let mut index = ArrayD::<usize>::zeros(IxDyn(&out_shape));
        Zip::from(&mut values)
            .and(&mut index)
            .and(d.lanes(Axis(axis)))
            .for_each(|v, i, lane| {
                let mut best = (0, lane[0]);
                for (j, &x) in lane.iter().enumerate().skip(1) {
                    if better(x, best.1) || (x.is_nan() && !best.1.is_nan()) {
                        best = (j, x);
                    }
                }
                *v = best.1;
                *i = best.0;
            });
        if keepdim {
            values = values.insert_axis(Axis(axis));
        }
        Tensor::from_op(values, &[self], move |g, _| {
            let g = if keepdim {
                g.clone().remove_axis(Axis(axis))
            } else {
                g.clone()
            };
            let mut grad = ArrayD::zeros(IxDyn(&shape));
            Zip::from(grad.lanes_mut(Axis(axis)))
                .and(&g)
                .and(&index)
                .for_each(|mut lane, &g, &i| lane[i] = g);
            vec![Some(grad)]
        })
    }
}
