//! Installing verified files into a data set's folder: decompress or extract into a scratch
//! path beside the target, verify, then rename atomically. Shared by downloads and imports.

use std::fs;
use std::path::Path;

use super::error::{FetchError, IoContext};
use super::scratch::{remove_path, temp_path, Scratch};
use super::sources::{DatasetSpec, Expected};
use super::unpack::{decompress_to, extract_tar};
use super::verify::{verify_content, Verified};

/// Writes the content of `src` (gzip or raw) to `target/<expected.name>` if it verifies.
/// Nothing is left behind when it does not.
pub fn install_file(
    src: &Path,
    target: &Path,
    expected: &Expected,
    foreign: &[String],
    label: &str,
) -> Result<Verified, FetchError> {
    let tmp = Scratch::new(temp_path(target, &expected.name, "tmp"));
    decompress_to(src, tmp.path(), label, expected.layout.max_size())?;
    let verified = verify_content(tmp.path(), expected, foreign, label)?;
    tmp.persist(&target.join(&expected.name))?;
    Ok(verified)
}

/// Extracts the files of `files` under `root/` of a tar archive (gzip or not; nothing else,
/// and none beyond its expected size) into a scratch folder inside `data_dir`, verifies every
/// one, then moves them into `data_dir/<spec.subdir>`, replacing what is there only now.
/// Returns how each expected file was verified.
pub fn install_archive(
    archive: &Path,
    data_dir: &Path,
    spec: &DatasetSpec,
    root: &str,
    files: &[Expected],
    label: &str,
) -> Result<Vec<Verified>, FetchError> {
    let staging = Scratch::new(temp_path(data_dir, &spec.subdir, "staging"));
    remove_path(staging.path());
    fs::create_dir_all(staging.path()).at(staging.path())?;
    let wanted = |rel: &Path| {
        let name = rel.strip_prefix(root).ok()?.to_str()?;
        files.iter().find(|e| e.name == name).map(|e| e.layout.max_size())
    };
    extract_tar(archive, staging.path(), label, &wanted)?;
    let extracted = staging.path().join(root);
    let mut verified = Vec::with_capacity(files.len());
    for expected in files {
        let path = extracted.join(&expected.name);
        if !path.is_file() {
            return Err(FetchError::MissingInArchive {
                archive: label.to_string(),
                entry: format!("{root}/{}", expected.name),
            });
        }
        let file_label = format!("{label}: {root}/{}", expected.name);
        verified.push(verify_content(&path, expected, &spec.foreign_sha256, &file_label)?);
    }
    let target = data_dir.join(&spec.subdir);
    fs::create_dir_all(&target).at(&target)?;
    for expected in files {
        let dest = target.join(&expected.name);
        neurite_tensor::atomic_file::install(&extracted.join(&expected.name), &dest).at(&dest)?;
    }
    Ok(verified)
}
