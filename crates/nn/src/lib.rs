//! # neurite-nn
//!
//! Layers, losses, optimizers, a training helper and PyTorch-compatible safetensors models,
//! written from `neurite-tensor` ops.

#![warn(missing_docs)]

pub mod functional;
pub mod layers;
pub mod module;
pub mod sequential;

pub use layers::activation::{Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, UnknownActivation, GELU};
pub use layers::linear::Linear;
pub use module::Module;
pub use sequential::Sequential;
