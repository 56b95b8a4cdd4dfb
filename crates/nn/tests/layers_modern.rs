//! The layers a small modern CNN needs, against outside truth beside the PyTorch rows of
//! `tests/ops.rs`: finite differences for `adaptive_avg_pool2d`, grouped and depthwise
//! `conv2d`/`conv2d_relu` and `layer_norm`; grouped convolution equal to separate convolutions
//! per group, bit-identical across thread counts; the layers `AdaptiveAvgPool2d`, `Conv2d`
//! with groups, `LayerNorm` and `Dropout2d` (names, init, modes, errors).

use std::panic::catch_unwind;

use neurite_nn::functional::{adaptive_avg_pool2d, conv2d, conv2d_relu, layer_norm};
use neurite_nn::layers::conv::Conv2dConfig;
use neurite_nn::{AdaptiveAvgPool2d, Conv2d, Dropout2d, LayerNorm, Module};
use neurite_tensor::gradcheck::gradcheck;
use neurite_tensor::{seeded_rng, Tensor};

fn check(name: &str, inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Tensor) {
    if let Err(failure) = gradcheck(inputs, f, 1e-2, 2e-2) {
        panic!("{name}: {failure}");
    }
}

fn rand(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, -1.0, 1.0, &mut seeded_rng(seed))
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = catch_unwind(f).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn adaptive_avg_pool2d_matches_its_bins_and_finite_differences() {
    // 5 -> 3 rows: bins {0,1}, {1,2,3}, {3,4}; 4 -> 2 columns: {0,1}, {2,3}.
    let x = Tensor::arange(0.0, 20.0, 1.0).reshape(&[1, 1, 5, 4]);
    let y = adaptive_avg_pool2d(&x, (3, 2)).to_vec();
    let mean = |rows: &[usize], cols: &[usize]| {
        let v: Vec<f32> = rows
            .iter()
            .flat_map(|&r| cols.iter().map(move |&c| (r * 4 + c) as f32))
            .collect();
        v.iter().sum::<f32>() / v.len() as f32
    };
    let (r, c) = ([&[0, 1][..], &[1, 2, 3], &[3, 4]], [&[0, 1][..], &[2, 3]]);
    let want: Vec<f32> = r.iter().flat_map(|rr| c.iter().map(move |cc| mean(rr, cc))).collect();
    assert_eq!(y, want);
    for out in [(3, 2), (1, 1), (4, 5), (2, 3)] {
        check(
            &format!("adaptive_avg_pool2d {out:?}"),
            &[rand(&[2, 2, 5, 4], 1)],
            |t| adaptive_avg_pool2d(&t[0], out),
        );
    }
    let msg = panic_message(|| {
        adaptive_avg_pool2d(&Tensor::zeros(&[2, 3, 4]), 1);
    });
    assert!(
        msg.contains("adaptive_avg_pool2d") && msg.contains("[2, 3, 4]"),
        "{msg}"
    );
    let msg = panic_message(|| {
        adaptive_avg_pool2d(&Tensor::zeros(&[1, 1, 4, 4]), (0, 2));
    });
    assert!(msg.contains("output size (0, 2)"), "{msg}");
}

#[test]
fn adaptive_avg_pool2d_layer_global_is_the_plane_mean() {
    let x = rand(&[2, 3, 4, 5], 2);
    let y = AdaptiveAvgPool2d::global().forward(&x);
    assert_eq!(y.shape(), vec![2, 3, 1, 1]);
    let xv = x.to_vec();
    for (i, v) in y.to_vec().iter().enumerate() {
        let m = xv[i * 20..(i + 1) * 20].iter().sum::<f32>() / 20.0;
        assert!((v - m).abs() < 1e-6);
    }
    assert_eq!(
        AdaptiveAvgPool2d::new((2, 3)).describe(),
        "AdaptiveAvgPool2d(output_size=(2, 3))"
    );
}

#[test]
fn grouped_conv_equals_one_conv_per_group_bitwise() {
    let x = rand(&[3, 6, 7, 6], 3);
    let w = rand(&[9, 2, 3, 3], 4); // 3 groups: 2 input, 3 output channels each
    let b = rand(&[9], 5);
    let y = conv2d(&x, &w, Some(&b), 2, 1, 1, 3);
    let xv = x.to_vec();
    let (wv, bv) = (w.to_vec(), b.to_vec());
    let mut per_group = Vec::new();
    for g in 0..3 {
        let xg: Vec<f32> = (0..3)
            .flat_map(|n| xv[(n * 6 + 2 * g) * 42..(n * 6 + 2 * g + 2) * 42].to_vec())
            .collect();
        let xg = Tensor::from_vec(xg, &[3, 2, 7, 6]).unwrap();
        let wg = Tensor::from_vec(wv[g * 54..(g + 1) * 54].to_vec(), &[3, 2, 3, 3]).unwrap();
        let bg = Tensor::from_vec(bv[g * 3..(g + 1) * 3].to_vec(), &[3]).unwrap();
        per_group.push(conv2d(&xg, &wg, Some(&bg), 2, 1, 1, 1).to_vec());
    }
    // Reassemble [N, O, OH, OW] from the groups' [N, 3, OH, OW].
    let plane = 4 * 3;
    let want: Vec<f32> = (0..3)
        .flat_map(|n| {
            (0..3)
                .flat_map(|g| per_group[g][n * 3 * plane..(n + 1) * 3 * plane].to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(y.shape(), vec![3, 9, 4, 3]);
    assert_eq!(y.to_vec(), want);
}

#[test]
fn grouped_and_depthwise_conv_pass_finite_differences() {
    let (x, b) = (rand(&[2, 4, 5, 5], 6), rand(&[4], 8));
    check(
        "conv2d groups=2",
        &[x.clone(), rand(&[4, 2, 3, 3], 7), b.clone()],
        |t| conv2d(&t[0], &t[1], Some(&t[2]), 1, 1, 1, 2),
    );
    check(
        "conv2d depthwise s2",
        &[x.clone(), rand(&[4, 1, 3, 3], 9), b.clone()],
        |t| conv2d(&t[0], &t[1], Some(&t[2]), 2, 1, 1, 4),
    );
    check(
        "conv2d depthwise x2 dilated",
        &[x.clone(), rand(&[8, 1, 2, 2], 10)],
        |t| conv2d(&t[0], &t[1], None, 1, 1, 2, 4),
    );
    // Away from the ReLU's kink: positive input and weights, bias shifted up.
    let xp = Tensor::uniform(&[1, 4, 4, 4], 0.1, 1.0, &mut seeded_rng(11));
    let wp = Tensor::uniform(&[4, 2, 2, 2], 0.1, 1.0, &mut seeded_rng(12));
    check("conv2d_relu groups=2", &[xp, wp], |t| {
        conv2d_relu(&t[0], &t[1], None, 1, 0, 1, 2)
    });
}

#[test]
fn grouped_conv_is_bitwise_deterministic_across_thread_counts() {
    let x = rand(&[16, 16, 16, 16], 13);
    let w = rand(&[32, 4, 3, 3], 14);
    let b = rand(&[32], 15);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let (x, w, b) = (x.requires_grad_(), w.requires_grad_(), b.requires_grad_());
            let y = conv2d(&x, &w, Some(&b), 1, 1, 1, 4);
            let r = rand(&y.shape(), 16);
            (&y * &r).sum().backward();
            let bits = |t: Tensor| t.to_vec().iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            [
                bits(y),
                bits(x.grad().unwrap()),
                bits(w.grad().unwrap()),
                bits(b.grad().unwrap()),
            ]
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn grouped_conv_errors_name_the_op_and_shapes() {
    let msg = panic_message(|| {
        conv2d(
            &Tensor::zeros(&[1, 6, 5, 5]),
            &Tensor::zeros(&[4, 2, 3, 3]),
            None,
            1,
            0,
            1,
            4,
        );
    });
    assert!(
        msg.contains("conv2d: groups = 4 must divide") && msg.contains("[1, 6, 5, 5]") && msg.contains("[4, 2, 3, 3]"),
        "{msg}"
    );
    let msg = panic_message(|| {
        conv2d(
            &Tensor::zeros(&[1, 6, 5, 5]),
            &Tensor::zeros(&[4, 2, 3, 3]),
            None,
            1,
            0,
            1,
            2,
        );
    });
    assert!(
        msg.contains("does not fit weight shape [4, 2, 3, 3] with groups = 2"),
        "{msg}"
    );
    let msg = panic_message(|| {
        Conv2d::with_config(6, 9, 3, Conv2dConfig::default().groups(4), &mut seeded_rng(0));
    });
    assert!(
        msg.contains("Conv2d: groups = 4 must divide in_channels = 6 and out_channels = 9"),
        "{msg}"
    );
    let msg = panic_message(|| {
        Conv2d::with_config(6, 9, 3, Conv2dConfig::default().groups(0), &mut seeded_rng(0));
    });
    assert!(msg.contains("groups = 0"), "{msg}");
}

#[test]
fn depthwise_conv2d_layer_has_pytorch_shapes_init_and_repr() {
    let mut rng = seeded_rng(17);
    let mut dw = Conv2d::with_config(8, 16, 3, Conv2dConfig::default().padding(1).groups(8), &mut rng);
    assert_eq!(dw.weight.shape(), vec![16, 1, 3, 3]);
    assert_eq!((dw.in_channels(), dw.out_channels()), (8, 16));
    // fan_in = C/groups·kh·kw = 9: every value within 1/3, and the draw uses most of the range.
    let w = dw.weight.to_vec();
    let bound = 1.0 / 3.0;
    assert!(w.iter().all(|v| v.abs() <= bound));
    assert!(w.iter().any(|v| v.abs() > 0.9 * bound));
    assert_eq!(
        dw.describe(),
        "Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=8)"
    );
    assert_eq!(dw.forward(&rand(&[2, 8, 6, 6], 18)).shape(), vec![2, 16, 6, 6]);
    // A layer rebuilt from its tensors keeps the groups.
    let again = Conv2d::from_tensors(
        dw.weight.clone(),
        dw.bias.clone(),
        Conv2dConfig::default().padding(1).groups(8),
    );
    assert_eq!(again.in_channels(), 8);
}

#[test]
fn layer_norm_normalises_rows_and_passes_finite_differences() {
    let x = rand(&[3, 2, 5], 19).mul_scalar(3.0);
    let y = layer_norm(&x, &[2, 5], None, None, 1e-5).to_vec();
    for row in y.chunks(10) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / 10.0;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / 10.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-4, "{mean} {var}");
    }
    let (w, b) = (Tensor::uniform(&[5], 0.5, 1.5, &mut seeded_rng(20)), rand(&[5], 21));
    check("layer_norm affine", &[x.clone(), w, b], |t| {
        layer_norm(&t[0], &[5], Some(&t[1]), Some(&t[2]), 1e-5)
    });
    check("layer_norm two axes", std::slice::from_ref(&x), |t| {
        layer_norm(&t[0], &[2, 5], None, None, 1e-5)
    });
    let msg = panic_message(|| {
        layer_norm(&Tensor::zeros(&[2, 3]), &[4], None, None, 1e-5);
    });
    assert!(
        msg.contains("layer_norm: input shape [2, 3] does not end in normalized_shape [4]"),
        "{msg}"
    );
    let msg = panic_message(|| {
        layer_norm(&Tensor::zeros(&[2, 3]), &[3], Some(&Tensor::ones(&[2])), None, 1e-5);
    });
    assert!(
        msg.contains("weight shape [2] does not fit normalized_shape [3]"),
        "{msg}"
    );
}

#[test]
fn layer_norm_layer_has_pytorch_parameters_and_gradients() {
    let mut ln = LayerNorm::new(&[2, 3]);
    let names: Vec<String> = ln.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias"]);
    assert_eq!(ln.weight.to_vec(), vec![1.0; 6]);
    assert_eq!(ln.bias.to_vec(), vec![0.0; 6]);
    assert_eq!(ln.eps, 1e-5);
    assert_eq!(LayerNorm::with_eps(&[4], 1e-6).eps, 1e-6);
    assert_eq!(ln.describe(), "LayerNorm((2, 3), eps=1e-5, elementwise_affine=True)");
    let x = rand(&[4, 2, 3], 22);
    let y = ln.forward(&x);
    y.sum().backward();
    // d(sum y)/d bias = number of rows; d(sum y)/d weight = Σ x̂ over rows (≈ any value).
    assert_eq!(ln.bias.grad().unwrap().to_vec(), vec![4.0; 6]);
    assert!(ln.weight.grad().is_some());
    let msg = panic_message(|| {
        LayerNorm::new(&[]);
    });
    assert!(msg.contains("LayerNorm: normalized_shape []"), "{msg}");
}

#[test]
fn dropout2d_zeroes_whole_channels_reproducibly() {
    let x = rand(&[8, 16, 3, 3], 23);
    let run = |seed: u64| Dropout2d::new(0.25, seed).forward(&x).to_vec();
    let (a, b) = (run(1), run(1));
    assert_eq!(a, b, "same seed, same mask");
    assert_ne!(a, run(2));
    let xv = x.to_vec();
    let mut dropped = 0;
    for (plane, (ya, xa)) in a.chunks(9).zip(xv.chunks(9)).enumerate() {
        if ya.iter().all(|&v| v == 0.0) {
            dropped += 1;
        } else {
            for (y, x) in ya.iter().zip(xa) {
                assert_eq!(*y, x * (1.0 / 0.75), "plane {plane} kept and scaled by 1/(1-p)");
            }
        }
    }
    // 128 planes at p = 0.25: 32 expected; far outside [12, 52] would mean a wrong rate.
    assert!((12..=52).contains(&dropped), "{dropped} of 128 planes dropped");

    // The gradient is the same mask.
    let mut drop = Dropout2d::new(0.5, 3);
    let xg = rand(&[2, 4, 2, 2], 24).requires_grad_();
    let y = drop.forward(&xg);
    y.sum().backward();
    let g = xg.grad().unwrap().to_vec();
    for (gy, yy) in g.chunks(4).zip(y.to_vec().chunks(4)) {
        let kept = yy.iter().any(|&v| v != 0.0);
        assert!(gy.iter().all(|&v| v == if kept { 2.0 } else { 0.0 }), "{gy:?}");
    }

    drop.set_training(false);
    assert_eq!(drop.forward(&x).to_vec(), xv, "identity in eval mode");
    assert_eq!(drop.describe(), "Dropout2d(p=0.5)");
    let msg = panic_message(|| {
        Dropout2d::new(0.5, 0).forward(&Tensor::zeros(&[2, 3]));
    });
    assert!(
        msg.contains("Dropout2d: expected an input of shape [N, C, H, W], got [2, 3]"),
        "{msg}"
    );
}
