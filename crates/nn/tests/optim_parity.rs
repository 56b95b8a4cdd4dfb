//! One and three optimizer steps against PyTorch's own results.
//!
//! The fixture `tests/fixtures/optim.safetensors` comes from `scripts/make_fixtures.py`
//! (`optimizers()`): starting from `p0` [2, 3], step k (1-based) uses the gradient `k * g`;
//! `<name>.step1` and `<name>.step3` hold PyTorch's parameters after steps 1 and 3, and the
//! metadata entry `<name>` holds the optimizer's settings as JSON.
//!
//! Adam and AdamW reproduce PyTorch bit for bit here. SGD can differ in the last bit: PyTorch's
//! vectorized `add_(d, alpha=-lr)` uses a fused multiply-add, neurite a multiply then an add.

use std::path::Path;

use neurite_nn::optim::{Adam, AdamW, Optimizer, Sgd};
use neurite_nn::serialize::load_state_dict;
use neurite_tensor::Tensor;

fn run(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim.safetensors");
    let (t, meta) = load_state_dict(&path).unwrap();
    let cfg: serde_json::Value = serde_json::from_str(&meta[name]).unwrap();
    let f = |key: &str, default: f64| cfg.get(key).and_then(serde_json::Value::as_f64).unwrap_or(default) as f32;
    let p = t["p0"].detach().requires_grad_();
    let mut opt: Box<dyn Optimizer> = match cfg["optimizer"].as_str().unwrap() {
        "SGD" => Box::new(
            Sgd::new(vec![p.clone()], f("lr", 0.0))
                .with_momentum(f("momentum", 0.0))
                .with_dampening(f("dampening", 0.0))
                .with_nesterov(
                    cfg.get("nesterov")
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(false),
                )
                .with_weight_decay(f("weight_decay", 0.0)),
        ),
        "Adam" => Box::new(
            Adam::new(vec![p.clone()], f("lr", 0.0))
                .with_betas(
                    cfg["betas"][0].as_f64().unwrap() as f32,
                    cfg["betas"][1].as_f64().unwrap() as f32,
                )
                .with_eps(f("eps", 1e-8))
                .with_weight_decay(f("weight_decay", 0.0)),
        ),
        "AdamW" => Box::new(
            AdamW::new(vec![p.clone()], f("lr", 0.0))
                .with_betas(
                    cfg["betas"][0].as_f64().unwrap() as f32,
                    cfg["betas"][1].as_f64().unwrap() as f32,
                )
                .with_eps(f("eps", 1e-8))
                .with_weight_decay(f("weight_decay", 0.01)),
        ),
        other => panic!("unknown optimizer {other}"),
    };
    for k in 1..=3 {
        opt.zero_grad();
        let grad = &t["g"] * k as f32;
        (&p * &grad).sum().backward();
        opt.step();
        if k == 1 || k == 3 {
            let expected = t[&format!("{name}.step{k}")].to_vec();
            for (i, (a, b)) in p.to_vec().iter().zip(&expected).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                    "{name} step {k} element {i}: neurite {a} vs torch {b}"
                );
            }
        }
    }
}

#[test]
fn sgd_momentum_matches_pytorch() {
    run("sgd_momentum");
}

#[test]
fn sgd_nesterov_with_weight_decay_matches_pytorch() {
    run("sgd_nesterov_wd");
}

#[test]
fn adam_matches_pytorch() {
    run("adam");
}

#[test]
fn adamw_matches_pytorch() {
    run("adamw");
}

#[test]
fn fixture_gradient_convention_is_as_documented() {
    let (t, meta) =
        load_state_dict(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim.safetensors")).unwrap();
    assert!(meta["gradient"].contains("k * g"));
    assert_eq!(t["p0"].shape(), t["g"].shape());
    let _: &Tensor = &t["adam.step3"];
}
