//! [`vectorized`]: runs a plain Rust loop compiled for the widest vector instructions the CPU
//! has, chosen at run time.
//!
//! The crates are built for the x86-64 baseline (SSE2), so the compiler vectorises an
//! element-wise loop over 4 lanes. The sgemm kernels pick AVX-512F or AVX2 at run time
//! themselves; the element-wise passes around them (an optimizer's update, a gradient norm,
//! a ReLU, the data loader's byte-to-float conversion) go through [`vectorized`], which
//! compiles the closure it is given a second and third time inside functions that enable
//! AVX-512F or AVX2+FMA, and calls the one this CPU runs.
//!
//! Rust never reorders or contracts floating-point operations (no fast-math), so every
//! version computes bit-identical results: a wider vector changes how many elements one
//! instruction handles, never the arithmetic.

use std::sync::OnceLock;

/// The vector extensions [`vectorized`] compiles for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorIsa {
    /// AVX-512F (16 f32 lanes).
    Avx512,
    /// AVX2 with FMA (8 f32 lanes).
    Avx2,
    /// The target's baseline (SSE2 on x86-64).
    Baseline,
}

impl VectorIsa {
    /// The widest extension this CPU has, detected once.
    pub fn detected() -> VectorIsa {
        static DETECTED: OnceLock<VectorIsa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    return VectorIsa::Avx512;
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    return VectorIsa::Avx2;
                }
            }
            VectorIsa::Baseline
        })
    }
}

/// Runs `f`, compiled for [`VectorIsa::detected`]. Mark the closure `#[inline(always)]`
/// (and the functions it calls for the hot loop) so that its body is compiled into the
/// vector-enabled function instead of being called from it:
///
/// ```
/// use neurite_tensor::simd::vectorized;
/// let (mut p, g) = (vec![1.0f32; 100], vec![0.5f32; 100]);
/// vectorized(#[inline(always)] || p.iter_mut().zip(&g).for_each(|(p, &g)| *p -= 0.1 * g));
/// assert_eq!(p[7], 1.0 - 0.1 * 0.5);
/// ```
#[inline]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    vectorized_for(VectorIsa::detected(), f)
}

/// [`vectorized`] for a given extension (to test each version); one the CPU lacks runs the
/// baseline version.
#[inline]
pub fn vectorized_for<R>(isa: VectorIsa, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        let detected = VectorIsa::detected();
        if isa == VectorIsa::Avx512 && detected == VectorIsa::Avx512 {
            // SAFETY: the CPU has AVX-512F (`detected` checked it).
            return unsafe { with_avx512(f) };
        }
        if isa == VectorIsa::Avx2 && detected != VectorIsa::Baseline {
            // SAFETY: the CPU has AVX2 and FMA (`detected` checked them; every AVX-512F CPU
            // has both).
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

/// Runs `f` with AVX-512F enabled for its inlined body.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Runs `f` with AVX2 and FMA enabled for its inlined body.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Element-wise work and an ordered reduction, bit for bit equal in every version.
    #[test]
    fn every_version_gives_the_baseline_bits() {
        let x: Vec<f32> = (0..1037).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
        let work = |isa| {
            let mut y = x.clone();
            let sum = vectorized_for(
                isa,
                #[inline(always)]
                || {
                    y.iter_mut().for_each(|v| *v = (*v * 1.5 + 0.25) / 3.0);
                    let mut acc = [0f64; 8];
                    for lane in y.chunks_exact(8) {
                        acc.iter_mut()
                            .zip(lane)
                            .for_each(|(a, &v)| *a += f64::from(v) * f64::from(v));
                    }
                    acc.iter().sum::<f64>()
                },
            );
            (y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), sum.to_bits())
        };
        let base = work(VectorIsa::Baseline);
        assert_eq!(work(VectorIsa::Avx2), base);
        assert_eq!(work(VectorIsa::Avx512), base);
        assert_eq!(work(VectorIsa::detected()), base);
    }
}
