//! Read-only bytes shared by every view of a loaded data set: a memory-mapped file, the
//! decompressed embedded sample, or an owned buffer. Cloning a [`SharedBytes`] clones an `Arc`,
//! never the bytes.
//!
//! [`map_file`] checks the path before mapping: a missing path, a directory or an empty file is
//! a typed error, and an empty file is never handed to `mmap` (which rejects zero lengths).
//! A mapped file must not change while it is loaded; if another process truncates it, the
//! next read of a lost page ends the program with a one-line error naming the file (see
//! `mmap_guard`) instead of a silent `SIGBUS`.

use std::fmt;
use std::fs::File;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use crate::catalog::DatasetKind;
use crate::error::{DatasetError, FormatError, Result};
use crate::mmap_guard::Registration;

/// A map and its registration with the fault handler (dropped first, before the unmap).
struct Mapped {
    _registration: Registration,
    map: Mmap,
}

enum Backing {
    Mapped(Mapped),
    Static(&'static [u8]),
    Owned(Vec<u8>),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => &m.map,
            Backing::Static(s) => s,
            Backing::Owned(v) => v,
        }
    }
}

/// Cheaply clonable, read-only bytes (a memory map, static bytes or an owned buffer).
///
/// Dereferences to `[u8]`.
#[derive(Clone)]
pub struct SharedBytes {
    backing: Arc<Backing>,
}

impl SharedBytes {
    /// Wraps an owned buffer.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        SharedBytes {
            backing: Arc::new(Backing::Owned(bytes)),
        }
    }

    /// Wraps bytes that live for the whole program (no copy).
    pub fn from_static(bytes: &'static [u8]) -> Self {
        SharedBytes {
            backing: Arc::new(Backing::Static(bytes)),
        }
    }

    /// Whether the bytes are a memory-mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(*self.backing, Backing::Mapped(_))
    }
}

impl Deref for SharedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.backing.bytes()
    }
}

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match *self.backing {
            Backing::Mapped(_) => "mapped",
            Backing::Static(_) => "static",
            Backing::Owned(_) => "owned",
        };
        write!(f, "SharedBytes({kind}, {} bytes)", self.len())
    }
}

/// Memory-maps `path` read-only after checking that it is a non-empty regular file.
///
/// `dataset` only feeds the fetch hint of a [`DatasetError::Missing`].
///
/// # Errors
/// [`DatasetError::Missing`], [`DatasetError::NotAFile`], [`DatasetError::Format`] with
/// [`FormatError::Empty`], or [`DatasetError::Io`].
pub fn map_file(path: &Path, dataset: Option<DatasetKind>) -> Result<SharedBytes> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DatasetError::Missing {
                path: path.to_path_buf(),
                dataset,
            })
        }
        Err(e) => return Err(io(e)),
    };
    if !meta.is_file() {
        return Err(DatasetError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        return Err(DatasetError::format(path, FormatError::Empty));
    }
    let file = File::open(path).map_err(io)?;
    // SAFETY: the map is read-only and private to this process. The data files are treated as
    // immutable inputs; if another process truncates one while it is mapped, a read faults and
    // `mmap_guard` ends the program with a message naming the file (the documented rule: data
    // files must not change while they are loaded). Every length used to index the map is
    // validated against the map's own length first.
    let map = unsafe { Mmap::map(&file) }.map_err(io)?;
    if map.is_empty() {
        // The file shrank to nothing between `metadata` and `map`.
        return Err(DatasetError::format(path, FormatError::Empty));
    }
    let registration = Registration::new(map.as_ptr(), map.len(), path);
    Ok(SharedBytes {
        backing: Arc::new(Backing::Mapped(Mapped {
            _registration: registration,
            map,
        })),
    })
}

/// Whether `path` is an existing regular file.
pub(crate) fn is_file(path: &Path) -> bool {
    path.metadata().map(|m| m.is_file()).unwrap_or(false)
}
