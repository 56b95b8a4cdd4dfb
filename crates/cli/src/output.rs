//! Writing to stdout the way command-line tools are expected to: a reader that closes the
//! pipe early (`neurite show mnist | head -1`) ends the command quietly instead of a panic,
//! and colour is used only on a terminal and never when `NO_COLOR` is set.

use std::fmt;
use std::io::{self, IsTerminal, Write};

use crate::error::{CliError, CliResult};

/// Prints a line to stdout like `println!`, returning a [`CliResult`]: a closed pipe becomes
/// [`CliError::broken_pipe`], which `main` turns into a quiet exit.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to stdout like `print!`, returning a [`CliResult`] (see [`outln!`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};

/// Writes formatted text to stdout; the error of a failed write names stdout.
pub fn write_stdout(args: fmt::Arguments<'_>) -> CliResult {
    io::stdout().lock().write_fmt(args).map_err(stdout_error)
}

/// The error for a failed write to stdout: a closed pipe is not worth a message.
fn stdout_error(e: io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError::broken_pipe()
    } else {
        CliError::new(format!("cannot write to stdout: {e}"))
    }
}

/// Whether stdout should get ANSI colour: only when it is a terminal and `NO_COLOR` is unset
/// or empty (<https://no-color.org>).
pub fn use_colour() -> bool {
    colour_allowed(io::stdout().is_terminal(), std::env::var_os("NO_COLOR").as_deref())
}

/// The colour rule on its inputs: a terminal, and `NO_COLOR` absent or empty.
fn colour_allowed(is_terminal: bool, no_colour: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_colour.is_none_or(|v| v.is_empty())
}

/// `count` followed by the singular or plural form: "1 epoch", "5 epochs", "2 batches".
pub fn plural(count: usize, singular: &str, plural: &str) -> String {
    format!("{count} {}", if count == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_allowed(true, None));
        assert!(colour_allowed(true, Some(OsStr::new(""))));
        assert!(!colour_allowed(true, Some(OsStr::new("1"))));
        assert!(!colour_allowed(false, None));
    }

    #[test]
    fn plural_is_singular_only_for_one() {
        assert_eq!(plural(0, "image", "images"), "0 images");
        assert_eq!(plural(1, "image", "images"), "1 image");
        assert_eq!(plural(3, "batch", "batches"), "3 batches");
    }
}
