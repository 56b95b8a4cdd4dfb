//! The blocked product: BLIS's loop nest around a register-tile [`MicroKernel`] (the 6x16
//! AVX2+FMA one in `gemm/avx2.rs`, the 14x32 AVX-512F one in `gemm/avx512.rs`).
//!
//! `C` is computed in column blocks of `NC`; `k` in blocks of about `KC` (a packed `KC x NC`
//! block of `B` stays in the last-level cache, one `KC x NR` panel of it in L1); rows in
//! blocks of `MC` (a packed `MC x KC` block of `A` stays in L2). The sizes are the kernel's. Every element of `C` sums its
//! `k` blocks in order, each block in order inside the kernel, so the result does not depend
//! on how rows or columns are shared between threads.
//!
//! Threads: small products run on the calling thread. Larger ones that are wider than tall
//! split `C`'s columns, each task packing its own part of `B`; the others split `C`'s rows
//! into whole register tiles, each task an independent product that packs all of `B`. Either
//! way a product forks and joins once, which matters where waking a sleeping worker is slow
//! (a VM's vCPU).

use std::cell::Cell;
use std::thread::LocalKey;

use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::pack::a_slack;

/// A register-tile micro-kernel and the cache blocks the loop nest around it uses.
pub(super) trait MicroKernel {
    /// Rows of the register tile (at most 16).
    const MR: usize;
    /// Columns of the register tile (a multiple of 8).
    const NR: usize;
    /// Rows of `A` packed at a time (a multiple of `MR`).
    const MC: usize;
    /// Largest block of the inner dimension; `k` is cut into equal blocks of at most this.
    const KC: usize;
    /// Columns of `C` (and `B`) per outer block (a multiple of `NR`).
    const NC: usize;

    /// `C[0..rows, 0..NR] = alpha * Ap · Bp + beta * C` for one register tile of `rows`
    /// (1 to `MR`) rows: `a` is an `MR`-row panel of packed `A`, `b` an `NR`-column panel of
    /// packed `B` (`kc` steps each), `c` the tile's top-left element with row stride `rsc` and
    /// contiguous rows. `beta == 0` writes `C` without reading it. Each element sums its `kc`
    /// products in order, so its value depends neither on `rows` nor on where the tile lies.
    ///
    /// # Safety
    /// The CPU has the kernel's instruction set (and AVX2, for packing); `a` holds
    /// `kc * MR` and `b` `kc * NR` readable values; the `rows x NR` tile at `c` with row
    /// stride `rsc` is writable and not aliased.
    #[allow(clippy::too_many_arguments)] // the tile's operands and scalars
    unsafe fn tile(
        rows: usize,
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        rsc: isize,
        alpha: f32,
        beta: f32,
    );

    /// [`pack_a`](super::pack::pack_a) into `MR`-row panels.
    ///
    /// # Safety
    /// As for [`pack_a`](super::pack::pack_a).
    unsafe fn pack_a(mc: usize, kc: usize, a: Strided, out: &mut [f32]);

    /// [`pack_b`](super::pack::pack_b) into `NR`-column panels.
    ///
    /// # Safety
    /// As for [`pack_b`](super::pack::pack_b).
    unsafe fn pack_b(kc: usize, nc: usize, b: Strided, out: &mut [f32]);
}

/// Largest `MR * NR` of the kernels: the scratch tile at the edges of `C`.
const MAX_TILE: usize = 16 * 48;

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
        // SAFETY: the element is inside the matrix, so the offset stays in its allocation.
        unsafe { self.ptr.offset(r as isize * self.rs + c as isize * self.cs) }
    }

    /// The sub-matrix whose origin is element `(r, c)`.
    ///
    /// # Safety
    /// `(r, c)` lies inside the matrix this was made from.
    unsafe fn sub(self, r: usize, c: usize) -> Strided {
        Strided {
            // SAFETY: the caller's contract is `at`'s.
            ptr: unsafe { self.at(r, c) },
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
    /// Pointer to element `(r, c)`.
    ///
    /// # Safety
    /// `(r, c)` lies inside the matrix this was made from.
    unsafe fn at(self, r: usize, c: usize) -> *mut f32 {
        // SAFETY: the element is inside the matrix, so the offset stays in its allocation.
        unsafe { self.ptr.offset(r as isize * self.rs + c as isize * self.cs) }
    }

    /// The sub-matrix whose origin is element `(r, c)`.
    ///
    /// # Safety
    /// `(r, c)` lies inside the matrix this was made from.
    unsafe fn sub(self, r: usize, c: usize) -> StridedMut {
        StridedMut {
            // SAFETY: the caller's contract is `at`'s.
            ptr: unsafe { self.at(r, c) },
            ..self
        }
    }
}

/// One product's operands and scalars; `m x k` times `k x n`.
///
/// The `unsafe fn`s below share one contract: `a`, `b` and `c` address live matrices of at
/// least the sizes given (`m x k`, `k x n`, `m x n`), `c` aliases neither operand and is
/// written by nobody else during the call (parallel tasks take disjoint rows or columns), and
/// the CPU can run the micro-kernel in use.
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

/// `c = alpha * a · b + beta * c` on the micro-kernel `K`; shapes checked, non-empty.
///
/// # Safety
/// The CPU can run `K` (its instruction set and AVX2).
pub(super) unsafe fn gemm<K: MicroKernel>(
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    const {
        assert!(
            K::MR <= 16 && K::NR.is_multiple_of(8) && K::MR * K::NR <= MAX_TILE,
            "a micro-kernel's tile must suit the packing and the edge scratch tile"
        );
        assert!(K::MC.is_multiple_of(K::MR) && K::NC.is_multiple_of(K::NR));
    }
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
    // borrowed for the call, and the caller vouches for the CPU.
    unsafe {
        if !super::is_parallel(threads, m, k, n) {
            product_serial::<K>(p);
        } else if n > m {
            split_columns::<K>(p, threads);
        } else {
            split_rows::<K>(p, threads);
        }
    }
}

/// Equal `k` blocks of at most `kc_max`: `(start, len)` pairs. Depends on `k` alone.
fn k_blocks(k: usize, kc_max: usize) -> impl Iterator<Item = (usize, usize)> {
    let len = k.div_ceil(k.div_ceil(kc_max));
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
///
/// # Safety
/// [`Product`]'s contract, for `K`.
unsafe fn product_serial<K: MicroKernel>(p: Product) {
    for jc in (0..p.n).step_by(K::NC) {
        let nc = K::NC.min(p.n - jc);
        for (pc, kc) in k_blocks(p.k, K::KC) {
            with_buffer(&PACKED_B, nc.div_ceil(K::NR) * K::NR * kc, |bp| {
                // SAFETY: the block starts inside B and C; `bp` holds its packed panels.
                unsafe {
                    K::pack_b(kc, nc, p.b.sub(pc, jc), bp);
                    multiply_rows::<K>(&p, 0..p.m, (jc, nc), (pc, kc), bp);
                }
            });
        }
    }
}

/// Column ranges of whole `NR` panels, one independent product per task.
///
/// # Safety
/// [`Product`]'s contract, for `K`.
unsafe fn split_columns<K: MicroKernel>(p: Product, threads: usize) {
    let panels = p.n.div_ceil(K::NR);
    let tasks = threads.min(panels);
    let per = panels.div_ceil(tasks) * K::NR;
    (0..p.n).into_par_iter().step_by(per).for_each(|j0| {
        let n = per.min(p.n - j0);
        // SAFETY: columns j0..j0 + n are inside B and C, and no other task writes them.
        unsafe {
            product_serial::<K>(Product {
                n,
                b: p.b.sub(0, j0),
                c: p.c.sub(0, j0),
                ..p
            })
        }
    });
}

/// Row ranges of whole `MR` tiles, one independent product per task (each packs all of `B`
/// itself): one fork and join per product. (Sharing each packed `k` block of `B` between the
/// threads, as this did before, halves `B`'s packing but forks and joins twice per block;
/// on a 2-vCPU VM, where waking a sleeping worker costs tens of µs, W5's 1000x784x128 ran at
/// 155 GFLOP/s that way and 180-185 with one fork: `cargo bench --bench sgemm_kernels`.)
///
/// # Safety
/// [`Product`]'s contract, for `K`.
unsafe fn split_rows<K: MicroKernel>(p: Product, threads: usize) {
    let tiles = p.m.div_ceil(K::MR);
    let per = tiles.div_ceil(threads.min(tiles)) * K::MR;
    (0..p.m).into_par_iter().step_by(per).for_each(|i0| {
        let m = per.min(p.m - i0);
        // SAFETY: rows i0..i0 + m are inside A and C, and no other task writes them.
        unsafe {
            product_serial::<K>(Product {
                m,
                a: p.a.sub(i0, 0),
                c: p.c.sub(i0, 0),
                ..p
            })
        }
    });
}

/// `C[rows, jc..jc+nc] (+)= alpha * A[rows, pc..pc+kc] · B[pc..pc+kc, jc..jc+nc]`, with the
/// block of `B` already packed in `bp`; packs `A` in `MC`-row blocks.
///
/// # Safety
/// [`Product`]'s contract, for `K`; the ranges lie inside the product; `bp` holds the packed
/// block; no other thread writes these rows of `C`.
unsafe fn multiply_rows<K: MicroKernel>(
    p: &Product,
    rows: std::ops::Range<usize>,
    (jc, nc): (usize, usize),
    (pc, kc): (usize, usize),
    bp: &[f32],
) {
    let beta = block_beta(p, pc);
    with_buffer(&PACKED_A, K::MC * kc + a_slack(K::MR), |ap| {
        for ic in rows.clone().step_by(K::MC) {
            let mc = K::MC.min(rows.end - ic);
            // SAFETY: rows ic..ic + mc and columns pc..pc + kc are inside A; `ap` holds
            // MC / MR panels plus the slack.
            unsafe { K::pack_a(mc, kc, p.a.sub(ic, pc), ap) };
            for (jp, jr) in (0..nc).step_by(K::NR).enumerate() {
                let b_panel = bp[jp * K::NR * kc..].as_ptr();
                for (ip, ir) in (0..mc).step_by(K::MR).enumerate() {
                    let a_panel = ap[ip * K::MR * kc..].as_ptr();
                    let tile = (K::MR.min(mc - ir), K::NR.min(nc - jr));
                    // SAFETY: the tile's origin is inside C; the panels hold kc steps each.
                    unsafe {
                        let c = p.c.sub(ic + ir, jc + jr);
                        tile_update::<K>(kc, a_panel, b_panel, c, tile, p.alpha, beta);
                    }
                }
            }
        }
    });
}

/// One register tile of `C`, `rows x cols` of it inside the matrix: straight into `C` when the
/// tile spans all `NR` columns and its rows are contiguous, else through a scratch tile.
///
/// # Safety
/// As for [`MicroKernel::tile`], for the `rows x cols` part of the tile at `c`.
#[inline]
unsafe fn tile_update<K: MicroKernel>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: StridedMut,
    (rows, cols): (usize, usize),
    alpha: f32,
    beta: f32,
) {
    if cols == K::NR && c.cs == 1 {
        // SAFETY: the whole tile is inside C, rows contiguous.
        unsafe { K::tile(rows, kc, a, b, c.ptr, c.rs, alpha, beta) };
        return;
    }
    let nr = K::NR;
    let mut tile = [0.0f32; MAX_TILE];
    // SAFETY: (i, j) with i < rows, j < cols is inside C; the scratch tile holds MR x NR.
    unsafe {
        if beta != 0.0 {
            for i in 0..rows {
                for j in 0..cols {
                    tile[i * nr + j] = *c.at(i, j);
                }
            }
        }
        K::tile(rows, kc, a, b, tile.as_mut_ptr(), nr as isize, alpha, beta);
        for i in 0..rows {
            for j in 0..cols {
                *c.at(i, j) = tile[i * nr + j];
            }
        }
    }
}
