//! Packing blocks of `A` and `B` into the panel layouts the micro-kernel streams through.
//!
//! * `A` (`mc x kc`) becomes `MR`-row panels: for each `k`, the panel's `MR` values of that
//!   column side by side.
//! * `B` (`kc x nc`) becomes `NR`-column panels: for each `k`, the panel's `NR` values of that
//!   row side by side.
//!
//! Rows or columns past the edge of the block are zero, so every panel is full-size. Operands
//! whose packed direction is strided in memory (row-major `A`, column-major `B`, e.g. a
//! transposed weight) are packed eight `k` steps at a time through an 8x8 register transpose.

use std::arch::x86_64::*;

use super::avx2::{transpose_8x8, MR, NR};
use super::blocked::Strided;

/// Extra floats a packed-`A` buffer needs past its last panel: the transposing path writes
/// eight lanes where a step holds `MR` values.
pub(super) const A_SLACK: usize = 8 - MR;

/// Packs the `mc x kc` block of `a` starting at its origin into `out`.
///
/// # Safety
/// The CPU has AVX2; the block lies inside `a`'s matrix; `out` holds at least
/// `mc.div_ceil(MR) * MR * kc + A_SLACK` values.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn pack_a(mc: usize, kc: usize, a: Strided, out: &mut [f32]) {
    debug_assert!(out.len() >= mc.div_ceil(MR) * MR * kc + A_SLACK);
    let dst = out.as_mut_ptr();
    for (panel, i0) in (0..mc).step_by(MR).enumerate() {
        let rows = MR.min(mc - i0);
        let dst = dst.add(panel * MR * kc);
        let mut p = 0;
        if rows == MR && a.cs == 1 {
            // Six rows, eight columns at a time; the two spare transposed lanes land on the
            // next step's slot (or the slack) and are overwritten in turn.
            while p + 8 <= kc {
                let zero = _mm256_setzero_ps();
                let mut r = [zero; 8];
                for (i, v) in r.iter_mut().take(MR).enumerate() {
                    *v = _mm256_loadu_ps(a.at(i0 + i, p));
                }
                for (j, col) in transpose_8x8(r).into_iter().enumerate() {
                    _mm256_storeu_ps(dst.add((p + j) * MR), col);
                }
                p += 8;
            }
        }
        for p in p..kc {
            for i in 0..MR {
                *dst.add(p * MR + i) = if i < rows { *a.at(i0 + i, p) } else { 0.0 };
            }
        }
    }
}

/// Packs the `kc x nc` block of `b` starting at its origin into `out`.
///
/// # Safety
/// The CPU has AVX2; the block lies inside `b`'s matrix; `out` holds at least
/// `nc.div_ceil(NR) * NR * kc` values.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn pack_b(kc: usize, nc: usize, b: Strided, out: &mut [f32]) {
    debug_assert!(out.len() >= nc.div_ceil(NR) * NR * kc);
    let dst = out.as_mut_ptr();
    for (panel, j0) in (0..nc).step_by(NR).enumerate() {
        let cols = NR.min(nc - j0);
        let dst = dst.add(panel * NR * kc);
        let mut p = 0;
        if cols == NR && b.cs == 1 {
            for p in 0..kc {
                std::ptr::copy_nonoverlapping(b.at(p, j0), dst.add(p * NR), NR);
            }
            continue;
        }
        if cols == NR && b.rs == 1 {
            // Columns are contiguous: two 8x8 transposes per eight steps.
            while p + 8 <= kc {
                for half in 0..2 {
                    let mut r = [_mm256_setzero_ps(); 8];
                    for (j, v) in r.iter_mut().enumerate() {
                        *v = _mm256_loadu_ps(b.at(p, j0 + 8 * half + j));
                    }
                    for (i, row) in transpose_8x8(r).into_iter().enumerate() {
                        _mm256_storeu_ps(dst.add((p + i) * NR + 8 * half), row);
                    }
                }
                p += 8;
            }
        }
        for p in p..kc {
            for j in 0..NR {
                *dst.add(p * NR + j) = if j < cols { *b.at(p, j0 + j) } else { 0.0 };
            }
        }
    }
}
