//! `neurite fetch` (and `cargo xtask fetch-data`, the same command): downloads the data sets
//! from their official sources and well-known mirrors (or imports local copies with
//! `--from`), verifies every file against pinned digests or its structure, and unpacks them
//! into the layout the loaders read. Library users call [`fetch`] or [`load_or_fetch`].
//!
//! One (private) module per job: `api` (the library entry points), `sources` (URLs, mirrors,
//! pinned digests, the verification policy), `download` (HTTP with resume and progress),
//! `verify`, `unpack` (gzip, safe tar), `install` (scratch file, verify, atomic rename),
//! `import` (`--from`), `status` (what is present; `--list`).

/// Prints a line to stdout, ignoring a closed pipe (`neurite fetch --list | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints a line to stderr, ignoring a closed pipe.
macro_rules! warn_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod api;
mod download;
mod error;
mod import;
mod install;
mod scratch;
mod sources;
mod status;
mod unpack;
mod verify;

#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::DatasetKind;
use crate::data_dir::{resolve_data_dir, DataDirSource, DATA_DIR_ENV};

pub use api::{fetch, load_or_fetch, load_or_fetch_with, FetchOptions};
pub use download::{parse_content_range, DownloadError, Http};
pub use error::{FetchError, OfflineReport};
pub use sources::{DatasetSpec, Unpack};
pub use unpack::extract_tar_from;

use error::IoContext;
use install::{install_archive, install_file};
use scratch::{remove_path, temp_path, Scratch};
use status::{bad_reason, file_status, FileStatus};
use verify::check_digest;

/// The arguments of `neurite fetch` and `cargo xtask fetch-data`.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct FetchArgs {
    /// The data set: mnist, fashion-mnist, cifar10, cifar100 or all [default: mnist; with
    /// --list: all].
    #[cfg_attr(feature = "clap", arg(value_name = "DATASET", value_parser = parse_selection))]
    pub dataset: Option<Selection>,
    /// The data directory (else $NEURITE_DATA_DIR, else the per-user data directory).
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub data_dir: Option<PathBuf>,
    /// Import local copies from DIR instead of downloading (.gz or raw files; for CIFAR also
    /// the .tar.gz archive or an extracted folder).
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR", conflicts_with = "mirror"))]
    pub from: Option<PathBuf>,
    /// Fetch again even when the files are present and verified.
    #[cfg_attr(feature = "clap", arg(long))]
    pub force: bool,
    /// Show which files are present and verified, and fetch nothing.
    #[cfg_attr(feature = "clap", arg(long, conflicts_with_all = ["from", "force", "mirror"]))]
    pub list: bool,
    /// Try this mirror first (the file names are appended to it).
    #[cfg_attr(feature = "clap", arg(long, value_name = "BASE_URL"))]
    pub mirror: Option<String>,
    /// With --from: import an archive whose checksum is not the official one (a repacked
    /// copy); its files' structure is still validated.
    #[cfg_attr(feature = "clap", arg(long, requires = "from"))]
    pub allow_unverified: bool,
}

/// Which data sets to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// One data set.
    One(DatasetKind),
    /// All of them.
    All,
}

/// Parses a data-set name or `all`.
pub fn parse_selection(s: &str) -> Result<Selection, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(Selection::All);
    }
    s.parse()
        .map(Selection::One)
        .map_err(|_| format!("unknown data set `{s}`: expected mnist, fashion-mnist, cifar10, cifar100 or all"))
}

/// Options shared by downloads and imports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Fetch again even when present and verified.
    pub force: bool,
    /// Import a `--from` archive whose digest is not the official one (its files' structure
    /// is still validated).
    pub allow_unverified: bool,
}

/// What a fetch or import did, file by file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Files that were already present and verified.
    pub present: Vec<String>,
    /// Files installed by this run.
    pub installed: Vec<String>,
    /// Whether the data set was skipped (with `all --from`, when DIR holds no copy of it).
    pub skipped: bool,
}

/// Runs `neurite fetch` / `cargo xtask fetch-data`: prints the data directory, then fetches,
/// imports or lists each selected data set.
pub fn run(args: &FetchArgs) -> Result<(), FetchError> {
    let (data_dir, source) = resolve_data_dir(args.data_dir.as_deref());
    let origin = match source {
        DataDirSource::Explicit => "from --data-dir".to_string(),
        DataDirSource::Environment => format!("from ${DATA_DIR_ENV}"),
        DataDirSource::UserDefault => "the per-user default; change it with --data-dir".to_string(),
    };
    say!("data directory: {} ({origin})", data_dir.display());
    let kinds: Vec<DatasetKind> = match args.dataset {
        Some(Selection::One(kind)) => vec![kind],
        Some(Selection::All) => DatasetKind::ALL.to_vec(),
        None if args.list => DatasetKind::ALL.to_vec(),
        None => vec![DatasetKind::Mnist],
    };
    if args.list {
        for kind in kinds {
            status::print_list(&sources::builtin(kind), &data_dir);
        }
        return Ok(());
    }
    api::check_mirror(args.mirror.as_deref())?;
    let http = Http::new(true);
    let options = FetchOptions {
        from: args.from.clone(),
        mirror: args.mirror.clone(),
        force: args.force,
        allow_unverified: args.allow_unverified,
    };
    let several = kinds.len() > 1;
    let mut failed = 0;
    let mut skipped = 0;
    for &kind in &kinds {
        say!("{} ({}):", kind.display_name(), kind.name());
        let result = api::fetch_one(kind, &data_dir, &options, &http, several);
        match result {
            Ok(report) => skipped += usize::from(report.skipped),
            Err(e) if !several => return Err(e),
            Err(e) => {
                warn_line!("error: {e}");
                failed += 1;
            }
        }
    }
    if let (Some(from), true) = (&args.from, skipped == kinds.len()) {
        return Err(FetchError::Import {
            dir: from.clone(),
            message: "holds no data set (looked for the folders mnist, fashion-mnist, cifar-10-batches-bin, \
                      cifar-100-binary and their aliases)"
                .to_string(),
        });
    }
    if failed > 0 {
        return Err(FetchError::Several {
            failed,
            total: kinds.len(),
        });
    }
    Ok(())
}

/// Downloads what is missing or bad of one data set into `data_dir`, trying each source in
/// order; verifies and unpacks. Files already present and verified are not downloaded again
/// unless `options.force`.
pub fn fetch_dataset(spec: &DatasetSpec, data_dir: &Path, http: &Http, options: Options) -> Result<Report, FetchError> {
    let target = data_dir.join(&spec.subdir);
    fs::create_dir_all(&target).at(&target)?;
    let mut report = Report::default();
    for download in &spec.downloads {
        if !options.force && all_present(spec, &target, download, &mut report) {
            continue;
        }
        fetch_download(spec, data_dir, &target, download, http, options)?;
        report
            .installed
            .extend(download.unpack.outputs().iter().map(|e| e.name.clone()));
    }
    Ok(report)
}

/// Whether every file a download provides is present and verified; prints each one's
/// state. A present file that fails verification is kept until a verified replacement is
/// renamed over it, so a failed re-run (offline, say) does not leave less than before.
fn all_present(spec: &DatasetSpec, target: &Path, download: &sources::Download, report: &mut Report) -> bool {
    let mut good = Vec::new();
    let mut all = true;
    for expected in download.unpack.outputs() {
        match file_status(spec, target, expected) {
            FileStatus::Verified(_) => good.push(expected.name.clone()),
            FileStatus::Missing => all = false,
            FileStatus::Bad(e) => {
                say!(
                    "  {}: present but fails verification ({}); fetching a replacement (kept until one is verified)",
                    expected.name,
                    bad_reason(&e)
                );
                all = false;
            }
        }
    }
    if all {
        for name in good {
            say!("  {name}: already present, verified");
            report.present.push(name);
        }
    }
    all
}

/// Fetches one download from its sources in order, then verifies and installs it.
fn fetch_download(
    spec: &DatasetSpec,
    data_dir: &Path,
    target: &Path,
    download: &sources::Download,
    http: &Http,
    options: Options,
) -> Result<(), FetchError> {
    // An archive extracts its own folder, so it is downloaded into the data directory.
    let part_dir = match download.unpack {
        Unpack::Gunzip(_) => target,
        Unpack::TarGz { .. } => data_dir,
    };
    let part = Scratch::new(temp_path(part_dir, &download.remote_name, "part"));
    if options.force {
        remove_path(part.path());
    } else if let Ok(meta) = fs::metadata(part.path()) {
        say!(
            "  {}: resuming an interrupted download ({} bytes already here)",
            download.remote_name,
            meta.len()
        );
    }
    let mut failures = Vec::new();
    // A part file left by an interrupted run may not belong to what the source serves now:
    // when what it completes fails verification, the same source is tried once from scratch.
    let mut resumed = part.path().exists();
    let mut urls = download.urls.iter().peekable();
    while let Some(url) = urls.peek().copied() {
        say!("  {} <- {url}", download.remote_name);
        let outcome = match http.download(url, part.path(), &download.remote_name, download.unpack.max_download()) {
            Ok(_) => install_download(spec, data_dir, target, download, part.path()),
            Err(DownloadError::Local { path, source }) => {
                // A full disk (or any local write error): keep what was downloaded, so the
                // next run resumes instead of starting over.
                part.keep();
                return Err(FetchError::io(&path, source));
            }
            Err(DownloadError::Source(why)) => {
                warn_line!("  failed: {url}: {why}");
                failures.push((url.clone(), why));
                remove_path(part.path());
                resumed = false;
                urls.next();
                continue;
            }
        };
        match outcome {
            Ok(()) => return Ok(()),
            Err(e) if e.is_bad_data() && resumed => {
                warn_line!("  rejected: {url}: {e}; the earlier partial download was stale, starting over");
                remove_path(part.path());
                resumed = false;
            }
            Err(e) if e.is_bad_data() => {
                warn_line!("  rejected: {url}: {e}");
                failures.push((url.clone(), e.to_string()));
                remove_path(part.path());
                urls.next();
            }
            Err(e) => return Err(e),
        }
    }
    Err(FetchError::Offline(OfflineReport {
        dataset: spec.kind.name().to_string(),
        file: download.remote_name.clone(),
        failures,
    }))
}

/// Verifies a finished download and installs what it provides.
fn install_download(
    spec: &DatasetSpec,
    data_dir: &Path,
    target: &Path,
    download: &sources::Download,
    part: &Path,
) -> Result<(), FetchError> {
    let label = download.remote_name.as_str();
    if let Some(digest) = &download.archive_digest {
        check_digest(part, digest, label)?;
        say!("  {label}: {} verified", digest.algorithm());
    }
    match &download.unpack {
        Unpack::Gunzip(expected) => {
            let how = install_file(part, target, expected, &spec.foreign_sha256, &expected.name)?;
            say!("  {}: installed, {}", expected.name, how.describe());
        }
        Unpack::TarGz { root, files } => {
            let verified = install_archive(part, data_dir, spec, root, files, label)?;
            for (expected, how) in files.iter().zip(verified) {
                say!("  {}: installed, {}", expected.name, how.describe());
            }
        }
    }
    Ok(())
}
