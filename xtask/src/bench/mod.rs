//! `cargo xtask bench`: the W1-W7 workload harness of docs/benchmarks.md, optionally side by
//! side with PyTorch (W1-W5) or numpy (W6-W7), interleaved run by run.

mod measure;
mod neurite;
mod peer;
mod report;
mod spec;

use std::path::PathBuf;

use clap::Args;
use neurite_datasets::data_dir::resolve_data_dir;

use self::neurite::RunOptions;
use self::peer::Peer;
use self::report::WorkloadReport;
use self::spec::Workload;

/// Which peer to compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compare {
    /// PyTorch for W1-W5 (and numpy for W6-W7).
    Pytorch,
    /// numpy for W6-W7 only.
    Numpy,
}

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
    /// Also run the workloads in a peer, interleaved with neurite's runs.
    #[arg(long, value_enum)]
    pub compare: Option<Compare>,
    /// Python interpreter for the peer.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
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
    let peers: Option<(Option<Peer>, Peer)> = match args.compare {
        None => None,
        Some(Compare::Pytorch) => Some((
            Some(Peer::find(&args.python, "pytorch")?),
            Peer::find(&args.python, "numpy")?,
        )),
        Some(Compare::Numpy) => Some((None, Peer::find(&args.python, "numpy")?)),
    };
    let opts = RunOptions {
        data_dir: &data_dir,
        epochs: args.epochs.max(1),
        accuracy: args.accuracy,
        seed: 0,
    };
    let mut reports = Vec::new();
    for &w in &workloads {
        let peer = peers.as_ref().and_then(|(torch, numpy)| match w.peer() {
            "pytorch" => torch.as_ref(),
            _ => Some(numpy),
        });
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for r in 0..args.repeat {
            eprintln!("{} {} run {}/{}: neurite", w.id(), w.name(), r + 1, args.repeat);
            ours.push(neurite::run(w, &opts).map_err(|e| format!("{}: {e}", w.id()))?);
            if let Some(p) = peer {
                eprintln!("{} {} run {}/{}: {}", w.id(), w.name(), r + 1, args.repeat, w.peer());
                theirs.push(p.run(w, &data_dir, args.threads, opts.epochs, args.accuracy)?);
            }
        }
        reports.push(WorkloadReport::new(w, ours, theirs, peer.is_some()));
    }
    println!(
        "\n{} threads, {} repeats, epochs {}; times in seconds (W3/W4: timed steps, W6: to first batch, W7: one 1024³ product)\n",
        args.threads, args.repeat, opts.epochs
    );
    report::print_table(&reports);
    report::write_json(&args.json, &reports)?;
    println!("\nwrote {}", args.json.display());
    if let Some(plot) = &args.plot {
        report::write_plot(plot, &reports)?;
        println!("wrote {}", plot.display());
    }
    Ok(())
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
