//! Replays every committed fuzz input on the stable toolchain: the seed corpora
//! (`fuzz/seeds/<target>/`) and the regression inputs (`tests/fuzz-regressions/<target>/`,
//! inputs that once broke a target) go through the same checks as the cargo-fuzz targets
//! (`fuzz/checks/<target>.rs`), so CI catches a regression without a nightly toolchain.

use std::path::Path;

#[path = "../fuzz/checks/cifar.rs"]
mod cifar;
#[cfg(feature = "download")]
#[path = "../fuzz/checks/content_range.rs"]
mod content_range;
#[path = "../fuzz/checks/folder_cache.rs"]
mod folder_cache;
#[path = "../fuzz/checks/idx.rs"]
mod idx;
#[cfg(feature = "download")]
#[path = "../fuzz/checks/unpack.rs"]
mod unpack;

/// Runs `check` on every file of the target's seed and regression folders; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [
        root.join("fuzz/seeds").join(target),
        root.join("tests/fuzz-regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{} fails the `{target}` checks", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no seed for `{target}`");
    count
}

#[test]
fn idx_inputs_pass_the_fuzz_checks() {
    replay("idx", idx::check);
}

#[test]
fn cifar_inputs_pass_the_fuzz_checks() {
    replay("cifar", cifar::check);
}

#[test]
fn folder_cache_inputs_pass_the_fuzz_checks() {
    assert_eq!(replay("folder_cache", folder_cache::check), 7);
    // The seeds are what they say: the two valid caches parse, the near misses do not.
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/folder_cache");
    for (name, valid) in [
        ("grey", true),
        ("rgb", true),
        ("truncated", false),
        ("trailing", false),
        ("bad-magic", false),
        ("huge-n", false),
    ] {
        let bytes = std::fs::read(seeds.join(name)).unwrap();
        assert_eq!(
            neurite_datasets::cache::parse_cache_header(&bytes).is_ok(),
            valid,
            "{name}"
        );
    }
}

#[cfg(feature = "download")]
#[test]
fn unpack_inputs_pass_the_fuzz_checks() {
    replay("unpack", unpack::check);
}

#[cfg(feature = "download")]
#[test]
fn content_range_inputs_pass_the_fuzz_checks() {
    replay("content_range", content_range::check);
}
