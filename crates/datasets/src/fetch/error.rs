//! The errors of `neurite fetch` / `cargo xtask fetch-data`: each names the file or flag it is about, in one line
//! (except the offline message, which lists every URL that failed).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while fetching, importing or verifying a data set.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A local file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A file's digest is not the pinned one; the file is not kept.
    #[error("{file}: {algorithm} mismatch: expected {expected}, got {actual}; rejected, not kept")]
    DigestMismatch {
        /// The file (as the user knows it: data-set name and file name).
        file: String,
        /// `SHA-256` or `MD5`.
        algorithm: &'static str,
        /// The pinned digest.
        expected: String,
        /// The digest of what was received.
        actual: String,
    },
    /// A file does not have the structure its loader expects; the file is not kept.
    #[error("{file}: {reason}; rejected, not kept")]
    Malformed {
        /// The file concerned.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An archive holds an entry that would land outside the target folder, or a link.
    #[error("{archive}: refusing archive entry `{entry}` ({reason}); nothing was kept")]
    UnsafeArchive {
        /// The archive.
        archive: String,
        /// The entry's path as written in the archive.
        entry: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An archive lacks a file the loaders need.
    #[error("{archive}: no `{entry}` inside; nothing was kept")]
    MissingInArchive {
        /// The archive.
        archive: String,
        /// The path that was expected inside it.
        entry: String,
    },
    /// Every source of a file failed.
    #[error("{0}")]
    Offline(OfflineReport),
    /// `--from` does not hold a needed file.
    #[error("--from {}: {message}", dir.display())]
    Import {
        /// The `--from` folder.
        dir: PathBuf,
        /// What is missing or wrong.
        message: String,
    },
    /// A `--from` archive is not the official one and `--allow-unverified` was not given.
    #[error(
        "{file}: not the official archive ({algorithm} {actual}, expected {expected}); import it anyway with --allow-unverified (its files' structure is still validated)"
    )]
    Unverified {
        /// The archive.
        file: String,
        /// `MD5` or `SHA-256`.
        algorithm: &'static str,
        /// The official digest.
        expected: String,
        /// The archive's digest.
        actual: String,
    },
    /// A command-line value is wrong.
    #[error("{flag}: {message}")]
    Usage {
        /// The flag or argument.
        flag: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Loading the data set failed after (or instead of) fetching it ([`super::load_or_fetch`]).
    #[error(transparent)]
    Load(#[from] crate::error::DatasetError),
    /// Several data sets failed (with `all`); each error was printed already.
    #[error("{failed} of {total} data sets failed (see the errors above)")]
    Several {
        /// How many failed.
        failed: usize,
        /// How many were asked for.
        total: usize,
    },
}

impl FetchError {
    /// Whether the error is about the data received (digest, structure, archive content),
    /// as opposed to a local I/O problem: another source may do better.
    pub fn is_bad_data(&self) -> bool {
        matches!(
            self,
            FetchError::DigestMismatch { .. }
                | FetchError::Malformed { .. }
                | FetchError::UnsafeArchive { .. }
                | FetchError::MissingInArchive { .. }
        )
    }

    /// An I/O error about `path`.
    pub fn io(path: &Path, source: io::Error) -> Self {
        FetchError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Adds the path to an `io::Result`.
pub trait IoContext<T> {
    /// Maps the error to [`FetchError::Io`] naming `path`.
    fn at(self, path: &Path) -> Result<T, FetchError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T, FetchError> {
        self.map_err(|e| FetchError::io(path, e))
    }
}

/// The message printed when no source of a file answered: which URLs failed, and how to
/// use `--from` with files fetched elsewhere.
#[derive(Debug)]
pub struct OfflineReport {
    /// The data set's command-line name.
    pub dataset: String,
    /// The file that could not be fetched.
    pub file: String,
    /// Each URL tried, with why it failed.
    pub failures: Vec<(String, String)>,
}

impl fmt::Display for OfflineReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each failure was printed as it happened (`failed: URL: why`); the error names the
        // count, not the list again, so the hint is read once.
        match self.failures.as_slice() {
            [(url, why)] => write!(f, "could not fetch {} from {url}: {why}. ", self.file)?,
            [.., (_, last)] => write!(
                f,
                "could not fetch {} from its {} sources (each failure is shown above; the last: {last}). ",
                self.file,
                self.failures.len()
            )?,
            [] => write!(f, "could not fetch {}: it has no source. ", self.file)?,
        }
        write!(
            f,
            "If this machine is offline, fetch the files elsewhere (same names, compressed or not) \
             and run `neurite fetch {0} --from DIR` (or `cargo xtask fetch-data {0} --from DIR`), \
             or serve them from your own mirror with `--mirror BASE_URL`.",
            self.dataset
        )
    }
}
