//! `--from DIR`: imports local copies instead of downloading. Each file may be gzip-compressed
//! or raw (decided by content); for CIFAR, DIR may also hold the `.tar.gz` archive (or be
//! it). Every file is verified exactly as a download would be, before it is installed.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::{FetchError, IoContext};
use super::install::{install_archive, install_file};
use super::sources::{DatasetSpec, Download, Expected, Unpack};
use super::status::{file_status, FileStatus};
use super::verify::check_digest;
use super::{Options, Report};

/// Imports one data set from `from` into `data_dir`, looking in the folders of
/// [`search_dirs`]; `only_subfolders` (used with `all`) keeps MNIST and Fashion-MNIST files
/// of the same names from being confused.
pub fn import_dataset(
    spec: &DatasetSpec,
    data_dir: &Path,
    from: &Path,
    only_subfolders: bool,
    options: Options,
) -> Result<Report, FetchError> {
    if !from.exists() {
        return Err(import_error(from, "no such file or folder".to_string()));
    }
    let wants_archive = spec.downloads.iter().all(|d| matches!(d.unpack, Unpack::TarGz { .. }));
    if from.is_file() && !wants_archive {
        return Err(import_error(
            from,
            "is a file; give the folder that holds the files".to_string(),
        ));
    }
    let dirs = search_dirs(spec, from, only_subfolders);
    let target = data_dir.join(&spec.subdir);
    let mut report = Report::default();
    if only_subfolders && dirs.is_empty() {
        say!("  no copy in {}, skipped", from.display());
        report.skipped = true;
        return Ok(report);
    }
    fs::create_dir_all(&target).at(&target)?;
    for download in &spec.downloads {
        match &download.unpack {
            Unpack::Gunzip(expected) => {
                let src = find(&dirs, &expected.name)
                    .ok_or_else(|| import_error(from, missing_message(&expected.name, None, &dirs)))?;
                import_file(spec, &target, expected, &src, options, &mut report)?;
            }
            Unpack::TarGz { root, files } => {
                let loose: Vec<Option<PathBuf>> = files.iter().map(|e| find(&dirs, &e.name)).collect();
                if loose.iter().all(Option::is_some) {
                    for (expected, src) in files.iter().zip(loose.into_iter().flatten()) {
                        import_file(spec, &target, expected, &src, options, &mut report)?;
                    }
                } else if let Some(archive) = find_archive(from, &dirs, download) {
                    import_archive(
                        spec,
                        data_dir,
                        &target,
                        download,
                        root,
                        files,
                        &archive,
                        options,
                        &mut report,
                    )?;
                } else {
                    let first_missing = files
                        .iter()
                        .zip(&loose)
                        .find(|(_, found)| found.is_none())
                        .map(|(e, _)| e.name.as_str())
                        .unwrap_or_default();
                    let message = missing_message(first_missing, Some(&download.remote_name), &dirs);
                    return Err(import_error(from, message));
                }
            }
        }
    }
    Ok(report)
}

/// The folders searched for a data set's files, those that exist: `from/<folder>`, then
/// `from/<name>` and `from/<display name>` (e.g. `cifar10`, `cifar-10`) and the folder
/// inside those, then (unless `only_subfolders`) `from` itself.
fn search_dirs(spec: &DatasetSpec, from: &Path, only_subfolders: bool) -> Vec<PathBuf> {
    let mut dirs = vec![from.join(&spec.subdir)];
    for alias in [spec.kind.name().to_string(), spec.kind.display_name().to_lowercase()] {
        dirs.push(from.join(&alias));
        dirs.push(from.join(&alias).join(&spec.subdir));
    }
    if !only_subfolders {
        dirs.push(from.to_path_buf());
    }
    let mut seen = Vec::new();
    dirs.retain(|d| {
        d.is_dir() && !seen.contains(d) && {
            seen.push(d.clone());
            true
        }
    });
    dirs
}

/// The first of `dir/name` and `dir/name.gz` that is a file, over `dirs` in order.
fn find(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter()
        .flat_map(|d| [d.join(name), d.join(format!("{name}.gz"))])
        .find(|p| p.is_file())
}

/// The archive of a TarGz download: `from` itself when it is a file, else in `dirs`.
fn find_archive(from: &Path, dirs: &[PathBuf], download: &Download) -> Option<PathBuf> {
    if from.is_file() {
        return Some(from.to_path_buf());
    }
    dirs.iter().map(|d| d.join(&download.remote_name)).find(|p| p.is_file())
}

/// Says which file was not found where.
fn missing_message(name: &str, archive: Option<&str>, dirs: &[PathBuf]) -> String {
    let places: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let places = if places.is_empty() {
        "(no folder to search)".to_string()
    } else {
        places.join(", ")
    };
    match archive {
        Some(archive) => format!("found neither {name} (or {name}.gz) nor {archive} in {places}"),
        None => format!("found neither {name} nor {name}.gz in {places}"),
    }
}

/// A [`FetchError::Import`].
fn import_error(from: &Path, message: String) -> FetchError {
    FetchError::Import {
        dir: from.to_path_buf(),
        message,
    }
}

/// Imports one file unless it is present and verified already.
fn import_file(
    spec: &DatasetSpec,
    target: &Path,
    expected: &Expected,
    src: &Path,
    options: Options,
    report: &mut Report,
) -> Result<(), FetchError> {
    if !options.force {
        if let FileStatus::Verified(_) = file_status(spec, target, expected) {
            say!("  {}: already present, verified", expected.name);
            report.present.push(expected.name.clone());
            return Ok(());
        }
    }
    let label = src.display().to_string();
    let how = install_file(src, target, expected, &spec.foreign_sha256, &label)?;
    say!(
        "  {}: imported from {}, {}",
        expected.name,
        src.display(),
        how.describe()
    );
    report.installed.push(expected.name.clone());
    Ok(())
}

/// Imports a data set from its archive. An archive whose digest is not the official one is
/// refused unless `options.allow_unverified` (a repacked local copy); either way only the
/// data set's known files are installed, each validated.
#[allow(clippy::too_many_arguments)]
fn import_archive(
    spec: &DatasetSpec,
    data_dir: &Path,
    target: &Path,
    download: &Download,
    root: &str,
    files: &[Expected],
    archive: &Path,
    options: Options,
    report: &mut Report,
) -> Result<(), FetchError> {
    if !options.force
        && files
            .iter()
            .all(|e| matches!(file_status(spec, target, e), FileStatus::Verified(_)))
    {
        for e in files {
            say!("  {}: already present, verified", e.name);
            report.present.push(e.name.clone());
        }
        return Ok(());
    }
    let label = archive.display().to_string();
    if let Some(digest) = &download.archive_digest {
        match check_digest(archive, digest, &label) {
            Ok(()) => say!("  {label}: {} verified (the official archive)", digest.algorithm()),
            Err(FetchError::DigestMismatch { expected, actual, .. }) if options.allow_unverified => say!(
                "  warning: {label}: not the official archive ({} {actual}, expected {expected}); \
                 --allow-unverified: validating its files' structure instead",
                digest.algorithm()
            ),
            Err(FetchError::DigestMismatch { expected, actual, .. }) => {
                return Err(FetchError::Unverified {
                    file: label,
                    algorithm: digest.algorithm(),
                    expected,
                    actual,
                })
            }
            Err(e) => return Err(e),
        }
    }
    let verified = install_archive(archive, data_dir, spec, root, files, &label)?;
    for (e, how) in files.iter().zip(verified) {
        say!("  {}: imported from {label}, {}", e.name, how.describe());
        report.installed.push(e.name.clone());
    }
    Ok(())
}
