//! `neurite fetch`: the fetch command of neurite-datasets (the same as
//! `cargo xtask fetch-data`), with its errors mapped to the CLI's exit codes.

use neurite_datasets::fetch::{self, FetchArgs, FetchError};

use crate::error::{CliError, CliResult};

/// Runs `neurite fetch`.
pub fn run(args: &FetchArgs) -> CliResult {
    fetch::run(args).map_err(|e| match e {
        FetchError::Usage { .. } => CliError::usage(e.to_string()),
        other => CliError::new(other.to_string()),
    })
}
