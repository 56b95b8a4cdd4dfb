//! The results tables, `target/bench/workloads.json` and the ratio chart.

use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;

use super::machine::Machine;
use super::measure::{Measurement, Summary};
use super::peer::PeerKind;
use super::spec::Workload;

/// One peer's runs of a workload and how neurite compares.
#[derive(Debug, Serialize)]
pub struct PeerReport {
    /// Which peer.
    pub peer: PeerKind,
    /// Its runs.
    pub runs: Vec<Measurement>,
    /// Its timed quantity (seconds).
    pub seconds: Option<Summary>,
    /// Median neurite time / median peer time (below 1 means neurite is faster).
    pub ratio: Option<f64>,
    /// The target for `ratio`, where one is set.
    pub target: Option<f64>,
    /// W7: the same ratio at 64x784x128 (from the GFLOP/s), and its target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_64x784x128: Option<f64>,
    /// W7: the target for `ratio_64x784x128`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_64x784x128: Option<f64>,
}

/// Everything measured for one workload.
#[derive(Debug, Serialize)]
pub struct WorkloadReport {
    /// `W1` ... `W7`.
    pub workload: &'static str,
    /// The spec's name.
    pub name: &'static str,
    /// neurite's runs.
    pub neurite: Vec<Measurement>,
    /// neurite's timed quantity (seconds).
    pub neurite_seconds: Option<Summary>,
    /// The physical floor of the timed quantity: its FLOPs at the machine's peak.
    pub floor_seconds: Option<f64>,
    /// Median neurite time / floor (1 would be the peak).
    pub floor_ratio: Option<f64>,
    /// The peers compared.
    pub peers: Vec<PeerReport>,
}

/// The whole run: the machine and every workload.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// Repeats per workload and runner.
    pub repeat: usize,
    /// The workloads.
    pub workloads: Vec<WorkloadReport>,
}

fn seconds(runs: &[Measurement]) -> Option<Summary> {
    Summary::of(&runs.iter().map(|m| m.seconds).collect::<Vec<_>>())
}

fn median_of(runs: &[Measurement], f: impl Fn(&Measurement) -> Option<f64>) -> Option<f64> {
    Summary::of(&runs.iter().filter_map(f).collect::<Vec<_>>()).map(|s| s.median)
}

impl WorkloadReport {
    /// Builds the report: summaries, ratios to each peer and to the physical floor.
    pub fn new(
        workload: Workload,
        neurite: Vec<Measurement>,
        peers: Vec<(PeerKind, Vec<Measurement>)>,
        machine: &Machine,
    ) -> WorkloadReport {
        let neurite_seconds = seconds(&neurite);
        let floor_seconds = match (workload.flops(), machine.peak_gflops) {
            (Some(f), Some(p)) if p > 0.0 => Some(f / (p * 1e9)),
            _ => None,
        };
        let floor_ratio = neurite_seconds.zip(floor_seconds).map(|(s, f)| s.median / f);
        let our_small = median_of(&neurite, |m| m.gflops_small);
        let peers = peers
            .into_iter()
            .map(|(peer, runs)| {
                let peer_seconds = seconds(&runs);
                let ratio = match (neurite_seconds, peer_seconds) {
                    (Some(a), Some(b)) if b.median > 0.0 => Some(a.median / b.median),
                    _ => None,
                };
                let w7 = workload == Workload::W7 && peer == PeerKind::Numpy;
                let ratio_small = match (our_small, median_of(&runs, |m| m.gflops_small)) {
                    (Some(ours), Some(theirs)) if ours > 0.0 => Some(theirs / ours),
                    _ => None,
                };
                PeerReport {
                    peer,
                    seconds: peer_seconds,
                    ratio,
                    target: workload.target(peer),
                    ratio_64x784x128: ratio_small,
                    target_64x784x128: w7.then_some(Workload::W7_SMALL_TARGET),
                    runs,
                }
            })
            .collect();
        WorkloadReport {
            workload: workload.id(),
            name: workload.name(),
            neurite,
            neurite_seconds,
            floor_seconds,
            floor_ratio,
            peers,
        }
    }
}

fn fmt_summary(s: Option<Summary>) -> String {
    s.map_or("-".to_string(), |s| {
        format!("{:.4} ({:.4}-{:.4})", s.median, s.min, s.max)
    })
}

fn fmt_ratio(ratio: Option<f64>, target: Option<f64>) -> (String, String) {
    let r = match (ratio, target) {
        (Some(x), Some(t)) => format!("{x:.2} ({})", if x <= t { "ok" } else { "missed" }),
        (Some(x), None) => format!("{x:.2}"),
        _ => "-".to_string(),
    };
    (r, target.map_or("-".to_string(), |t| format!("<= {t:.2}")))
}

/// Extra figures per workload (accuracy, images/s, GFLOP/s, ms to first batch).
fn extras(runs: &[Measurement]) -> String {
    let mut parts = Vec::new();
    if let Some(a) = median_of(runs, |m| m.accuracy) {
        parts.push(format!("acc {:.2}%", a * 100.0));
    }
    if let Some(v) = median_of(runs, |m| m.images_per_second) {
        parts.push(format!("{v:.0} img/s"));
    }
    if let Some(v) = median_of(runs, |m| m.first_batch_ms) {
        parts.push(format!("first batch {v:.2} ms"));
    }
    if let Some(v) = median_of(runs, |m| m.full_pass_seconds) {
        parts.push(format!("full pass {v:.3} s"));
    }
    if let Some(v) = median_of(runs, |m| m.gflops_large) {
        parts.push(format!("1024³ {v:.1} GFLOP/s"));
    }
    if let Some(v) = median_of(runs, |m| m.gflops_small) {
        parts.push(format!("64x784x128 {v:.1} GFLOP/s"));
    }
    parts.join(", ")
}

fn peer_label(p: &PeerReport) -> String {
    match p.runs.iter().find_map(|m| m.version.as_deref()) {
        Some(v) => format!("{} {v}", p.peer.name()),
        None => p.peer.name().to_string(),
    }
}

/// Prints the machine, neurite's results against the physical floor and the side-by-side
/// ratios to every peer, as Markdown tables (pasteable into docs/benchmarks.md).
pub fn print_tables(report: &Report) {
    println!("{}", report.machine.describe());
    let blas = report
        .workloads
        .iter()
        .flat_map(|w| &w.peers)
        .flat_map(|p| &p.runs)
        .find_map(|m| m.blas.as_deref());
    if let Some(blas) = blas {
        println!("numpy's BLAS: {blas}");
    }
    println!("\n| workload | neurite s, median (min-max) | neurite | floor s | neurite / floor |");
    println!("|---|---|---|---|---|");
    for r in &report.workloads {
        println!(
            "| {} {} | {} | {} | {} | {} |",
            r.workload,
            r.name,
            fmt_summary(r.neurite_seconds),
            extras(&r.neurite),
            r.floor_seconds.map_or("-".to_string(), |f| format!("{f:.4}")),
            r.floor_ratio.map_or("-".to_string(), |x| format!("{x:.2}")),
        );
    }
    if report.workloads.iter().all(|w| w.peers.is_empty()) {
        return;
    }
    println!("\n| workload | peer | peer s, median (min-max) | peer | neurite / peer | target |");
    println!("|---|---|---|---|---|---|");
    for r in &report.workloads {
        for p in &r.peers {
            let (ratio, target) = fmt_ratio(p.ratio, p.target);
            println!(
                "| {} {} | {} | {} | {} | {ratio} | {target} |",
                r.workload,
                r.name,
                peer_label(p),
                fmt_summary(p.seconds),
                extras(&p.runs),
            );
            if p.target_64x784x128.is_some() {
                let (ratio, target) = fmt_ratio(p.ratio_64x784x128, p.target_64x784x128);
                println!(
                    "| {} 64x784x128 | {} | - | (GFLOP/s ratio) | {ratio} | {target} |",
                    r.workload,
                    peer_label(p)
                );
            }
        }
    }
}

/// Writes the report as JSON, atomically ([`neurite_tensor::atomic_file`]).
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())? + "\n";
    neurite_tensor::atomic_file::write(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Draws every ratio that has a target (bars) against the target (marks) as an SVG chart.
pub fn write_plot(path: &Path, report: &Report) -> Result<(), String> {
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    for w in &report.workloads {
        for p in &w.peers {
            if let (Some(x), Some(t)) = (p.ratio, p.target) {
                rows.push((format!("{} {}", w.workload, p.peer.name()), x, t));
            }
            if let (Some(x), Some(t)) = (p.ratio_64x784x128, p.target_64x784x128) {
                rows.push((format!("{} small {}", w.workload, p.peer.name()), x, t));
            }
        }
    }
    if rows.is_empty() {
        return Err("--plot needs --compare with a peer that has targets: there are no ratios to draw".to_string());
    }
    let fail = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let width = (120 + 70 * rows.len() as u32).max(560);
    let root = SVGBackend::new(path, (width, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let top = rows.iter().map(|r| r.1.max(r.2)).fold(1.0f64, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "neurite / peer time (lower is better); black line = target",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(48)
        .build_cartesian_2d((0..rows.len()).into_segmented(), 0.0..top)
        .map_err(|e| fail(&e))?;
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len() + 1)
        .x_label_style(("sans-serif", 11))
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_desc("ratio")
        .draw()
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            let color = if r.1 <= r.2 { GREEN.mix(0.7) } else { RED.mix(0.7) };
            Rectangle::new(
                [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), r.1)],
                color.filled(),
            )
        }))
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            PathElement::new(
                vec![(SegmentValue::Exact(i), r.2), (SegmentValue::Exact(i + 1), r.2)],
                BLACK.stroke_width(3),
            )
        }))
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}
