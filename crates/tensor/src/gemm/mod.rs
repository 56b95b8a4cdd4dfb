//! General matrix multiply `C = alpha * A B + beta * C` on strided f32 views.
//!
//! Two implementations sit behind [`gemm`], picked once per process by [`Kernel::selected`]
//! (the CPU's best, or the one named by the `NEURITE_SGEMM` environment variable):
//! * [`Kernel::Avx2Fma`] (`gemm/blocked.rs`): our own BLIS-style product for x86-64 CPUs
//!   with AVX2 and FMA: operands packed into cache-sized panels (`gemm/pack.rs`) and a 6x16
//!   register-tile micro-kernel (`gemm/avx2.rs`). With several threads the packed panel of
//!   `B` is shared: each thread packs a part of it, then every thread multiplies its own rows
//!   of `A` against the whole panel.
//! * [`Kernel::Portable`] (`gemm/portable.rs`): `matrixmultiply::sgemm`, on every other CPU.
//!   On CPUs with AVX-512F it runs matrixmultiply's AVX-512 kernel.
//!
//! Both read any row and column strides, so transposed operands are never copied. Work is
//! split over rayon's threads by output rows or columns only: every element of `C` is computed
//! by the same instructions in the same order whatever the thread count, so results are
//! bit-identical with any number of threads.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod blocked;
#[cfg(target_arch = "x86_64")]
mod pack;
mod portable;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// The environment variable that overrides the kernel choice (see [`Kernel::selected`]).
pub const KERNEL_ENV: &str = "NEURITE_SGEMM";

/// Multiply-adds (m·k·n) from which a product is split over threads.
pub const PAR_MIN_FLOPS: usize = 1 << 20;

/// Which sgemm implementation computes a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// neurite's packed AVX-512F product, 14x32 register tile (x86-64 with AVX-512F, AVX2
    /// and FMA).
    Avx512,
    /// neurite's packed AVX2+FMA product, 6x16 register tile (x86-64 with AVX2 and FMA).
    Avx2Fma,
    /// `matrixmultiply::sgemm` (every CPU; its AVX-512F kernel where the CPU has one).
    Portable,
}

impl Kernel {
    /// The kernel [`gemm`] uses on this CPU: [`Kernel::Avx2Fma`] on x86-64 CPUs with AVX2 and
    /// FMA but without AVX-512F (whose wider kernel matrixmultiply provides), else
    /// [`Kernel::Portable`].
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if Kernel::Avx2Fma.is_available() && !std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Avx2Fma;
            }
        }
        Kernel::Portable
    }

    /// The kernel [`gemm`] uses: the one `NEURITE_SGEMM` names (`avx2` or `portable`) when it
    /// is set and the CPU can run it, else [`Kernel::detect`]'s. An unknown or unavailable name
    /// is reported once on stderr and ignored. Read once per process.
    pub fn selected() -> Kernel {
        static SELECTED: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *SELECTED.get_or_init(|| {
            let Ok(name) = std::env::var(KERNEL_ENV) else {
                return Kernel::detect();
            };
            match Kernel::from_name(&name) {
                Some(kernel) if kernel.is_available() => kernel,
                Some(kernel) => {
                    eprintln!(
                        "neurite: {KERNEL_ENV}={name}: {kernel:?} is not available on this CPU; using {:?}",
                        Kernel::detect()
                    );
                    Kernel::detect()
                }
                None => {
                    eprintln!(
                        "neurite: {KERNEL_ENV}={name}: expected `avx2` or `portable`; using {:?}",
                        Kernel::detect()
                    );
                    Kernel::detect()
                }
            }
        })
    }

    /// The kernel called `name` (`avx2` or `portable`, any case).
    pub fn from_name(name: &str) -> Option<Kernel> {
        match name.trim().to_ascii_lowercase().as_str() {
            "avx512" => Some(Kernel::Avx512),
            "avx2" => Some(Kernel::Avx2Fma),
            "portable" => Some(Kernel::Portable),
            _ => None,
        }
    }

    /// Whether this CPU can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => Kernel::Avx2Fma.is_available() && std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2Fma | Kernel::Avx512 => false,
            Kernel::Portable => true,
        }
    }
}

/// `c = alpha * a · b + beta * c` for `a: [m, k]`, `b: [k, n]`, `c: [m, n]`, with the
/// kernel [`Kernel::selected`] picks. When `beta` is 0, `c` is only written (NaNs in it do not
/// propagate).
///
/// # Panics
/// When the shapes do not chain (`matmul` and the three shapes are named).
pub fn gemm(alpha: f32, a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>, beta: f32, c: &mut ArrayViewMut2<'_, f32>) {
    // `selected` only returns available kernels, so the per-call check of `gemm_with` is skipped.
    multiply(Kernel::selected(), alpha, a, b, beta, c);
}

/// `alpha * a · b` as a new row-major `[m, n]` array. Equal to zero-filling an array and
/// calling [`gemm`] with `beta = 0`, but writes each output element once instead of twice.
///
/// # Panics
/// When the inner sizes differ (`matmul` and the shapes are named).
pub fn product(alpha: f32, a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>) -> Array2<f32> {
    let (m, n) = (a.nrows(), b.ncols());
    let mut out = Array2::<f32>::uninit((m, n));
    // SAFETY: the view covers exactly `out`'s m x n row-major elements. With `beta = 0`,
    // `multiply` writes every element of C and reads none before writing it: the `k == 0`
    // case fills, matrixmultiply documents that C need not be initialised when beta is 0, and
    // the blocked kernel loads C only when its beta is nonzero (later `k` blocks read what the
    // first one wrote). So `out` is fully initialised when `gemm` returns.
    unsafe {
        let mut c = ArrayViewMut2::from_shape_ptr((m, n), out.as_mut_ptr().cast::<f32>());
        gemm(alpha, a, b, 0.0, &mut c);
        out.assume_init()
    }
}

/// [`gemm`] with a chosen kernel, to compare or test the implementations.
///
/// # Panics
/// When the shapes do not chain, or when `kernel` is not available on this CPU.
pub fn gemm_with(
    kernel: Kernel,
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    assert!(
        kernel.is_available(),
        "gemm: kernel {kernel:?} is not available on this CPU"
    );
    multiply(kernel, alpha, a, b, beta, c);
}

/// Checks the shapes, handles empty products and runs `kernel` (known to be available).
fn multiply(
    kernel: Kernel,
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        k == k2 && c.dim() == (m, n),
        "matmul: shapes {:?} x {:?} -> {:?} do not chain",
        a.shape(),
        b.shape(),
        c.shape()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == 0.0 {
            c.fill(0.0);
        } else {
            c.mapv_inplace(|v| beta * v);
        }
        return;
    }
    match kernel {
        // SAFETY: the caller checked that the CPU can run `kernel`.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe { blocked::gemm::<avx512::Avx512>(alpha, a, b, beta, c) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2Fma => unsafe { blocked::gemm::<avx2::Avx2>(alpha, a, b, beta, c) },
        #[cfg(not(target_arch = "x86_64"))]
        Kernel::Avx2Fma | Kernel::Avx512 => unreachable!("checked by is_available"),
        Kernel::Portable => portable::gemm(alpha, a, b, beta, c),
    }
}

/// Whether a product of `m·k·n` multiply-adds is split over `threads` threads.
fn is_parallel(threads: usize, m: usize, k: usize, n: usize) -> bool {
    threads > 1 && m * k * n >= PAR_MIN_FLOPS
}
