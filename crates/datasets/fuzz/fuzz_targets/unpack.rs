//! libFuzzer entry point; the checks are in `../checks/unpack.rs`.
#![no_main]

#[path = "../checks/unpack.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
