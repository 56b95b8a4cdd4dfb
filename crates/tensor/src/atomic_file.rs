//! Writing files so that a crash, a full disk or a kill never leaves a partial file: the one
//! recipe every neurite writer uses (models, checkpoints, metrics, plots, installed downloads).
//!
//! The bytes go to a hidden temporary file in the destination's own directory (so the rename
//! cannot cross file systems); the file is flushed to disk (`fsync`), renamed over the
//! destination, and then the directory is flushed too, so that the rename itself survives a
//! power cut. Readers see either the old file or the complete new one, never a mix. On any
//! error the temporary file is removed and the destination is untouched.
//!
//! `tempfile`'s `NamedTempFile::persist` is the rename step; it syncs neither the file nor the
//! directory, which is what this module adds.
//!
//! ```
//! use neurite_tensor::atomic_file;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("notes.txt");
//! atomic_file::write(&path, b"first").unwrap();
//! atomic_file::write(&path, b"second").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"second");
//! // Nothing but the file itself is left in the directory.
//! assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically (see the module documentation).
///
/// # Errors
/// Any I/O error of creating, writing, syncing or renaming; the destination is then
/// unchanged and no temporary file is left.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// Writes to `path` atomically what `fill` writes into the (buffered) writer it is given.
///
/// # Errors
/// As [`write()`], and any error `fill` returns.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let mut writer = BufWriter::new(tmp);
    fill(&mut writer)?;
    let tmp = writer.into_inner().map_err(io::IntoInnerError::into_error)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        // Temporary files are created private (0600); give the result the usual mode.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
    }
    // On failure the temporary file is removed when the error (which owns it) is dropped.
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Installs the finished file `tmp` at `dest` atomically: syncs `tmp`, renames it over
/// `dest` (both must be on one file system, best in one directory) and syncs `dest`'s
/// directory. For files written by other code (a decompressor, an archive extractor).
///
/// # Errors
/// Any I/O error of syncing or renaming; `tmp` is left where it was for the caller to remove.
pub fn install(tmp: &Path, dest: &Path) -> io::Result<()> {
    File::open(tmp)?.sync_all()?;
    std::fs::rename(tmp, dest)?;
    sync_dir(parent_dir(dest))
}

/// Flushes a directory's entries to disk, so a rename or a new file in it survives a crash.
/// Does nothing on systems where a directory cannot be opened as a file (Windows).
///
/// # Errors
/// The I/O error of opening or syncing the directory.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The directory a file lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_writer_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        write(&path, b"old").unwrap();
        let err = write_with(&path, |w| {
            w.write_all(b"half of the new")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.bin")]);
    }

    #[test]
    fn a_missing_directory_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("x.json");
        assert_eq!(write(&path, b"{}").unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(!dir.path().join("absent").exists());
    }

    #[test]
    fn install_moves_a_finished_file_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(".data.tmp");
        std::fs::write(&tmp, b"payload").unwrap();
        let dest = dir.path().join("data");
        install(&tmp, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"payload");
        assert!(!tmp.exists());
    }

    #[cfg(unix)]
    #[test]
    fn written_files_get_the_usual_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        write(&path, b"x").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
    }
}
