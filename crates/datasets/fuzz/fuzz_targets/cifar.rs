//! libFuzzer entry point; the checks are in `../checks/cifar.rs`.
#![no_main]

#[path = "../checks/cifar.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
