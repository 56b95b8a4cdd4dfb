//! Criterion benchmarks: data_loading (being written).
fn main() {}
