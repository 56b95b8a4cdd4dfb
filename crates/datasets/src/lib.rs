//! neurite-datasets (under construction).

pub mod catalog;
pub mod data_dir;
