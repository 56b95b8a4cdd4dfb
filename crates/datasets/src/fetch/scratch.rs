//! Temporary files and folders inside the target directory, removed unless kept, and the
//! atomic rename that installs a verified file.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::{FetchError, IoContext};

/// A temporary file or folder that is removed when dropped, unless [`Scratch::keep`] was
/// called: no partial file survives an error.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    armed: bool,
}

impl Scratch {
    /// Guards `path` (which need not exist yet).
    pub fn new(path: PathBuf) -> Self {
        Scratch { path, armed: true }
    }

    /// The guarded path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops guarding: the path is left where it is.
    pub fn keep(mut self) {
        self.armed = false;
    }

    /// Atomically installs the guarded file at `dest` (same folder or file system): synced,
    /// renamed, and the folder synced ([`neurite_tensor::atomic_file::install`]).
    pub fn persist(self, dest: &Path) -> Result<(), FetchError> {
        neurite_tensor::atomic_file::install(&self.path, dest).at(dest)?;
        self.keep();
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.armed {
            remove_path(&self.path);
        }
    }
}

/// Removes a file or a folder tree, ignoring a missing one.
pub fn remove_path(path: &Path) {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// A hidden temporary name beside `name` in `dir`: `.NAME.SUFFIX`.
pub fn temp_path(dir: &Path, name: &str, suffix: &str) -> PathBuf {
    dir.join(format!(".{name}.{suffix}"))
}
