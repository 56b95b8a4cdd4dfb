//! `neurite`: inspect data sets, train, evaluate and predict from the command line.
//!
//! Errors are one line on stderr and a non-zero exit code: 2 for usage errors (clap's
//! convention), 1 for everything else (missing or damaged files, bad weights, bad images),
//! 130 for a training run stopped by Ctrl-C after saving. A reader that closes stdout early
//! ends the command quietly with 141, as a process killed by SIGPIPE would.

#![forbid(unsafe_code)]

mod checkpointer;
mod cli;
mod commands;
mod data;
mod error;
mod metrics_file;
mod model;
mod output;
mod plot;
mod progress;
mod regression;
mod render;
mod run_dir;
mod run_settings;
mod source;
mod validation;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print normally and exit 0.
        Err(e) if !e.use_stderr() => e.exit(),
        // Usage errors: one line on stderr, exit code 2.
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments").trim();
            eprintln!("{first} (see `neurite --help`)");
            return ExitCode::from(2);
        }
    };
    neurite_tensor::alloc::retain_freed_buffers();
    let result = match cli.command {
        #[cfg(feature = "download")]
        Command::Fetch(args) => commands::fetch::run(&args),
        Command::Info(args) => commands::info::run(&args),
        Command::Show(args) => commands::show::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Predict(args) => commands::predict::run(&args),
        Command::Summary(args) => commands::summary::run(&args),
        Command::Export(args) => commands::export::run(&args),
        Command::Import(args) => commands::import::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(line) = err.report_line() {
                eprintln!("{line}");
            }
            ExitCode::from(err.exit_code())
        }
    }
}
