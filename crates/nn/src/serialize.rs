//! Saving and loading models as [safetensors](https://github.com/huggingface/safetensors)
//! files with PyTorch `state_dict` names, so weights move between neurite and PyTorch
//! unchanged.
//!
//! A file holds every parameter and buffer of a [`Module`] under its
//! [`Module::named_parameters`] / [`Module::named_buffers`] name (`0.weight`, `0.bias`, ...)
//! as little-endian F32, plus string metadata (neurite records the architecture there, so a
//! file can be rebuilt into a model with [`read_metadata`]). In PyTorch:
//!
//! ```python
//! from safetensors.torch import load_file, save_file
//! model.load_state_dict(load_file("model.safetensors"))   # a file saved by neurite
//! save_file(model.state_dict(), "model.safetensors")      # a file neurite loads
//! ```
//!
//! ## Data types
//! F32 is read as is. F64, F16 and BF16 are converted to f32 on load (as PyTorch's
//! `load_state_dict` converts into the parameter's dtype; F64 is rounded to nearest, F16 and
//! BF16 widen exactly). PyTorch stores batch norm's `num_batches_tracked` as an int64 scalar:
//! a buffer named `*.num_batches_tracked` is written as I64 and I64 is accepted for it on
//! load. Any other data type is an [`SerializeError::UnsupportedDtype`].
//!
//! ## Example
//! ```
//! use std::collections::HashMap;
//! use neurite_nn::serialize::{load_into, save};
//! use neurite_nn::{Linear, Module, ReLU, Sequential};
//! use neurite_tensor::{seeded_rng, Tensor};
//!
//! let dir = std::env::temp_dir().join(format!("neurite-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("mlp.safetensors");
//! let build = |seed| {
//!     let mut rng = seeded_rng(seed);
//!     Sequential::new().add(Linear::new(4, 8, &mut rng)).add(ReLU).add(Linear::new(8, 2, &mut rng))
//! };
//! let mut model = build(0);
//! let meta = HashMap::from([("architecture".to_string(), "mlp-4-8-2".to_string())]);
//! save(&model, &path, &meta).unwrap();
//!
//! let mut restored = build(1); // different initial weights
//! let loaded_meta = load_into(&mut restored, &path).unwrap();
//! assert_eq!(loaded_meta["architecture"], "mlp-4-8-2");
//! let x = Tensor::ones(&[3, 4]);
//! assert_eq!(model.forward(&x).to_vec(), restored.forward(&x).to_vec());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use neurite_tensor::Tensor;
use safetensors::tensor::{Dtype, SafeTensorError, View};
use thiserror::Error;

use crate::module::Module;

mod header;

use header::{check_dtype, parse_header, read_tensor, FileSource, Source};
pub use header::{FileHeader, TensorEntry, MAX_TENSOR_VALUES};

/// String metadata stored in a file's `__metadata__` header entry.
pub type Metadata = HashMap<String, String>;

/// Why a model could not be saved or loaded. Every variant names the file.
#[derive(Debug, Error)]
pub enum SerializeError {
    /// Reading, writing or renaming the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with a safetensors header.
    #[error("{}: not a safetensors file ({reason})", path.display())]
    NotSafetensors {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is shorter than its header says (an interrupted download or copy).
    #[error("{}: truncated safetensors file: the header describes {expected} bytes, the file has {actual}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The length the header implies.
        expected: u64,
        /// The file's length.
        actual: u64,
    },
    /// The safetensors writer refused the tensors.
    #[error("{}: invalid safetensors file: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The safetensors crate's error.
        #[source]
        source: SafeTensorError,
    },
    /// A tensor's header entry is inconsistent (unknown data type, byte range that does not
    /// match its shape, offsets that overflow, ...).
    #[error("{}: invalid safetensors file: tensor `{name}`: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor's declared shape holds more values than neurite reads into one tensor.
    #[error("{}: tensor `{name}` declares shape {shape:?}, more than the {limit} values neurite reads into one tensor", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The declared shape.
        shape: Vec<u64>,
        /// The bound ([`MAX_TENSOR_VALUES`]).
        limit: u64,
    },
    /// A tensor holds a NaN or an infinity (a diverged training run saved?).
    #[error("{}: tensor `{name}` holds the non-finite value {value} (at flat index {index}); refusing to load it", path.display())]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Flat index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// Memory for a tensor's values could not be allocated.
    #[error("{}: cannot allocate {bytes} bytes for tensor `{name}`", path.display())]
    OutOfMemory {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Bytes asked for.
        bytes: u64,
    },
    /// The model has a tensor the file lacks.
    #[error("{}: tensor `{name}` (shape {shape:?}) is missing from the file", path.display())]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The model's name for the tensor.
        name: String,
        /// The shape the model expects.
        shape: Vec<usize>,
    },
    /// The file has a tensor the model lacks.
    #[error("{}: tensor `{name}` in the file is not part of the model", path.display())]
    UnexpectedTensor {
        /// The file.
        path: PathBuf,
        /// The file's name for the tensor.
        name: String,
    },
    /// A tensor's shape differs between the file and the model.
    #[error("{}: tensor `{name}` has shape {found:?} in the file but {expected:?} in the model", path.display())]
    ShapeMismatch {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A tensor's data type cannot be read as f32.
    #[error(
        "{}: tensor `{name}` has data type {dtype}, which neurite cannot load (F32, F64, F16 and BF16 are read as f32; I64 only for `num_batches_tracked`)",
        path.display()
    )]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The data type as the file spells it.
        dtype: String,
    },
    /// The module reports two tensors under one name.
    #[error("{}: the model has two tensors named `{name}`", path.display())]
    DuplicateName {
        /// The file being written.
        path: PathBuf,
        /// The repeated name.
        name: String,
    },
}

/// A `Result` with [`SerializeError`].
pub type Result<T> = std::result::Result<T, SerializeError>;

/// Saves every parameter and buffer of `module` to `path` under its `state_dict` name, with
/// `metadata` in the header (`"format": "pt"` is added unless given, as Hugging Face's
/// `save_model` and `transformers` write it).
///
/// The file is written to a temporary file in the same directory and renamed over `path`
/// only once complete, so an error never leaves a partial file behind.
///
/// # Errors
/// [`SerializeError::Io`] when the file cannot be written, [`SerializeError::DuplicateName`]
/// when the module reports one name twice.
pub fn save(module: &dyn Module, path: impl AsRef<Path>, metadata: &HashMap<String, String>) -> Result<()> {
    let mut named = module.named_parameters();
    named.extend(module.named_buffers());
    save_tensors(&named, path, metadata)
}

/// Saves named tensors to `path` as [`save`] does (`*.num_batches_tracked` as I64, the rest
/// as F32), atomically.
///
/// # Errors
/// [`SerializeError::Io`] when the file cannot be written, [`SerializeError::DuplicateName`]
/// when a name repeats.
pub fn save_tensors(
    tensors: &[(String, Tensor)],
    path: impl AsRef<Path>,
    metadata: &HashMap<String, String>,
) -> Result<()> {
    let path = path.as_ref();
    let mut views = BTreeMap::new();
    for (name, tensor) in tensors {
        let view = if is_count_buffer(name) {
            OwnedView::i64(tensor)
        } else {
            OwnedView::f32(tensor)
        };
        if views.insert(name.clone(), view).is_some() {
            return Err(SerializeError::DuplicateName {
                path: path.to_path_buf(),
                name: name.clone(),
            });
        }
    }
    let mut meta = metadata.clone();
    meta.entry("format".to_string()).or_insert_with(|| "pt".to_string());
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|source| match source {
        SafeTensorError::IoError(source) => SerializeError::Io {
            path: path.to_path_buf(),
            source,
        },
        source => SerializeError::Format {
            path: path.to_path_buf(),
            source,
        },
    })?;
    write_atomically(path, &with_sorted_metadata(bytes))
}

/// The serialized file with its `__metadata__` entries in key order. The safetensors crate
/// writes them in the order of a `HashMap`, which differs from one map to the next, so two
/// saves of the same model would differ in their header bytes.
fn with_sorted_metadata(bytes: Vec<u8>) -> Vec<u8> {
    use serde_json::{Map, Value};
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8-byte length")) as usize;
    let mut header: Map<String, Value> =
        serde_json::from_slice(&bytes[8..8 + n]).expect("the safetensors crate wrote a JSON header");
    let mut sorted = Map::new();
    if let Some(Value::Object(meta)) = header.remove("__metadata__") {
        let meta: BTreeMap<String, Value> = meta.into_iter().collect();
        sorted.insert("__metadata__".to_string(), Value::Object(meta.into_iter().collect()));
    }
    sorted.extend(header);
    let mut text = serde_json::to_string(&sorted).expect("JSON values serialize");
    // The data that follows starts 8-byte aligned, as the safetensors crate pads it.
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - n);
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text.as_bytes());
    out.extend(&bytes[8 + n..]);
    out
}

/// Loads the tensors in `path` into `module`'s parameters and buffers, matched by name, and
/// returns the file's metadata.
///
/// The header is read and checked first (see [`read_header`]), then the names, shapes and
/// data types against the module, and only then is each tensor read, converted and checked to
/// be finite. The file is never read whole. Everything is checked before anything is changed:
/// on error the module is untouched.
///
/// # Errors
/// A [`SerializeError`] naming the file (and the tensor, where one is at fault) when the file
/// cannot be read, is not a safetensors file, is truncated, lacks one of the module's tensors,
/// has one the module lacks, or has a tensor of the wrong shape, an unsupported data type or a
/// NaN or infinite value.
pub fn load_into(module: &mut dyn Module, path: impl AsRef<Path>) -> Result<Metadata> {
    let path = path.as_ref();
    load_into_from(module, path, &mut FileSource::open(path)?)
}

/// [`load_into`] from the bytes of a safetensors file already in memory; `name` names them in
/// errors.
///
/// # Errors
/// As [`load_into`].
pub fn load_into_bytes(module: &mut dyn Module, bytes: &[u8], name: impl AsRef<Path>) -> Result<Metadata> {
    load_into_from(module, name.as_ref(), &mut { bytes })
}

fn load_into_from(module: &mut dyn Module, path: &Path, src: &mut dyn Source) -> Result<Metadata> {
    let header = parse_header(path, src)?;
    let mut expected = module.named_parameters();
    expected.extend(module.named_buffers());
    let mut entries = Vec::with_capacity(expected.len());
    for (name, tensor) in &expected {
        let shape = tensor.shape();
        let Some(entry) = header.tensors.get(name) else {
            return Err(SerializeError::MissingTensor {
                path: path.to_path_buf(),
                name: name.clone(),
                shape,
            });
        };
        if entry.shape != shape {
            return Err(SerializeError::ShapeMismatch {
                path: path.to_path_buf(),
                name: name.clone(),
                expected: shape,
                found: entry.shape.clone(),
            });
        }
        check_dtype(path, name, entry.dtype)?;
        entries.push(entry);
    }
    let known: std::collections::HashSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(extra) = header.tensors.keys().find(|n| !known.contains(n.as_str())) {
        return Err(SerializeError::UnexpectedTensor {
            path: path.to_path_buf(),
            name: extra.clone(),
        });
    }
    let mut values = Vec::with_capacity(expected.len());
    for ((name, _), entry) in expected.iter().zip(entries) {
        values.push(read_tensor(path, name, entry, src)?);
    }
    for ((_, tensor), value) in expected.iter().zip(values) {
        tensor.set_data(value);
    }
    Ok(header.metadata)
}

/// Reads every tensor in `path` (as f32 constants) with the file's metadata, like
/// `safetensors.torch.load_file`, one tensor at a time.
///
/// # Errors
/// As [`load_into`], except that names are not checked against a model.
pub fn load_state_dict(path: impl AsRef<Path>) -> Result<(BTreeMap<String, Tensor>, Metadata)> {
    let path = path.as_ref();
    load_state_dict_from(path, &mut FileSource::open(path)?)
}

/// [`load_state_dict`] from the bytes of a safetensors file already in memory; `name` names
/// them in errors.
///
/// # Errors
/// As [`load_state_dict`].
pub fn load_state_dict_bytes(bytes: &[u8], name: impl AsRef<Path>) -> Result<(BTreeMap<String, Tensor>, Metadata)> {
    load_state_dict_from(name.as_ref(), &mut { bytes })
}

fn load_state_dict_from(path: &Path, src: &mut dyn Source) -> Result<(BTreeMap<String, Tensor>, Metadata)> {
    let header = parse_header(path, src)?;
    for (name, entry) in &header.tensors {
        check_dtype(path, name, entry.dtype)?;
    }
    let mut out = BTreeMap::new();
    for (name, entry) in &header.tensors {
        let value = read_tensor(path, name, entry, src)?;
        out.insert(name.clone(), Tensor::from_array(value));
    }
    Ok((out, header.metadata))
}

/// Reads only the header of `path` and returns its metadata (empty when it has none); cheap
/// even for large files, so a command-line tool can rebuild the architecture before loading.
///
/// # Errors
/// As [`read_header`].
pub fn read_metadata(path: impl AsRef<Path>) -> Result<Metadata> {
    Ok(read_header(path)?.metadata)
}

/// Reads and checks only the header of `path`: the metadata and every tensor's name, data
/// type and shape, each tensor's byte range checked against its shape and the file's length
/// with checked arithmetic, and shapes bounded by [`MAX_TENSOR_VALUES`]. No tensor data is
/// read, so a caller can compare shapes before allocating anything.
///
/// # Errors
/// [`SerializeError::Io`], [`SerializeError::NotSafetensors`], [`SerializeError::Truncated`],
/// [`SerializeError::Invalid`] or [`SerializeError::TooLarge`].
pub fn read_header(path: impl AsRef<Path>) -> Result<FileHeader> {
    let path = path.as_ref();
    parse_header(path, &mut FileSource::open(path)?)
}

/// [`read_header`] of the bytes of a safetensors file already in memory; `name` names them
/// in errors.
///
/// # Errors
/// As [`read_header`].
pub fn read_header_bytes(bytes: &[u8], name: impl AsRef<Path>) -> Result<FileHeader> {
    parse_header(name.as_ref(), &mut { bytes })
}

/// Whether a buffer holds an integer count that PyTorch stores as int64.
pub(crate) fn is_count_buffer(name: &str) -> bool {
    name == "num_batches_tracked" || name.ends_with(".num_batches_tracked")
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    neurite_tensor::atomic_file::write(path, bytes).map_err(|source| SerializeError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// IEEE 754 half precision to single precision (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m * 2^-24; normalise into an f32.
            let shift = m.leading_zeros() - 21; // bring the top set bit to position 10
            let m = (m << shift) & 0x3ff;
            let e = 127 - 15 - shift + 1;
            sign | (e << 23) | (m << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// A tensor's bytes, ready for the safetensors writer.
struct OwnedView {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl OwnedView {
    fn f32(t: &Tensor) -> OwnedView {
        t.read(|d| OwnedView {
            dtype: Dtype::F32,
            shape: d.shape().to_vec(),
            bytes: d.iter().flat_map(|v| v.to_le_bytes()).collect(),
        })
    }

    fn i64(t: &Tensor) -> OwnedView {
        t.read(|d| OwnedView {
            dtype: Dtype::I64,
            shape: d.shape().to_vec(),
            bytes: d.iter().flat_map(|&v| (v.round() as i64).to_le_bytes()).collect(),
        })
    }
}

impl View for OwnedView {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }

    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn f16_conversion_is_exact() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }
}
