//! Fuzz the IDX parser: any bytes must give a header consistent with the length, or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurite_datasets::idx::{parse_idx, IdxFile};
use neurite_datasets::SharedBytes;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = parse_idx(data) {
        assert_eq!(header.data_offset + header.data_len(), data.len());
        let file = IdxFile::from_bytes(SharedBytes::from_vec(data.to_vec()), "fuzz").unwrap();
        let values = file.to_values();
        assert_eq!(values.len(), header.num_elements());
        let _ = file.view_u8();
    }
});
