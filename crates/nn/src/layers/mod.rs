//! Layers, one file per family.

pub mod activation;
pub mod linear;
