//! The IDX file format (MNIST's): reader, validator and writer.
//!
//! An IDX file is a 4-byte magic — two zero bytes, a type code, the number of dimensions —
//! then one big-endian `u32` per dimension, then the elements in row-major order, big-endian.
//! Type codes: `0x08` u8, `0x09` i8, `0x0B` i16, `0x0C` i32, `0x0D` f32, `0x0E` f64.
//!
//! [`parse_idx`] validates a header against the total byte length without reading any data
//! byte; [`IdxFile`] holds the (memory-mapped) bytes and hands out zero-copy views.
//!
//! ```
//! use neurite_datasets::idx::{encode_idx, IdxData, IdxFile, IdxType};
//! use neurite_datasets::SharedBytes;
//!
//! let bytes = encode_idx(&[2, 3], IdxData::U8(&[1, 2, 3, 4, 5, 6])).unwrap();
//! let file = IdxFile::from_bytes(SharedBytes::from_vec(bytes), "example.idx").unwrap();
//! assert_eq!(file.dtype(), IdxType::U8);
//! assert_eq!(file.dims(), &[2, 3]);
//! assert_eq!(file.view_u8().unwrap()[[1, 2]], 6);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::{ArrayViewD, IxDyn};

use crate::catalog::DatasetKind;
use crate::error::{DatasetError, FormatError, Result};
use crate::mmap_file::{map_file, SharedBytes};

/// The element type of an IDX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdxType {
    /// Unsigned byte (`0x08`).
    U8,
    /// Signed byte (`0x09`).
    I8,
    /// Big-endian 16-bit integer (`0x0B`).
    I16,
    /// Big-endian 32-bit integer (`0x0C`).
    I32,
    /// Big-endian 32-bit float (`0x0D`).
    F32,
    /// Big-endian 64-bit float (`0x0E`).
    F64,
}

impl IdxType {
    /// Every IDX element type.
    pub const ALL: [IdxType; 6] = [
        IdxType::U8,
        IdxType::I8,
        IdxType::I16,
        IdxType::I32,
        IdxType::F32,
        IdxType::F64,
    ];

    /// The type code (third magic byte).
    pub fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// The type for a type code, if it is a valid one.
    pub fn from_code(code: u8) -> Option<IdxType> {
        IdxType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }

    /// The Rust name of the type (`u8`, `i16`, ...).
    pub fn name(self) -> &'static str {
        match self {
            IdxType::U8 => "u8",
            IdxType::I8 => "i8",
            IdxType::I16 => "i16",
            IdxType::I32 => "i32",
            IdxType::F32 => "f32",
            IdxType::F64 => "f64",
        }
    }
}

impl fmt::Display for IdxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated IDX header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxHeader {
    /// Element type.
    pub dtype: IdxType,
    /// Dimensions, outermost first (all non-zero).
    pub dims: Vec<usize>,
    /// Byte offset of the first element (`4 + 4 * rank`).
    pub data_offset: usize,
}

impl IdxHeader {
    /// Number of elements (product of the dims).
    pub fn num_elements(&self) -> usize {
        self.dims.iter().product()
    }

    /// Number of data bytes.
    pub fn data_len(&self) -> usize {
        self.num_elements() * self.dtype.size()
    }
}

/// Parses and validates an IDX header against the full length of `bytes`.
///
/// Reads only the header; checks the magic, type code, rank, that no dim is zero, that the
/// byte size does not overflow and that it matches the data that follows exactly.
///
/// # Errors
/// A [`FormatError`] naming the problem.
pub fn parse_idx(bytes: &[u8]) -> Result<IdxHeader, FormatError> {
    if bytes.is_empty() {
        return Err(FormatError::Empty);
    }
    if bytes.len() < 4 {
        return Err(FormatError::HeaderTruncated {
            len: bytes.len(),
            needed: 4,
        });
    }
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if magic[0] != 0 || magic[1] != 0 {
        return Err(FormatError::BadMagic { magic });
    }
    let dtype = IdxType::from_code(magic[2]).ok_or(FormatError::BadTypeCode { code: magic[2] })?;
    let rank = usize::from(magic[3]);
    if rank == 0 {
        return Err(FormatError::ZeroRank);
    }
    let data_offset = 4 + 4 * rank;
    if bytes.len() < data_offset {
        return Err(FormatError::HeaderTruncated {
            len: bytes.len(),
            needed: data_offset,
        });
    }
    let dims: Vec<usize> = bytes[4..data_offset]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if let Some(axis) = dims.iter().position(|&d| d == 0) {
        return Err(FormatError::ZeroDim { axis, dims });
    }
    let expected = dims
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| FormatError::DimsOverflow { dims: dims.clone() })?;
    let actual = bytes.len() - data_offset;
    if actual < expected {
        return Err(FormatError::Truncated { expected, actual });
    }
    if actual > expected {
        return Err(FormatError::TrailingBytes {
            expected,
            extra: actual - expected,
        });
    }
    Ok(IdxHeader {
        dtype,
        dims,
        data_offset,
    })
}

/// An opened, validated IDX file. Holds the bytes (usually a memory map) and hands out
/// zero-copy views; cloning is cheap.
#[derive(Debug, Clone)]
pub struct IdxFile {
    bytes: SharedBytes,
    header: IdxHeader,
    path: PathBuf,
}

impl IdxFile {
    /// Memory-maps and validates the IDX file at `path`.
    ///
    /// # Errors
    /// [`DatasetError`] for a missing, empty or malformed file.
    pub fn open(path: impl AsRef<Path>) -> Result<IdxFile> {
        Self::open_for(path.as_ref(), None)
    }

    pub(crate) fn open_for(path: &Path, dataset: Option<DatasetKind>) -> Result<IdxFile> {
        let bytes = map_file(path, dataset)?;
        Self::from_bytes(bytes, path)
    }

    /// Validates IDX bytes already in memory; `name` is used in error messages.
    ///
    /// # Errors
    /// [`DatasetError::Format`] for malformed bytes.
    pub fn from_bytes(bytes: SharedBytes, name: impl Into<PathBuf>) -> Result<IdxFile> {
        let path = name.into();
        let header = parse_idx(&bytes).map_err(|p| DatasetError::format(&path, p))?;
        Ok(IdxFile { bytes, header, path })
    }

    /// The validated header.
    pub fn header(&self) -> &IdxHeader {
        &self.header
    }

    /// Element type.
    pub fn dtype(&self) -> IdxType {
        self.header.dtype
    }

    /// Dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.header.dims
    }

    /// Number of items (the first dimension).
    pub fn len(&self) -> usize {
        self.header.dims[0]
    }

    /// Always false: a valid IDX file has no zero dimension.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The path (or name) this file was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw element bytes (big-endian), without the header. Zero-copy.
    pub fn data(&self) -> &[u8] {
        &self.bytes[self.header.data_offset..]
    }

    /// The shared bytes of the whole file, header included.
    pub fn bytes(&self) -> &SharedBytes {
        &self.bytes
    }

    /// Checks the element type and rank, for loaders that need a particular layout.
    ///
    /// # Errors
    /// [`FormatError::WrongType`] or [`FormatError::WrongRank`] wrapped with the path.
    pub fn expect(&self, dtype: IdxType, rank: usize) -> Result<()> {
        if self.dtype() != dtype {
            return Err(DatasetError::format(
                &self.path,
                FormatError::WrongType {
                    expected: dtype.name(),
                    found: self.dtype().name(),
                },
            ));
        }
        if self.dims().len() != rank {
            return Err(DatasetError::format(
                &self.path,
                FormatError::WrongRank {
                    expected: rank,
                    found: self.dims().len(),
                    dims: self.dims().to_vec(),
                },
            ));
        }
        Ok(())
    }

    /// A zero-copy n-d view of a `u8` file.
    ///
    /// # Errors
    /// [`FormatError::WrongType`] when the file is not `u8`.
    pub fn view_u8(&self) -> Result<ArrayViewD<'_, u8>> {
        self.expect(IdxType::U8, self.dims().len())?;
        Ok(ArrayViewD::from_shape(IxDyn(self.dims()), self.data())
            .expect("parse_idx checked that the data length is the product of the dims"))
    }

    /// Decodes every element (a copy; use [`IdxFile::data`] or [`IdxFile::view_u8`] to avoid it).
    pub fn to_values(&self) -> IdxValues {
        decode(self.dtype(), self.data())
    }
}

/// Decoded IDX elements, owned.
#[derive(Debug, Clone, PartialEq)]
pub enum IdxValues {
    /// `u8` elements.
    U8(Vec<u8>),
    /// `i8` elements.
    I8(Vec<i8>),
    /// `i16` elements.
    I16(Vec<i16>),
    /// `i32` elements.
    I32(Vec<i32>),
    /// `f32` elements.
    F32(Vec<f32>),
    /// `f64` elements.
    F64(Vec<f64>),
}

impl IdxValues {
    /// The element type.
    pub fn dtype(&self) -> IdxType {
        self.as_data().dtype()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.as_data().len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Borrows the elements for [`write_idx`] or [`encode_idx`].
    pub fn as_data(&self) -> IdxData<'_> {
        match self {
            IdxValues::U8(v) => IdxData::U8(v),
            IdxValues::I8(v) => IdxData::I8(v),
            IdxValues::I16(v) => IdxData::I16(v),
            IdxValues::I32(v) => IdxData::I32(v),
            IdxValues::F32(v) => IdxData::F32(v),
            IdxValues::F64(v) => IdxData::F64(v),
        }
    }
}

/// Borrowed elements to write as IDX.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IdxData<'a> {
    /// `u8` elements.
    U8(&'a [u8]),
    /// `i8` elements.
    I8(&'a [i8]),
    /// `i16` elements.
    I16(&'a [i16]),
    /// `i32` elements.
    I32(&'a [i32]),
    /// `f32` elements.
    F32(&'a [f32]),
    /// `f64` elements.
    F64(&'a [f64]),
}

impl IdxData<'_> {
    /// The element type.
    pub fn dtype(&self) -> IdxType {
        match self {
            IdxData::U8(_) => IdxType::U8,
            IdxData::I8(_) => IdxType::I8,
            IdxData::I16(_) => IdxType::I16,
            IdxData::I32(_) => IdxType::I32,
            IdxData::F32(_) => IdxType::F32,
            IdxData::F64(_) => IdxType::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            IdxData::U8(v) => v.len(),
            IdxData::I8(v) => v.len(),
            IdxData::I16(v) => v.len(),
            IdxData::I32(v) => v.len(),
            IdxData::F32(v) => v.len(),
            IdxData::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn decode(dtype: IdxType, data: &[u8]) -> IdxValues {
    fn be<const N: usize, T>(data: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
        data.chunks_exact(N)
            .map(|c| f(c.try_into().expect("chunk of N bytes")))
            .collect()
    }
    match dtype {
        IdxType::U8 => IdxValues::U8(data.to_vec()),
        IdxType::I8 => IdxValues::I8(data.iter().map(|&b| b as i8).collect()),
        IdxType::I16 => IdxValues::I16(be(data, i16::from_be_bytes)),
        IdxType::I32 => IdxValues::I32(be(data, i32::from_be_bytes)),
        IdxType::F32 => IdxValues::F32(be(data, f32::from_be_bytes)),
        IdxType::F64 => IdxValues::F64(be(data, f64::from_be_bytes)),
    }
}

/// Encodes `data` with shape `dims` as IDX bytes.
///
/// # Errors
/// [`FormatError::ZeroRank`], [`FormatError::ZeroDim`], [`FormatError::DimsOverflow`] (more
/// than 255 dims or a dim above `u32::MAX`) or [`FormatError::ValueCount`].
pub fn encode_idx(dims: &[usize], data: IdxData<'_>) -> Result<Vec<u8>, FormatError> {
    if dims.is_empty() {
        return Err(FormatError::ZeroRank);
    }
    if dims.len() > 255 || dims.iter().any(|&d| d > u32::MAX as usize) {
        return Err(FormatError::DimsOverflow { dims: dims.to_vec() });
    }
    if let Some(axis) = dims.iter().position(|&d| d == 0) {
        return Err(FormatError::ZeroDim {
            axis,
            dims: dims.to_vec(),
        });
    }
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| FormatError::DimsOverflow { dims: dims.to_vec() })?;
    if count != data.len() {
        return Err(FormatError::ValueCount {
            dims: dims.to_vec(),
            values: data.len(),
        });
    }
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + count * data.dtype().size());
    out.extend_from_slice(&[0, 0, data.dtype().code(), dims.len() as u8]);
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    match data {
        IdxData::U8(v) => out.extend_from_slice(v),
        IdxData::I8(v) => out.extend(v.iter().map(|&x| x as u8)),
        IdxData::I16(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        IdxData::I32(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        IdxData::F32(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        IdxData::F64(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
    }
    Ok(out)
}

/// Writes `data` with shape `dims` as an IDX file at `path` (creating or truncating it).
///
/// ```
/// use neurite_datasets::idx::{write_idx, IdxData, IdxFile};
/// let dir = std::env::temp_dir().join("neurite-idx-doc");
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("labels-idx1-ubyte");
/// write_idx(&path, &[3], IdxData::U8(&[7, 1, 4])).unwrap();
/// assert_eq!(IdxFile::open(&path).unwrap().data(), &[7, 1, 4]);
/// ```
///
/// # Errors
/// [`DatasetError::Format`] when dims and data disagree, [`DatasetError::Io`] when writing fails.
pub fn write_idx(path: impl AsRef<Path>, dims: &[usize], data: IdxData<'_>) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_idx(dims, data).map_err(|p| DatasetError::format(path, p))?;
    std::fs::write(path, bytes).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })
}
