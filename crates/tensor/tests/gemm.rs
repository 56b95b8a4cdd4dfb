//! Both sgemm kernels against a naive f64 reference: every operand layout, edge sizes around
//! the register tile, `alpha`/`beta`, products that cross the cache blocks and the parallel
//! splits, and bit-identical results across thread counts.

use ndarray::{s, Array2, ArrayView2, ShapeBuilder};
use neurite_tensor::gemm::{gemm, gemm_with, product, Kernel};
use neurite_tensor::{seeded_rng, Tensor};
use proptest::prelude::*;

/// The kernels this CPU can run (the portable one always).
fn kernels() -> Vec<Kernel> {
    [Kernel::Avx512, Kernel::Avx2Fma, Kernel::Portable]
        .into_iter()
        .filter(|k| k.is_available())
        .collect()
}

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let v = Tensor::uniform(&[rows, cols], -1.0, 1.0, &mut seeded_rng(seed)).to_vec();
    Array2::from_shape_vec((rows, cols), v).unwrap()
}

/// How an operand is laid out in memory.
#[derive(Clone, Copy, Debug)]
enum Layout {
    RowMajor,
    ColMajor,
    /// Every other row and column of a larger row-major matrix.
    Strided,
}

/// `values` stored in `layout`; the returned storage must outlive the view.
fn stored(values: &Array2<f32>, layout: Layout) -> Array2<f32> {
    let (r, c) = values.dim();
    match layout {
        Layout::RowMajor => values.clone(),
        Layout::ColMajor => {
            let mut out = Array2::zeros((r, c).f());
            out.assign(values);
            out
        }
        Layout::Strided => {
            let mut out = Array2::from_elem((2 * r, 2 * c), f32::NAN);
            out.slice_mut(s![..;2, ..;2]).assign(values);
            out
        }
    }
}

fn view(storage: &Array2<f32>, layout: Layout) -> ArrayView2<'_, f32> {
    match layout {
        Layout::Strided => storage.slice(s![..;2, ..;2]),
        _ => storage.view(),
    }
}

/// `alpha * a · b + beta * c` in f64, and for each element the sum of the magnitudes of its
/// terms (the scale of its rounding error).
fn reference(alpha: f32, a: &Array2<f32>, b: &Array2<f32>, beta: f32, c: &Array2<f32>) -> (Array2<f64>, Array2<f64>) {
    let ((m, k), n) = (a.dim(), b.dim().1);
    let mut want = Array2::zeros((m, n));
    let mut scale = Array2::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let (mut sum, mut mag) = (0.0f64, 0.0f64);
            for p in 0..k {
                let t = a[[i, p]] as f64 * b[[p, j]] as f64;
                sum += t;
                mag += t.abs();
            }
            let prior = if beta == 0.0 {
                0.0
            } else {
                beta as f64 * c[[i, j]] as f64
            };
            want[[i, j]] = alpha as f64 * sum + prior;
            scale[[i, j]] = alpha.abs() as f64 * mag + prior.abs() + 1e-6;
        }
    }
    (want, scale)
}

#[allow(clippy::too_many_arguments)]
fn check(kernel: Kernel, m: usize, k: usize, n: usize, layouts: [Layout; 3], alpha: f32, beta: f32, seed: u64) {
    let (a, b) = (random(m, k, seed), random(k, n, seed + 1));
    // With beta = 0, C's old values must not leak in, NaN included.
    let c0 = if beta == 0.0 {
        Array2::from_elem((m, n), f32::NAN)
    } else {
        random(m, n, seed + 2)
    };
    let (sa, sb) = (stored(&a, layouts[0]), stored(&b, layouts[1]));
    let mut sc = stored(&c0, layouts[2]);
    {
        let mut cv = match layouts[2] {
            Layout::Strided => sc.slice_mut(s![..;2, ..;2]),
            _ => sc.view_mut(),
        };
        gemm_with(
            kernel,
            alpha,
            &view(&sa, layouts[0]),
            &view(&sb, layouts[1]),
            beta,
            &mut cv,
        );
    }
    let got = view(&sc, layouts[2]);
    let (want, scale) = reference(alpha, &a, &b, beta, &c0);
    for ((i, j), &g) in got.indexed_iter() {
        let err = (g as f64 - want[[i, j]]).abs();
        assert!(
            err <= 1e-5 * scale[[i, j]],
            "{kernel:?} {m}x{k}x{n} {layouts:?} alpha {alpha} beta {beta}: C[{i},{j}] = {g}, want {}",
            want[[i, j]]
        );
    }
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![Just(Layout::RowMajor), Just(Layout::ColMajor), Just(Layout::Strided)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn kernels_match_naive_in_every_layout(
        m in 1usize..40, k in 1usize..40, n in 1usize..56,
        layouts in [layout(), layout(), layout()],
        alpha in prop::sample::select(vec![1.0f32, -0.5, 2.0]),
        beta in prop::sample::select(vec![0.0f32, 1.0, 0.25]),
        seed in 0u64..1000,
    ) {
        for kernel in kernels() {
            check(kernel, m, k, n, layouts, alpha, beta, seed);
        }
    }
}

/// Sizes on both sides of each kernel's register tile (AVX-512: 14x32, AVX2: 6x16), empty and
/// single rows, columns and inner steps, and inner sizes just over one `k` block (AVX-512:
/// 256, AVX2: 384), with row-major and transposed operands.
#[test]
fn edge_sizes_around_the_register_tiles_match_naive() {
    use Layout::*;
    let ms = [0, 1, 5, 6, 7, 13, 14, 15, 29];
    let ns = [0, 1, 15, 16, 17, 31, 32, 33];
    let ks = [0, 1, 7, 257, 385];
    let mut seed = 0;
    for kernel in kernels() {
        for &m in &ms {
            for &n in &ns {
                for &k in &ks {
                    seed += 3;
                    let layouts = if seed % 2 == 0 {
                        [RowMajor, RowMajor, RowMajor]
                    } else {
                        [RowMajor, ColMajor, RowMajor]
                    };
                    check(
                        kernel,
                        m,
                        k,
                        n,
                        layouts,
                        1.0,
                        if seed % 3 == 0 { 0.5 } else { 0.0 },
                        seed,
                    );
                }
            }
        }
    }
}

/// Shapes that cross the row, inner and column blocks (and the transposing pack paths), run
/// with 1, 2 and 3 threads: every kernel matches the reference, and each gives the same bits
/// whatever the thread count.
#[test]
fn large_products_match_naive_and_ignore_thread_count() {
    use Layout::*;
    let cases = [
        // (m, k, n, layouts): tall (rows shared over threads), wide (columns split),
        // k over several blocks, n over two column blocks.
        (250, 600, 40, [RowMajor, ColMajor, RowMajor]),
        (37, 530, 1100, [RowMajor, RowMajor, RowMajor]),
        (1040, 21, 1030, [ColMajor, RowMajor, RowMajor]),
        (130, 300, 70, [Strided, Strided, ColMajor]),
    ];
    for kernel in kernels() {
        for (i, &(m, k, n, layouts)) in cases.iter().enumerate() {
            let runs: Vec<Vec<u32>> = [1, 2, 3]
                .into_iter()
                .map(|threads| {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let (a, b) = (random(m, k, i as u64), random(k, n, 50 + i as u64));
                    let (sa, sb) = (stored(&a, layouts[0]), stored(&b, layouts[1]));
                    let mut c = Array2::<f32>::zeros((m, n));
                    pool.install(|| {
                        gemm_with(
                            kernel,
                            1.0,
                            &view(&sa, layouts[0]),
                            &view(&sb, layouts[1]),
                            0.0,
                            &mut c.view_mut(),
                        )
                    });
                    if threads == 1 {
                        let (want, scale) = reference(1.0, &a, &b, 0.0, &c);
                        for ((r, col), &g) in c.indexed_iter() {
                            let err = (g as f64 - want[[r, col]]).abs();
                            assert!(
                                err <= 1e-5 * scale[[r, col]],
                                "{kernel:?} {m}x{k}x{n}: C[{r},{col}] = {g}"
                            );
                        }
                    }
                    c.iter().map(|v| v.to_bits()).collect()
                })
                .collect();
            assert_eq!(runs[0], runs[1], "{kernel:?} {m}x{k}x{n}: 1 and 2 threads differ");
            assert_eq!(runs[0], runs[2], "{kernel:?} {m}x{k}x{n}: 1 and 3 threads differ");
        }
    }
}

/// `gemm` runs the kernel `for_product` names for each shape (the forced one when
/// `NEURITE_SGEMM` is set), and that choice follows the documented rule.
#[test]
fn gemm_uses_the_kernel_chosen_for_the_shape() {
    let forced = std::env::var(neurite_tensor::gemm::KERNEL_ENV).is_ok();
    for &(m, k, n) in &[(9, 20, 17), (64, 128, 10), (70, 33, 130)] {
        let kernel = Kernel::for_product(m, k, n);
        assert!(kernel.is_available());
        if !forced {
            assert_eq!(kernel, Kernel::best_for(m, k, n));
            let narrow = Kernel::detect() == Kernel::Avx512 && n <= neurite_tensor::gemm::NARROW_MAX_COLS;
            assert_eq!(
                kernel == Kernel::Portable,
                narrow || Kernel::detect() == Kernel::Portable
            );
        }
        let (a, b) = (random(m, k, 1), random(k, n, 2));
        let mut via_gemm = Array2::zeros((m, n));
        let mut via_kernel = Array2::zeros((m, n));
        neurite_tensor::gemm::gemm(1.0, &a.view(), &b.view(), 0.0, &mut via_gemm.view_mut());
        gemm_with(kernel, 1.0, &a.view(), &b.view(), 0.0, &mut via_kernel.view_mut());
        assert!(
            via_gemm
                .iter()
                .zip(&via_kernel)
                .all(|(g, w)| g.to_bits() == w.to_bits()),
            "{m}x{k}x{n}"
        );
    }
    if !forced {
        assert_eq!(Kernel::selected(), Kernel::detect());
    }
}

/// `product` (no zero-fill) gives the same bits as `gemm` into zeros, including an empty
/// inner dimension, transposed operands and a product split over threads.
#[test]
fn product_equals_gemm_into_zeros() {
    for &(m, k, n) in &[(7, 0, 5), (1, 1, 1), (33, 70, 19), (300, 200, 64)] {
        let (a, b) = (random(m, k, 3), random(n, k, 4));
        let bt = b.t();
        let mut want = Array2::zeros((m, n));
        gemm(-1.5, &a.view(), &bt, 0.0, &mut want.view_mut());
        let got = product(-1.5, &a.view(), &bt);
        assert_eq!(got.dim(), (m, n));
        assert!(
            got.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits()),
            "{m}x{k}x{n}"
        );
    }
}

#[test]
fn kernel_names_parse() {
    assert_eq!(Kernel::from_name("AVX2"), Some(Kernel::Avx2Fma));
    assert_eq!(Kernel::from_name(" portable "), Some(Kernel::Portable));
    assert_eq!(Kernel::from_name("avx512"), Some(Kernel::Avx512));
    assert_eq!(Kernel::from_name("avx-512"), None);
}

#[test]
fn empty_inner_dimension_scales_c_by_beta() {
    for kernel in kernels() {
        let mut c = Array2::from_elem((3, 4), 2.0f32);
        let (a, b) = (Array2::<f32>::zeros((3, 0)), Array2::<f32>::zeros((0, 4)));
        gemm_with(kernel, 1.0, &a.view(), &b.view(), 0.5, &mut c.view_mut());
        assert!(c.iter().all(|&v| v == 1.0), "{kernel:?}");
        gemm_with(kernel, 1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut());
        assert!(c.iter().all(|&v| v == 0.0), "{kernel:?}");
    }
}

#[test]
fn mismatched_shapes_name_the_op_and_shapes() {
    let (a, b) = (Array2::<f32>::zeros((2, 3)), Array2::<f32>::zeros((4, 5)));
    let mut c = Array2::<f32>::zeros((2, 5));
    let err = std::panic::catch_unwind(move || {
        gemm_with(Kernel::Portable, 1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut())
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("matmul") && msg.contains("[2, 3]") && msg.contains("[4, 5]"),
        "{msg}"
    );
}
