//! CSV regression (`--task regression`): the targets' standardisation, and `neurite eval` of
//! a regression model.
//!
//! Training goes through the common path (`commands/train/`) with `Loss::Mse`: the targets
//! are standardised with the training rows' mean and std ([`fit_targets`], stored under
//! [`TARGET_KEY`]) and `FitOptions::target_std` reports the losses and metrics in the
//! targets' own units. [`eval`] measures a saved model the same way (the same batches, the
//! same `evaluate_with`), so it reproduces the last `test_mse`/`test_mae` of metrics.json.

use std::path::Path;

use neurite_datasets::csv::{Standardize, Table, TableLoader};
use neurite_datasets::Batch;
use neurite_nn::spec::ModelSpec;
use neurite_nn::train::{evaluate_with, Batch as TrainBatch, Loss, Metric};
use neurite_nn::{serialize, Sequential};
use neurite_tensor::Tensor;
use serde_json::json;

use crate::cli::EvalArgs;
use crate::data::OpenedTable;
use crate::error::{CliError, CliResult};
use crate::output::outln;
use crate::source::STANDARDIZE_KEY;

/// Metadata key of the targets' standardisation (`{"mean": [m], "std": [s]}`).
pub const TARGET_KEY: &str = "neurite.target_standardize";

/// Rows per batch when a table is evaluated (the test rows in `train` and in `eval`).
pub const EVAL_BATCH: usize = 1000;

/// The targets' mean and std on the training rows (std 1 for constant targets).
///
/// # Panics
/// When the table has no targets (not a regression table).
pub fn fit_targets(table: &Table) -> Standardize {
    let t = table.targets().expect("a regression table has targets");
    let n = t.len().max(1) as f64;
    let mean = t.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = t.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    let std = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
    Standardize {
        mean: vec![mean as f32],
        std: vec![std as f32],
    }
}

/// A table's batch as a training batch, its targets (if any) standardised by `scale`.
pub fn scaled_batch(b: Batch, scale: Option<&Standardize>) -> TrainBatch {
    let targets = match (b.targets, scale) {
        (Some(t), Some(s)) => {
            let values = t.to_vec().iter().map(|v| (v - s.mean[0]) / s.std[0]).collect();
            Some(Tensor::from_vec(values, &t.shape()).expect("same shape"))
        }
        (t, _) => t,
    };
    TrainBatch {
        inputs: b.images,
        labels: b.labels,
        targets,
    }
}

/// Mean squared and mean absolute error of `model` on `table` (features standardised with
/// `features`, targets with `targets`), in the targets' units: what `train` reports for its
/// test rows.
pub fn errors(model: &mut Sequential, table: &Table, features: &Standardize, targets: &Standardize) -> (f64, f64) {
    let loader = TableLoader::new(&table.standardized(features), EVAL_BATCH);
    let stats = rayon::scope(|_| {
        evaluate_with(
            model,
            loader.epoch(0).map(|b| scaled_batch(b, Some(targets))),
            Loss::Mse,
            &[Metric::Mse, Metric::Mae],
        )
    })
    .in_target_units(Loss::Mse, Some(targets.std[0]));
    // As f64 like metrics.json's records, so the two print the same numbers.
    (f64::from(stats.metrics[0].1), f64::from(stats.metrics[1].1))
}

/// The targets' standardisation a weights file keeps.
///
/// # Errors
/// A message naming the file when it is absent or malformed.
pub fn recorded_target_scale(weights: &Path) -> CliResult<Standardize> {
    let header = serialize::read_header(weights).map_err(|e| CliError::new(e.to_string()))?;
    let text = header.metadata.get(TARGET_KEY).ok_or_else(|| {
        CliError::new(format!(
            "{}: no `{TARGET_KEY}` metadata: not a regression model saved by `neurite train`",
            weights.display()
        ))
    })?;
    Standardize::from_json(text, 1)
        .map_err(|e| CliError::new(format!("{}: bad `{TARGET_KEY}` metadata: {e}", weights.display())))
}

/// `neurite eval` of a regression model on its table's test rows: MSE and MAE.
pub fn eval(
    args: &EvalArgs,
    spec: &ModelSpec,
    model: &mut Sequential,
    table: &OpenedTable,
    standardize: Option<Standardize>,
) -> CliResult {
    let set = &table.set;
    if spec.input_shape() != [set.test.num_features()] || spec.output_shape() != [1] {
        return Err(CliError::new(format!(
            "{} is a {} for input {:?} with {} outputs, but regression on {} needs {} inputs and 1 output",
            args.weights.display(),
            spec.name(),
            spec.input_shape(),
            spec.classes(),
            set.info.display_name,
            set.test.num_features()
        )));
    }
    let standardize = standardize
        .ok_or_else(|| CliError::new(format!("{}: no `{STANDARDIZE_KEY}` metadata", args.weights.display())))?;
    let target_scale = recorded_target_scale(&args.weights)?;
    let (mse, mae) = errors(model, &set.test, &standardize, &target_scale);
    if args.json {
        let value = json!({
            "weights": args.weights.display().to_string(),
            "dataset": set.info.source.to_string(),
            "task": "regression",
            "samples": set.test.len(),
            "mse": mse,
            "mae": mae,
        });
        return outln!("{}", serde_json::to_string(&value)?);
    }
    outln!(
        "{} on {} test ({} rows): mean squared error {mse:.4}, mean absolute error {mae:.4}",
        spec.name(),
        set.info.display_name,
        set.test.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_batch_standardises_the_targets_only() {
        let batch = Batch {
            images: Tensor::from_vec(vec![1.0, 2.0], &[2, 1]).unwrap(),
            labels: Vec::new(),
            one_hot: None,
            indices: vec![0, 1],
            targets: Some(Tensor::from_vec(vec![10.0, 16.0], &[2, 1]).unwrap()),
        };
        let s = Standardize {
            mean: vec![12.0],
            std: vec![2.0],
        };
        let b = scaled_batch(batch, Some(&s));
        assert_eq!(b.targets.unwrap().to_vec(), [-1.0, 2.0]);
        assert_eq!(b.inputs.to_vec(), [1.0, 2.0]);
    }
}
