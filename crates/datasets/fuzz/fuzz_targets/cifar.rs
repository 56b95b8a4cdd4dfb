//! Fuzz the CIFAR parser in both layouts: any bytes give whole records or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurite_datasets::cifar::{parse_cifar, CifarFile, CifarFormat};
use neurite_datasets::SharedBytes;

fuzz_target!(|data: &[u8]| {
    for (format, limits) in [
        (CifarFormat::CIFAR10, &[10usize][..]),
        (CifarFormat::CIFAR100, &[20, 100][..]),
    ] {
        if let Ok(n) = parse_cifar(data, format) {
            assert_eq!(n * format.record_len(), data.len());
            if let Ok(file) = CifarFile::from_bytes(SharedBytes::from_vec(data.to_vec()), format, limits, "fuzz") {
                for i in 0..file.len() {
                    let r = file.record(i);
                    assert_eq!(r.pixels.len(), 3072);
                }
            }
        }
    }
});
