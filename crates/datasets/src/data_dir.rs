//! The one data-directory rule shared by the loaders, the `neurite` CLI and the fetch code
//! (`neurite fetch`, `cargo xtask fetch-data`):
//!
//! 1. an explicit path (a `--data-dir` flag or an argument), else
//! 2. the environment variable `NEURITE_DATA_DIR` when set and non-empty, else
//! 3. the per-user data directory: `$XDG_DATA_HOME/neurite` or `~/.local/share/neurite` on
//!    Linux, `~/Library/Application Support/neurite` on macOS, `%APPDATA%\neurite` on Windows,
//!    else `./neurite-data` when the platform has none.

use std::path::{Path, PathBuf};

/// The environment variable that names the data directory.
pub const DATA_DIR_ENV: &str = "NEURITE_DATA_DIR";

/// Where a data directory was found, for messages such as `neurite info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDirSource {
    /// Given explicitly (flag or argument).
    Explicit,
    /// Taken from `NEURITE_DATA_DIR`.
    Environment,
    /// The per-user default.
    UserDefault,
}

/// Resolves the data directory by the rule above.
///
/// ```
/// use std::path::Path;
/// use neurite_datasets::data_dir::{resolve_data_dir, DataDirSource};
/// let (dir, source) = resolve_data_dir(Some(Path::new("/tmp/my-data")));
/// assert_eq!(dir, Path::new("/tmp/my-data"));
/// assert_eq!(source, DataDirSource::Explicit);
/// ```
pub fn resolve_data_dir(explicit: Option<&Path>) -> (PathBuf, DataDirSource) {
    if let Some(dir) = explicit {
        return (dir.to_path_buf(), DataDirSource::Explicit);
    }
    match std::env::var_os(DATA_DIR_ENV) {
        Some(v) if !v.is_empty() => (PathBuf::from(v), DataDirSource::Environment),
        _ => (default_data_dir(), DataDirSource::UserDefault),
    }
}

/// The per-user default data directory (step 3 of the rule).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("neurite"))
        .unwrap_or_else(|| PathBuf::from("neurite-data"))
}
