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

/// The optimizer settings the runner understands; a fixture setting outside this list would be
/// silently ignored, so it fails the run instead.
const KNOWN_SETTINGS: &[&str] = &[
    "optimizer",
    "lr",
    "momentum",
    "dampening",
    "nesterov",
    "weight_decay",
    "betas",
    "eps",
];

/// Runs the optimizer `name` from the fixture for three steps, the gradient at step k being
/// `grad_scale(k) * g`, and returns the largest difference from PyTorch's parameters after
/// steps 1 and 3 as (step, element, neurite, torch) when it exceeds 1e-6 relative.
fn run_with(name: &str, grad_scale: fn(usize) -> f32) -> Option<(usize, usize, f32, f32)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim.safetensors");
    let (t, meta) = load_state_dict(&path).unwrap();
    let cfg: serde_json::Value = serde_json::from_str(&meta[name]).unwrap();
    for key in cfg.as_object().unwrap().keys() {
        assert!(
            KNOWN_SETTINGS.contains(&key.as_str()),
            "{name}: fixture setting `{key}` is not applied by this runner"
        );
    }
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
        let grad = &t["g"] * grad_scale(k);
        (&p * &grad).sum().backward();
        opt.step();
        if k == 1 || k == 3 {
            let expected = t[&format!("{name}.step{k}")].to_vec();
            for (i, (&a, &b)) in p.to_vec().iter().zip(&expected).enumerate() {
                if (a - b).abs() > 1e-6 * (1.0 + b.abs()) {
                    return Some((k, i, a, b));
                }
            }
        }
    }
    None
}

/// The fixture's gradient convention (metadata `gradient`): at step k the gradient is k * g.
fn run(name: &str) {
    if let Some((k, i, a, b)) = run_with(name, |k| k as f32) {
        panic!("{name} step {k} element {i}: neurite {a} vs torch {b}");
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
fn the_parity_runs_fail_when_the_gradients_differ_from_the_fixtures() {
    // The fixture says its gradients grow as k * g; the parity runs above follow it. Fed the
    // same g at every step instead, each optimizer still matches step 1 (same gradient there)
    // but must miss step 3: the check compares the code's trajectory, so it can fail.
    let (_, meta) =
        load_state_dict(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim.safetensors")).unwrap();
    assert!(meta["gradient"].contains("k * g"), "{}", meta["gradient"]);
    for name in ["sgd_momentum", "sgd_nesterov_wd", "adam", "adamw"] {
        match run_with(name, |_| 1.0) {
            Some((3, ..)) => {}
            other => panic!("{name}: a constant gradient should first differ at step 3, got {other:?}"),
        }
    }
}
