//! `neurite train`: trains a bench-spec model with live progress, then writes
//! model.safetensors, metrics.json and curves.svg (and, with `--tensorboard DIR`, a
//! TensorBoard event file with the same values).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use neurite_datasets::Layout;
use neurite_nn::models::{ModelSpec, METADATA_KEY};
use neurite_nn::optim::{Adam, AdamW, Optimizer, Sgd};
use neurite_nn::serialize;
use neurite_nn::tensorboard::TensorBoardLogger;
use neurite_nn::train::{fit_with, EpochStats, FitOptions, FitReport, TrainCallback, TrainError};
use neurite_nn::Module;
use neurite_tensor::seeded_rng;
use serde_json::json;

use crate::cli::{OptimizerName, TrainArgs};
use crate::data::{self, OpenedAny};
use crate::error::{CliError, CliResult};
use crate::metrics_file::{EpochRecord, MetricsFile};
use crate::model::{spec_from_args, DATASET_KEY};
use crate::output::{outln, plural};
use crate::plot::write_curves;
use crate::progress::{install_ctrl_c, Progress};
use crate::source::{DATA_KEY, STANDARDIZE_KEY};
use crate::train_data::Loaders;

/// The learning rate used when `--lr` is not given.
pub fn default_lr(optimizer: OptimizerName) -> f32 {
    match optimizer {
        OptimizerName::Sgd => 0.1,
        OptimizerName::Momentum => 0.01,
        OptimizerName::Adam | OptimizerName::Adamw => 1e-3,
    }
}

fn optimizer(name: OptimizerName, params: Vec<neurite_tensor::Tensor>, lr: f32) -> Box<dyn Optimizer> {
    match name {
        OptimizerName::Sgd => Box::new(Sgd::new(params, lr)),
        OptimizerName::Momentum => Box::new(Sgd::new(params, lr).with_momentum(0.9)),
        OptimizerName::Adam => Box::new(Adam::new(params, lr)),
        OptimizerName::Adamw => Box::new(AdamW::new(params, lr)),
    }
}

fn check_args(args: &TrainArgs) -> CliResult<f32> {
    if args.epochs == 0 {
        return Err(CliError::usage("--epochs must be at least 1"));
    }
    if args.batch_size == 0 {
        return Err(CliError::usage("--batch-size must be at least 1"));
    }
    if args.threads == Some(0) {
        return Err(CliError::usage("--threads must be at least 1"));
    }
    let lr = args.lr.unwrap_or_else(|| default_lr(args.optimizer));
    if !(lr.is_finite() && lr > 0.0) {
        return Err(CliError::usage(format!("--lr must be a positive number, got {lr}")));
    }
    Ok(lr)
}

/// Runs `neurite train`.
pub fn run(args: &TrainArgs) -> CliResult {
    let lr = check_args(args)?;
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| CliError::new(format!("--threads {n}: {e}")))?;
    }
    let opened = data::open_any(&args.dataset, &args.source, args.data.data_dir.as_deref())?;
    let (info, embedded, record, standardize) = match &opened {
        OpenedAny::Images(o, record) => (o.data.info.clone(), o.is_embedded(), record.clone(), None),
        OpenedAny::Table(t) => (
            t.set.info.clone(),
            false,
            Some(t.record.clone()),
            Some(t.set.standardize.clone()),
        ),
    };
    if let OpenedAny::Table(t) = &opened {
        if t.set.train.labels().is_none() {
            return crate::regression::train(args, lr, t, |params| optimizer(args.optimizer, params, lr));
        }
    }
    let spec = spec_from_args(
        args.model.model,
        args.model.hidden.as_deref(),
        &info.input_shape(),
        info.num_classes(),
    )?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/{}-{}", args.dataset.short_name(), spec.name())));
    fs::create_dir_all(&out).map_err(|e| CliError::new(format!("--out {}: cannot create: {e}", out.display())))?;

    let mut model = spec.build(&mut seeded_rng(args.seed));
    let mut opt = optimizer(args.optimizer, model.parameters(), lr);
    let layout = if matches!(spec, ModelSpec::Mlp { .. }) {
        Layout::Flat
    } else {
        Layout::Nchw
    };
    let (loaders, n_train, n_test, unit) = match &opened {
        OpenedAny::Images(o, _) => (
            Loaders::images(&o.data, layout, args.batch_size, args.seed),
            o.data.train.len(),
            o.data.test.len(),
            "images",
        ),
        OpenedAny::Table(t) => (
            Loaders::table(&t.set, args.batch_size, args.seed),
            t.set.train.len(),
            t.set.test.len(),
            "rows",
        ),
    };
    outln!(
        "training {} ({} parameters) on {} ({n_train} train / {n_test} test {unit}{}), {:?} lr {lr}, batch {}, {}, {}",
        spec.name(),
        model.num_parameters(),
        info.display_name,
        if embedded { ", embedded sample" } else { "" },
        args.optimizer,
        args.batch_size,
        plural(args.epochs, "epoch", "epochs"),
        plural(rayon::current_num_threads(), "thread", "threads")
    )?;

    let mut tensorboard = args
        .tensorboard
        .as_ref()
        .map(TensorBoardLogger::create)
        .transpose()
        .map_err(|e| CliError::new(format!("--tensorboard: cannot create: {e}")))?;
    let stop = install_ctrl_c();
    let mut progress = Progress::new(args.epochs, stop);
    // Train on a pool worker, so parallel ops split work with this thread instead of waking
    // the pool from outside and blocking on it.
    let result = rayon::scope(|_| {
        let options = FitOptions {
            batches_per_epoch: Some(loaders.num_train_batches()),
            ..FitOptions::new(args.epochs)
        };
        let mut callbacks: Vec<&mut dyn TrainCallback> = vec![&mut progress];
        if let Some(logger) = tensorboard.as_mut() {
            callbacks.push(logger);
        }
        fit_with(
            &mut model,
            opt.as_mut(),
            |epoch| loaders.train_epoch(epoch),
            |_| loaders.test_epoch(),
            &options,
            &mut callbacks,
        )
    });
    let (report, failure) = match result {
        Ok(report) => (report, None),
        Err(e) => {
            let report = match &e {
                TrainError::NonFiniteLoss { report, .. } | TrainError::NonFiniteGradient { report, .. } => {
                    (**report).clone()
                }
            };
            (report, Some(e))
        }
    };

    let records = records(&report);
    print_table(&records)?;
    let mut metadata = HashMap::new();
    metadata.insert(METADATA_KEY.to_string(), spec.to_metadata());
    match (info.kind(), &record) {
        (Some(kind), _) => {
            metadata.insert(DATASET_KEY.to_string(), kind.name().to_string());
        }
        (None, Some(record)) => {
            metadata.insert(DATA_KEY.to_string(), record.to_json());
        }
        (None, None) => {}
    }
    if let Some(standardize) = &standardize {
        metadata.insert(STANDARDIZE_KEY.to_string(), standardize.to_json());
    }
    let weights = out.join("model.safetensors");
    serialize::save(&model, &weights, &metadata)
        .map_err(|e| CliError::new(format!("cannot save {}: {e}", weights.display())))?;
    let settings = json!({
        "dataset": info.kind().map_or_else(|| info.source.to_string(), |k| k.name().to_string()),
        "embedded_sample": embedded,
        "model": spec.name(),
        "architecture": spec.to_metadata(),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": format!("{:?}", args.optimizer).to_lowercase(),
        "lr": lr,
        "seed": args.seed,
        "threads": rayon::current_num_threads(),
        "stopped_early": report.stopped_early,
    });
    write_json(
        &out.join("metrics.json"),
        &MetricsFile {
            settings,
            epochs: records.clone(),
        },
    )?;
    write_curves(&out.join("curves.svg"), &records).map_err(CliError::new)?;
    outln!(
        "saved {}, metrics.json and curves.svg in {}",
        weights.display(),
        out.display()
    )?;
    let logged = match (tensorboard, &args.tensorboard) {
        (Some(logger), Some(dir)) => match logger.finish() {
            Ok(events) => outln!(
                "TensorBoard log: {} (view with `tensorboard --logdir {}`)",
                events.display(),
                dir.display()
            ),
            Err(e) => Err(CliError::new(format!("--tensorboard: cannot write: {e}"))),
        },
        _ => Ok(()),
    };
    match failure {
        Some(e) => Err(CliError::new(format!("{e}; saved the last good model"))),
        None if report.stopped_early => Err(CliError::interrupted(interrupted_message(&report))),
        None => logged,
    }
}

/// What an interrupted run says: where it stopped, counted from 1 like the table.
fn interrupted_message(report: &FitReport) -> String {
    match report.epochs.last() {
        Some(last) if !last.completed => format!(
            "interrupted in epoch {} after {} of it; the saved model has those steps, the table only the {} before",
            last.epoch + 1,
            plural(last.batches, "batch", "batches"),
            plural(last.epoch, "complete epoch", "complete epochs"),
        ),
        Some(last) => format!("interrupted after epoch {}; saved the model", last.epoch + 1),
        None => "interrupted before the first batch; saved the initial model".to_string(),
    }
}

/// Completed epochs as metrics.json records (1-based epoch numbers, fractions for accuracy).
fn records(report: &FitReport) -> Vec<EpochRecord> {
    report
        .epochs
        .iter()
        .filter(|e| e.completed)
        .map(|e: &EpochStats| EpochRecord {
            epoch: e.epoch + 1,
            train_loss: e.train_loss as f64,
            train_accuracy: e.train_accuracy as f64,
            test_loss: e.test_loss.map_or(f64::NAN, f64::from),
            test_accuracy: e.test_accuracy.map_or(f64::NAN, f64::from),
            seconds: e.seconds,
        })
        .collect()
}

fn print_table(records: &[EpochRecord]) -> CliResult {
    outln!(
        "\n{:>5}  {:>10}  {:>9}  {:>9}  {:>8}  {:>8}",
        "epoch",
        "train loss",
        "train acc",
        "test loss",
        "test acc",
        "seconds"
    )?;
    for r in records {
        outln!(
            "{:>5}  {:>10.4}  {:>8.2}%  {:>9.4}  {:>7.2}%  {:>8.2}",
            r.epoch,
            r.train_loss,
            r.train_accuracy * 100.0,
            r.test_loss,
            r.test_accuracy * 100.0,
            r.seconds
        )?;
    }
    Ok(())
}

/// Writes JSON through a temporary file and a rename, so no partial file is left behind.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> CliResult {
    let tmp = path.with_extension("json.partial");
    let text = serde_json::to_string_pretty(value)?;
    fs::write(&tmp, text + "\n")
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = fs::remove_file(&tmp);
            CliError::new(format!("cannot write {}: {e}", path.display()))
        })
}
