//! The library's entry points: [`fetch`] one data set into a data directory, and
//! [`load_or_fetch`], Keras' `mnist.load_data()` behaviour (download on first use, then load).

use std::path::{Path, PathBuf};

use super::{import, sources, FetchError, Http, Options, Report};
use crate::catalog::DatasetKind;
use crate::dataset::Dataset;
use crate::error::DatasetError;
use crate::load::load;

/// How [`fetch`] gets a data set. The default downloads from the official sources and their
/// well-known mirrors, and keeps files that are already present and verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// Import local copies from this folder instead of downloading (`--from`).
    pub from: Option<PathBuf>,
    /// Try this mirror first; the file names are appended to it (`--mirror`).
    pub mirror: Option<String>,
    /// Fetch again even when the files are present and verified (`--force`).
    pub force: bool,
    /// With `from`: import an archive whose digest is not the official one
    /// (`--allow-unverified`); its files' structure is still validated.
    pub allow_unverified: bool,
}

/// Downloads (or, with [`FetchOptions::from`], imports) `kind` into `data_dir`, verifies
/// every file against pinned digests or its structure, and unpacks it into the layout the
/// loaders read (`data_dir/mnist/`, `data_dir/cifar-10-batches-bin/`, ...).
///
/// Prints one line per file to stdout, and a progress bar with bytes and rate on stderr when
/// stderr is a terminal. Nothing half-written is left behind on failure.
///
/// ```no_run
/// use std::path::Path;
/// use neurite_datasets::{fetch, DatasetKind, FetchOptions};
/// let report = fetch(DatasetKind::Mnist, Path::new("data"), &FetchOptions::default())?;
/// println!("installed {:?}, already present {:?}", report.installed, report.present);
/// # Ok::<(), neurite_datasets::FetchError>(())
/// ```
///
/// # Errors
/// [`FetchError`] naming the file or flag: every source failed (with the URLs tried), a file
/// failed verification, `--from` lacks a file, a mirror is not an HTTP URL, or local I/O.
pub fn fetch(kind: DatasetKind, data_dir: &Path, options: &FetchOptions) -> Result<Report, FetchError> {
    fetch_one(kind, data_dir, options, &Http::new(true), false)
}

/// Loads `kind` from `data_dir`, fetching it first when a file is missing (the Keras
/// one-liner). A file that is present but damaged is an error, not a reason to download
/// again silently: fix it with `neurite fetch --force` (or [`FetchOptions::force`]).
///
/// ```no_run
/// use neurite_datasets::{data_dir::resolve_data_dir, load_or_fetch, DatasetKind};
/// let (dir, _) = resolve_data_dir(None);
/// let mnist = load_or_fetch(DatasetKind::Mnist, &dir)?; // the full 60,000 / 10,000 images
/// assert_eq!(mnist.train.len(), 60_000);
/// # Ok::<(), neurite_datasets::FetchError>(())
/// ```
///
/// # Errors
/// [`FetchError::Load`] when loading fails for another reason than a missing file (or still
/// fails after fetching), any [`fetch`] error otherwise.
pub fn load_or_fetch(kind: DatasetKind, data_dir: impl AsRef<Path>) -> Result<Dataset, FetchError> {
    load_or_fetch_with(kind, data_dir, &FetchOptions::default())
}

/// [`load_or_fetch`] with [`FetchOptions`] for the fetch (a mirror, or `from` a local copy).
///
/// # Errors
/// As [`load_or_fetch`].
pub fn load_or_fetch_with(
    kind: DatasetKind,
    data_dir: impl AsRef<Path>,
    options: &FetchOptions,
) -> Result<Dataset, FetchError> {
    let dir = data_dir.as_ref();
    match load(kind, dir) {
        Err(DatasetError::Missing { .. }) => {
            fetch(kind, dir, options)?;
            Ok(load(kind, dir)?)
        }
        other => Ok(other?),
    }
}

/// Fetches or imports one data set; `several` says the user asked for `all` (then an
/// import skips a data set the `--from` folder holds no copy of).
pub(super) fn fetch_one(
    kind: DatasetKind,
    data_dir: &Path,
    options: &FetchOptions,
    http: &Http,
    several: bool,
) -> Result<Report, FetchError> {
    check_mirror(options.mirror.as_deref())?;
    let mut spec = sources::builtin(kind);
    if let Some(mirror) = &options.mirror {
        spec = spec.with_mirror(mirror);
    }
    let install = Options {
        force: options.force,
        allow_unverified: options.allow_unverified,
    };
    match &options.from {
        Some(from) => import::import_dataset(&spec, data_dir, from, several, install),
        None => super::fetch_dataset(&spec, data_dir, http, install),
    }
}

/// Refuses a `--mirror` that is not an HTTP(S) URL.
pub(super) fn check_mirror(mirror: Option<&str>) -> Result<(), FetchError> {
    match mirror {
        Some(m) if !(m.starts_with("http://") || m.starts_with("https://")) => Err(FetchError::Usage {
            flag: "--mirror",
            message: format!("`{m}` is not an http:// or https:// URL"),
        }),
        _ => Ok(()),
    }
}
