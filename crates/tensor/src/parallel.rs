//! When and how element-wise work is spread over rayon's threads.
//!
//! Small tensors stay on the calling thread: below [`PAR_MIN_ELEMS`] elements the cost of
//! waking workers exceeds the work. Every parallel path computes each output element exactly as
//! the sequential one does, so results are bit-identical whatever the thread count.

use ndarray::{ArrayD, ArrayViewD, Zip};

/// Element count from which element-wise maps run in parallel.
pub const PAR_MIN_ELEMS: usize = 1 << 16;

/// Applies `f` to every element of `a`.
pub(crate) fn map(a: &ArrayViewD<'_, f32>, f: impl Fn(f32) -> f32 + Sync + Send) -> ArrayD<f32> {
    if a.len() >= PAR_MIN_ELEMS {
        Zip::from(a).par_map_collect(|&x| f(x))
    } else {
        a.map(|&x| f(x))
    }
}

/// Applies `f` pairwise to two arrays of the same shape (callers broadcast first).
pub(crate) fn zip_map(
    a: &ArrayViewD<'_, f32>,
    b: &ArrayViewD<'_, f32>,
    f: impl Fn(f32, f32) -> f32 + Sync + Send,
) -> ArrayD<f32> {
    debug_assert_eq!(a.shape(), b.shape());
    if a.len() >= PAR_MIN_ELEMS {
        Zip::from(a).and(b).par_map_collect(|&x, &y| f(x, y))
    } else {
        Zip::from(a).and(b).map_collect(|&x, &y| f(x, y))
    }
}

/// Applies `f` to three arrays of the same shape.
pub(crate) fn zip3_map(
    a: &ArrayViewD<'_, f32>,
    b: &ArrayViewD<'_, f32>,
    c: &ArrayViewD<'_, f32>,
    f: impl Fn(f32, f32, f32) -> f32 + Sync + Send,
) -> ArrayD<f32> {
    if a.len() >= PAR_MIN_ELEMS {
        Zip::from(a).and(b).and(c).par_map_collect(|&x, &y, &z| f(x, y, z))
    } else {
        Zip::from(a).and(b).and(c).map_collect(|&x, &y, &z| f(x, y, z))
    }
}

/// Sum of all elements in a fixed-order, thread-count-independent way.
pub(crate) fn sum_all(a: &ArrayViewD<'_, f32>) -> f32 {
    const CHUNK: usize = 1 << 14;
    if a.len() < PAR_MIN_ELEMS {
        return a.sum();
    }
    match a.as_slice_memory_order() {
        Some(slice) if a.is_standard_layout() => {
            use rayon::prelude::*;
            let partials: Vec<f32> = slice.par_chunks(CHUNK).map(|c| c.iter().sum()).collect();
            partials.iter().sum()
        }
        _ => a.sum(),
    }
}
