//! # neurite-nn
//!
//! Layers, losses, optimizers, a training helper and PyTorch-compatible safetensors models,
//! written from `neurite-tensor` ops.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

// Lets `#[derive(Module)]`'s `::neurite_nn::...` paths resolve inside this crate too.
extern crate self as neurite_nn;

pub mod fields;
pub mod functional;
pub mod infer;
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod module;
pub mod onnx;
pub mod optim;
pub mod residual;
pub mod sequential;
pub mod serialize;
pub mod spec;
pub mod tensorboard;
pub mod train;

pub use fields::{ModuleBuffer, ModuleField};
pub use functional::Size2;
pub use layers::activation::{Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, UnknownActivation, GELU};
pub use layers::batchnorm::{BatchNorm1d, BatchNorm2d};
pub use layers::conv::{Conv2d, Conv2dConfig};
pub use layers::dense::Dense;
pub use layers::dropout::{Dropout, Dropout2d};
pub use layers::flatten::Flatten;
pub use layers::global_pool::GlobalAvgPool2d;
pub use layers::identity::Identity;
pub use layers::layernorm::LayerNorm;
pub use layers::linear::Linear;
pub use layers::pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
pub use loss::{binary_cross_entropy_with_logits, cross_entropy, mse_loss, Loss, Reduction};
pub use metrics::{accuracy, ConfusionMatrix};
pub use module::{Fuse, Module};
pub use neurite_derive::Module;
pub use residual::Residual;
pub use sequential::Sequential;
pub use spec::ModelSpec;

/// What `#[derive(Module)]`'s expansion names; not part of the API.
#[doc(hidden)]
pub mod __derive {
    pub use neurite_tensor::Tensor;
}

/// The crate README's examples, compiled and run as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
