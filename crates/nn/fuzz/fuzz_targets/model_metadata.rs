//! libFuzzer entry point; the checks are in `../checks/model_metadata.rs`.
#![no_main]

#[path = "../checks/model_metadata.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
