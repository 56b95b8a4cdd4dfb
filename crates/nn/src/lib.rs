//! # neurite-nn
//!
//! Layers, losses, optimizers, a training helper and PyTorch-compatible safetensors models,
//! written from `neurite-tensor` ops.

#![warn(missing_docs)]

pub mod functional;
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod module;
pub mod optim;
pub mod residual;
pub mod sequential;
pub mod serialize;
pub mod spec;
pub mod tensorboard;
pub mod train;

pub use functional::Size2;
pub use layers::activation::{Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, UnknownActivation, GELU};
pub use layers::batchnorm::{BatchNorm1d, BatchNorm2d};
pub use layers::conv::{Conv2d, Conv2dConfig};
pub use layers::dense::Dense;
pub use layers::dropout::Dropout;
pub use layers::flatten::Flatten;
pub use layers::global_pool::GlobalAvgPool2d;
pub use layers::identity::Identity;
pub use layers::linear::Linear;
pub use layers::pool::{AvgPool2d, MaxPool2d};
pub use loss::{binary_cross_entropy_with_logits, cross_entropy, mse_loss, Loss, Reduction};
pub use metrics::{accuracy, ConfusionMatrix};
pub use module::{Fuse, Module};
pub use residual::Residual;
pub use sequential::Sequential;
pub use spec::ModelSpec;

/// The crate README's examples, compiled and run as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
