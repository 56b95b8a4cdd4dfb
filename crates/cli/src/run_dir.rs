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

/// Every file a run writes (atomically, through a hidden `.NAME.*.tmp` beside it).
const WRITTEN: [&str; 4] = [MODEL, CHECKPOINT, "metrics.json", "curves.svg"];

/// A prepared `--out` folder.
pub struct OutDir {
    /// The folder.
    pub path: PathBuf,
    /// Whether [`prepare`] created it (it is removed again by [`OutDir::discard`]).
    created: bool,
}

impl OutDir {
    /// Removes the folder if [`prepare`] created it and it is still empty: a run that fails
    /// before its first step leaves nothing behind.
    pub fn discard(&self) {
        if self.created {
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// Creates `out` if needed and proves it writable by writing (atomically) and removing a
/// probe file. A folder holding a run is refused unless `overwrite` or `resume`.
///
/// # Errors
/// A message naming `--out` (or `--resume`) and the reason.
pub fn prepare(out: &Path, overwrite: bool, resume: bool) -> CliResult<OutDir> {
    let flag = if resume { "--resume" } else { "--out" };
    let created = !out.exists();
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
    let dir = OutDir {
        path: out.to_path_buf(),
        created,
    };
    remove_stray_temporaries(out);
    let probe = out.join(".neurite-write-check");
    if let Err(e) = neurite_tensor::atomic_file::write(&probe, b"").and_then(|()| std::fs::remove_file(&probe)) {
        dir.discard();
        return Err(CliError::new(format!("{flag} {}: not writable: {e}", out.display())));
    }
    Ok(dir)
}

/// Removes temporary files that a run killed while writing (a second Ctrl-C exits at once)
/// left behind; the files they were to replace are intact.
fn remove_stray_temporaries(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stray = name.ends_with(".tmp") && WRITTEN.iter().any(|w| name.starts_with(&format!(".{w}.")));
        if stray {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
