//! Fuzz the image-folder cache header: any bytes must give a header whose sizes add up to
//! exactly the input's length (so no read leaves the map), or an error; a valid header's
//! image sets index without panicking.
//!
//! Shared by the fuzz target (`fuzz_targets/folder_cache.rs`) and the stable replay test
//! that runs every committed seed and regression input (`tests/fuzz_replay.rs`).

use std::path::Path;

use neurite_datasets::cache::{image_sets, parse_cache_header};
use neurite_datasets::SharedBytes;

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    if let Ok(header) = parse_cache_header(data) {
        assert_eq!(header.labels_offset() + header.len(), data.len());
        assert_eq!(
            header.class_names.len(),
            header.class_names.iter().filter(|n| !n.is_empty()).count()
        );
        let bytes = SharedBytes::from_vec(data.to_vec());
        if let Ok((train, test)) = image_sets(bytes, &header, Path::new("fuzz"), "fuzz") {
            assert_eq!(train.len() + test.len(), header.len());
            for set in [&train, &test] {
                assert_eq!(set.image(set.len() - 1).len(), header.image_len());
                assert!(set.labels().iter().all(|&l| l < header.class_names.len()));
            }
        }
    }
}
