//! General matrix multiply `C = alpha * A B + beta * C` on strided f32 views.
//!
//! Built on `matrixmultiply::sgemm`, which reads any row and column strides, so transposed
//! operands are never copied. Large products are split along the longer side of `C` (rows or
//! columns) over rayon's threads; every element of `C` is still computed by the same kernel in
//! the same order, so the result is bit-identical with any thread count.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// Multiply-adds (m·k·n) from which a product is split over threads.
pub const PAR_MIN_FLOPS: usize = 1 << 20;

/// Rows of `C` each parallel task computes at least.
const MIN_ROWS_PER_TASK: usize = 16;

/// Columns of `C` each parallel task computes at least.
const MIN_COLS_PER_TASK: usize = 32;

/// `c = alpha * a · b + beta * c` for `a: [m, k]`, `b: [k, n]`, `c: [m, n]`.
///
/// # Panics
/// When the shapes do not chain (`matmul` and the three shapes are named).
pub fn gemm(alpha: f32, a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>, beta: f32, c: &mut ArrayViewMut2<'_, f32>) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        k == k2 && c.dim() == (m, n),
        "matmul: shapes {:?} x {:?} -> {:?} do not chain",
        a.shape(),
        b.shape(),
        c.shape()
    );
    let threads = rayon::current_num_threads();
    if threads == 1 || m * k * n < PAR_MIN_FLOPS {
        gemm_serial(alpha, a, b, beta, c);
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
            .for_each(|(b, mut c)| gemm_serial(alpha, a, &b, beta, &mut c));
    } else if m >= 2 * MIN_ROWS_PER_TASK {
        let tasks = threads.min(m / MIN_ROWS_PER_TASK);
        let rows = m.div_ceil(tasks);
        let a_parts: Vec<_> = a.axis_chunks_iter(Axis(0), rows).collect();
        let c_parts: Vec<_> = c.axis_chunks_iter_mut(Axis(0), rows).collect();
        a_parts
            .into_par_iter()
            .zip(c_parts)
            .for_each(|(a, mut c)| gemm_serial(alpha, &a, b, beta, &mut c));
    } else {
        gemm_serial(alpha, a, b, beta, c);
    }
}

/// Single-threaded `c = alpha * a · b + beta * c`, shapes already checked.
fn gemm_serial(
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.mapv_inplace(|v| if beta == 0.0 { 0.0 } else { beta * v });
        return;
    }
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
