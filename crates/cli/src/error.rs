//! The CLI's error: a message for one line on stderr and its exit code.

use std::fmt;

/// A failed command.
#[derive(Debug)]
pub struct CliError {
    message: String,
    kind: Kind,
}

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Missing or damaged files, bad weights, bad images: exit code 1.
    Runtime,
    /// A usage mistake: exit code 2 (clap's convention).
    Usage,
    /// Stopped by Ctrl-C or SIGTERM after saving: exit code 130 (128 + SIGINT).
    Interrupted,
    /// The reader of stdout went away: exit code 141 (128 + SIGPIPE), no message.
    BrokenPipe,
}

impl CliError {
    /// A runtime failure (exit code 1).
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            kind: Kind::Runtime,
        }
    }

    /// A usage mistake the parser could not catch (exit code 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            kind: Kind::Usage,
        }
    }

    /// A run stopped by the user after its results were saved (exit code 130).
    pub fn interrupted(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            kind: Kind::Interrupted,
        }
    }

    /// Stdout was closed by its reader (exit code 141, nothing printed).
    pub fn broken_pipe() -> CliError {
        CliError {
            message: String::new(),
            kind: Kind::BrokenPipe,
        }
    }

    /// The line for stderr: `error: ...`, the bare message for an interrupted run, nothing
    /// for a closed stdout.
    pub fn report_line(&self) -> Option<String> {
        match self.kind {
            Kind::Runtime | Kind::Usage => Some(format!("error: {self}")),
            Kind::Interrupted => Some(self.to_string()),
            Kind::BrokenPipe => None,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Runtime => 1,
            Kind::Usage => 2,
            Kind::Interrupted => 130,
            Kind::BrokenPipe => 141,
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
