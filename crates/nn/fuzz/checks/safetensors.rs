//! Fuzz safetensors loading: `read_header_bytes` (what `read_metadata` reads),
//! `load_state_dict_bytes` and `load_into_bytes` share the checked reader of the file
//! functions. Any bytes give tensors consistent with their header, or an error naming the
//! file; a failed `load_into` leaves the model untouched.
//!
//! Shared by the fuzz target (`fuzz_targets/safetensors.rs`) and the stable replay test that
//! runs every committed seed and regression input (`tests/fuzz_replay.rs`).

use neurite_nn::serialize::{load_into_bytes, load_state_dict_bytes, read_header_bytes};
use neurite_nn::{Linear, Module, ReLU, Sequential};
use neurite_tensor::seeded_rng;

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    let name = "fuzz.safetensors";
    let header = read_header_bytes(data, name);
    match load_state_dict_bytes(data, name) {
        Ok((tensors, metadata)) => {
            let header = header.as_ref().expect("a file that loads has a valid header");
            assert_eq!(metadata, header.metadata);
            assert_eq!(tensors.len(), header.tensors.len());
            for (n, t) in &tensors {
                assert_eq!(t.shape(), header.tensors[n].shape);
                assert!(t.to_vec().iter().all(|v| v.is_finite()));
            }
        }
        Err(e) => assert!(e.to_string().contains(name), "{e}"),
    }
    // The model the seeds were saved from: Linear(2, 3), ReLU, Linear(3, 2).
    let mut rng = seeded_rng(0);
    let mut model = Sequential::new()
        .add(Linear::new(2, 3, &mut rng))
        .add(ReLU)
        .add(Linear::new(3, 2, &mut rng));
    let before: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec()).collect();
    match load_into_bytes(&mut model, data, name) {
        Ok(metadata) => assert_eq!(metadata, header.expect("valid header").metadata),
        Err(e) => {
            assert!(e.to_string().contains(name), "{e}");
            let after: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec()).collect();
            assert_eq!(before, after, "a failed load changed the model");
        }
    }
}
