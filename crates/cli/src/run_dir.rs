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

/// The folders [`prepare`] created, removed again when dropped if they are still empty (a run
/// that fails before it saves anything leaves nothing behind).
#[must_use = "dropping it at once removes the folders it created"]
pub struct CreatedDirs(Vec<PathBuf>);

impl Drop for CreatedDirs {
    fn drop(&mut self) {
        // Deepest first; `remove_dir` refuses a folder that holds anything.
        for dir in self.0.iter().rev() {
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// Creates `out` if needed and proves it writable by writing (atomically) and removing a
/// probe file. A folder holding a run is refused unless `overwrite` or `resume`. Keep the
/// returned [`CreatedDirs`] until the run has saved something.
///
/// # Errors
/// A message naming `--out` (or `--resume`) and the reason.
pub fn prepare(out: &Path, overwrite: bool, resume: bool) -> CliResult<(PathBuf, CreatedDirs)> {
    let flag = if resume { "--resume" } else { "--out" };
    let missing: Vec<PathBuf> = out
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .map(Path::to_path_buf)
        .collect();
    let created = CreatedDirs(missing.into_iter().rev().collect());
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
    Ok((out.to_path_buf(), created))
}
