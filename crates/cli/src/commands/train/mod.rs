//! `neurite train`: trains a model with live progress, then writes model.safetensors,
//! metrics.json and curves.svg (and, with `--tensorboard DIR`, a TensorBoard event file with
//! the same values).
//!
//! The save policy loses nothing: `--out` is created and probed before any data is read, a
//! run already there is kept unless `--overwrite`, `checkpoint.safetensors` is written before
//! the first step, after every epoch and where a signal stopped the run, every file goes
//! through `neurite_tensor::atomic_file`, and a diverged run saves its last finite checkpoint.
//! One job per file: `setup.rs` (model, optimizer, resume), `options.rs` (schedule,
//! augmentation, batches), `finish.rs` (table, files, messages).

mod finish;
mod options;
mod setup;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use neurite_datasets::csv::TableLoader;
use neurite_datasets::{DataLoader, Layout};
use neurite_nn::optim::{Adam, AdamW, Optimizer, Sgd};
use neurite_nn::serialize;
use neurite_nn::tensorboard::TensorBoardLogger;
use neurite_nn::train::checkpoint::{self, CheckpointInfo};
use neurite_nn::train::{fit_with, EarlyStopping, FitOptions, FitReport, Loss, TrainCallback, TrainError};
use neurite_nn::Module;
use serde_json::json;

pub use finish::{records, write_json};

use crate::checkpointer::Checkpointer;
use crate::cli::{OptimizerName, TrainArgs};
use crate::data::OpenedAny;
use crate::error::{CliError, CliResult};
use crate::metrics_file::MetricsFile;
use crate::output::{outln, plural};
use crate::plot::write_curves;
use crate::progress::{install_ctrl_c, Progress};
use crate::regression;
use crate::run_dir;
use crate::run_settings::RunSettings;
use crate::source::{parse_dataset_arg, DatasetArg, TaskName};
use crate::validation;
use setup::{Prepared, Start};

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
    let resumed = args.resume.as_deref().map(setup::read_resume).transpose()?;
    let settings = match &resumed {
        Some(r) => RunSettings::resumed(r.settings.clone(), args, lr)?,
        None => {
            let mut settings = RunSettings::from_args(args, lr);
            if let Some(init) = &args.init {
                if settings.model.is_none() && settings.layers.is_none() {
                    settings.layers = Some(setup::init_spec(init, settings.hidden.is_some())?.layers_text());
                }
            }
            settings
        }
    };
    options::check_settings(&settings)?;
    let dataset = parse_dataset_arg(&settings.dataset).map_err(|e| CliError::usage(format!("--dataset: {e}")))?;
    if !matches!(dataset, DatasetArg::Csv(_)) && settings.source.task == TaskName::Regression {
        return Err(CliError::usage("--task regression needs a .csv --dataset"));
    }
    let out = match (&args.resume, &args.out) {
        (Some(dir), _) => dir.clone(),
        (None, Some(out)) => out.clone(),
        (None, None) => PathBuf::from(format!(
            "runs/{}-{}",
            path_safe(&dataset.short_name()),
            path_safe(&settings.model_name())
        )),
    };
    // --out before any data: an unwritable folder or an existing run fails at once.
    let out_dir = run_dir::prepare(&out, args.overwrite, resumed.is_some())?;
    let prepared = setup::prepare(args, &settings, &out_dir.path, resumed).inspect_err(|_| out_dir.discard())?;
    train(args, &settings, &out_dir.path, prepared)
}

/// `name` with every character but letters, digits, `-` and `_` replaced by `_`, for a
/// default directory name.
fn path_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where the batches come from: an image set's loaders, or a CSV table's.
enum Sets {
    /// Images.
    Images {
        /// Shuffled (and augmented) training batches.
        train: Box<DataLoader>,
        /// The training images in order, for the validation part.
        plain: Box<DataLoader>,
        /// Test batches in order.
        test: Box<DataLoader>,
    },
    /// A table's rows, standardised with the training part's statistics (a regression's
    /// targets are standardised per batch, with `Prepared::target_scale`).
    Table {
        /// Shuffled training rows.
        train: TableLoader,
        /// Test rows in order.
        test: TableLoader,
    },
}

/// Trains a prepared run into `out` and saves what it has, however it ends.
fn train(args: &TrainArgs, settings: &RunSettings, out: &Path, prepared: Prepared) -> CliResult {
    let settings = &RunSettings {
        train_images: Some(setup::train_len(&prepared.opened)),
        ..settings.clone()
    };
    let Prepared {
        opened,
        info,
        embedded,
        spec,
        optimizer_name,
        mut model,
        mut opt,
        metadata,
        target_scale,
        start,
        earlier,
    } = prepared;
    let resume = args.resume.is_some();
    let layout = if spec.takes_flat_input() {
        Layout::Flat
    } else {
        Layout::Nchw
    };
    let sets = match &opened {
        OpenedAny::Images(o, _) => {
            let mut train = DataLoader::new(&o.data.train, settings.batch_size)
                .shuffle(settings.seed)
                .layout(layout);
            if let Some(a) = options::augment(settings)? {
                train = train.augment(a);
            }
            Sets::Images {
                train: Box::new(train),
                plain: Box::new(DataLoader::new(&o.data.train, 1000).layout(layout)),
                test: Box::new(DataLoader::new(&o.data.test, 1000).layout(layout)),
            }
        }
        OpenedAny::Table(t) => Sets::Table {
            train: TableLoader::new(&t.set.train.standardized(&t.set.standardize), settings.batch_size)
                .shuffle(settings.seed),
            test: TableLoader::new(&t.set.test.standardized(&t.set.standardize), regression::EVAL_BATCH),
        },
    };
    let (n_train, n_test, unit) = match &opened {
        OpenedAny::Images(o, _) => (o.data.train.len(), o.data.test.len(), "images"),
        OpenedAny::Table(t) => (t.set.train.len(), t.set.test.len(), "rows"),
    };
    let (train_idx, val_idx) = if settings.validation_split > 0.0 {
        validation::split(n_train, settings.validation_split, settings.seed)
    } else {
        (Vec::new(), Vec::new())
    };
    let split = !val_idx.is_empty();
    let num_batches = match &sets {
        _ if split => train_idx.len().div_ceil(settings.batch_size),
        Sets::Table { train, .. } => train.num_batches(),
        Sets::Images { train, .. } => train.num_batches(),
    };
    outln!(
        "{} {} ({} parameters){} on {} ({} train{} / {n_test} test {unit}{}), {:?} lr {}, batch {}, {}, {}",
        if resume { "resuming" } else { "training" },
        spec.name(),
        model.num_parameters(),
        if target_scale.is_some() { " for regression" } else { "" },
        info.display_name,
        if split { train_idx.len() } else { n_train },
        if split {
            format!(" / {} validation", val_idx.len())
        } else {
            String::new()
        },
        if embedded { ", embedded sample" } else { "" },
        optimizer_name,
        settings.lr,
        settings.batch_size,
        if resume {
            format!("epochs {} to {}", start.epoch + 1, settings.epochs)
        } else {
            plural(settings.epochs, "epoch", "epochs")
        },
        plural(rayon::current_num_threads(), "thread", "threads")
    )?;

    let mut tensorboard = args
        .tensorboard
        .as_ref()
        .map(TensorBoardLogger::create)
        .transpose()
        .map_err(|e| CliError::new(format!("--tensorboard: cannot create: {e}")))?;
    let checkpoint_path = out.join(run_dir::CHECKPOINT);
    let mut checkpointer = Checkpointer {
        path: checkpoint_path.clone(),
        settings: settings.clone(),
        earlier: earlier.clone(),
        metadata: metadata.clone(),
        saved_epochs: resume.then_some(start.epoch),
    };
    if !resume {
        // A first checkpoint before any step: a run stopped in its first epoch can resume.
        let info = CheckpointInfo {
            epochs_done: 0,
            batches_done: 0,
            global_step: 0,
            run: Checkpointer::run_record(settings, &[]),
            best: None,
        };
        checkpoint::save(&checkpoint_path, &model, opt.as_ref(), &info, &metadata)
            .map_err(|e| CliError::new(format!("--out {}: cannot write the checkpoint: {e}", out.display())))?;
        checkpointer.saved_epochs = Some(0);
    }
    let stop = install_ctrl_c();
    let mut progress = Progress::new(settings.epochs, stop.clone());
    let fit_options = FitOptions {
        batches_per_epoch: Some(num_batches),
        schedule: options::schedule(settings)?,
        validation: match &sets {
            Sets::Images { plain, .. } if split => Some(options::validation_batches(plain, &val_idx)),
            Sets::Table { train, .. } if split => Some(options::table_validation_batches(
                train,
                &val_idx,
                target_scale.as_ref(),
            )),
            _ => None,
        },
        loss: if target_scale.is_some() {
            Loss::Mse
        } else {
            Loss::CrossEntropy
        },
        target_std: target_scale.as_ref().map(|s| s.std[0]),
        early_stopping: settings.early_stopping.map(|patience| EarlyStopping {
            patience,
            min_delta: 0.0,
        }),
        start_epoch: start.epoch,
        start_batch: start.batch,
        start_step: start.step,
        resume_best: start.best.clone(),
        ..FitOptions::new(settings.epochs)
    };
    let result = {
        let mut callbacks: Vec<&mut dyn TrainCallback> = vec![&mut progress];
        if let Some(logger) = tensorboard.as_mut() {
            callbacks.push(logger);
        }
        callbacks.push(&mut checkpointer);
        let (sets, train_idx, targets) = (&sets, split.then_some(train_idx.as_slice()), target_scale.as_ref());
        fit_with(
            &mut model,
            opt.as_mut(),
            |epoch| match sets {
                Sets::Images { train, .. } => options::train_batches(train, train_idx, settings.seed, epoch),
                Sets::Table { train, .. } => options::table_train_batches(train, train_idx, targets, settings, epoch),
            },
            |_| -> Box<dyn Iterator<Item = neurite_nn::train::Batch>> {
                match sets {
                    Sets::Images { test, .. } => Box::new(test.epoch(0).map(options::to_batch)),
                    Sets::Table { test, .. } => Box::new(test.epoch(0).map(|b| regression::scaled_batch(b, targets))),
                }
            },
            &fit_options,
            &mut callbacks,
        )
    };
    let (report, failure) = match result {
        Ok(report) => (report, None),
        Err(e) => (e.report().clone(), Some(e)),
    };
    let interrupted = stop.load(Ordering::SeqCst);
    let interrupted_at = match (interrupted, &failure) {
        (true, None) => save_interrupted(&mut checkpointer, &model, opt.as_ref(), &report, &start)?,
        _ => None,
    };
    // After a divergence the weights may already be non-finite: go back to the last checkpoint.
    let diverged = match &failure {
        Some(e @ (TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteGradient { .. })) => {
            let loaded = checkpoint::load(&checkpoint_path).map_err(|e| CliError::new(e.to_string()))?;
            loaded
                .restore_model(&mut model)
                .map_err(|e| CliError::new(e.to_string()))?;
            Some(finish::divergence_message(e, &loaded.info))
        }
        _ => None,
    };

    let mut records = earlier;
    records.extend(finish::records(&report));
    finish::print_table(&records)?;
    let weights = out.join(run_dir::MODEL);
    serialize::save(&model, &weights, &metadata)
        .map_err(|e| CliError::new(format!("cannot save {}: {e}", weights.display())))?;
    let mut settings_json = serde_json::to_value(settings)?;
    if let Some(obj) = settings_json.as_object_mut() {
        obj.insert("embedded_sample".into(), json!(embedded));
        obj.insert("architecture".into(), json!(spec.to_metadata()));
        obj.insert("model".into(), json!(spec.name()));
        obj.insert("threads".into(), json!(rayon::current_num_threads()));
        obj.insert("stopped_early".into(), json!(report.stopped_early));
        obj.insert("restored_epoch".into(), json!(report.restored_epoch.map(|e| e + 1)));
    }
    write_json(
        &out.join("metrics.json"),
        &MetricsFile {
            settings: settings_json,
            epochs: records.clone(),
        },
    )?;
    write_curves(&out.join("curves.svg"), &records).map_err(CliError::new)?;
    outln!(
        "saved {}, {}, metrics.json and curves.svg in {}",
        weights.display(),
        run_dir::CHECKPOINT,
        out.display()
    )?;
    if let Some(message) = finish::early_stopping_message(&report, settings.early_stopping.unwrap_or(0)) {
        outln!("{message}")?;
    }
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
    match (failure, diverged) {
        (Some(_), Some(message)) => Err(CliError::new(message)),
        (Some(e), None) => Err(CliError::new(e.to_string())),
        (None, _) if interrupted => Err(CliError::interrupted(finish::interrupted_message(
            &report,
            interrupted_at,
            checkpointer.saved_epochs,
            out,
        ))),
        (None, _) => logged,
    }
}

/// After a signal stopped the run mid-epoch, writes a checkpoint of exactly that point (to
/// resume with the next batch) and returns its (epoch index, batches done).
fn save_interrupted(
    checkpointer: &mut Checkpointer,
    model: &dyn Module,
    opt: &dyn Optimizer,
    report: &FitReport,
    start: &Start,
) -> CliResult<Option<(usize, usize)>> {
    let Some(last) = report.epochs.last().filter(|e| !e.completed) else {
        return Ok(None);
    };
    let before = if last.epoch == start.epoch { start.batch } else { 0 };
    let at = (last.epoch, before + last.batches, start.step + report.steps);
    checkpointer
        .save_interrupted(model, opt, report, at)
        .map_err(|e| CliError::new(format!("interrupted, but {e}")))?;
    Ok(Some((at.0, at.1)))
}
