//! General matrix multiply `C = alpha * A B + beta * C` on strided f32 views.
//!
//! Three implementations sit behind [`gemm`], which picks one per product shape with
//! [`Kernel::for_product`] (or always the one named by the `NEURITE_SGEMM` environment
//! variable):
//! * [`Kernel::Avx512`] and [`Kernel::Avx2Fma`] (`gemm/blocked.rs`): our own BLIS-style
//!   product for x86-64 CPUs: operands packed into cache-sized panels (`gemm/pack.rs`) and a
//!   register-tile micro-kernel, 14x32 on AVX-512F (`gemm/avx512.rs`, 28 of the 32 zmm
//!   registers accumulate) or 6x16 on AVX2+FMA (`gemm/avx2.rs`). With several threads a
//!   product splits `C`'s rows (or, when wider than tall, its columns) into independent
//!   products, one fork and join per product.
//! * [`Kernel::Portable`] (`gemm/portable.rs`): `matrixmultiply::sgemm`, on every other CPU
//!   and for narrow products on AVX-512 CPUs (see [`Kernel::for_product`]).
//!
//! All read any row and column strides, so transposed operands are never copied. Work is
//! split over rayon's threads by output rows or columns only, and the kernel depends on the
//! shape alone: every element of `C` is computed by the same instructions in the same order
//! whatever the thread count, so results are bit-identical with any number of threads.

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

/// Products with at most this many columns (`n`) run on [`Kernel::Portable`] on CPUs whose
/// best kernel is [`Kernel::Avx512`]: its 32-column tile would be at least half padding.
/// Measured with `benches/sgemm_kernels.rs` (Xeon Sapphire Rapids, 2 threads, 15 paired
/// rounds): at `n = 10` (the MLPs' output layer) the portable product takes 0.65x (W1,
/// 64x128x10) and 0.75x (W5, 1000x128x10) the AVX-512 kernel's time, the AVX2 one 0.80x and
/// 0.84x; from `n = 128` up the AVX-512 kernel is ahead on every workload product.
pub const NARROW_MAX_COLS: usize = 16;

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
    /// The widest kernel this CPU runs: [`Kernel::Avx512`] on x86-64 CPUs with AVX-512F (and
    /// AVX2+FMA), else [`Kernel::Avx2Fma`] on those with AVX2 and FMA, else
    /// [`Kernel::Portable`].
    pub fn detect() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2Fma]
            .into_iter()
            .find(|k| k.is_available())
            .unwrap_or(Kernel::Portable)
    }

    /// The kernel for products of `n` columns without an override: [`Kernel::detect`]'s,
    /// except that products of at most [`NARROW_MAX_COLS`] columns run on
    /// [`Kernel::Portable`] where that is [`Kernel::Avx512`]. A function of the shape alone, so
    /// results never depend on the thread count. (`m` and `k` made no difference worth a rule
    /// in the measurements, see [`NARROW_MAX_COLS`]; they are taken so that one can be added.)
    pub fn best_for(m: usize, k: usize, n: usize) -> Kernel {
        let _ = (m, k);
        match Kernel::detect() {
            Kernel::Avx512 if n <= NARROW_MAX_COLS => Kernel::Portable,
            best => best,
        }
    }

    /// The kernel [`gemm`] uses for an `m x k` times `k x n` product: the one
    /// [`Kernel::forced`] returns if any, else [`Kernel::best_for`]'s.
    pub fn for_product(m: usize, k: usize, n: usize) -> Kernel {
        Kernel::forced().unwrap_or_else(|| Kernel::best_for(m, k, n))
    }

    /// The kernel for large products: [`Kernel::forced`]'s if any, else [`Kernel::detect`]'s
    /// (what a report names as "the" kernel; narrow products may use another, see
    /// [`Kernel::for_product`]).
    pub fn selected() -> Kernel {
        Kernel::forced().unwrap_or_else(Kernel::detect)
    }

    /// The kernel `NEURITE_SGEMM` names (`avx512`, `avx2` or `portable`) when it is set and
    /// the CPU can run it; every product then uses it. An unknown or unavailable name is
    /// reported once on stderr and ignored. Read once per process.
    pub fn forced() -> Option<Kernel> {
        static FORCED: std::sync::OnceLock<Option<Kernel>> = std::sync::OnceLock::new();
        *FORCED.get_or_init(|| {
            let name = std::env::var(KERNEL_ENV).ok()?;
            match Kernel::from_name(&name) {
                Some(kernel) if kernel.is_available() => Some(kernel),
                Some(kernel) => {
                    eprintln!(
                        "neurite: {KERNEL_ENV}={name}: {kernel:?} is not available on this CPU; choosing per product"
                    );
                    None
                }
                None => {
                    eprintln!(
                        "neurite: {KERNEL_ENV}={name}: expected `avx512`, `avx2` or `portable`; choosing per product"
                    );
                    None
                }
            }
        })
    }

    /// The kernel called `name` (`avx512`, `avx2` or `portable`, any case).
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
/// kernel [`Kernel::for_product`] picks for the shape. When `beta` is 0, `c` is only written (NaNs in it do not
/// propagate).
///
/// # Panics
/// When the shapes do not chain (`matmul` and the three shapes are named).
pub fn gemm(alpha: f32, a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>, beta: f32, c: &mut ArrayViewMut2<'_, f32>) {
    // `for_product` only returns available kernels, so the per-call check of `gemm_with` is
    // skipped.
    let kernel = Kernel::for_product(a.nrows(), a.ncols(), b.ncols());
    multiply(kernel, alpha, a, b, beta, c);
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
