//! ONNX export and import: a model spec with its weights to an ONNX file that ONNX Runtime
//! (and any other ONNX consumer) runs, and an ONNX graph made of the operators neurite's
//! layers are back into a [`ModelSpec`] and a `state_dict`.
//!
//! Exported files use opset [`OPSET`], take [`INPUT_NAME`] (`[batch, ...input shape]`) and
//! give [`OUTPUT_NAME`] (`[batch, ...output shape]`), the batch axis symbolic
//! ([`BATCH_DIM`]). Weights are initializers under their `state_dict` names. Import reads the
//! chains and residual blocks PyTorch's `torch.onnx.export` writes for an `nn.Sequential` or a
//! small ResNet, and everything [`export`] writes; the tensors come back under the imported
//! spec's own names (`0.weight`, `3.0.weight` inside a residual block). docs/interop.md has
//! the operator table.
//!
//! | file | job |
//! |------|-----|
//! | `proto.rs` | the ONNX protobuf messages (prost), the fields used |
//! | `export.rs` | spec + weights to a graph |
//! | `graph.rs` | a decoded file: checked initializers, constants, attributes, consumers |
//! | `import.rs` | a graph back to layers and tensors |
//! | `error.rs` | [`OnnxError`] |
//!
//! ```
//! use neurite_nn::onnx;
//! use neurite_nn::spec::ModelSpec;
//! use neurite_nn::Module;
//! use neurite_tensor::{seeded_rng, Tensor};
//!
//! let spec = ModelSpec::w3();
//! let mut model = spec.build(&mut seeded_rng(0));
//! let bytes = onnx::export_bytes(&model, &spec).unwrap();
//! let (back, tensors) = onnx::import_bytes(&bytes, "cnn.onnx").unwrap();
//! assert_eq!(back.layers(), spec.layers());
//! let mut rebuilt = back.build(&mut seeded_rng(1));
//! for (name, t) in rebuilt.named_parameters() {
//!     t.set_data(tensors[&name].data());
//! }
//! let x = Tensor::ones(&[2, 1, 28, 28]);
//! assert_eq!(rebuilt.forward(&x).to_vec(), model.forward(&x).to_vec());
//! ```

mod error;
mod export;
mod graph;
mod import;
pub mod proto;

use std::collections::BTreeMap;
use std::path::Path;

use neurite_tensor::Tensor;

use crate::spec::ModelSpec;
use crate::Module;

pub use error::OnnxError;
pub use export::{BATCH_DIM, INPUT_NAME, IR_VERSION, OPSET, OUTPUT_NAME};
pub use graph::MAX_ONNX_BYTES;

/// Writes `spec` with `model`'s weights (a model built from `spec`, trained or loaded) to
/// `path` as an ONNX model, atomically.
///
/// # Errors
/// [`OnnxError::Export`] naming a layer that has no ONNX form or a tensor the model lacks;
/// [`OnnxError::Io`] when the file cannot be written.
pub fn export(model: &dyn Module, spec: &ModelSpec, path: impl AsRef<Path>) -> Result<(), OnnxError> {
    let path = path.as_ref();
    let bytes = export::to_bytes(model, spec)?;
    neurite_tensor::atomic_file::write(path, &bytes).map_err(|source| OnnxError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// [`export`] to bytes in memory.
///
/// # Errors
/// As [`export`], except I/O.
pub fn export_bytes(model: &dyn Module, spec: &ModelSpec) -> Result<Vec<u8>, OnnxError> {
    export::to_bytes(model, spec)
}

/// Reads the ONNX model at `path` into a spec (named after the file's stem) and its tensors
/// under the spec's `state_dict` names (parameters and buffers, as a saved model holds them).
///
/// # Errors
/// [`OnnxError`] naming the file, and the node where one is at fault: an unsupported
/// operator, attribute, dynamic shape or initializer type, a graph that is not a chain of
/// layers and residual blocks, a malformed or truncated protobuf, sizes over the spec's
/// budget.
pub fn import(path: impl AsRef<Path>) -> Result<(ModelSpec, BTreeMap<String, Tensor>), OnnxError> {
    let path = path.as_ref();
    let io = |source| OnnxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_ONNX_BYTES {
        return Err(OnnxError::Model {
            path: path.to_path_buf(),
            reason: format!("the file has {len} bytes, more than the {MAX_ONNX_BYTES} neurite reads"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    import_bytes(&bytes, path)
}

/// [`import`] of an ONNX file's bytes already in memory; `name` names them in errors (and its
/// stem names the spec).
///
/// # Errors
/// As [`import`].
pub fn import_bytes(bytes: &[u8], name: impl AsRef<Path>) -> Result<(ModelSpec, BTreeMap<String, Tensor>), OnnxError> {
    import::import(bytes, name.as_ref())
}
