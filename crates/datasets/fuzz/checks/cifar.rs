//! Fuzz the CIFAR parser in both layouts.
//!
//! Raw bytes are parsed as they are (almost never a whole number of 3,073-byte records), and
//! also shaped into whole records so the fuzzer reaches the label checks and the record
//! views: the first byte picks the layout (bit 0) and the record count (1 to 4), the rest fill
//! the records' label and pixel bytes in order (zeros where the input runs out).
//!
//! Shared by the fuzz target (`fuzz_targets/cifar.rs`) and the stable replay test that
//! runs every committed seed and regression input (`tests/fuzz_replay.rs`).

use neurite_datasets::cifar::{cifar_records, parse_cifar, CifarFile, CifarFormat};
use neurite_datasets::SharedBytes;

fn check_layout(bytes: &[u8], format: CifarFormat, limits: &[usize]) {
    let Ok(n) = parse_cifar(bytes, format) else {
        return;
    };
    assert_eq!(n * format.record_len(), bytes.len());
    assert_eq!(cifar_records(bytes, format).unwrap().len(), n);
    match CifarFile::from_bytes(SharedBytes::from_vec(bytes.to_vec()), format, limits, "fuzz") {
        Ok(file) => {
            for i in 0..file.len() {
                let r = file.record(i);
                assert_eq!(r.pixels.len(), 3072);
                for (label, &classes) in r.labels.iter().zip(limits) {
                    assert!(usize::from(*label) < classes);
                }
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz"), "{e}"),
    }
}

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    let layouts = [
        (CifarFormat::CIFAR10, &[10usize][..]),
        (CifarFormat::CIFAR100, &[20, 100][..]),
    ];
    for (format, limits) in layouts {
        check_layout(data, format, limits);
    }
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (format, limits) = layouts[usize::from(mode & 1)];
    let records = 1 + usize::from(mode >> 1) % 4;
    let mut shaped = vec![0u8; records * format.record_len()];
    let n = rest.len().min(shaped.len());
    shaped[..n].copy_from_slice(&rest[..n]);
    check_layout(&shaped, format, limits);
}
