//! Fuzz the HTTP `Content-Range` parser: any header value gives a range whose start is not
//! beyond its total, or `None`; a parsed value written back parses to the same thing.
//!
//! Shared by the fuzz target (`fuzz_targets/content_range.rs`) and the stable replay test that
//! runs every committed seed and regression input (`tests/fuzz_replay.rs`).

use neurite_datasets::fetch::parse_content_range;

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((start, total)) = parse_content_range(text) {
        if let Some(total) = total {
            assert!(start < total, "{text:?}");
        }
        let again = match total {
            Some(t) => format!("bytes {start}-{}/{t}", t - 1),
            None => format!("bytes {start}-{start}/*"),
        };
        assert_eq!(parse_content_range(&again), Some((start, total)), "{text:?}");
    }
}
