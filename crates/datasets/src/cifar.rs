//! The CIFAR binary format shared by CIFAR-10 and CIFAR-100: fixed-size records of label
//! byte(s) followed by 3,072 pixel bytes (1,024 R, 1,024 G, 1,024 B, rows in order).
//!
//! [`parse_cifar`] validates bytes without reading a pixel; the loaders map each file and
//! index across them without copying. Nothing here relies on the order of the records.

use std::path::{Path, PathBuf};

use crate::catalog::DatasetKind;
use crate::error::{DatasetError, FormatError, Result};
use crate::image_set::{Chunk, ImageSet};
use crate::mmap_file::{map_file, SharedBytes};

/// `[C, H, W]` of a CIFAR image.
pub const CIFAR_IMAGE_SHAPE: [usize; 3] = [3, 32, 32];
/// Pixel bytes per CIFAR image (`3 * 32 * 32`).
pub const CIFAR_IMAGE_LEN: usize = 3 * 32 * 32;

/// The record layout of a CIFAR binary file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CifarFormat {
    /// Label bytes before the pixels of each record.
    pub label_bytes: usize,
}

impl CifarFormat {
    /// CIFAR-10: one label byte (3,073-byte records).
    pub const CIFAR10: CifarFormat = CifarFormat { label_bytes: 1 };
    /// CIFAR-100: a coarse then a fine label byte (3,074-byte records).
    pub const CIFAR100: CifarFormat = CifarFormat { label_bytes: 2 };

    /// Bytes per record.
    pub fn record_len(self) -> usize {
        self.label_bytes + CIFAR_IMAGE_LEN
    }
}

/// Validates CIFAR bytes and returns the number of records.
///
/// # Errors
/// [`FormatError::Empty`] or [`FormatError::RecordSize`] (size not a multiple of the record).
pub fn parse_cifar(bytes: &[u8], format: CifarFormat) -> Result<usize, FormatError> {
    let record = format.record_len();
    if bytes.is_empty() {
        return Err(FormatError::Empty);
    }
    let rest = bytes.len() % record;
    if rest != 0 {
        return Err(FormatError::RecordSize {
            len: bytes.len(),
            record,
        });
    }
    Ok(bytes.len() / record)
}

/// One record, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CifarRecord<'a> {
    /// The label byte(s): `[label]` for CIFAR-10, `[coarse, fine]` for CIFAR-100.
    pub labels: &'a [u8],
    /// The 3,072 pixel bytes, channel-major.
    pub pixels: &'a [u8],
}

/// Validates CIFAR bytes and splits them into records (zero-copy).
///
/// # Errors
/// As [`parse_cifar`].
pub fn cifar_records(bytes: &[u8], format: CifarFormat) -> Result<Vec<CifarRecord<'_>>, FormatError> {
    parse_cifar(bytes, format)?;
    Ok(bytes
        .chunks_exact(format.record_len())
        .map(|r| CifarRecord {
            labels: &r[..format.label_bytes],
            pixels: &r[format.label_bytes..],
        })
        .collect())
}

/// Encodes records as CIFAR bytes: `labels` holds `label_bytes` per record, `pixels` 3,072.
///
/// # Errors
/// [`FormatError::ValueCount`] when the two disagree, [`FormatError::Empty`] for no record.
pub fn encode_cifar(format: CifarFormat, labels: &[u8], pixels: &[u8]) -> Result<Vec<u8>, FormatError> {
    let count = pixels.len() / CIFAR_IMAGE_LEN;
    let rest = pixels.len() % CIFAR_IMAGE_LEN;
    if rest != 0 || labels.len() != count * format.label_bytes {
        return Err(FormatError::ValueCount {
            dims: vec![labels.len() / format.label_bytes.max(1), CIFAR_IMAGE_LEN],
            values: pixels.len(),
        });
    }
    if count == 0 {
        return Err(FormatError::Empty);
    }
    let mut out = Vec::with_capacity(count * format.record_len());
    for (l, p) in labels
        .chunks_exact(format.label_bytes)
        .zip(pixels.chunks_exact(CIFAR_IMAGE_LEN))
    {
        out.extend_from_slice(l);
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// Writes records as a CIFAR binary file (see [`encode_cifar`]).
///
/// # Errors
/// [`DatasetError::Format`] for inconsistent input, [`DatasetError::Io`] when writing fails.
pub fn write_cifar(path: impl AsRef<Path>, format: CifarFormat, labels: &[u8], pixels: &[u8]) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_cifar(format, labels, pixels).map_err(|p| DatasetError::format(path, p))?;
    std::fs::write(path, bytes).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// An opened, validated CIFAR binary file (memory-mapped).
#[derive(Debug, Clone)]
pub struct CifarFile {
    bytes: SharedBytes,
    format: CifarFormat,
    count: usize,
    path: PathBuf,
}

impl CifarFile {
    /// Maps and validates the CIFAR file at `path`, checking every label byte `i` against
    /// `label_classes[i]` (e.g. `[10]` for CIFAR-10, `[20, 100]` for CIFAR-100).
    ///
    /// # Errors
    /// [`DatasetError`] for a missing, empty or malformed file or a label out of range.
    pub fn open(path: impl AsRef<Path>, format: CifarFormat, label_classes: &[usize]) -> Result<CifarFile> {
        Self::open_for(path.as_ref(), format, label_classes, None)
    }

    pub(crate) fn open_for(
        path: &Path,
        format: CifarFormat,
        label_classes: &[usize],
        dataset: Option<DatasetKind>,
    ) -> Result<CifarFile> {
        let bytes = map_file(path, dataset)?;
        Self::from_bytes(bytes, format, label_classes, path)
    }

    /// Validates CIFAR bytes already in memory; `name` is used in messages.
    ///
    /// # Errors
    /// As [`CifarFile::open`].
    pub fn from_bytes(
        bytes: SharedBytes,
        format: CifarFormat,
        label_classes: &[usize],
        name: impl Into<PathBuf>,
    ) -> Result<CifarFile> {
        let path = name.into();
        let count = parse_cifar(&bytes, format).map_err(|p| DatasetError::format(&path, p))?;
        let record = format.record_len();
        for (byte, &classes) in label_classes.iter().enumerate().take(format.label_bytes) {
            for index in 0..count {
                let label = usize::from(bytes[index * record + byte]);
                if label >= classes {
                    return Err(DatasetError::LabelOutOfRange {
                        path,
                        index,
                        label,
                        classes,
                    });
                }
            }
        }
        Ok(CifarFile {
            bytes,
            format,
            count,
            path,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always false: a valid file holds at least one record.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The path this file was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record `i`, zero-copy.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn record(&self, i: usize) -> CifarRecord<'_> {
        assert!(i < self.count, "record {i} out of range for {} records", self.count);
        let r = self.format.record_len();
        let rec = &self.bytes[i * r..(i + 1) * r];
        CifarRecord {
            labels: &rec[..self.format.label_bytes],
            pixels: &rec[self.format.label_bytes..],
        }
    }

    pub(crate) fn chunk(&self, label_index: usize) -> Chunk {
        let record = self.format.record_len();
        Chunk {
            pixels: self.bytes.clone(),
            pixel_offset: self.format.label_bytes,
            pixel_stride: record,
            labels: self.bytes.clone(),
            label_offset: label_index,
            label_stride: record,
            count: self.count,
            label_path: self.path.clone(),
        }
    }
}

/// Builds one image set over several CIFAR files (zero-copy, indexed across them), labelled by
/// label byte `label_index`.
///
/// # Errors
/// [`DatasetError::Format`] with [`FormatError::Empty`] for an empty list.
pub fn image_set_from_files(
    name: &str,
    files: &[CifarFile],
    label_index: usize,
    class_names: Vec<String>,
) -> Result<ImageSet> {
    if files.is_empty() {
        return Err(DatasetError::format(name, FormatError::Empty));
    }
    let chunks = files.iter().map(|f| f.chunk(label_index)).collect();
    ImageSet::from_chunks(name, chunks, CIFAR_IMAGE_SHAPE, class_names)
}

/// Reads a class-name file (one name per line, blank lines ignored); the built-in `defaults`
/// when the file does not exist.
///
/// # Errors
/// [`DatasetError::ClassNames`] for the wrong number of names, [`DatasetError::NotAFile`],
/// [`DatasetError::Io`].
pub fn read_class_names(path: &Path, defaults: &[&str]) -> Result<Vec<String>> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(defaults.iter().map(|s| s.to_string()).collect())
        }
        Ok(meta) if !meta.is_file() => {
            return Err(DatasetError::NotAFile {
                path: path.to_path_buf(),
            })
        }
        _ => {}
    }
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.len() != defaults.len() {
        return Err(DatasetError::ClassNames {
            path: path.to_path_buf(),
            expected: defaults.len(),
            found: names.len(),
        });
    }
    Ok(names)
}
