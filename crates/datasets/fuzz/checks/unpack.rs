//! Fuzz the safe tar extraction of `fetch` (gzip-compressed when the bytes start like gzip):
//! any archive extracts only plain files inside the target folder, each within its bound,
//! or fails with an error; nothing is ever written outside the folder.
//!
//! Shared by the fuzz target (`fuzz_targets/unpack.rs`) and the stable replay test that
//! runs every committed seed and regression input (`tests/fuzz_replay.rs`).

use std::path::{Path, PathBuf};

use neurite_datasets::fetch::extract_tar_from;

const BOUND: u64 = 64 * 1024;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        assert!(!kind.is_symlink(), "a link was extracted: {:?}", entry.path());
        if kind.is_dir() {
            files_under(&entry.path(), out);
        } else {
            out.push(entry.path());
        }
    }
}

/// Runs the checks on one input; panics on a violated property.
pub fn check(data: &[u8]) {
    let root = std::env::temp_dir().join(format!("neurite-fuzz-unpack-{}", std::process::id()));
    let dest = root.join("dest");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&dest).unwrap();
    // Files under `batches/` are wanted (up to BOUND bytes), everything else is skipped.
    let wanted = |rel: &Path| rel.starts_with("batches").then_some(BOUND);
    let result = if data.starts_with(&[0x1f, 0x8b]) {
        extract_tar_from(flate2::read::MultiGzDecoder::new(data), &dest, "fuzz.tar.gz", &wanted)
    } else {
        extract_tar_from(data, &dest, "fuzz.tar", &wanted)
    };
    if let Err(e) = &result {
        assert!(e.to_string().contains("fuzz.tar"), "{e}");
    }
    let mut files = Vec::new();
    files_under(&dest, &mut files);
    for f in &files {
        let rel = f.strip_prefix(&dest).unwrap();
        assert!(rel.starts_with("batches"), "an unwanted entry was written: {rel:?}");
        assert!(std::fs::metadata(f).unwrap().len() <= BOUND);
    }
    // Nothing beside `dest`.
    let beside: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["dest"]);
    let _ = std::fs::remove_dir_all(&root);
}
