//! libFuzzer entry point; the checks are in `../checks/folder_cache.rs`.
#![no_main]

#[path = "../checks/folder_cache.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
