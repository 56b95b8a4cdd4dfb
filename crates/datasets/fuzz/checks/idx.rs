//! Fuzz the IDX parser: any bytes must give a header consistent with the length, or an error.
//!
//! Shared by the fuzz target (`fuzz_targets/idx.rs`) and the stable replay test that
//! runs every committed seed and regression input (`tests/fuzz_replay.rs`).

use neurite_datasets::idx::{parse_idx, IdxFile};
use neurite_datasets::SharedBytes;

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    if let Ok(header) = parse_idx(data) {
        assert_eq!(header.data_offset + header.data_len(), data.len());
        let file = IdxFile::from_bytes(SharedBytes::from_vec(data.to_vec()), "fuzz").unwrap();
        let values = file.to_values();
        assert_eq!(values.len(), header.num_elements());
        let _ = file.view_u8();
    }
}
