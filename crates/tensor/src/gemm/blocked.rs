//! The blocked AVX2+FMA product: BLIS's loop nest around the 6x16 [`kernel`](super::avx2::kernel).
//!
//! `C` is computed in column blocks of `NC`; `k` in blocks of about `KC` (a packed `KC x NC`
//! block of `B` stays in the last-level cache, one `KC x NR` panel of it in L1); rows in
//! blocks of `MC` (a packed `MC x KC` block of `A` stays in L2). Every element of `C` sums its
//! `k` blocks in order, each block in order inside the kernel, so the result does not depend
//! on how rows or columns are shared between threads.
//!
//! Threads: small products run on the calling thread. Larger ones that are wider than tall
//! split `C`'s columns, each task packing its own part of `B`. Otherwise all threads share
//! each packed block of `B`: they pack it together, then each multiplies its own rows of `A`
//! (packed privately) against all of it. Sharing halves the packing and the cache traffic for
//! `B` that a split into independent products would spend.

use std::cell::Cell;
use std::thread::LocalKey;

use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::avx2::{kernel_rows, MR, NR};
use super::pack::{pack_a, pack_b, A_SLACK};

/// Columns of `C` (and `B`) per outer block.
const NC: usize = 1024;
/// Largest block of the inner dimension; `k` is cut into equal blocks of at most this.
const KC: usize = 384;
/// Rows of `A` packed at a time (a multiple of `MR`).
const MC: usize = 96;

/// A read-only strided matrix: element `(r, c)` is at `ptr + r * rs + c * cs`.
#[derive(Clone, Copy)]
pub(super) struct Strided {
    ptr: *const f32,
    /// Row stride, in elements.
    pub rs: isize,
    /// Column stride, in elements.
    pub cs: isize,
}

// SAFETY: a `Strided` is built from a shared ndarray view that outlives the product and is
// only read through it, so reading it from several threads is sound.
unsafe impl Send for Strided {}
// SAFETY: as above, the pointee is only read.
unsafe impl Sync for Strided {}

impl Strided {
    fn of(v: &ArrayView2<'_, f32>) -> Strided {
        Strided {
            ptr: v.as_ptr(),
            rs: v.strides()[0],
            cs: v.strides()[1],
        }
    }

    /// Pointer to element `(r, c)`.
    ///
    /// # Safety
    /// `(r, c)` lies inside the matrix this was made from.
    pub unsafe fn at(self, r: usize, c: usize) -> *const f32 {
        self.ptr.offset(r as isize * self.rs + c as isize * self.cs)
    }

    /// The sub-matrix whose origin is element `(r, c)`.
    unsafe fn sub(self, r: usize, c: usize) -> Strided {
        Strided {
            ptr: self.at(r, c),
            ..self
        }
    }
}

/// The output matrix: element `(r, c)` is at `ptr + r * rs + c * cs`.
#[derive(Clone, Copy)]
struct StridedMut {
    ptr: *mut f32,
    rs: isize,
    cs: isize,
}

// SAFETY: built from the product's exclusive `C` view; parallel tasks write disjoint row or
// column ranges of it and nothing else reads it during the product.
unsafe impl Send for StridedMut {}
// SAFETY: as above.
unsafe impl Sync for StridedMut {}

impl StridedMut {
    unsafe fn at(self, r: usize, c: usize) -> *mut f32 {
        self.ptr.offset(r as isize * self.rs + c as isize * self.cs)
    }

    unsafe fn sub(self, r: usize, c: usize) -> StridedMut {
        StridedMut {
            ptr: self.at(r, c),
            ..self
        }
    }
}

/// One product's operands and scalars; `m x k` times `k x n`.
///
/// The `unsafe fn`s below share one contract: `a`, `b` and `c` address live matrices of at
/// least the sizes given (`m x k`, `k x n`, `m x n`), `c` aliases neither operand and is
/// written by nobody else during the call (parallel tasks take disjoint rows or columns), and
/// the CPU has AVX2 and FMA.
#[derive(Clone, Copy)]
struct Product {
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    beta: f32,
    a: Strided,
    b: Strided,
    c: StridedMut,
}

thread_local! {
    /// This thread's packed block of `A`, kept between products.
    static PACKED_A: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    /// This thread's packed block of `B`, kept between products.
    static PACKED_B: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on `len` values of this thread's buffer `key`. A nested call on the same thread
/// (rayon may run another product while this one waits) finds the buffer taken and uses a
/// fresh one.
fn with_buffer<R>(key: &'static LocalKey<Cell<Vec<f32>>>, len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = key.take();
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let out = f(&mut buf[..len]);
    key.set(buf);
    out
}

/// `c = alpha * a · b + beta * c` on the AVX2+FMA kernel; shapes checked, non-empty.
pub(super) fn gemm(
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    let ((m, k), n) = (a.dim(), b.dim().1);
    let c = StridedMut {
        ptr: c.as_mut_ptr(),
        rs: c.strides()[0],
        cs: c.strides()[1],
    };
    let p = Product {
        m,
        k,
        n,
        alpha,
        beta,
        a: Strided::of(a),
        b: Strided::of(b),
        c,
    };
    let threads = rayon::current_num_threads();
    // SAFETY: the views have the dims in `p` (checked by the caller), `c` is exclusively
    // borrowed for the call, and the caller checked that the CPU has AVX2 and FMA.
    unsafe {
        if !super::is_parallel(threads, m, k, n) {
            product_serial(p);
        } else if n > m {
            split_columns(p, threads);
        } else {
            product_shared_b(p, threads);
        }
    }
}

/// Equal `k` blocks of at most `KC`: `(start, len)` pairs. Depends on `k` alone.
fn k_blocks(k: usize) -> impl Iterator<Item = (usize, usize)> {
    let len = k.div_ceil(k.div_ceil(KC));
    (0..k).step_by(len).map(move |p| (p, len.min(k - p)))
}

/// The `beta` to apply for the `k` block starting at `pc`: the caller's for the first block,
/// then accumulation.
fn block_beta(p: &Product, pc: usize) -> f32 {
    if pc == 0 {
        p.beta
    } else {
        1.0
    }
}

/// The whole product on the calling thread.
unsafe fn product_serial(p: Product) {
    for jc in (0..p.n).step_by(NC) {
        let nc = NC.min(p.n - jc);
        for (pc, kc) in k_blocks(p.k) {
            with_buffer(&PACKED_B, nc.div_ceil(NR) * NR * kc, |bp| {
                pack_b(kc, nc, p.b.sub(pc, jc), bp);
                multiply_rows(&p, 0..p.m, (jc, nc), (pc, kc), bp);
            });
        }
    }
}

/// Column ranges of whole `NR` panels, one independent product per task.
unsafe fn split_columns(p: Product, threads: usize) {
    let panels = p.n.div_ceil(NR);
    let tasks = threads.min(panels);
    let per = panels.div_ceil(tasks) * NR;
    (0..p.n).into_par_iter().step_by(per).for_each(|j0| {
        let n = per.min(p.n - j0);
        // SAFETY: columns j0..j0 + n are inside B and C, and no other task writes them.
        unsafe {
            product_serial(Product {
                n,
                b: p.b.sub(0, j0),
                c: p.c.sub(0, j0),
                ..p
            })
        }
    });
}

/// All threads share each packed block of `B`, then split the rows of `A` and `C`.
unsafe fn product_shared_b(p: Product, threads: usize) {
    let rows_per_task = p.m.div_ceil(threads).next_multiple_of(MR);
    for jc in (0..p.n).step_by(NC) {
        let nc = NC.min(p.n - jc);
        let panels = nc.div_ceil(NR);
        let panels_per_task = panels.div_ceil(threads);
        for (pc, kc) in k_blocks(p.k) {
            with_buffer(&PACKED_B, panels * NR * kc, |bp| {
                bp.par_chunks_mut(panels_per_task * NR * kc)
                    .enumerate()
                    .for_each(|(t, part)| {
                        let j0 = t * panels_per_task * NR;
                        // SAFETY: columns jc + j0 .. jc + j0 + cols are inside B; `part` holds
                        // their packed panels.
                        unsafe { pack_b(kc, (nc - j0).min(panels_per_task * NR), p.b.sub(pc, jc + j0), part) }
                    });
                let bp = &*bp;
                (0..p.m).into_par_iter().step_by(rows_per_task).for_each(|i0| {
                    let rows = i0..(i0 + rows_per_task).min(p.m);
                    // SAFETY: each task writes only its own rows of C.
                    unsafe { multiply_rows(&p, rows, (jc, nc), (pc, kc), bp) }
                });
            });
        }
    }
}

/// `C[rows, jc..jc+nc] (+)= alpha * A[rows, pc..pc+kc] · B[pc..pc+kc, jc..jc+nc]`, with the
/// block of `B` already packed in `bp`; packs `A` in `MC`-row blocks.
unsafe fn multiply_rows(
    p: &Product,
    rows: std::ops::Range<usize>,
    (jc, nc): (usize, usize),
    (pc, kc): (usize, usize),
    bp: &[f32],
) {
    let beta = block_beta(p, pc);
    with_buffer(&PACKED_A, MC * kc + A_SLACK, |ap| {
        for ic in rows.clone().step_by(MC) {
            let mc = MC.min(rows.end - ic);
            pack_a(mc, kc, p.a.sub(ic, pc), ap);
            for (jp, jr) in (0..nc).step_by(NR).enumerate() {
                let b_panel = bp[jp * NR * kc..].as_ptr();
                for (ip, ir) in (0..mc).step_by(MR).enumerate() {
                    let a_panel = ap[ip * MR * kc..].as_ptr();
                    let tile = (MR.min(mc - ir), NR.min(nc - jr));
                    let c = p.c.sub(ic + ir, jc + jr);
                    tile_update(kc, a_panel, b_panel, c, tile, p.alpha, beta);
                }
            }
        }
    });
}

/// One register tile of `C`, `rows x cols` of it inside the matrix: straight into `C` when the
/// tile spans all `NR` columns and its rows are contiguous, else through a scratch tile.
#[inline]
unsafe fn tile_update(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: StridedMut,
    (rows, cols): (usize, usize),
    alpha: f32,
    beta: f32,
) {
    if cols == NR && c.cs == 1 {
        kernel_rows(rows, kc, a, b, c.ptr, c.rs, alpha, beta);
        return;
    }
    let mut tile = [0.0f32; MR * NR];
    if beta != 0.0 {
        for i in 0..rows {
            for j in 0..cols {
                tile[i * NR + j] = *c.at(i, j);
            }
        }
    }
    kernel_rows(rows, kc, a, b, tile.as_mut_ptr(), NR as isize, alpha, beta);
    for i in 0..rows {
        for j in 0..cols {
            *c.at(i, j) = tile[i * NR + j];
        }
    }
}
