//! libFuzzer entry point; the checks are in `../checks/idx.rs`.
#![no_main]

#[path = "../checks/idx.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
