//! The `--out` folder of `neurite train`: created and checked for writing before the first
//! step, and never silently overwritten.

use std::path::{Path, PathBuf};

use crate::error::{CliError, CliResult};

/// The checkpoint written after every epoch.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The trained model.
pub const MODEL: &str = "model.safetensors";

/// The files that mark a folder as holding a run.
const RUN_FILES: [&str; 3] = [MODEL, CHECKPOINT, "metrics.json"];

/// Creates `out` if needed and proves it writable by writing (atomically) and removing a
/// probe file. A folder holding a run is refused unless `overwrite` or `resume`.
///
/// # Errors
/// A message naming `--out` (or `--resume`) and the reason.
pub fn prepare(out: &Path, overwrite: bool, resume: bool) -> CliResult<PathBuf> {
    let flag = if resume { "--resume" } else { "--out" };
    std::fs::create_dir_all(out).map_err(|e| CliError::new(format!("{flag} {}: cannot create: {e}", out.display())))?;
    if !resume && !overwrite {
        if let Some(found) = RUN_FILES.iter().find(|f| out.join(f).exists()) {
            return Err(CliError::usage(format!(
                "--out {} already holds a run ({found}); pass --overwrite to replace it or --resume {} to continue it",
                out.display(),
                out.display()
            )));
        }
    }
    let probe = out.join(".neurite-write-check");
    neurite_tensor::atomic_file::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| CliError::new(format!("{flag} {}: not writable: {e}", out.display())))?;
    Ok(out.to_path_buf())
}
