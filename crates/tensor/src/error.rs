//! Typed errors for fallible tensor construction from user data.

use thiserror::Error;

/// An error raised when user-supplied data cannot form a tensor.
///
/// Programmer errors inside ops (for example adding tensors whose shapes do not broadcast)
/// panic instead, with a message naming the op and both shapes; see the crate docs.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TensorError {
    /// The number of values does not match the product of the requested shape.
    #[error("cannot build a tensor of shape {shape:?} ({expected} values) from {actual} values")]
    LengthMismatch {
        /// The requested shape.
        shape: Vec<usize>,
        /// Values the shape needs.
        expected: usize,
        /// Values supplied.
        actual: usize,
    },
    /// A reshape whose element count differs from the tensor's.
    #[error("{op}: cannot view shape {from:?} as {to:?}: element counts differ")]
    ReshapeMismatch {
        /// The op that was asked for.
        op: &'static str,
        /// The tensor's shape.
        from: Vec<usize>,
        /// The requested shape.
        to: Vec<usize>,
    },
}

/// Result alias for tensor construction.
pub type Result<T> = std::result::Result<T, TensorError>;
