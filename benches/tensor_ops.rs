//! Criterion benchmarks: tensor_ops (being written).
fn main() {}
