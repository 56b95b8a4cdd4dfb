//! One module per subcommand.

pub mod eval;
#[cfg(feature = "download")]
pub mod fetch;
pub mod info;
pub mod predict;
pub mod show;
pub mod summary;
pub mod train;
