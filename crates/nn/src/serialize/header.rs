//! Reading a safetensors file without trusting it: the header is read and checked first
//! (length prefix, JSON, every tensor's data type, shape and byte range, with checked
//! arithmetic and a size bound), then tensors are read one at a time from their byte ranges
//! and checked to be finite. Nothing is allocated from a number in the file before that number
//! is checked against the file's length, and the file is never read whole.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::Dtype;

use super::{is_count_buffer, Metadata, Result, SerializeError};

/// Headers above this size are not safetensors files (the format's own limit).
const MAX_HEADER: u64 = 100_000_000;

/// The most values neurite reads into one tensor (2^31); the product of a tensor's non-zero
/// dimensions must not exceed it either, so even an empty tensor cannot declare an absurd shape.
pub const MAX_TENSOR_VALUES: u64 = 1 << 31;

/// Where the bytes of a file come from: an open file or a buffer in memory.
pub(super) trait Source {
    /// Total length in bytes.
    fn len(&self) -> u64;
    /// Fills `buf` with the bytes at `offset` (the caller has checked the range).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

/// An open file and its length, read with seeks (no mapping: a file truncated by another
/// process gives an I/O error, not a fault).
pub(super) struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    pub(super) fn open(path: &Path) -> Result<FileSource> {
        let io = |source| SerializeError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(SerializeError::NotSafetensors {
                path: path.to_path_buf(),
                reason: "not a regular file (a directory?)".into(),
            });
        }
        Ok(FileSource { file, len: meta.len() })
    }
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(buf)
    }
}

impl Source for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| std::io::ErrorKind::UnexpectedEof)?;
        let bytes = self
            .get(start..)
            .and_then(|rest| rest.get(..buf.len()))
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

/// One tensor of a safetensors header, checked against the file's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    /// The data type, as the file declares it.
    pub dtype: Dtype,
    /// The shape (its values fit [`MAX_TENSOR_VALUES`]).
    pub shape: Vec<usize>,
    /// Offset of the first byte of data in the file.
    start: u64,
    /// Bytes of data.
    len: u64,
}

impl TensorEntry {
    /// The number of values (the product of the shape).
    pub fn num_values(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The checked header of a safetensors file: its string metadata and its tensors by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// The `__metadata__` entries (empty when there are none).
    pub metadata: Metadata,
    /// Every tensor the file holds, by name.
    pub tensors: BTreeMap<String, TensorEntry>,
}

impl FileHeader {
    /// Names and shapes of the tensors, sorted by name.
    pub fn shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.tensors.iter().map(|(n, t)| (n.clone(), t.shape.clone())).collect()
    }
}

/// Reads and checks the header of `src`; `path` names it in errors.
pub(super) fn parse_header(path: &Path, src: &mut dyn Source) -> Result<FileHeader> {
    let file_len = src.len();
    let not_st = |reason: String| SerializeError::NotSafetensors {
        path: path.to_path_buf(),
        reason,
    };
    let io = |source| SerializeError::Io {
        path: path.to_path_buf(),
        source,
    };
    if file_len < 8 {
        return Err(not_st(format!(
            "{file_len} bytes, shorter than the 8-byte header length"
        )));
    }
    let mut prefix = [0u8; 8];
    src.read_at(0, &mut prefix).map_err(io)?;
    let n = u64::from_le_bytes(prefix);
    if !(2..=MAX_HEADER).contains(&n) {
        return Err(not_st(format!("implausible header length {n}")));
    }
    // n <= MAX_HEADER, so neither sum can overflow.
    if 8 + n > file_len {
        return Err(SerializeError::Truncated {
            path: path.to_path_buf(),
            expected: 8 + n,
            actual: file_len,
        });
    }
    let mut text = vec![0u8; n as usize];
    src.read_at(8, &mut text).map_err(io)?;
    let text = std::str::from_utf8(&text).map_err(|_| not_st("the header is not UTF-8".into()))?;
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| not_st(format!("the header is not JSON: {e}")))?;
    let serde_json::Value::Object(entries) = json else {
        return Err(not_st("the header is not a JSON object".into()));
    };
    let data_start = 8 + n;
    let data_len = file_len - data_start;
    let mut metadata = Metadata::new();
    let mut tensors = BTreeMap::new();
    let mut data_end = 0u64;
    for (key, value) in &entries {
        if key == "__metadata__" {
            let serde_json::Value::Object(meta) = value else {
                return Err(not_st("`__metadata__` is not a JSON object".into()));
            };
            for (k, v) in meta {
                let serde_json::Value::String(v) = v else {
                    return Err(not_st(format!("metadata value `{k}` is not a string")));
                };
                metadata.insert(k.clone(), v.clone());
            }
            continue;
        }
        let (entry, end) = parse_entry(path, key, value, data_start)?;
        data_end = data_end.max(end);
        tensors.insert(key.clone(), entry);
    }
    if data_end > data_len {
        return Err(SerializeError::Truncated {
            path: path.to_path_buf(),
            expected: data_start + data_end,
            actual: file_len,
        });
    }
    Ok(FileHeader { metadata, tensors })
}

/// Checks one tensor entry; returns it and the end of its byte range within the data.
fn parse_entry(path: &Path, name: &str, value: &serde_json::Value, data_start: u64) -> Result<(TensorEntry, u64)> {
    let invalid = |reason: String| SerializeError::Invalid {
        path: path.to_path_buf(),
        name: name.to_string(),
        reason,
    };
    let dtype_text = value
        .get("dtype")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| invalid("no string `dtype`".into()))?;
    let dtype: Dtype = serde_json::from_value(serde_json::Value::String(dtype_text.to_string()))
        .map_err(|_| invalid(format!("unknown data type `{dtype_text}`")))?;
    let shape: Vec<u64> = value
        .get("shape")
        .and_then(serde_json::Value::as_array)
        .and_then(|dims| dims.iter().map(serde_json::Value::as_u64).collect())
        .ok_or_else(|| invalid("no `shape` list of non-negative integers".into()))?;
    let offsets: Vec<u64> = value
        .get("data_offsets")
        .and_then(serde_json::Value::as_array)
        .and_then(|o| o.iter().map(serde_json::Value::as_u64).collect())
        .filter(|o: &Vec<u64>| o.len() == 2)
        .ok_or_else(|| invalid("no valid `data_offsets` pair".into()))?;
    let (begin, end) = (offsets[0], offsets[1]);
    // The product of the non-zero dims bounds the shape even for an empty tensor.
    let nonzero = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&v| v <= MAX_TENSOR_VALUES);
    if nonzero.is_none() {
        return Err(SerializeError::TooLarge {
            path: path.to_path_buf(),
            name: name.to_string(),
            shape,
            limit: MAX_TENSOR_VALUES,
        });
    }
    let values = if shape.contains(&0) { 0 } else { nonzero.unwrap_or(0) };
    let bits = values
        .checked_mul(dtype.bitsize() as u64)
        .ok_or_else(|| invalid("its byte size overflows".into()))?;
    if bits % 8 != 0 {
        return Err(invalid(format!("{values} values of {dtype:?} do not fill whole bytes")));
    }
    let bytes = bits / 8;
    if begin > end || end - begin != bytes {
        return Err(invalid(format!(
            "shape {shape:?} of {dtype:?} needs {bytes} bytes but `data_offsets` [{begin}, {end}] span {}",
            end.saturating_sub(begin)
        )));
    }
    let start = data_start
        .checked_add(begin)
        .ok_or_else(|| invalid(format!("offset {begin} overflows")))?;
    let shape = shape.into_iter().map(|d| d as usize).collect();
    Ok((
        TensorEntry {
            dtype,
            shape,
            start,
            len: bytes,
        },
        end,
    ))
}

/// Whether neurite can read `dtype` as f32 for a tensor called `name`.
pub(super) fn check_dtype(path: &Path, name: &str, dtype: Dtype) -> Result<()> {
    match dtype {
        Dtype::F32 | Dtype::F64 | Dtype::F16 | Dtype::BF16 => Ok(()),
        Dtype::I64 if is_count_buffer(name) => Ok(()),
        other => Err(SerializeError::UnsupportedDtype {
            path: path.to_path_buf(),
            name: name.to_string(),
            dtype: format!("{other:?}"),
        }),
    }
}

/// Reads one tensor's bytes from `src` in slices, converts them to f32 and refuses a NaN or
/// an infinity. The values are allocated fallibly, so a tensor too big for memory is an error.
pub(super) fn read_tensor(path: &Path, name: &str, entry: &TensorEntry, src: &mut dyn Source) -> Result<ArrayD<f32>> {
    check_dtype(path, name, entry.dtype)?;
    let count = entry.num_values();
    let mut values: Vec<f32> = Vec::new();
    values
        .try_reserve_exact(count)
        .map_err(|_| SerializeError::OutOfMemory {
            path: path.to_path_buf(),
            name: name.to_string(),
            bytes: count as u64 * 4,
        })?;
    let size = entry.dtype.bitsize() / 8;
    let decode: fn(&[u8]) -> f32 = match entry.dtype {
        Dtype::F32 => |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        Dtype::F64 => |b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
        Dtype::F16 => |b| super::f16_to_f32(u16::from_le_bytes([b[0], b[1]])),
        Dtype::BF16 => |b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16),
        _ => |b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
    };
    let mut buf = vec![0u8; entry.len.min((1 << 16) * size as u64) as usize];
    let mut offset = 0u64;
    while offset < entry.len {
        let chunk = (entry.len - offset).min(buf.len() as u64) as usize;
        src.read_at(entry.start + offset, &mut buf[..chunk])
            .map_err(|source| SerializeError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        for bytes in buf[..chunk].chunks_exact(size) {
            let v = decode(bytes);
            if !v.is_finite() {
                return Err(SerializeError::NonFinite {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    index: values.len(),
                    value: v,
                });
            }
            values.push(v);
        }
        offset += chunk as u64;
    }
    // The shape's product is `count` and was bounded when the header was read.
    ArrayD::from_shape_vec(IxDyn(&entry.shape), values).map_err(|e| SerializeError::Invalid {
        path: path.to_path_buf(),
        name: name.to_string(),
        reason: format!("shape {:?}: {e}", entry.shape),
    })
}
