//! libFuzzer entry point; the checks are in `../checks/onnx.rs`.
#![no_main]

#[path = "../checks/onnx.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
