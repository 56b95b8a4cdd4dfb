//! One module per subcommand.

pub mod eval;
pub mod export;
#[cfg(feature = "download")]
pub mod fetch;
pub mod import;
pub mod info;
pub mod predict;
pub mod show;
pub mod summary;
pub mod train;
