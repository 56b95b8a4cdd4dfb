//! # neurite-nn
//!
//! Layers, losses, optimizers, a training helper and PyTorch-compatible safetensors models,
//! written from `neurite-tensor` ops.

#![warn(missing_docs)]

pub mod functional;
pub mod layers;
pub mod loss;
pub mod models;
pub mod module;
pub mod optim;
pub mod sequential;
pub mod train;

pub use layers::activation::{Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, UnknownActivation, GELU};
pub use functional::Size2;
pub use layers::conv::{Conv2d, Conv2dConfig};
pub use layers::flatten::Flatten;
pub use layers::linear::Linear;
pub use layers::pool::{AvgPool2d, MaxPool2d};
pub use loss::{cross_entropy, Reduction};
pub use models::ModelSpec;
pub use module::Module;
pub use sequential::Sequential;
