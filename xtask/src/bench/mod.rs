//! `cargo xtask bench`: the W1-W7 workload harness of docs/benchmarks.md, optionally side by
//! side with peers (PyTorch, JAX, TensorFlow, ONNX Runtime, numpy), interleaved run by run.

mod machine;
mod measure;
mod neurite;
mod peer;
mod report;
mod spec;

use std::path::PathBuf;

use clap::Args;
use neurite_datasets::data_dir::resolve_data_dir;

use self::machine::Machine;
use self::neurite::RunOptions;
use self::peer::{Compare, Peer, PeerKind};
use self::report::{Report, WorkloadReport};
use self::spec::Workload;

/// Options of `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Comma-separated workloads (default: all), e.g. W1,W3.
    #[arg(long, value_delimiter = ',', value_parser = parse_workload)]
    pub workloads: Option<Vec<Workload>>,
    /// Runs per workload (and per peer).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Threads for neurite (rayon) and the peer.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also run the workloads in these peers (comma-separated), interleaved with neurite's
    /// runs; each runs the workloads its script implements (jax: a per-step `jit` and a
    /// whole-epoch `lax.scan` variant).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub compare: Vec<Compare>,
    /// Python interpreters for the peers (comma-separated): `PATH` for every peer, or
    /// `NAME=PATH` for one (e.g. `jax=~/venv-jax/bin/python`); default `python3`.
    #[arg(long, value_delimiter = ',')]
    pub python: Vec<String>,
    /// The machine's f32 peak in GFLOP/s for the physical floor (default: estimated from the
    /// clock and vector width).
    #[arg(long)]
    pub peak_gflops: Option<f64>,
    /// Epochs for W1/W2 (accuracy after 5 epochs: --epochs 5); the time reported is epoch 1's.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// W3: also train one full epoch and report test accuracy (slow).
    #[arg(long)]
    pub accuracy: bool,
    /// Write a bar chart of the ratios against the targets to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Data directory holding the full MNIST (else the shared data-directory rule).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/bench/workloads.json")]
    pub json: PathBuf,
}

/// Options of the hidden W6 child process.
#[derive(Debug, Args)]
pub struct LoadChildArgs {
    /// Data directory holding `mnist/`.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Shuffle seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn parse_workload(s: &str) -> Result<Workload, String> {
    Workload::parse(s).ok_or_else(|| format!("unknown workload `{s}`: expected W1 ... W7"))
}

/// Runs the harness.
///
/// # Errors
/// A message naming the workload or option that failed.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    if args.repeat == 0 || args.threads == 0 {
        return Err("--repeat and --threads must be at least 1".to_string());
    }
    std::env::set_var("RAYON_NUM_THREADS", args.threads.to_string());
    neurite_tensor::alloc::retain_freed_buffers();
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()
        .map_err(|e| format!("--threads {}: {e}", args.threads))?;
    let (data_dir, _) = resolve_data_dir(args.data_dir.as_deref());
    let workloads = args.workloads.clone().unwrap_or_else(|| Workload::ALL.to_vec());
    let peers = find_peers(args, &workloads)?;
    let machine = Machine::current(args.threads, args.peak_gflops);
    eprintln!("{}", machine.describe());
    let opts = RunOptions {
        data_dir: &data_dir,
        epochs: args.epochs.max(1),
        accuracy: args.accuracy,
        seed: 0,
    };
    let mut reports = Vec::new();
    for &w in &workloads {
        let these: Vec<&Peer> = peers.iter().filter(|p| p.kind.runs(w)).collect();
        let mut ours = Vec::new();
        let mut theirs: Vec<(PeerKind, Vec<_>)> = these.iter().map(|p| (p.kind, Vec::new())).collect();
        for r in 0..args.repeat {
            eprintln!("{} {} run {}/{}: neurite", w.id(), w.name(), r + 1, args.repeat);
            ours.push(neurite::run(w, &opts).map_err(|e| format!("{}: {e}", w.id()))?);
            for (p, (_, runs)) in these.iter().zip(&mut theirs) {
                eprintln!(
                    "{} {} run {}/{}: {}",
                    w.id(),
                    w.name(),
                    r + 1,
                    args.repeat,
                    p.kind.name()
                );
                runs.push(p.run(w, &data_dir, args.threads, opts.epochs, args.accuracy)?);
            }
        }
        reports.push(WorkloadReport::new(w, ours, theirs, &machine));
    }
    let report = Report {
        machine,
        repeat: args.repeat,
        workloads: reports,
    };
    println!(
        "\n{} threads, {} repeats, epochs {}; times in seconds (W3/W4: timed steps, W6: to first batch, W7: one 1024³ product)\n",
        args.threads, args.repeat, opts.epochs
    );
    report::print_tables(&report);
    report::write_json(&args.json, &report)?;
    println!("\nwrote {}", args.json.display());
    if let Some(plot) = &args.plot {
        report::write_plot(plot, &report)?;
        println!("wrote {}", plot.display());
    }
    Ok(())
}

/// The peers `--compare` names that run at least one of `workloads`, each checked to import.
fn find_peers(args: &BenchArgs, workloads: &[Workload]) -> Result<Vec<Peer>, String> {
    peer::check_python_entries(&args.python)?;
    let mut kinds: Vec<PeerKind> = args.compare.iter().flat_map(|c| c.kinds().iter().copied()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .filter(|k| workloads.iter().any(|&w| k.runs(w)))
        .map(|k| Peer::find(&peer::python_for(&args.python, k.framework()), k))
        .collect()
}

/// The hidden W6 child: prints one JSON measurement.
///
/// # Errors
/// When MNIST cannot be opened.
pub fn load_child(args: &LoadChildArgs) -> Result<(), String> {
    let m = neurite::load_child(&args.data_dir, args.seed)?;
    println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
    Ok(())
}
