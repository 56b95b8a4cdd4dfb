//! Shape arithmetic: NumPy broadcasting and the reverse reduction used by gradients.

use ndarray::{ArrayD, Axis};

/// The broadcast shape of `a` and `b` under NumPy rules.
///
/// # Panics
/// When the shapes do not broadcast; the message names `op` and both shapes.
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Vec<usize> {
    try_broadcast_shapes(a, b).unwrap_or_else(|| panic!("{op}: shapes {a:?} and {b:?} cannot be broadcast together"))
}

/// The broadcast shape of `a` and `b`, or `None` when they are incompatible.
pub fn try_broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() { 1 } else { a[i - (rank - a.len())] };
        let db = if i < rank - b.len() { 1 } else { b[i - (rank - b.len())] };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Sums a gradient of a broadcast result back down to the `shape` of the operand.
pub(crate) fn reduce_to_shape(grad: ArrayD<f32>, shape: &[usize]) -> ArrayD<f32> {
    if grad.shape() == shape {
        return grad;
    }
    let mut g = grad;
    while g.ndim() > shape.len() {
        g = g.sum_axis(Axis(0));
    }
    for (axis, &d) in shape.iter().enumerate() {
        if d == 1 && g.shape()[axis] != 1 {
            g = g.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    g
}

/// Normalises a possibly negative axis against `rank`, panicking with the op name when out of range.
pub(crate) fn check_axis(op: &str, axis: usize, shape: &[usize]) -> usize {
    assert!(
        axis < shape.len(),
        "{op}: axis {axis} is out of range for shape {shape:?}"
    );
    axis
}
