//! Tensor operations, one file per family. Each op's forward and backward sit side by side.

pub mod binary;
pub mod compare;
pub mod index;
pub mod matmul;
pub mod reduce;
pub mod shape_ops;
pub mod softmax;
pub mod unary;
