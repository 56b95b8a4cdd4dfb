//! libFuzzer entry point; the checks are in `../checks/safetensors.rs`.
#![no_main]

#[path = "../checks/safetensors.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
