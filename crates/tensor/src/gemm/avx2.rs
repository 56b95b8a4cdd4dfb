//! AVX2+FMA building blocks of the blocked product: the 6x16 micro-kernel and an 8x8
//! transpose used by packing.
//!
//! Every function here requires a CPU with AVX2 and FMA; callers check
//! [`Kernel::Avx2Fma`](super::Kernel::Avx2Fma)`.is_available()` first.

use std::arch::x86_64::*;

use super::blocked::{MicroKernel, Strided};
use super::pack;

/// Rows of the register tile (broadcast from packed `A`).
const MR: usize = 6;
/// Columns of the register tile (two 8-lane vectors of packed `B`).
const NR: usize = 16;

/// The 6x16 AVX2+FMA tile (12 of the 16 ymm registers accumulate) and its cache blocks.
#[derive(Clone, Copy)]
pub(super) struct Avx2;

impl MicroKernel for Avx2 {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 96;
    const KC: usize = 384;
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

/// `C[0..ROWS, 0..16] = alpha * Ap · Bp + beta * C` for one register tile of `ROWS <= MR`
/// rows (fewer than `MR` at the bottom edge of `C`, so no work is spent on padding rows).
///
/// `a` is an `MR`-row panel of packed `A` (`kc` steps of `MR` values, of which the first
/// `ROWS` are used), `b` an `NR`-column panel of packed `B` (`kc` steps of `NR` values); `c`
/// points at the tile's top-left element, with row stride `rsc` and contiguous rows.
/// `beta == 0` writes `C` without reading it. The sum over `k` runs in order, one fused
/// multiply-add per step, into `2 * ROWS` accumulators, so a row's values do not depend on
/// `ROWS`.
///
/// # Safety
/// The CPU has AVX2 and FMA; `a` holds `kc * MR` and `b` `kc * NR` readable values; the
/// `ROWS x 16` tile at `c` with row stride `rsc` is writable and not aliased.
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel<const ROWS: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rsc: isize,
    alpha: f32,
    beta: f32,
) {
    // SAFETY: the pointers stay inside the panels and the tile the caller vouches for: `kc`
    // steps of `MR` and `NR` values, `ROWS` rows of 16 values of C.
    unsafe {
        // Fetch C's rows now: the k loop hides the latency, and the stores at the end then hit L1.
        for i in 0..ROWS {
            let row = c.offset(i as isize * rsc) as *const i8;
            _mm_prefetch::<_MM_HINT_T0>(row);
            _mm_prefetch::<_MM_HINT_T0>(row.add(60));
        }
        let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
        let (mut a, mut b) = (a, b);
        for _ in 0..kc {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm256_broadcast_ss(&*a.add(i));
                row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
        let va = _mm256_set1_ps(alpha);
        let vb = _mm256_set1_ps(beta);
        for (i, row) in acc.iter().enumerate() {
            let out = c.offset(i as isize * rsc);
            for (h, &v) in row.iter().enumerate() {
                let p = out.add(8 * h);
                let r = if beta == 0.0 {
                    _mm256_mul_ps(va, v)
                } else if beta == 1.0 {
                    _mm256_fmadd_ps(va, v, _mm256_loadu_ps(p))
                } else {
                    _mm256_fmadd_ps(va, v, _mm256_mul_ps(vb, _mm256_loadu_ps(p)))
                };
                _mm256_storeu_ps(p, r);
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

/// Transposes an 8x8 block held as eight row vectors: output `j` holds column `j`. Safe to
/// call from code compiled with AVX2 (the packing functions).
#[target_feature(enable = "avx2")]
pub(super) fn transpose_8x8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}
