//! The CLI's error: a message for one line on stderr and its exit code.

use std::fmt;

/// A failed command.
#[derive(Debug)]
pub struct CliError {
    message: String,
    usage: bool,
}

impl CliError {
    /// A runtime failure (exit code 1).
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            usage: false,
        }
    }

    /// A usage mistake the parser could not catch (exit code 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            usage: true,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        if self.usage {
            2
        } else {
            1
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it to one line.
        f.write_str(&self.message.replace('\n', " "))
    }
}

/// Converts any displayable error into a runtime [`CliError`].
macro_rules! from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> CliError {
                CliError::new(e.to_string())
            }
        }
    )*};
}

from_display!(neurite_datasets::DatasetError, std::io::Error, serde_json::Error);

/// Result alias for commands.
pub type CliResult<T = ()> = Result<T, CliError>;
