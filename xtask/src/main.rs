//! neurite's developer tasks, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! Each task lives in its own module tree; this file only parses the command line and
//! dispatches to it.

#![forbid(unsafe_code)]

mod bench;

use std::error::Error;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use neurite_datasets::fetch;

/// The command line of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "neurite's developer tasks",
    version
)]
struct Cli {
    /// The task to run.
    #[command(subcommand)]
    command: Command,
}

/// The tasks.
#[derive(Debug, Subcommand)]
enum Command {
    /// Download (or import with --from), verify and unpack the data sets the loaders read.
    FetchData(fetch::FetchArgs),
    /// Run the W1-W7 benchmark workloads, optionally side by side with peers (PyTorch, JAX, TensorFlow, ONNX Runtime, numpy).
    Bench(bench::BenchArgs),
    /// (internal) The fresh process of workload W6; prints one JSON result.
    #[command(hide = true)]
    BenchLoadChild(bench::LoadChildArgs),
}

/// Runs one task.
fn run(command: Command) -> Result<(), Box<dyn Error>> {
    match command {
        Command::FetchData(args) => fetch::run(&args)?,
        Command::Bench(args) => bench::run(&args)?,
        Command::BenchLoadChild(args) => bench::load_child(&args)?,
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
