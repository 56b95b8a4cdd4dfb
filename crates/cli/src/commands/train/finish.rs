//! The end of a run: the table, `metrics.json`, `curves.svg`, and what an interrupted or
//! diverged run says.

use std::path::Path;

use neurite_nn::train::checkpoint::CheckpointInfo;
use neurite_nn::train::{EpochStats, FitReport, Metric, TrainError};

use crate::error::{CliError, CliResult};
use crate::metrics_file::EpochRecord;
use crate::output::{outln, plural};

/// What an interrupted run says: where it stopped (counted from 1, like the table), what was
/// saved, and how to continue. `at` is the (epoch index, batches) of a mid-epoch checkpoint.
pub fn interrupted_message(
    report: &FitReport,
    at: Option<(usize, usize)>,
    checkpoint_epochs: Option<usize>,
    out: &Path,
) -> String {
    let resume = format!("continue with `neurite train --resume {}`", out.display());
    match (report.epochs.last(), at) {
        (Some(_), Some((epoch, batches))) => format!(
            "interrupted in epoch {} after {} of it; saved the model and a checkpoint of that point (the table has the {} before); {resume}",
            epoch + 1,
            plural(batches, "batch", "batches"),
            plural(epoch, "complete epoch", "complete epochs"),
        ),
        (Some(last), None) => format!(
            "interrupted after epoch {}; saved the model and the checkpoint of {}; {resume}",
            last.epoch + 1,
            plural(checkpoint_epochs.unwrap_or(0), "complete epoch", "complete epochs"),
        ),
        (None, _) => format!("interrupted before the first batch; saved the model and the checkpoint; {resume}"),
    }
}

/// What a diverged run says: where, and which checkpoint's weights were saved instead.
pub fn divergence_message(e: &TrainError, kept: &CheckpointInfo) -> String {
    let what = match e {
        TrainError::NonFiniteLoss { epoch, batch, loss, .. } => {
            format!("loss is {loss} at epoch {}, batch {}", epoch + 1, batch + 1)
        }
        TrainError::NonFiniteGradient { epoch, batch, norm, .. } => {
            format!("gradient norm is {norm} at epoch {}, batch {}", epoch + 1, batch + 1)
        }
        TrainError::Callback { .. } => return e.to_string(),
    };
    let from = match (kept.epochs_done, kept.batches_done) {
        (0, 0) => "the initial weights (no epoch had finished)".to_string(),
        (e, 0) => format!("the weights of the last finite checkpoint, from the end of epoch {e}"),
        (e, b) => format!(
            "the weights of the last finite checkpoint, from epoch {} after {}",
            e + 1,
            plural(b, "batch", "batches")
        ),
    };
    format!("training diverged: {what} (counted from 1; try a lower learning rate); saved {from}")
}

/// What early stopping says when it put an earlier epoch's weights back.
pub fn early_stopping_message(report: &FitReport, patience: usize) -> Option<String> {
    let best = report.restored_epoch? + 1;
    Some(if report.stopped_early {
        format!(
            "early stopping: the validation loss did not improve for {}; the saved model has the weights of epoch {best}",
            plural(patience, "epoch", "epochs")
        )
    } else {
        format!("the validation loss was lowest after epoch {best}; the saved model has its weights")
    })
}

/// Completed epochs as metrics.json records (1-based epoch numbers, fractions for accuracy).
pub fn records(report: &FitReport) -> Vec<EpochRecord> {
    report
        .epochs
        .iter()
        .filter(|e| e.completed)
        .map(|e: &EpochStats| EpochRecord {
            epoch: e.epoch + 1,
            train_loss: e.train_loss as f64,
            train_accuracy: e.train_accuracy as f64,
            val_loss: e.val_loss.map_or(f64::NAN, f64::from),
            val_accuracy: e.val_accuracy.map_or(f64::NAN, f64::from),
            test_loss: e.test_loss.map_or(f64::NAN, f64::from),
            test_accuracy: e.test_accuracy.map_or(f64::NAN, f64::from),
            seconds: e.seconds,
            metrics: [
                ("train", &e.train_metrics),
                ("val", &e.val_metrics),
                ("test", &e.test_metrics),
            ]
            .into_iter()
            .flat_map(|(split, values)| {
                values
                    .iter()
                    .filter(|(m, _)| *m != Metric::Accuracy)
                    .map(move |(m, v)| (format!("{split}_{}", m.name()), f64::from(*v)))
            })
            .collect(),
        })
        .collect()
}

/// Prints the epochs as a table: loss and accuracy per split, or for a regression (records
/// with `train_mse`) MSE and MAE in the targets' units; validation columns only for runs with
/// a validation split.
pub fn print_table(records: &[EpochRecord]) -> CliResult {
    let val = records.iter().any(|r| r.val_loss.is_finite());
    let regression = records.iter().any(|r| r.metrics.contains_key("train_mse"));
    let metric = |r: &EpochRecord, key: &str| r.metrics.get(key).map_or(f64::NAN, |v| *v);
    type Cell = Box<dyn Fn(&EpochRecord) -> String>;
    type Field = fn(&EpochRecord) -> f64;
    let mut columns: Vec<(String, Cell)> = vec![("epoch".into(), Box::new(|r| r.epoch.to_string()))];
    for split in ["train", "val", "test"] {
        if split == "val" && !val {
            continue;
        }
        if regression {
            for m in ["mse", "mae"] {
                let key = format!("{split}_{m}");
                columns.push((
                    format!("{split} {m}"),
                    Box::new(move |r| format!("{:.4}", metric(r, &key))),
                ));
            }
        } else {
            let (loss, acc): (Field, Field) = match split {
                "train" => (|r| r.train_loss, |r| r.train_accuracy),
                "val" => (|r| r.val_loss, |r| r.val_accuracy),
                _ => (|r| r.test_loss, |r| r.test_accuracy),
            };
            columns.push((format!("{split} loss"), Box::new(move |r| format!("{:.4}", loss(r)))));
            columns.push((format!("{split} acc"), Box::new(move |r| percent(acc(r)))));
        }
    }
    columns.push(("seconds".into(), Box::new(|r| format!("{:.2}", r.seconds))));
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| if i == 0 { format!("{c:>5}") } else { format!("{c:>10}") })
            .collect::<Vec<_>>()
            .join("  ")
    };
    outln!("\n{}", line(columns.iter().map(|(h, _)| h.clone()).collect()))?;
    for r in records {
        outln!("{}", line(columns.iter().map(|(_, cell)| cell(r)).collect()))?;
    }
    Ok(())
}

/// An accuracy as `97.25%`, or `-` where none was measured (a regression loss).
fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.2}%", fraction * 100.0)
    } else {
        "-".to_string()
    }
}

/// Writes JSON atomically ([`neurite_tensor::atomic_file`]), so no partial file is left behind.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value)? + "\n";
    neurite_tensor::atomic_file::write(path, text.as_bytes())
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_regression_metrics_by_split_and_skip_incomplete_epochs() {
        let epoch = |epoch, completed| EpochStats {
            epoch,
            train_loss: 0.5,
            train_accuracy: f32::NAN,
            train_metrics: vec![(Metric::Mse, 0.5), (Metric::Mae, 0.25)],
            val_loss: Some(0.75),
            val_accuracy: None,
            val_metrics: vec![(Metric::Mse, 0.75), (Metric::Mae, 0.5)],
            test_loss: None,
            test_accuracy: None,
            test_metrics: Vec::new(),
            images: 10,
            batches: 1,
            seconds: 1.0,
            eval_seconds: 0.0,
            completed,
        };
        let report = FitReport {
            epochs: vec![epoch(0, true), epoch(1, false)],
            ..FitReport::default()
        };
        let r = records(&report);
        assert_eq!(r.len(), 1);
        let names: Vec<(&str, f64)> = r[0].metrics.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            names,
            [
                ("train_mae", 0.25),
                ("train_mse", 0.5),
                ("val_mae", 0.5),
                ("val_mse", 0.75)
            ]
        );
        assert!(r[0].train_accuracy.is_nan() && r[0].test_loss.is_nan());
        // NaN is written as null and read back as NaN.
        let text = serde_json::to_string(&r[0]).unwrap();
        let back: EpochRecord = serde_json::from_str(&text).unwrap();
        assert!(back.train_accuracy.is_nan() && back.metrics == r[0].metrics);
    }
}
