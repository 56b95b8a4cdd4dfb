//! libFuzzer entry point; the checks are in `../checks/content_range.rs`.
#![no_main]

#[path = "../checks/content_range.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
