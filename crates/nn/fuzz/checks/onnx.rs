//! Fuzz the ONNX importer: any bytes give a spec whose tensors are exactly the ones the spec
//! names (names and shapes), or a clean error; never a panic. Small imported models build,
//! load those tensors and run on one example, and export back to a file that imports again.
//!
//! Shared by the fuzz target (`fuzz_targets/onnx.rs`) and the stable replay test that runs
//! every committed seed and regression input (`tests/fuzz_replay.rs`).

use neurite_nn::onnx;
use neurite_nn::Module;
use neurite_tensor::{seeded_rng, Tensor};

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    let Ok((spec, tensors)) = onnx::import_bytes(data, "fuzz.onnx") else {
        return;
    };
    let shapes = spec.tensor_shapes();
    assert_eq!(shapes.len(), tensors.len());
    for (name, shape) in &shapes {
        assert_eq!(&tensors[name].shape(), shape, "{name}");
    }
    let values: u64 = shapes
        .iter()
        .map(|(_, s)| s.iter().map(|&d| d as u64).product::<u64>())
        .sum();
    let input: usize = spec.input_shape().iter().product();
    let largest = spec
        .layer_info()
        .iter()
        .map(|l| l.output.iter().product::<usize>())
        .max()
        .unwrap_or(0);
    if values > 20_000 || input > 4096 || largest > 65_536 {
        return;
    }
    let mut model = spec.build(&mut seeded_rng(0));
    let mut named = model.named_parameters();
    named.extend(model.named_buffers());
    for (name, t) in named {
        t.set_data(tensors[&name].data());
    }
    model.set_training(false);
    let mut shape = vec![1];
    shape.extend(spec.input_shape());
    let mut want = vec![1];
    want.extend(spec.output_shape());
    assert_eq!(model.forward(&Tensor::zeros(&shape)).shape(), want);
    let bytes = onnx::export_bytes(&model, &spec).expect("an imported spec exports");
    let (again, _) = onnx::import_bytes(&bytes, "again.onnx").expect("an exported file imports");
    assert_eq!(again.output_shape(), spec.output_shape());
}
