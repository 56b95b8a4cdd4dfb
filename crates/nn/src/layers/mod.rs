//! Layers, one file per family.

pub mod activation;
pub mod batchnorm;
pub mod conv;
pub mod dense;
pub mod dropout;
pub mod flatten;
pub mod global_pool;
pub mod identity;
pub mod layernorm;
pub mod linear;
pub mod pool;
