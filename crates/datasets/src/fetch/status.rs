//! What is already in a data set's folder: present and verified, present but bad, or
//! missing. Used for idempotence (a second run downloads nothing) and for `--list`.

use std::path::Path;

use super::error::FetchError;
use super::sources::{DatasetSpec, Expected};
use super::verify::{verify_content, Verified};

/// The state of one file the loaders read.
#[derive(Debug)]
pub enum FileStatus {
    /// Not there.
    Missing,
    /// There and good.
    Verified(Verified),
    /// There but failing verification.
    Bad(FetchError),
}

/// Checks one file in `target` (the data set's folder).
pub fn file_status(spec: &DatasetSpec, target: &Path, expected: &Expected) -> FileStatus {
    let path = target.join(&expected.name);
    if !path.is_file() {
        return FileStatus::Missing;
    }
    let label = format!("{}/{}", spec.subdir, expected.name);
    match verify_content(&path, expected, &spec.foreign_sha256, &label) {
        Ok(v) => FileStatus::Verified(v),
        Err(e) => FileStatus::Bad(e),
    }
}

/// Prints what `--list` shows for one data set.
pub fn print_list(spec: &DatasetSpec, data_dir: &Path) {
    let target = data_dir.join(&spec.subdir);
    say!(
        "{} ({}) in {}:",
        spec.kind.display_name(),
        spec.kind.name(),
        target.display()
    );
    let mut all_good = true;
    for expected in spec.outputs() {
        let state = match file_status(spec, &target, expected) {
            FileStatus::Missing => "missing".to_string(),
            FileStatus::Verified(v) => format!("present, {}", v.describe()),
            FileStatus::Bad(e) => format!("present but BAD: {}", bad_reason(&e)),
        };
        all_good &= state.starts_with("present,");
        say!("  {:<26} {state}", expected.name);
    }
    if !all_good {
        say!("  -> {}", spec.kind.fetch_hint());
    }
}

/// The reason of a verification error, without the file name and the "not kept" note.
pub fn bad_reason(err: &FetchError) -> String {
    match err {
        FetchError::DigestMismatch {
            algorithm,
            expected,
            actual,
            ..
        } => format!("{algorithm} mismatch: expected {expected}, got {actual}"),
        FetchError::Malformed { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}
