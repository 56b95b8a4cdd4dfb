//! # neurite
//!
//! A CPU deep-learning stack in Rust. This facade re-exports the layers, which can also be
//! used on their own:
//!
//! * [`tensor`] (`neurite-tensor`): n-d f32 tensors, matmul and reverse-mode autograd;
//! * [`nn`] (`neurite-nn`): layers, losses, optimizers, training and safetensors models;
//! * [`datasets`] (`neurite-datasets`): memory-mapped MNIST-family and CIFAR loaders and batches.

pub use neurite_datasets as datasets;
pub use neurite_nn as nn;
pub use neurite_tensor as tensor;
