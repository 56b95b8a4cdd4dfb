//! Layers, one file per family.

pub mod activation;
pub mod conv;
pub mod flatten;
pub mod linear;
pub mod pool;
