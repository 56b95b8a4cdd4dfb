//! Shape ops: reshape, flatten, (un)squeeze, permute/transpose, narrow, concat, stack,
//! broadcast_to. Permutes and narrows are zero-copy views of the same storage.

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use crate::error::{Result, TensorError};
use crate::shape::check_axis;
use crate::tensor::{Tensor, TensorData};

/// Views `d` with `shape`, copying only when its layout is not row-major contiguous.
fn reshaped(d: TensorData, shape: &[usize]) -> TensorData {
    if d.is_standard_layout() {
        d.into_shape_with_order(IxDyn(shape)).expect("element count checked")
    } else {
        d.as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(shape))
            .expect("element count checked")
            .into_shared()
    }
}

impl Tensor {
    /// The same values viewed with another shape (row-major order), like `torch.reshape`.
    ///
    /// # Panics
    /// When the element counts differ; see [`Tensor::try_reshape`].
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        self.try_reshape(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Tensor::reshape`] that reports a mismatch as an error.
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        let d = self.data();
        if d.len() != shape.iter().product::<usize>() {
            return Err(TensorError::ReshapeMismatch {
                op: "reshape",
                from: d.shape().to_vec(),
                to: shape.to_vec(),
            });
        }
        let from = d.shape().to_vec();
        let value = reshaped(d, shape);
        Ok(Tensor::from_op(value, &[self], move |g, _| {
            vec![Some(g.to_shape(IxDyn(&from)).expect("same count").into_owned())]
        }))
    }

    /// Flattens axes `start_axis..` into one, like `torch.flatten(x, start_dim)`.
    pub fn flatten_from(&self, start_axis: usize) -> Tensor {
        let shape = self.shape();
        assert!(
            start_axis <= shape.len(),
            "flatten_from: axis {start_axis} out of range for shape {shape:?}"
        );
        let mut new_shape = shape[..start_axis].to_vec();
        new_shape.push(shape[start_axis..].iter().product());
        self.reshape(&new_shape)
    }

    /// Inserts an axis of size 1 at `axis`.
    pub fn unsqueeze(&self, axis: usize) -> Tensor {
        let mut shape = self.shape();
        assert!(
            axis <= shape.len(),
            "unsqueeze: axis {axis} out of range for shape {shape:?}"
        );
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// Removes `axis`, which must have size 1.
    pub fn squeeze(&self, axis: usize) -> Tensor {
        let mut shape = self.shape();
        check_axis("squeeze", axis, &shape);
        assert!(
            shape[axis] == 1,
            "squeeze: axis {axis} of shape {shape:?} is not of size 1"
        );
        shape.remove(axis);
        self.reshape(&shape)
    }

    /// Reorders the axes (zero-copy), like `torch.permute`.
    ///
    /// # Panics
    /// When `axes` is not a permutation of `0..ndim`.
    pub fn permute(&self, axes: &[usize]) -> Tensor {
        let d = self.data();
        let mut seen = vec![false; d.ndim()];
        let valid = axes.len() == d.ndim()
            && axes
                .iter()
                .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
        assert!(
            valid,
            "permute: {axes:?} is not a permutation of the axes of shape {:?}",
            d.shape()
        );
        let mut inverse = vec![0; axes.len()];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        let value = d.permuted_axes(IxDyn(axes));
        Tensor::from_op(value, &[self], move |g, _| {
            vec![Some(g.view().permuted_axes(IxDyn(&inverse)).to_owned())]
        })
    }

    /// Swaps two axes (zero-copy).
    pub fn transpose(&self, a: usize, b: usize) -> Tensor {
        let n = self.ndim();
        check_axis("transpose", a.max(b), &self.shape());
        let mut axes: Vec<usize> = (0..n).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// The transpose of a 2-D tensor (zero-copy).
    pub fn t(&self) -> Tensor {
        assert!(self.ndim() == 2, "t: needs a 2-D tensor, got shape {:?}", self.shape());
        self.transpose(0, 1)
    }

    /// The `len` entries starting at `start` along `axis` (zero-copy), like `torch.narrow`.
    ///
    /// # Panics
    /// When the range falls outside the axis.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Tensor {
        let mut d = self.data();
        let shape = d.shape().to_vec();
        check_axis("narrow", axis, &shape);
        assert!(
            start + len <= shape[axis],
            "narrow: range {start}..{} is outside axis {axis} of shape {shape:?}",
            start + len
        );
        d.slice_axis_inplace(Axis(axis), Slice::from(start..start + len));
        Tensor::from_op(d, &[self], move |g, _| {
            let mut grad = ArrayD::zeros(IxDyn(&shape));
            grad.slice_axis_mut(Axis(axis), Slice::from(start..start + len))
                .assign(g);
            vec![Some(grad)]
        })
    }

    /// Joins tensors along an existing `axis`, like `torch.cat`.
    ///
    /// # Panics
    /// When `tensors` is empty or the shapes differ off `axis`.
    pub fn concat(tensors: &[&Tensor], axis: usize) -> Tensor {
        assert!(!tensors.is_empty(), "concat: needs at least one tensor");
        let datas: Vec<TensorData> = tensors.iter().map(|t| t.data()).collect();
        let first = datas[0].shape().to_vec();
        check_axis("concat", axis, &first);
        for d in &datas[1..] {
            let same = d.ndim() == first.len()
                && d.shape()
                    .iter()
                    .zip(&first)
                    .enumerate()
                    .all(|(i, (x, y))| i == axis || x == y);
            assert!(
                same,
                "concat: shapes {first:?} and {:?} differ off axis {axis}",
                d.shape()
            );
        }
        let views: Vec<_> = datas.iter().map(|d| d.view()).collect();
        let value = ndarray::concatenate(Axis(axis), &views).expect("shapes checked");
        let sizes: Vec<usize> = datas.iter().map(|d| d.shape()[axis]).collect();
        Tensor::from_op(value, tensors, move |g, needs| {
            let mut start = 0;
            sizes
                .iter()
                .zip(needs)
                .map(|(&n, &need)| {
                    let part = need.then(|| g.slice_axis(Axis(axis), Slice::from(start..start + n)).to_owned());
                    start += n;
                    part
                })
                .collect()
        })
    }

    /// Stacks same-shaped tensors along a new `axis`, like `torch.stack`.
    pub fn stack(tensors: &[&Tensor], axis: usize) -> Tensor {
        let expanded: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(axis)).collect();
        let refs: Vec<&Tensor> = expanded.iter().collect();
        Tensor::concat(&refs, axis)
    }

    /// Materialises this tensor broadcast to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        let d = self.data();
        let from = d.shape().to_vec();
        let value = d
            .broadcast(IxDyn(shape))
            .unwrap_or_else(|| panic!("broadcast_to: shape {from:?} cannot be broadcast to {shape:?}"))
            .to_owned();
        Tensor::from_op(value, &[self], move |g, _| {
            vec![Some(crate::shape::reduce_to_shape(g.clone(), &from))]
        })
    }

    /// A copy in row-major contiguous layout (a no-op copy of the handle when already so).
    pub fn contiguous(&self) -> Tensor {
        let d = self.data();
        if d.is_standard_layout() {
            return self.clone();
        }
        let value = d.as_standard_layout().into_owned();
        Tensor::from_op(value, &[self], |g, _| vec![Some(g.clone())])
    }
}
