//! The AVX-512F micro-kernel of the blocked product: a 14x32 register tile.
//!
//! Each step of `k` loads two 16-lane vectors of packed `B` and multiplies them by 14
//! broadcast values of packed `A` (read straight from memory by the multiply-add), into
//! 28 accumulators: 30 of the 32 zmm registers. Every function here requires a CPU with
//! AVX-512F; callers check [`Kernel::Avx512`](super::Kernel::Avx512)`.is_available()` first.

use std::arch::x86_64::*;

use super::blocked::{MicroKernel, Strided};
use super::pack;

/// Rows of the register tile (broadcast from packed `A`).
const MR: usize = 14;
/// 16-lane vectors per row of the register tile.
const NV: usize = 2;
/// Columns of the register tile.
const NR: usize = 16 * NV;

/// The 14x32 AVX-512F tile and its cache blocks.
#[derive(Clone, Copy)]
pub(super) struct Avx512;

impl MicroKernel for Avx512 {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 8 * MR;
    const KC: usize = 256;
    const NC: usize = 1024;

    unsafe fn tile(
        rows: usize,
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        rsc: isize,
        alpha: f32,
        beta: f32,
    ) {
        // SAFETY: the trait's contract is `kernel_rows`'s.
        unsafe { kernel_rows(rows, kc, a, b, c, rsc, alpha, beta) }
    }

    unsafe fn pack_a(mc: usize, kc: usize, a: Strided, out: &mut [f32]) {
        // SAFETY: the trait's contract is `pack_a`'s.
        unsafe { pack::pack_a::<MR>(mc, kc, a, out) }
    }

    unsafe fn pack_b(kc: usize, nc: usize, b: Strided, out: &mut [f32]) {
        // SAFETY: the trait's contract is `pack_b`'s.
        unsafe { pack::pack_b::<NR>(kc, nc, b, out) }
    }
}

/// `C[0..ROWS, 0..NR] = alpha * Ap · Bp + beta * C` for one register tile of `ROWS <= MR`
/// rows (fewer than `MR` at the bottom edge of `C`).
///
/// `a` is an `MR`-row panel of packed `A` (`kc` steps of `MR` values, of which the first
/// `ROWS` are used), `b` an `NR`-column panel of packed `B` (`kc` steps of `NR` values); `c`
/// points at the tile's top-left element, with row stride `rsc` and contiguous rows.
/// `beta == 0` writes `C` without reading it. The sum over `k` runs in order, one fused
/// multiply-add per step, so a row's values do not depend on `ROWS`.
///
/// # Safety
/// The CPU has AVX-512F; `a` holds `kc * MR` and `b` `kc * NR` readable values; the
/// `ROWS x NR` tile at `c` with row stride `rsc` is writable and not aliased.
#[target_feature(enable = "avx512f")]
unsafe fn kernel<const ROWS: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rsc: isize,
    alpha: f32,
    beta: f32,
) {
    // SAFETY: every pointer below stays inside the panels (`kc` steps of `MR` and `NR`
    // values) and the `ROWS x NR` tile of C that the caller vouches for.
    unsafe {
        // Fetch C's rows now (a row of 32 values spans up to three cache lines): the k loop
        // hides the latency, and the stores at the end then hit L1.
        for i in 0..ROWS {
            let row = c.offset(i as isize * rsc) as *const i8;
            _mm_prefetch::<_MM_HINT_T0>(row);
            _mm_prefetch::<_MM_HINT_T0>(row.add(64));
            _mm_prefetch::<_MM_HINT_T0>(row.add(4 * NR - 1));
        }
        let mut acc = [[_mm512_setzero_ps(); NV]; ROWS];
        let (mut a, mut b) = (a, b);
        for _ in 0..kc {
            let bv: [__m512; NV] = std::array::from_fn(|v| _mm512_loadu_ps(b.add(16 * v)));
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm512_set1_ps(*a.add(i));
                for (r, &bv) in row.iter_mut().zip(&bv) {
                    *r = _mm512_fmadd_ps(ai, bv, *r);
                }
            }
            a = a.add(MR);
            b = b.add(NR);
        }
        let va = _mm512_set1_ps(alpha);
        let vb = _mm512_set1_ps(beta);
        for (i, row) in acc.iter().enumerate() {
            let out = c.offset(i as isize * rsc);
            for (h, &v) in row.iter().enumerate() {
                let p = out.add(16 * h);
                let r = if beta == 0.0 {
                    _mm512_mul_ps(va, v)
                } else if beta == 1.0 {
                    _mm512_fmadd_ps(va, v, _mm512_loadu_ps(p))
                } else {
                    _mm512_fmadd_ps(va, v, _mm512_mul_ps(vb, _mm512_loadu_ps(p)))
                };
                _mm512_storeu_ps(p, r);
            }
        }
    }
}

/// [`kernel`] for a tile of `rows` (1 to `MR`) rows.
///
/// # Safety
/// As for [`kernel`], with `ROWS = rows`.
#[inline]
#[allow(clippy::too_many_arguments)] // the kernel's own operands, plus `rows`
unsafe fn kernel_rows(
    rows: usize,
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rsc: isize,
    alpha: f32,
    beta: f32,
) {
    // SAFETY: the caller's contract, with `ROWS = rows`.
    unsafe {
        match rows {
            14 => kernel::<14>(kc, a, b, c, rsc, alpha, beta),
            13 => kernel::<13>(kc, a, b, c, rsc, alpha, beta),
            12 => kernel::<12>(kc, a, b, c, rsc, alpha, beta),
            11 => kernel::<11>(kc, a, b, c, rsc, alpha, beta),
            10 => kernel::<10>(kc, a, b, c, rsc, alpha, beta),
            9 => kernel::<9>(kc, a, b, c, rsc, alpha, beta),
            8 => kernel::<8>(kc, a, b, c, rsc, alpha, beta),
            7 => kernel::<7>(kc, a, b, c, rsc, alpha, beta),
            6 => kernel::<6>(kc, a, b, c, rsc, alpha, beta),
            5 => kernel::<5>(kc, a, b, c, rsc, alpha, beta),
            4 => kernel::<4>(kc, a, b, c, rsc, alpha, beta),
            3 => kernel::<3>(kc, a, b, c, rsc, alpha, beta),
            2 => kernel::<2>(kc, a, b, c, rsc, alpha, beta),
            1 => kernel::<1>(kc, a, b, c, rsc, alpha, beta),
            _ => unreachable!("a register tile has 1 to {MR} rows, not {rows}"),
        }
    }
}
