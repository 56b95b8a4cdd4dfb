//! Replays every committed fuzz input on the stable toolchain: the seed corpora
//! (`fuzz/seeds/<target>/`) and the regression inputs (`tests/fuzz-regressions/<target>/`,
//! inputs that once broke a target) go through the same checks as the cargo-fuzz targets
//! (`fuzz/checks/<target>.rs`), so CI catches a regression without a nightly toolchain.

use std::path::Path;

#[path = "../fuzz/checks/model_metadata.rs"]
mod model_metadata;
#[path = "../fuzz/checks/onnx.rs"]
mod onnx;
#[path = "../fuzz/checks/safetensors.rs"]
mod safetensors;

/// Runs `check` on every file of the target's seed and regression folders; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [
        root.join("fuzz/seeds").join(target),
        root.join("tests/fuzz-regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{} fails the `{target}` checks", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no seed for `{target}`");
    count
}

#[test]
fn safetensors_inputs_pass_the_fuzz_checks() {
    replay("safetensors", safetensors::check);
}

#[test]
fn model_metadata_inputs_pass_the_fuzz_checks() {
    replay("model_metadata", model_metadata::check);
}

#[test]
fn onnx_inputs_pass_the_fuzz_checks() {
    replay("onnx", onnx::check);
}
