//! # neurite
//!
//! A CPU deep-learning stack in Rust. This facade (package `neurite-dl`, library `neurite`)
//! re-exports the layers, which can also be used on their own:
//!
//! * [`tensor`] (`neurite-tensor`): n-d f32 tensors, matmul and reverse-mode autograd;
//! * [`nn`] (`neurite-nn`): layers, losses, optimizers, training and safetensors models;
//! * [`datasets`] (`neurite-datasets`): memory-mapped MNIST-family and CIFAR loaders and batches.

pub use neurite_datasets as datasets;
pub use neurite_nn as nn;
pub use neurite_tensor as tensor;

/// The Rust snippets of the top-level README and of `docs/*.md`, compiled and run as
/// doc-tests by `cargo test`, so the documentation cannot drift from the code.
#[cfg(doctest)]
pub mod doc_snippets {
    /// README.md.
    #[doc = include_str!("../README.md")]
    pub struct Readme;
    /// docs/tutorial.md.
    #[doc = include_str!("../docs/tutorial.md")]
    pub struct Tutorial;
    /// docs/architecture.md.
    #[doc = include_str!("../docs/architecture.md")]
    pub struct Architecture;
    /// docs/models.md.
    #[doc = include_str!("../docs/models.md")]
    pub struct Models;
    /// docs/benchmarks.md.
    #[doc = include_str!("../docs/benchmarks.md")]
    pub struct Benchmarks;
    /// docs/interop.md.
    #[doc = include_str!("../docs/interop.md")]
    pub struct Interop;
}
