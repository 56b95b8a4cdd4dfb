//! Unpacking: `.gz` to the raw file, and `.tar.gz` archives into a folder, refusing any entry
//! that would land outside it (absolute paths, `..`) and any link.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::error::{FetchError, IoContext};

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `path` starts like a gzip stream (decided by content, not by name).
pub fn is_gzip(path: &Path) -> Result<bool, FetchError> {
    let mut magic = [0u8; 2];
    let mut file = File::open(path).at(path)?;
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(magic == GZIP_MAGIC),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(FetchError::io(path, e)),
    }
}

/// Opens `path` for reading, through a gzip decoder when it is gzip-compressed.
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read>, FetchError> {
    let gz = is_gzip(path)?;
    let file = BufReader::new(File::open(path).at(path)?);
    Ok(if gz {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// Writes the content of `src` (decompressed when it is gzip, copied when raw) to a new file
/// `dst`, at most `max` bytes. A corrupt gzip stream, or one that decompresses to more than
/// `max` bytes (a gzip bomb), is a [`FetchError::Malformed`] naming `label`.
pub fn decompress_to(src: &Path, dst: &Path, label: &str, max: u64) -> Result<(), FetchError> {
    let mut reader = open_maybe_gz(src)?;
    let mut out = io::BufWriter::new(File::create(dst).at(dst)?);
    let mut buf = vec![0u8; 1 << 16];
    let mut written = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(FetchError::Malformed {
                    file: label.to_string(),
                    reason: format!("cannot decompress: {e}"),
                })
            }
        };
        written += n as u64;
        if written > max {
            return Err(FetchError::Malformed {
                file: label.to_string(),
                reason: format!("decompresses to more than the {max} bytes the file should have"),
            });
        }
        out.write_all(&buf[..n]).at(dst)?;
    }
    out.flush().at(dst)?;
    out.get_ref().sync_all().at(dst)
}

/// The path of an archive entry made safe to join to the target folder, or why it is refused.
pub fn safe_relative(entry: &Path) -> Result<PathBuf, &'static str> {
    let mut out = PathBuf::new();
    for component in entry.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("`..` would leave the target folder"),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path"),
        }
    }
    Ok(out)
}

/// Extracts a tar archive (gzip-compressed or not) into `dest`, which must exist.
///
/// `wanted` says, for each entry's (safe, relative) path, the most bytes it may hold, or
/// `None` to skip it: only wanted plain files (and folders) are written, and an entry larger
/// than its bound is refused before a byte of it is written. An absolute path, a `..`
/// component or a link anywhere in the archive aborts the extraction with
/// [`FetchError::UnsafeArchive`] (the caller removes `dest`, a scratch folder). `label` names
/// the archive in errors.
pub fn extract_tar(
    archive: &Path,
    dest: &Path,
    label: &str,
    wanted: &dyn Fn(&Path) -> Option<u64>,
) -> Result<(), FetchError> {
    extract_tar_from(open_maybe_gz(archive)?, dest, label, wanted)
}

/// Unpacks the wanted files of a (decompressed) tar stream from `reader` into `dest`, as
/// `extract_tar` does for an archive file (the fuzz target feeds it bytes directly).
pub fn extract_tar_from(
    reader: impl Read,
    dest: &Path,
    label: &str,
    wanted: &dyn Fn(&Path) -> Option<u64>,
) -> Result<(), FetchError> {
    let mut tar = tar::Archive::new(reader);
    let corrupt = |e: io::Error| FetchError::Malformed {
        file: label.to_string(),
        reason: format!("cannot read the archive: {e}"),
    };
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let raw_path = entry.path().map_err(corrupt)?.into_owned();
        let refuse = |reason| FetchError::UnsafeArchive {
            archive: label.to_string(),
            entry: raw_path.display().to_string(),
            reason,
        };
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let rel = safe_relative(&raw_path).map_err(refuse)?;
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(refuse("links are not extracted"));
        }
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(&rel);
        if kind.is_dir() {
            continue;
        } else if kind.is_file() || kind.is_contiguous() {
            let Some(max) = wanted(&rel) else {
                continue;
            };
            let size = entry.size();
            if size > max {
                return Err(FetchError::Malformed {
                    file: label.to_string(),
                    reason: format!(
                        "{} holds {size} bytes, more than the {max} it should have",
                        raw_path.display()
                    ),
                });
            }
            if let Some(reason) = name_clash(dest, &rel) {
                return Err(refuse(reason));
            }
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).at(parent)?;
            }
            let mut out = File::create(&target).at(&target)?;
            io::copy(&mut (&mut entry).take(max), &mut out).map_err(corrupt)?;
        } else {
            return Err(refuse("not a plain file or folder"));
        }
    }
    Ok(())
}

/// Why the file `rel` cannot be written under `dest` when an earlier entry of the archive made
/// a folder of the same name, or a file where `rel` needs a folder; `None` when it can.
fn name_clash(dest: &Path, rel: &Path) -> Option<&'static str> {
    if fs::symlink_metadata(dest.join(rel)).is_ok_and(|m| m.is_dir()) {
        return Some("a file with the name of a folder the archive also holds");
    }
    let mut folder = dest.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        folder.push(part);
        if fs::symlink_metadata(&folder).is_ok_and(|m| !m.is_dir()) {
            return Some("its folder is also a file in the archive");
        }
    }
    None
}
