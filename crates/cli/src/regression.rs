//! CSV regression (`--task regression`): a minimal, private training loop on the mean squared
//! error, and its evaluation.
//!
//! Stopgap: `neurite_nn::train::fit` knows only cross-entropy on class labels in this build;
//! when `fit` takes the loss (`FitOptions { loss: Loss::Mse, .. }`), this loop goes and the
//! regression run goes through `fit` like every other run. Targets are standardised with the
//! training rows' mean and std (stored under [`TARGET_KEY`]), and predictions mapped back,
//! so the reported errors are in the targets' own units.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use neurite_datasets::csv::{Standardize, Table, TableLoader};
use neurite_nn::loss::mse_loss;
use neurite_nn::optim::Optimizer;
use neurite_nn::spec::{ModelSpec, METADATA_KEY};
use neurite_nn::{serialize, Module, Sequential};
use neurite_tensor::{no_grad, seeded_rng, Tensor};
use serde_json::json;

use crate::cli::{EvalArgs, TrainArgs};
use crate::data::OpenedTable;
use crate::error::{CliError, CliResult};
use crate::model::{spec_from_flags, ModelFlags};
use crate::output::{outln, plural};
use crate::source::{DATA_KEY, STANDARDIZE_KEY};

/// Metadata key of the targets' standardisation (`{"mean": [m], "std": [s]}`).
pub const TARGET_KEY: &str = "neurite.target_standardize";

/// Mean squared and mean absolute error of `model` on `table` (features standardised with
/// `features`, predictions mapped back with `targets`), in the targets' units.
pub fn errors(model: &mut Sequential, table: &Table, features: &Standardize, targets: &Standardize) -> (f64, f64) {
    let loader = TableLoader::new(&table.standardized(features), 1000);
    let (mut se, mut ae, mut n) = (0f64, 0f64, 0usize);
    rayon::scope(|_| {
        no_grad(|| {
            for batch in loader.epoch(0) {
                let pred = model.forward(&batch.images).to_vec();
                let truth = batch.targets.as_ref().expect("a regression table has targets").to_vec();
                for (p, t) in pred.iter().zip(&truth) {
                    let p = f64::from(*p) * f64::from(targets.std[0]) + f64::from(targets.mean[0]);
                    let d = p - f64::from(*t);
                    se += d * d;
                    ae += d.abs();
                    n += 1;
                }
            }
        })
    });
    (se / n.max(1) as f64, ae / n.max(1) as f64)
}

/// The table with its targets standardised by `s` (one mean, one std).
fn scaled_targets(table: &Table, s: &Standardize) -> Vec<f32> {
    table
        .targets()
        .expect("a regression table has targets")
        .iter()
        .map(|t| (t - s.mean[0]) / s.std[0])
        .collect()
}

/// The targets' mean and std on the training rows.
fn fit_targets(table: &Table) -> Standardize {
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

/// Trains an MLP with one output on the table's training rows and saves it like `train` does
/// (model.safetensors with the data record and both standardisations, metrics.json).
pub fn train(
    args: &TrainArgs,
    lr: f32,
    table: &OpenedTable,
    mut optimizer: impl FnMut(Vec<Tensor>) -> Box<dyn Optimizer>,
) -> CliResult {
    let set = &table.set;
    // One output: the predicted value.
    let spec = spec_from_flags(
        ModelFlags {
            model: args.model.model.as_deref(),
            layers: args.model.layers.as_deref(),
            hidden: args.model.hidden.as_deref(),
        },
        &[set.train.num_features()],
        Some(1),
    )?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/{}-{}", args.dataset.short_name(), spec.name())));
    fs::create_dir_all(&out).map_err(|e| CliError::new(format!("--out {}: cannot create: {e}", out.display())))?;
    let target_scale = fit_targets(&set.train);
    let features = set.train.standardized(&set.standardize);
    let targets = scaled_targets(&set.train, &target_scale);
    let loader = TableLoader::new(&features, args.batch_size).shuffle(args.seed);
    let mut model = spec.logits_spec().build(&mut seeded_rng(args.seed));
    let mut opt = optimizer(model.parameters());
    outln!(
        "training {} ({} parameters) for regression on {} ({} train / {} test rows), lr {lr}, batch {}, {}",
        spec.name(),
        model.num_parameters(),
        set.info.display_name,
        set.train.len(),
        set.test.len(),
        args.batch_size,
        plural(args.epochs, "epoch", "epochs"),
    )?;
    let mut epochs = Vec::new();
    outln!(
        "\n{:>5}  {:>10}  {:>10}  {:>10}  {:>8}",
        "epoch",
        "train mse",
        "test mse",
        "test mae",
        "seconds"
    )?;
    for epoch in 0..args.epochs {
        model.set_training(true);
        let start = Instant::now();
        let (mut sum, mut seen) = (0f64, 0usize);
        let failed = rayon::scope(|_| {
            for batch in loader.epoch(epoch as u64) {
                let y: Vec<f32> = batch.indices.iter().map(|&i| targets[i]).collect();
                let y = Tensor::from_vec(y, &[batch.len(), 1]).expect("B targets");
                opt.zero_grad();
                let loss = mse_loss(&model.forward(&batch.images), &y);
                let value = loss.item();
                if !value.is_finite() {
                    return Some(value);
                }
                loss.backward();
                drop(loss);
                opt.step();
                sum += f64::from(value) * batch.len() as f64;
                seen += batch.len();
            }
            None
        });
        if let Some(value) = failed {
            opt.zero_grad();
            return Err(CliError::new(format!(
                "the loss became {value} in epoch {}: lower --lr; nothing saved",
                epoch + 1
            )));
        }
        let seconds = start.elapsed().as_secs_f64();
        model.set_training(false);
        let scale = f64::from(target_scale.std[0]).powi(2);
        let train_mse = sum / seen.max(1) as f64 * scale;
        let (test_mse, test_mae) = errors(&mut model, &set.test, &set.standardize, &target_scale);
        outln!(
            "{:>5}  {train_mse:>10.4}  {test_mse:>10.4}  {test_mae:>10.4}  {seconds:>8.2}",
            epoch + 1
        )?;
        epochs.push(json!({
            "epoch": epoch + 1,
            "train_mse": train_mse,
            "test_mse": test_mse,
            "test_mae": test_mae,
            "seconds": seconds,
        }));
    }
    let mut metadata = HashMap::new();
    metadata.insert(METADATA_KEY.to_string(), spec.to_metadata());
    metadata.insert(DATA_KEY.to_string(), table.record.to_json());
    metadata.insert(STANDARDIZE_KEY.to_string(), set.standardize.to_json());
    metadata.insert(TARGET_KEY.to_string(), target_scale.to_json());
    let weights = out.join("model.safetensors");
    serialize::save(&model, &weights, &metadata)
        .map_err(|e| CliError::new(format!("cannot save {}: {e}", weights.display())))?;
    let settings = json!({
        "dataset": set.info.source.to_string(),
        "task": "regression",
        "model": spec.name(),
        "architecture": spec.to_metadata(),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": lr,
        "seed": args.seed,
    });
    crate::commands::train::write_json(
        &out.join("metrics.json"),
        &json!({ "settings": settings, "epochs": epochs }),
    )?;
    outln!("saved {} and metrics.json in {}", weights.display(), out.display())
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
