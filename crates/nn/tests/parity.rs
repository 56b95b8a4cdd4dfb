//! Parity with PyTorch: forward values and gradients of the layers and losses against reference
//! values that PyTorch 2.x produced (`crates/nn/scripts/make_fixtures.py`; the safetensors files
//! in `tests/fixtures/` were written by the safetensors Python package).
//!
//! Every backward pass is `(out * gy).sum().backward()` with the stored `gy`, as in the script.

use std::collections::HashMap;

use neurite_nn::functional::{avg_pool2d, batch_norm, conv2d, dense, linear, max_pool2d};
use neurite_nn::loss::{binary_cross_entropy_with_logits, cross_entropy_with, mse_loss, Reduction};
use neurite_nn::spec::ModelSpec;
use neurite_nn::{BatchNorm2d, Module};
use neurite_tensor::Tensor;
use safetensors::{Dtype, SafeTensors};

const REL_TOL: f32 = 1e-4;

/// A fixture file: its tensors (f32 as tensors, i64 as index lists) and metadata.
struct Fixture {
    name: String,
    f32s: HashMap<String, Tensor>,
    i64s: HashMap<String, Vec<i64>>,
    meta: HashMap<String, String>,
}

impl Fixture {
    fn load(file: &str) -> Fixture {
        let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let (_, header) = SafeTensors::read_metadata(&bytes).expect("safetensors header");
        let meta = header.metadata().clone().unwrap_or_default();
        let st = SafeTensors::deserialize(&bytes).expect("safetensors file");
        let (mut f32s, mut i64s) = (HashMap::new(), HashMap::new());
        for (name, view) in st.tensors() {
            match view.dtype() {
                Dtype::F32 => {
                    let v: Vec<f32> = view
                        .data()
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                        .collect();
                    f32s.insert(name, Tensor::from_vec(v, view.shape()).unwrap());
                }
                Dtype::I64 => {
                    let v = view
                        .data()
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                        .collect();
                    i64s.insert(name, v);
                }
                other => panic!("{file}: {name}: unexpected dtype {other:?}"),
            }
        }
        Fixture {
            name: file.to_string(),
            f32s,
            i64s,
            meta,
        }
    }

    fn t(&self, key: &str) -> Tensor {
        self.f32s
            .get(key)
            .unwrap_or_else(|| panic!("{}: no tensor {key}", self.name))
            .clone()
    }

    /// A trainable copy.
    fn leaf(&self, key: &str) -> Tensor {
        self.t(key).detach().requires_grad_()
    }

    fn params(&self, key: &str) -> Vec<usize> {
        self.t(key).to_vec().iter().map(|&v| v as usize).collect()
    }
}

/// Checks `got` against PyTorch's `want` elementwise: |a - b| <= tol * max(1, |b|).
fn close(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (a, b)) in got.to_vec().iter().zip(want.to_vec()).enumerate() {
        assert!(
            (a - b).abs() <= REL_TOL * b.abs().max(1.0),
            "{what}: element {i}: neurite {a} vs PyTorch {b}"
        );
    }
}

fn grad(t: &Tensor, what: &str) -> Tensor {
    t.grad().unwrap_or_else(|| panic!("{what}: no gradient"))
}

fn backward(out: &Tensor, gy: &Tensor) {
    (out * gy).sum().backward();
}

#[test]
fn linear_and_dense_match_pytorch() {
    let f = Fixture::load("layers.safetensors");
    let (x, w, b) = (f.leaf("linear.x"), f.leaf("linear.weight"), f.leaf("linear.bias"));
    let y = linear(&x, &w, Some(&b));
    close("linear y", &y, &f.t("linear.y"));
    backward(&y, &f.t("linear.gy"));
    close("linear gx", &grad(&x, "x"), &f.t("linear.gx"));
    close("linear gweight", &grad(&w, "w"), &f.t("linear.gweight"));
    close("linear gbias", &grad(&b, "b"), &f.t("linear.gbias"));

    let (x, k, b) = (f.leaf("dense.x"), f.leaf("dense.kernel"), f.leaf("dense.bias"));
    let y = dense(&x, &k, Some(&b)).tanh();
    close("dense y", &y, &f.t("dense.y"));
    backward(&y, &f.t("dense.gy"));
    close("dense gx", &grad(&x, "x"), &f.t("dense.gx"));
    close("dense gkernel", &grad(&k, "k"), &f.t("dense.gkernel"));
    close("dense gbias", &grad(&b, "b"), &f.t("dense.gbias"));
}

#[test]
fn conv2d_matches_pytorch() {
    let f = Fixture::load("layers.safetensors");
    for case in [
        "conv_s1p0",
        "conv_s1p1",
        "conv_s2p0",
        "conv_s2p1",
        "conv_d2p1",
        "conv_rect",
    ] {
        let p = f.params(&format!("{case}.params"));
        let (x, w, b) = (
            f.leaf(&format!("{case}.x")),
            f.leaf(&format!("{case}.weight")),
            f.leaf(&format!("{case}.bias")),
        );
        let y = conv2d(&x, &w, Some(&b), (p[0], p[1]), (p[2], p[3]), (p[4], p[5]), 1);
        close(&format!("{case} y"), &y, &f.t(&format!("{case}.y")));
        backward(&y, &f.t(&format!("{case}.gy")));
        close(&format!("{case} gx"), &grad(&x, case), &f.t(&format!("{case}.gx")));
        close(
            &format!("{case} gweight"),
            &grad(&w, case),
            &f.t(&format!("{case}.gweight")),
        );
        close(
            &format!("{case} gbias"),
            &grad(&b, case),
            &f.t(&format!("{case}.gbias")),
        );
    }
}

#[test]
fn pooling_matches_pytorch() {
    let f = Fixture::load("layers.safetensors");
    for kind in ["maxpool", "avgpool"] {
        for case in ["k2s2p0", "k3s2p1", "k3s1p0"] {
            let name = format!("{kind}_{case}");
            let p = f.params(&format!("{name}.params"));
            let x = f.leaf(&format!("{name}.x"));
            let y = if kind == "maxpool" {
                max_pool2d(&x, p[0], p[1], p[2])
            } else {
                avg_pool2d(&x, p[0], p[1], p[2])
            };
            close(&format!("{name} y"), &y, &f.t(&format!("{name}.y")));
            backward(&y, &f.t(&format!("{name}.gy")));
            close(&format!("{name} gx"), &grad(&x, &name), &f.t(&format!("{name}.gx")));
        }
    }
}

#[test]
fn batch_norm2d_matches_pytorch_in_train_and_eval() {
    let f = Fixture::load("layers.safetensors");
    let mut bn = BatchNorm2d::new(3);
    bn.weight().set_data(f.t("bn.weight").data());
    bn.bias().set_data(f.t("bn.bias").data());
    bn.running_mean().set_data(f.t("bn.running_mean0").data());
    bn.running_var().set_data(f.t("bn.running_var0").data());

    let x = f.leaf("bn.x");
    let y = bn.forward(&x);
    close("bn train y", &y, &f.t("bn.y_train"));
    backward(&y, &f.t("bn.gy_train"));
    close("bn train gx", &grad(&x, "x"), &f.t("bn.gx_train"));
    close(
        "bn train gweight",
        &grad(bn.weight(), "weight"),
        &f.t("bn.gweight_train"),
    );
    close("bn train gbias", &grad(bn.bias(), "bias"), &f.t("bn.gbias_train"));
    close("bn running_mean", bn.running_mean(), &f.t("bn.running_mean1"));
    close("bn running_var", bn.running_var(), &f.t("bn.running_var1"));

    bn.set_training(false);
    bn.zero_grad();
    let x = f.leaf("bn.x");
    let y = bn.forward(&x);
    close("bn eval y", &y, &f.t("bn.y_eval"));
    backward(&y, &f.t("bn.gy_eval"));
    close("bn eval gx", &grad(&x, "x"), &f.t("bn.gx_eval"));
    close("bn eval gweight", &grad(bn.weight(), "weight"), &f.t("bn.gweight_eval"));
    close("bn eval gbias", &grad(bn.bias(), "bias"), &f.t("bn.gbias_eval"));
    close(
        "bn running_mean unchanged in eval",
        bn.running_mean(),
        &f.t("bn.running_mean1"),
    );

    // The functional form without affine parameters agrees with the layer's normalisation:
    // bit for bit with a fresh layer (weight 1, bias 0), and with PyTorch's training output
    // once its affine map is undone, (y - bias) / weight per channel.
    let plain = batch_norm(&f.t("bn.x"), None, None, None, None, true, 0.1, 1e-5);
    let fresh = BatchNorm2d::new(3).forward(&f.t("bn.x"));
    assert_eq!(plain.to_vec(), fresh.to_vec(), "functional vs a fresh BatchNorm2d");
    let per_channel = |t: &Tensor| t.reshape(&[1, 3, 1, 1]);
    let undone = (f.t("bn.y_train") - per_channel(&f.t("bn.bias"))) / per_channel(&f.t("bn.weight"));
    close("functional batch_norm without affine", &plain, &undone);
}

#[test]
fn losses_match_pytorch() {
    let f = Fixture::load("losses.safetensors");
    let targets: Vec<usize> = f.i64s["ce.targets"].iter().map(|&t| t as usize).collect();
    for (name, red, ls) in [
        ("mean", Reduction::Mean, 0.0),
        ("sum", Reduction::Sum, 0.0),
        ("ls", Reduction::Mean, 0.1),
        ("ls_sum", Reduction::Sum, 0.2),
    ] {
        let logits = f.leaf("ce.logits");
        let loss = cross_entropy_with(&logits, &targets, red, ls);
        close(&format!("ce_{name} loss"), &loss, &f.t(&format!("ce_{name}.loss")));
        loss.backward();
        close(
            &format!("ce_{name} glogits"),
            &grad(&logits, name),
            &f.t(&format!("ce_{name}.glogits")),
        );
    }

    let pred = f.leaf("mse.pred");
    let loss = mse_loss(&pred, &f.t("mse.target"));
    close("mse loss", &loss, &f.t("mse.loss"));
    loss.backward();
    close("mse gpred", &grad(&pred, "pred"), &f.t("mse.gpred"));

    let logits = f.leaf("bce.logits");
    let loss = binary_cross_entropy_with_logits(&logits, &f.t("bce.target"));
    close("bce loss", &loss, &f.t("bce.loss"));
    loss.backward();
    close("bce glogits", &grad(&logits, "logits"), &f.t("bce.glogits"));
}

#[test]
fn model_state_dict_names_match_pytorch() {
    let f = Fixture::load("model_names.safetensors");
    for spec in [ModelSpec::w1(), ModelSpec::w2(), ModelSpec::w3(), ModelSpec::w4()] {
        let torch = f
            .meta
            .get(spec.name())
            .unwrap_or_else(|| panic!("no names for {}", spec.name()));
        let ours: Vec<(String, Vec<usize>)> = spec
            .build(&mut neurite_tensor::seeded_rng(0))
            .named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.shape()))
            .collect();
        // The metadata is JSON: [["0.weight", [128, 784]], ...]; compare with our own rendering.
        let rendered: Vec<String> = ours
            .iter()
            .map(|(n, s)| {
                format!(
                    "[\"{n}\", [{}]]",
                    s.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        assert_eq!(format!("[{}]", rendered.join(", ")), *torch, "{}", spec.name());
    }
}

#[test]
fn a_pytorch_mlp_runs_identically_here() {
    let f = Fixture::load("torch_mlp.safetensors");
    let io = Fixture::load("torch_mlp_io.safetensors");
    let spec = ModelSpec::from_metadata(&f.meta["neurite.architecture"]).unwrap();
    assert_eq!(spec, ModelSpec::preset("mlp", Some(&[6]), &[8], 3).unwrap());
    let mut model = spec.build(&mut neurite_tensor::seeded_rng(0));
    for (name, p) in model.named_parameters() {
        p.set_data(f.t(&name).data());
    }
    assert_eq!(f.f32s.len(), model.named_parameters().len());
    let y = neurite_tensor::no_grad(|| model.forward(&io.t("x")));
    close("torch mlp output", &y, &io.t("y"));
}
