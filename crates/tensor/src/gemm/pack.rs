//! Packing blocks of `A` and `B` into the panel layouts the micro-kernels stream through.
//!
//! * `A` (`mc x kc`) becomes `MR`-row panels: for each `k`, the panel's `MR` values of that
//!   column side by side.
//! * `B` (`kc x nc`) becomes `NR`-column panels: for each `k`, the panel's `NR` values of that
//!   row side by side.
//!
//! Rows or columns past the edge of the block are zero, so every panel is full-size. Operands
//! whose packed direction is strided in memory (row-major `A`, column-major `B`, e.g. a
//! transposed weight) are packed eight `k` steps at a time through 8x8 register transposes.
//! Both kernels' tile sizes are const parameters here; the transposes use AVX2, which every
//! CPU running either kernel has.

use std::arch::x86_64::*;

use super::avx2::transpose_8x8;
use super::blocked::Strided;

/// Extra floats a packed-`A` buffer of `MR`-row panels needs past its last panel: the
/// transposing path writes whole groups of eight lanes where a step holds `MR` values.
pub(super) const fn a_slack(mr: usize) -> usize {
    mr.next_multiple_of(8) - mr
}

/// Packs the `mc x kc` block of `a` starting at its origin into `out`, in `MR`-row panels.
///
/// # Safety
/// The CPU has AVX2; `MR <= 16`; the block lies inside `a`'s matrix; `out` holds at least
/// `mc.div_ceil(MR) * MR * kc + a_slack(MR)` values.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn pack_a<const MR: usize>(mc: usize, kc: usize, a: Strided, out: &mut [f32]) {
    debug_assert!(MR <= 16 && out.len() >= mc.div_ceil(MR) * MR * kc + a_slack(MR));
    let dst = out.as_mut_ptr();
    let groups = MR.div_ceil(8);
    for (panel, i0) in (0..mc).step_by(MR).enumerate() {
        let rows = MR.min(mc - i0);
        // SAFETY: panel `panel` starts inside `out` (its length covers every panel).
        let dst = unsafe { dst.add(panel * MR * kc) };
        let mut p = 0;
        if rows == MR && a.cs == 1 {
            // MR rows, eight columns at a time, in groups of eight rows. A step's last group
            // spills its spare lanes onto the next step's first values (or the slack), which
            // the next step, written afterwards, overwrites.
            while p + 8 <= kc {
                let mut cols = [[_mm256_setzero_ps(); 8]; 2];
                for (g, group) in cols.iter_mut().take(groups).enumerate() {
                    let mut r = [_mm256_setzero_ps(); 8];
                    for (i, v) in r.iter_mut().take(MR - 8 * g).enumerate() {
                        // SAFETY: row i0 + 8g + i < i0 + MR and columns p..p + 8 <= kc lie in
                        // the block.
                        *v = unsafe { _mm256_loadu_ps(a.at(i0 + 8 * g + i, p)) };
                    }
                    *group = transpose_8x8(r);
                }
                for j in 0..8 {
                    for (g, group) in cols.iter().take(groups).enumerate() {
                        // SAFETY: step p + j's slot plus at most `a_slack` spare lanes, which
                        // land on the next step, the next panel or the slack.
                        unsafe { _mm256_storeu_ps(dst.add((p + j) * MR + 8 * g), group[j]) };
                    }
                }
                p += 8;
            }
        }
        for p in p..kc {
            for i in 0..MR {
                // SAFETY: (i0 + i, p) is in the block when i < rows; the slot is in the panel.
                unsafe { *dst.add(p * MR + i) = if i < rows { *a.at(i0 + i, p) } else { 0.0 } };
            }
        }
    }
}

/// Packs the `kc x nc` block of `b` starting at its origin into `out`, in `NR`-column panels.
///
/// # Safety
/// The CPU has AVX2; `NR` is a multiple of 8; the block lies inside `b`'s matrix; `out` holds
/// at least `nc.div_ceil(NR) * NR * kc` values.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn pack_b<const NR: usize>(kc: usize, nc: usize, b: Strided, out: &mut [f32]) {
    debug_assert!(NR.is_multiple_of(8) && out.len() >= nc.div_ceil(NR) * NR * kc);
    let dst = out.as_mut_ptr();
    for (panel, j0) in (0..nc).step_by(NR).enumerate() {
        let cols = NR.min(nc - j0);
        // SAFETY: panel `panel` starts inside `out`.
        let dst = unsafe { dst.add(panel * NR * kc) };
        let mut p = 0;
        if cols == NR && b.cs == 1 {
            for p in 0..kc {
                // SAFETY: row p's NR columns from j0 are in the block and contiguous; the
                // destination step is inside the panel.
                unsafe { std::ptr::copy_nonoverlapping(b.at(p, j0), dst.add(p * NR), NR) };
            }
            continue;
        }
        if cols == NR && b.rs == 1 {
            // Columns are contiguous: NR / 8 transposes of 8x8 per eight steps.
            while p + 8 <= kc {
                for part in 0..NR / 8 {
                    let mut r = [_mm256_setzero_ps(); 8];
                    for (j, v) in r.iter_mut().enumerate() {
                        // SAFETY: column j0 + 8 part + j < j0 + NR, rows p..p + 8 <= kc.
                        *v = unsafe { _mm256_loadu_ps(b.at(p, j0 + 8 * part + j)) };
                    }
                    for (i, row) in transpose_8x8(r).into_iter().enumerate() {
                        // SAFETY: eight values of step p + i inside the panel.
                        unsafe { _mm256_storeu_ps(dst.add((p + i) * NR + 8 * part), row) };
                    }
                }
                p += 8;
            }
        }
        for p in p..kc {
            for j in 0..NR {
                // SAFETY: (p, j0 + j) is in the block when j < cols; the slot is in the panel.
                unsafe { *dst.add(p * NR + j) = if j < cols { *b.at(p, j0 + j) } else { 0.0 } };
            }
        }
    }
}
