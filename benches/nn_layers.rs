//! Criterion benchmarks: nn_layers (being written).
fn main() {}
