//! [`OnnxError`]: why a model could not be exported to ONNX or an ONNX file imported. Import
//! errors name the file and, where one is at fault, the node (its name and operator); export
//! errors name the layer.

use std::path::PathBuf;

use crate::spec::SpecError;

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not an ONNX protobuf (malformed or truncated).
    #[error("{}: not a valid ONNX file (malformed or truncated protobuf: {reason})", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The protobuf decoder's message.
        reason: String,
    },
    /// The model as a whole is outside what neurite reads (no graph, an opset neurite does
    /// not know, several inputs, a dynamic shape, ...).
    #[error("{}: {reason}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A node neurite cannot read: an unsupported operator, attribute, input or pattern.
    #[error("{}: node `{node}` ({op_type}): {reason}", path.display())]
    Node {
        /// The file.
        path: PathBuf,
        /// The node's name (or its first output's when it has none).
        node: String,
        /// Its operator.
        op_type: String,
        /// What is not supported.
        reason: String,
    },
    /// The layers read from the file do not make a valid model spec.
    #[error("{}: {source}", path.display())]
    Spec {
        /// The file.
        path: PathBuf,
        /// Why the spec was refused.
        #[source]
        source: SpecError,
    },
    /// A layer of the spec has no ONNX form (or the model does not match the spec).
    #[error("cannot export layer {at} ({kind}) to ONNX: {reason}")]
    Export {
        /// The layer's `state_dict` prefix.
        at: String,
        /// Its kind.
        kind: String,
        /// Why.
        reason: String,
    },
}
