//! The portable product: `matrixmultiply::sgemm`, split along the longer side of `C`.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// Rows of `C` each parallel task computes at least.
const MIN_ROWS_PER_TASK: usize = 16;

/// Columns of `C` each parallel task computes at least.
const MIN_COLS_PER_TASK: usize = 32;

/// `c = alpha * a · b + beta * c`; shapes checked and non-empty (`k > 0`).
pub(super) fn gemm(
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let threads = rayon::current_num_threads();
    if !super::is_parallel(threads, m, k, n) {
        serial(alpha, a, b, beta, c);
        return;
    }
    use rayon::prelude::*;
    // Split the longer side of C, so each task still gets a wide block; every element is
    // computed the same way whichever side is split.
    if n > m && n >= 2 * MIN_COLS_PER_TASK {
        let tasks = threads.min(n / MIN_COLS_PER_TASK);
        let cols = n.div_ceil(tasks);
        let b_parts: Vec<_> = b.axis_chunks_iter(Axis(1), cols).collect();
        let c_parts: Vec<_> = c.axis_chunks_iter_mut(Axis(1), cols).collect();
        b_parts
            .into_par_iter()
            .zip(c_parts)
            .for_each(|(b, mut c)| serial(alpha, a, &b, beta, &mut c));
    } else if m >= 2 * MIN_ROWS_PER_TASK {
        let tasks = threads.min(m / MIN_ROWS_PER_TASK);
        let rows = m.div_ceil(tasks);
        let a_parts: Vec<_> = a.axis_chunks_iter(Axis(0), rows).collect();
        let c_parts: Vec<_> = c.axis_chunks_iter_mut(Axis(0), rows).collect();
        a_parts
            .into_par_iter()
            .zip(c_parts)
            .for_each(|(a, mut c)| serial(alpha, &a, b, beta, &mut c));
    } else {
        serial(alpha, a, b, beta, c);
    }
}

/// Single-threaded `c = alpha * a · b + beta * c`, shapes already checked (the parallel
/// splits never make an empty part).
fn serial(alpha: f32, a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>, beta: f32, c: &mut ArrayViewMut2<'_, f32>) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let [rsa, csa] = strides(a.strides());
    let [rsb, csb] = strides(b.strides());
    let [rsc, csc] = strides(c.strides());
    // SAFETY: the pointers come from live ndarray views whose dims are (m, k), (k, n) and
    // (m, n) with the strides passed alongside, so every index sgemm touches is inside the
    // views; `c` is borrowed mutably, so it aliases neither `a` nor `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

fn strides(s: &[isize]) -> [isize; 2] {
    [s[0], s[1]]
}
