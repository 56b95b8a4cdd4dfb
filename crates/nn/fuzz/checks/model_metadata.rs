//! Fuzz the model metadata reader: any text gives a bounded spec that writes back to an
//! equal spec, or an error; small specs build into a model with exactly the parameter shapes
//! the spec reports.
//!
//! Shared by the fuzz target (`fuzz_targets/model_metadata.rs`) and the stable replay test that
//! runs every committed seed and regression input (`tests/fuzz_replay.rs`).

use neurite_nn::serialize::MAX_TENSOR_VALUES;
use neurite_nn::spec::ModelSpec;
use neurite_nn::Module;
use neurite_tensor::seeded_rng;

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = ModelSpec::from_metadata(text) else {
        return;
    };
    assert_eq!(ModelSpec::from_metadata(&spec.to_metadata()).as_ref(), Ok(&spec));
    let shapes = spec.parameter_shapes();
    let values: u64 = shapes
        .iter()
        .map(|(_, s)| {
            let n = s.iter().map(|&d| d as u64).product::<u64>();
            assert!(n <= MAX_TENSOR_VALUES, "{s:?}");
            n
        })
        .sum();
    if values <= 20_000 && spec.input_shape().iter().product::<usize>() <= 4096 {
        let model = spec.build(&mut seeded_rng(0));
        let built: Vec<(String, Vec<usize>)> = model
            .named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.shape()))
            .collect();
        assert_eq!(built, shapes);
    }
}
