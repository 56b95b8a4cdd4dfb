//! `examples/resnet_cifar.rs`: the derived `ResNetCifar` and the spec
//! `examples/models/resnet_cifar.toml` have the `state_dict` names, shapes and parameter count
//! of the PyTorch module (`tests/fixtures/resnet_cifar_names.json`, written by
//! `scripts/make_resnet_cifar_names.py`), the same initial weights for the same seed, and
//! train with `fit`.

#[allow(dead_code)]
#[path = "../examples/resnet_cifar.rs"]
mod example;

use example::{resnet_spec, synthetic, ResNetCifar};
use neurite::datasets::DataLoader;
use neurite::nn::optim::Adam;
use neurite::nn::train::fit;
use neurite::nn::Module;
use neurite::tensor::{no_grad, seeded_rng, Tensor};

type Named = Vec<(String, Vec<usize>)>;

fn pytorch() -> (Named, Named, u64) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/resnet_cifar_names.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let list = |key: &str| -> Named { serde_json::from_value(v[key].clone()).unwrap() };
    (
        list("parameters"),
        list("buffers"),
        v["num_parameters"].as_u64().unwrap(),
    )
}

fn shapes(named: Vec<(String, Tensor)>) -> Named {
    named.into_iter().map(|(n, t)| (n, t.shape())).collect()
}

#[test]
fn the_derived_struct_and_the_spec_have_pytorchs_names_and_counts() {
    let (params, buffers, count) = pytorch();
    let derived = ResNetCifar::new(10, &mut seeded_rng(0));
    assert_eq!(shapes(derived.named_parameters()), params);
    assert_eq!(shapes(derived.named_buffers()), buffers);
    assert_eq!(derived.num_parameters() as u64, count);
    let spec = resnet_spec();
    assert_eq!(spec.parameter_shapes(), params);
    assert_eq!(spec.buffer_shapes(), buffers);
    assert_eq!(spec.num_parameters(), count);
    let built = spec.build(&mut seeded_rng(0));
    assert_eq!(shapes(built.named_parameters()), params);
}

#[test]
fn with_the_same_seed_both_start_from_the_same_weights_and_compute_the_same() {
    let mut derived = ResNetCifar::new(10, &mut seeded_rng(5));
    let mut built = resnet_spec().build(&mut seeded_rng(5));
    for ((name, a), (_, b)) in derived.named_parameters().iter().zip(built.named_parameters()) {
        assert_eq!(a.to_vec(), b.to_vec(), "{name}");
    }
    let x = Tensor::uniform(&[2, 3, 32, 32], 0.0, 1.0, &mut seeded_rng(6));
    derived.set_training(false);
    built.set_training(false);
    let (a, b) = no_grad(|| (derived.forward(&x), built.forward(&x)));
    assert_eq!(a.shape(), vec![2, 10]);
    for (u, v) in a.to_vec().iter().zip(b.to_vec()) {
        assert!((u - v).abs() <= 1e-5, "{u} vs {v}");
    }
}

#[test]
fn the_derived_network_learns_the_synthetic_stand_in_with_fit() {
    let set = synthetic(256, 1);
    let loader = DataLoader::new(&set, 32).shuffle(0);
    let mut model = ResNetCifar::new(10, &mut seeded_rng(0));
    let mut opt = Adam::new(model.parameters(), 3e-3);
    let report = fit(
        &mut model,
        &mut opt,
        |e| loader.epoch(e as u64).map(|b| b.into_parts()),
        |_| std::iter::empty::<(Tensor, Vec<usize>)>(),
        3,
        &mut [],
    )
    .unwrap();
    let (first, last) = (&report.epochs[0], &report.epochs[2]);
    assert!(
        last.train_loss < first.train_loss * 0.8,
        "{} -> {}",
        first.train_loss,
        last.train_loss
    );
}
