//! The packed cache of a decoded image folder: a small validated header, then the `u8` pixels
//! of every image (channel-major, train images first) and one label byte per image.
//!
//! Layout, all integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `NRTIMGC\0` |
//! | 4 | version (1) |
//! | 4 | header length `L` (bytes before the pixels) |
//! | 8 | fingerprint of the folder's files and of the decoding options |
//! | 8, 8 | `n_train`, `n_test` |
//! | 4, 4, 4 | `C`, `H`, `W` |
//! | 4 | number of classes (1 to 256) |
//! | ... | per class: name length (u16) and UTF-8 name |
//! | `n * C*H*W` | pixels, `n = n_train + n_test` |
//! | `n` | labels |
//!
//! [`parse_cache_header`] checks every field and that the file's length is exactly what the
//! header announces before anything sized by the header is allocated or read; the fuzz target
//! `folder_cache` runs it on arbitrary bytes.

use std::path::Path;

use crate::error::{DatasetError, FormatError, Result};
use crate::image_set::{Chunk, ImageSet};
use crate::mmap_file::{map_file, SharedBytes};

/// The first eight bytes of a cache file.
pub const CACHE_MAGIC: [u8; 8] = *b"NRTIMGC\0";
/// The cache format this code writes and reads.
pub const CACHE_VERSION: u32 = 1;
/// Bytes of the fixed part of the header (before the class names).
pub const FIXED_HEADER_LEN: usize = 8 + 4 + 4 + 8 + 8 + 8 + 4 + 4 + 4 + 4;
/// Most classes a cache holds (labels are one byte).
pub const MAX_CLASSES: usize = 256;
/// Largest image side a cache accepts.
pub const MAX_SIDE: usize = 1 << 14;

/// The validated header of a cache file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheHeader {
    /// Fingerprint of the files and options the cache was built from.
    pub fingerprint: u64,
    /// Training images (stored first).
    pub n_train: usize,
    /// Test images (stored after the training images).
    pub n_test: usize,
    /// `[C, H, W]` of every image.
    pub shape: [usize; 3],
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// Offset of the first pixel (the header's length).
    pub data_offset: usize,
}

impl CacheHeader {
    /// All images, train and test.
    pub fn len(&self) -> usize {
        self.n_train + self.n_test
    }

    /// Whether the cache holds no image (never true for a valid header).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Offset of the first label byte.
    pub fn labels_offset(&self) -> usize {
        self.data_offset + self.len() * self.image_len()
    }
}

/// A little-endian reader over the header bytes that reports where they ran out.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    needed: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], FormatError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(FormatError::HeaderTruncated {
                len: self.bytes.len(),
                needed: self.needed.max(self.pos.saturating_add(n)),
            });
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}

fn bad(field: &'static str, value: u64, expected: &'static str) -> FormatError {
    FormatError::BadField { field, value, expected }
}

/// Parses and validates a cache header against the whole file's bytes.
///
/// Checks, in this order and before any allocation sized by a field: the magic, the version,
/// the header length, each count and dimension against its limit, that the file holds exactly
/// header + pixels + labels bytes (no more, no less), then the class names (inside the
/// announced header, valid UTF-8, non-empty, one per class). Labels are checked against the
/// class count when the image set is built.
///
/// # Errors
/// A [`FormatError`] saying which field is wrong.
pub fn parse_cache_header(bytes: &[u8]) -> Result<CacheHeader, FormatError> {
    if bytes.is_empty() {
        return Err(FormatError::Empty);
    }
    let mut r = Reader {
        bytes,
        pos: 0,
        needed: FIXED_HEADER_LEN,
    };
    let magic = r.take(8)?;
    if magic != CACHE_MAGIC {
        return Err(FormatError::BadCacheMagic {
            magic: magic.try_into().expect("8 bytes"),
        });
    }
    let version = r.u32()?;
    if version != CACHE_VERSION {
        return Err(bad("version", version.into(), "1"));
    }
    let header_len = r.u32()? as usize;
    let fingerprint = r.u64()?;
    let (n_train, n_test) = (r.u64()?, r.u64()?);
    let (c, h, w) = (r.u32()? as usize, r.u32()? as usize, r.u32()? as usize);
    let classes = r.u32()? as usize;
    if header_len < FIXED_HEADER_LEN || header_len > FIXED_HEADER_LEN + MAX_CLASSES * (2 + u16::MAX as usize) {
        return Err(bad(
            "header length",
            header_len as u64,
            "the fixed header plus the class names",
        ));
    }
    if n_train == 0 {
        return Err(bad("n_train", n_train, "at least 1"));
    }
    if n_test == 0 {
        return Err(bad("n_test", n_test, "at least 1"));
    }
    if c != 1 && c != 3 {
        return Err(bad("channels", c as u64, "1 or 3"));
    }
    if h == 0 || h > MAX_SIDE {
        return Err(bad("height", h as u64, "1 to 16384"));
    }
    if w == 0 || w > MAX_SIDE {
        return Err(bad("width", w as u64, "1 to 16384"));
    }
    if classes == 0 || classes > MAX_CLASSES {
        return Err(bad("classes", classes as u64, "1 to 256"));
    }
    let image_len = c * h * w; // at most 3 * 2^28: no overflow
    let total = n_train
        .checked_add(n_test)
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| n.checked_mul(image_len + 1).map(|data| (n, data)))
        .and_then(|(n, data)| data.checked_add(header_len).map(|t| (n, t)));
    let Some((_, expected_len)) = total else {
        return Err(FormatError::DimsOverflow {
            dims: vec![n_train as usize, n_test as usize, c, h, w],
        });
    };
    if bytes.len() < expected_len {
        return Err(FormatError::Truncated {
            expected: expected_len - header_len,
            actual: bytes.len().saturating_sub(header_len),
        });
    }
    if bytes.len() > expected_len {
        return Err(FormatError::TrailingBytes {
            expected: expected_len - header_len,
            extra: bytes.len() - expected_len,
        });
    }
    // The names lie inside the header, which lies inside the (now length-checked) file.
    let mut names = Reader {
        bytes: &bytes[..header_len],
        pos: FIXED_HEADER_LEN,
        needed: header_len,
    };
    let mut class_names = Vec::with_capacity(classes);
    for _ in 0..classes {
        let len = names.u16()? as usize;
        let raw = names.take(len)?;
        let name = std::str::from_utf8(raw).map_err(|_| bad("class name", len as u64, "UTF-8 text"))?;
        if name.is_empty() {
            return Err(bad("class name length", 0, "at least 1"));
        }
        class_names.push(name.to_string());
    }
    if names.pos != header_len {
        return Err(bad(
            "header length",
            header_len as u64,
            "exactly the fixed header plus the class names",
        ));
    }
    Ok(CacheHeader {
        fingerprint,
        n_train: n_train as usize,
        n_test: n_test as usize,
        shape: [c, h, w],
        class_names,
        data_offset: header_len,
    })
}

/// Encodes the header for `n_train` + `n_test` images of `shape` and these classes.
///
/// # Panics
/// When a class name is longer than 65,535 bytes or there are more than 256 classes
/// (the folder reader refuses both first).
pub fn encode_cache_header(
    fingerprint: u64,
    n_train: usize,
    n_test: usize,
    [c, h, w]: [usize; 3],
    class_names: &[String],
) -> Vec<u8> {
    assert!(class_names.len() <= MAX_CLASSES, "at most {MAX_CLASSES} classes");
    let names_len: usize = class_names.iter().map(|n| 2 + n.len()).sum();
    let header_len = FIXED_HEADER_LEN + names_len;
    let mut out = Vec::with_capacity(header_len);
    out.extend_from_slice(&CACHE_MAGIC);
    out.extend_from_slice(&CACHE_VERSION.to_le_bytes());
    out.extend_from_slice(&(header_len as u32).to_le_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&(n_train as u64).to_le_bytes());
    out.extend_from_slice(&(n_test as u64).to_le_bytes());
    for d in [c, h, w, class_names.len()] {
        out.extend_from_slice(&(d as u32).to_le_bytes());
    }
    for name in class_names {
        let len = u16::try_from(name.len()).expect("class name of at most 65,535 bytes");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
    }
    out
}

/// The train and test image sets of a validated cache.
///
/// # Errors
/// [`DatasetError::LabelOutOfRange`] for a label not below the class count.
pub fn image_sets(bytes: SharedBytes, header: &CacheHeader, path: &Path, name: &str) -> Result<(ImageSet, ImageSet)> {
    let image_len = header.image_len();
    let chunk = |first: usize, count: usize| Chunk {
        pixels: bytes.clone(),
        pixel_offset: header.data_offset + first * image_len,
        pixel_stride: image_len,
        labels: bytes.clone(),
        label_offset: header.labels_offset() + first,
        label_stride: 1,
        count,
        label_path: path.to_path_buf(),
    };
    let make = |part: &str, first: usize, count: usize| {
        ImageSet::from_chunks(
            format!("{name} {part}"),
            vec![chunk(first, count)],
            header.shape,
            header.class_names.clone(),
        )
    };
    Ok((
        make("train", 0, header.n_train)?,
        make("test", header.n_train, header.n_test)?,
    ))
}

/// Maps a cache file and validates its header (the file is named in every error).
///
/// # Errors
/// [`DatasetError::Missing`], [`DatasetError::Io`] or [`DatasetError::Format`].
pub fn open_cache(path: &Path) -> Result<(SharedBytes, CacheHeader)> {
    let bytes = map_file(path, None)?;
    let header = parse_cache_header(&bytes).map_err(|e| DatasetError::format(path, e))?;
    Ok((bytes, header))
}

/// Writes `parts` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// then renamed over `path` (and the folder synced), so a reader sees the old file or the
/// whole new one, never a partial file.
// The workspace's one atomic-write recipe (`neurite_tensor::atomic_file`).
pub(crate) fn write_atomically(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    neurite_tensor::atomic_file::write_with(path, |file| {
        for part in parts {
            file.write_all(part)?;
        }
        Ok(())
    })
}
