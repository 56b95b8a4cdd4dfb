//! One module per subcommand.

pub mod eval;
pub mod info;
pub mod predict;
pub mod show;
pub mod train;
