//! The results table, `target/bench/workloads.json` and the ratio chart.

use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;

use super::measure::{Measurement, Summary};
use super::spec::Workload;

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
    /// The peer, when compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<&'static str>,
    /// The peer's runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peer_runs: Vec<Measurement>,
    /// The peer's timed quantity (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_seconds: Option<Summary>,
    /// Median neurite time / median peer time (below 1 means neurite is faster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// The target for `ratio`.
    pub target_ratio: f64,
}

impl WorkloadReport {
    /// Builds the report, computing summaries and the ratio.
    pub fn new(
        workload: Workload,
        neurite: Vec<Measurement>,
        peer_runs: Vec<Measurement>,
        compared: bool,
    ) -> WorkloadReport {
        let secs = |runs: &[Measurement]| Summary::of(&runs.iter().map(|m| m.seconds).collect::<Vec<_>>());
        let neurite_seconds = secs(&neurite);
        let peer_seconds = secs(&peer_runs);
        let ratio = match (neurite_seconds, peer_seconds) {
            (Some(a), Some(b)) if b.median > 0.0 => Some(a.median / b.median),
            _ => None,
        };
        WorkloadReport {
            workload: workload.id(),
            name: workload.name(),
            neurite,
            neurite_seconds,
            peer: compared.then_some(workload.peer()),
            peer_runs,
            peer_seconds,
            ratio,
            target_ratio: workload.target_ratio(),
        }
    }
}

fn median_of(runs: &[Measurement], f: impl Fn(&Measurement) -> Option<f64>) -> Option<f64> {
    Summary::of(&runs.iter().filter_map(f).collect::<Vec<_>>()).map(|s| s.median)
}

fn fmt_summary(s: Option<Summary>) -> String {
    s.map_or("-".to_string(), |s| {
        format!("{:.4} ({:.4}-{:.4})", s.median, s.min, s.max)
    })
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

/// Prints the results as a Markdown table (pasteable into docs/benchmarks.md).
pub fn print_table(reports: &[WorkloadReport]) {
    println!("| workload | neurite s, median (min-max) | neurite | peer | peer s, median (min-max) | peer | ratio | target |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in reports {
        let ratio = r.ratio.map_or("-".to_string(), |x| {
            let ok = if x <= r.target_ratio { "ok" } else { "missed" };
            format!("{x:.2} ({ok})")
        });
        println!(
            "| {} {} | {} | {} | {} | {} | {} | {} | <= {:.2} |",
            r.workload,
            r.name,
            fmt_summary(r.neurite_seconds),
            extras(&r.neurite),
            r.peer.unwrap_or("-"),
            fmt_summary(r.peer_seconds),
            extras(&r.peer_runs),
            ratio,
            r.target_ratio
        );
    }
}

/// Writes the reports as JSON, atomically ([`neurite_tensor::atomic_file`]).
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())? + "\n";
    neurite_tensor::atomic_file::write(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Draws the ratios (bars) against their targets (marks) as an SVG bar chart.
pub fn write_plot(path: &Path, reports: &[WorkloadReport]) -> Result<(), String> {
    let rows: Vec<(&str, f64, f64)> = reports
        .iter()
        .filter_map(|r| r.ratio.map(|x| (r.workload, x, r.target_ratio)))
        .collect();
    if rows.is_empty() {
        return Err("--plot needs --compare: there are no ratios to draw".to_string());
    }
    let fail = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let root = SVGBackend::new(path, (760, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let top = rows.iter().map(|r| r.1.max(r.2)).fold(1.0f64, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "neurite / peer time (lower is better); black line = target",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d((0..rows.len()).into_segmented(), 0.0..top)
        .map_err(|e| fail(&e))?;
    let labels: Vec<String> = rows.iter().map(|r| r.0.to_string()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len() + 1)
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
