//! Indexing: index_select (rows by index) and gather (one index per position along an axis).

use ndarray::{ArrayD, Axis, IxDyn};

use crate::shape::check_axis;
use crate::tensor::Tensor;

impl Tensor {
    /// Picks the entries `indices` along `axis`, like `torch.index_select`; indices may repeat.
    ///
    /// # Panics
    /// When an index is out of range for the axis.
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Tensor {
        let d = self.data();
        let shape = d.shape().to_vec();
        check_axis("index_select", axis, &shape);
        if let Some(&bad) = indices.iter().find(|&&i| i >= shape[axis]) {
            panic!("index_select: index {bad} is out of range for axis {axis} of shape {shape:?}");
        }
        let value = d.select(Axis(axis), indices);
        let indices = indices.to_vec();
        Tensor::from_op(value, &[self], move |g, _| {
            let mut grad = ArrayD::zeros(IxDyn(&shape));
            for (k, &i) in indices.iter().enumerate() {
                let mut dst = grad.index_axis_mut(Axis(axis), i);
                dst += &g.index_axis(Axis(axis), k);
            }
            vec![Some(grad)]
        })
    }

    /// `out[.., j, ..] = self[.., index[.., j, ..], ..]` along `axis`, like `torch.gather`.
    /// `index` has the tensor's rank and, off `axis`, the tensor's sizes.
    ///
    /// ```
    /// use ndarray::{ArrayD, IxDyn};
    /// use neurite_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let idx = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![1, 0]).unwrap();
    /// assert_eq!(t.gather(1, &idx).to_vec(), vec![2.0, 3.0]);
    /// ```
    ///
    /// # Panics
    /// When the shapes disagree or an index is out of range.
    pub fn gather(&self, axis: usize, index: &ArrayD<usize>) -> Tensor {
        let d = self.data();
        let shape = d.shape().to_vec();
        check_axis("gather", axis, &shape);
        let fits = index.ndim() == shape.len()
            && index
                .shape()
                .iter()
                .zip(&shape)
                .enumerate()
                .all(|(i, (a, b))| i == axis || a == b);
        assert!(
            fits,
            "gather: index shape {:?} does not fit tensor shape {shape:?} on axis {axis}",
            index.shape()
        );
        if let Some(&bad) = index.iter().find(|&&i| i >= shape[axis]) {
            panic!("gather: index {bad} is out of range for axis {axis} of shape {shape:?}");
        }
        let mut value = ArrayD::zeros(index.raw_dim());
        for (pos, &i) in index.indexed_iter() {
            let mut src = pos.clone();
            src[axis] = i;
            value[&pos] = d[&src];
        }
        let index = index.clone();
        Tensor::from_op(value, &[self], move |g, _| {
            let mut grad = ArrayD::zeros(IxDyn(&shape));
            for (pos, &i) in index.indexed_iter() {
                let mut src = pos.clone();
                src[axis] = i;
                grad[&src] += g[&pos];
            }
            vec![Some(grad)]
        })
    }
}
