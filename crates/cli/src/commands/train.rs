//! `neurite train`: trains a bench-spec model with live progress, then writes
//! model.safetensors, metrics.json and curves.svg (and, with `--tensorboard DIR`, a
//! TensorBoard event file with the same values).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::{Augment, Batch, DataLoader, Layout};
use neurite_nn::models::{ModelSpec, METADATA_KEY};
use neurite_nn::optim::{Adam, AdamW, ConstantLr, CosineAnnealingLr, LinearWarmup, LrSchedule, Optimizer, Sgd, StepLr};
use neurite_nn::serialize;
use neurite_nn::tensorboard::TensorBoardLogger;
use neurite_nn::train::checkpoint::{self, CheckpointInfo};
use neurite_nn::train::{
    fit_with, Batch as TrainBatch, EarlyStopping, EpochBatches, EpochStats, FitOptions, FitReport, TrainCallback,
    TrainError,
};
use neurite_nn::Module;
use neurite_tensor::seeded_rng;
use serde_json::json;

use crate::checkpointer::Checkpointer;
use crate::cli::{AugmentName, OptimizerName, ScheduleName, TrainArgs};
use crate::data;
use crate::error::{CliError, CliResult};
use crate::metrics_file::{EpochRecord, MetricsFile};
use crate::model::{spec_from_args, DATASET_KEY};
use crate::output::{outln, plural};
use crate::plot::write_curves;
use crate::progress::{install_ctrl_c, Progress};
use crate::run_dir;
use crate::run_settings::RunSettings;
use crate::validation;

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
    // --out first: an unwritable folder or an existing run fails before anything is loaded.
    let resume = args.resume.is_some();
    let earlier = match &args.resume {
        Some(dir) => Some(read_resume(dir)?),
        None => None,
    };
    let settings = match &earlier {
        Some((saved, _, _)) => RunSettings::resumed(saved.clone(), args, lr)?,
        None => RunSettings::from_args(args, lr),
    };
    check_settings(&settings)?;
    let dataset: DatasetKind = settings.dataset.parse().map_err(|e| CliError::new(format!("{e}")))?;
    let out = match (&args.resume, &args.out) {
        (Some(dir), _) => dir.clone(),
        (None, Some(out)) => out.clone(),
        (None, None) => PathBuf::from(format!("runs/{}-{}", settings.dataset, settings.model)),
    };
    let out_dir = run_dir::prepare(&out, args.overwrite, resume)?;
    let out = out_dir.path.clone();
    let setup = (|| {
        if let Some(n) = args.threads {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .map_err(|e| CliError::new(format!("--threads {n}: {e}")))?;
        }
        let opened = data::open(dataset, args.data.data_dir.as_deref())?;
        let d = &opened.data;
        let spec = spec_from_args(
            settings.model()?,
            settings.hidden.as_deref(),
            d.image_shape(),
            d.num_classes(),
        )?;
        let optimizer_name = settings.optimizer()?;
        let mut model = spec.build(&mut seeded_rng(settings.seed));
        let mut opt = optimizer(optimizer_name, model.parameters(), settings.lr);
        let mut metadata = HashMap::new();
        metadata.insert(METADATA_KEY.to_string(), spec.to_metadata());
        metadata.insert(DATASET_KEY.to_string(), settings.dataset.clone());
        let checkpoint_path = out.join(run_dir::CHECKPOINT);
        let (start_epoch, start_batch, start_step, earlier_records) = match earlier {
            Some((_, info, records)) => {
                let loaded = checkpoint::load(&checkpoint_path).map_err(|e| CliError::new(format!("--resume: {e}")))?;
                if loaded.metadata.get(METADATA_KEY) != metadata.get(METADATA_KEY) {
                    return Err(CliError::usage(format!(
                        "--resume: {} holds a different architecture ({}) than this run ({})",
                        checkpoint_path.display(),
                        loaded.metadata.get(METADATA_KEY).map_or("none", String::as_str),
                        spec.to_metadata()
                    )));
                }
                loaded
                    .restore(&mut model, opt.as_mut())
                    .map_err(|e| CliError::new(format!("--resume: {e}")))?;
                if settings.lr != loaded.optimizer.learning_rate {
                    opt.set_learning_rate(settings.lr);
                }
                if info.epochs_done >= settings.epochs {
                    return Err(CliError::usage(format!(
                        "--resume: the run has done {} of --epochs {}; give a larger --epochs to continue it",
                        info.epochs_done, settings.epochs
                    )));
                }
                (info.epochs_done, info.batches_done, info.global_step, records)
            }
            None => (0, 0, 0, Vec::new()),
        };
        Ok((
            opened,
            spec,
            optimizer_name,
            model,
            opt,
            metadata,
            checkpoint_path,
            (start_epoch, start_batch, start_step),
            earlier_records,
        ))
    })();
    let (
        opened,
        spec,
        optimizer_name,
        mut model,
        mut opt,
        metadata,
        checkpoint_path,
        (start_epoch, start_batch, start_step),
        earlier_records,
    ) = match setup {
        Ok(s) => s,
        Err(e) => {
            out_dir.discard();
            return Err(e);
        }
    };
    let d = &opened.data;
    let layout = if matches!(spec, ModelSpec::Mlp { .. }) {
        Layout::Flat
    } else {
        Layout::Nchw
    };
    let mut train = DataLoader::new(&d.train, settings.batch_size)
        .shuffle(settings.seed)
        .layout(layout);
    if let Some(a) = augment(&settings)? {
        train = train.augment(a);
    }
    let plain = DataLoader::new(&d.train, 1000).layout(layout);
    let (train_idx, val_idx) = if settings.validation_split > 0.0 {
        validation::split(d.train.len(), settings.validation_split, settings.seed)
    } else {
        (Vec::new(), Vec::new())
    };
    let split = !val_idx.is_empty();
    let test = DataLoader::new(&d.test, 1000).layout(layout);
    let num_batches = if split {
        train_idx.len().div_ceil(settings.batch_size)
    } else {
        train.num_batches()
    };
    outln!(
        "{} {} ({} parameters) on {} ({} train{} / {} test images{}), {:?} lr {}, batch {}, {}, {}",
        if resume { "resuming" } else { "training" },
        spec.name(),
        model.num_parameters(),
        dataset.display_name(),
        if split { train_idx.len() } else { d.train.len() },
        if split {
            format!(" / {} validation", val_idx.len())
        } else {
            String::new()
        },
        d.test.len(),
        if opened.is_embedded() { ", embedded sample" } else { "" },
        optimizer_name,
        settings.lr,
        settings.batch_size,
        if resume {
            format!("epochs {} to {}", start_epoch + 1, settings.epochs)
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
    let mut checkpointer = Checkpointer {
        path: checkpoint_path.clone(),
        settings: settings.clone(),
        earlier: earlier_records.clone(),
        metadata: metadata.clone(),
        saved_epochs: resume.then_some(start_epoch),
    };
    if !resume {
        // A first checkpoint before any step: a run stopped in its first epoch can resume.
        let info = CheckpointInfo {
            epochs_done: 0,
            batches_done: 0,
            global_step: 0,
            run: Checkpointer::run_record(&settings, &[]),
        };
        checkpoint::save(&checkpoint_path, &model, opt.as_ref(), &info, &metadata)
            .map_err(|e| CliError::new(format!("--out {}: cannot write the checkpoint: {e}", out.display())))?;
        checkpointer.saved_epochs = Some(0);
    }
    let stop = install_ctrl_c();
    let mut progress = Progress::new(settings.epochs, stop.clone());
    let options = FitOptions {
        batches_per_epoch: Some(num_batches),
        schedule: schedule(&settings)?,
        validation: split.then(|| validation_batches(&plain, &val_idx)),
        early_stopping: settings.early_stopping.map(|patience| EarlyStopping {
            patience,
            min_delta: 0.0,
        }),
        start_epoch,
        start_step,
        start_batch,
        ..FitOptions::new(settings.epochs)
    };
    let result = {
        let mut callbacks: Vec<&mut dyn TrainCallback> = vec![&mut progress];
        if let Some(logger) = tensorboard.as_mut() {
            callbacks.push(logger);
        }
        callbacks.push(&mut checkpointer);
        let (train, train_idx) = (&train, &train_idx);
        let seed = settings.seed;
        fit_with(
            &mut model,
            opt.as_mut(),
            move |epoch| -> Box<dyn Iterator<Item = TrainBatch>> {
                if split {
                    Box::new(validation::batches(train, train_idx, epoch, seed, true).map(to_batch))
                } else {
                    Box::new(train.epoch(epoch as u64).map(to_batch))
                }
            },
            |_| test.epoch(0).map(to_batch),
            &options,
            &mut callbacks,
        )
    };
    let (report, failure) = match result {
        Ok(report) => (report, None),
        Err(e) => (e.report().clone(), Some(e)),
    };
    let interrupted = stop.load(std::sync::atomic::Ordering::SeqCst);
    let mut interrupted_at = None;
    if let (true, None, Some(last)) = (interrupted, &failure, report.epochs.last()) {
        if !last.completed {
            // Stopped mid-epoch: a checkpoint of exactly this point, to resume with the next batch.
            let before = if last.epoch == start_epoch { start_batch } else { 0 };
            let at = (last.epoch, before + last.batches, start_step + report.steps);
            checkpointer
                .save_interrupted(&model, opt.as_ref(), &report, at)
                .map_err(|e| CliError::new(format!("interrupted, but {e}")))?;
            interrupted_at = Some((at.0, at.1));
        }
    }
    let saved_epochs = checkpointer.saved_epochs;
    // After a divergence the weights may already be non-finite: go back to the last checkpoint.
    let diverged = match &failure {
        Some(e @ (TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteGradient { .. })) => {
            let loaded = checkpoint::load(&checkpoint_path).map_err(|e| CliError::new(e.to_string()))?;
            loaded
                .restore_model(&mut model)
                .map_err(|e| CliError::new(e.to_string()))?;
            Some(divergence_message(e, &loaded.info))
        }
        _ => None,
    };

    let mut records = earlier_records;
    records.extend(self::records(&report));
    print_table(&records)?;
    let weights = out.join(run_dir::MODEL);
    serialize::save(&model, &weights, &metadata)
        .map_err(|e| CliError::new(format!("cannot save {}: {e}", weights.display())))?;
    let mut settings_json = serde_json::to_value(&settings)?;
    if let Some(obj) = settings_json.as_object_mut() {
        obj.insert("embedded_sample".into(), json!(opened.is_embedded()));
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
    if let Some(best) = report.restored_epoch {
        outln!(
            "early stopping: the validation loss did not improve for {}; the saved model has the weights of epoch {}",
            plural(settings.early_stopping.unwrap_or(0), "epoch", "epochs"),
            best + 1
        )?;
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
        (None, _) if interrupted => Err(CliError::interrupted(interrupted_message(
            &report,
            interrupted_at,
            saved_epochs,
            &out,
        ))),
        (None, _) => logged,
    }
}

/// What a diverged run says: where, and which checkpoint's weights were saved instead.
fn divergence_message(e: &TrainError, kept: &CheckpointInfo) -> String {
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

/// The validation batches (the same every epoch, in order, not augmented).
fn validation_batches<'a>(
    plain: &'a DataLoader,
    val_idx: &'a [usize],
) -> Box<dyn Fn(usize) -> EpochBatches<'a> + Send + Sync + 'a> {
    Box::new(move |_| Box::new(validation::batches(plain, val_idx, 0, 0, false).map(to_batch)))
}

/// A datasets batch as a training batch.
fn to_batch(b: Batch) -> TrainBatch {
    TrainBatch {
        inputs: b.images,
        labels: b.labels,
        targets: b.targets,
    }
}

/// Reads the settings and records of the run in `dir` for `--resume`.
fn read_resume(dir: &Path) -> CliResult<(RunSettings, CheckpointInfo, Vec<EpochRecord>)> {
    let path = dir.join(run_dir::CHECKPOINT);
    if !path.exists() {
        return Err(CliError::usage(format!(
            "--resume {}: no {} there (is it the --out of a neurite train run?)",
            dir.display(),
            run_dir::CHECKPOINT
        )));
    }
    let (info, _) = checkpoint::read_info(&path).map_err(|e| CliError::new(format!("--resume: {e}")))?;
    let bad = |what: &str| CliError::new(format!("--resume: {}: {what}", path.display()));
    let settings: RunSettings =
        serde_json::from_value(info.run["settings"].clone()).map_err(|e| bad(&format!("run settings: {e}")))?;
    let records: Vec<EpochRecord> =
        serde_json::from_value(info.run["epochs"].clone()).map_err(|e| bad(&format!("run metrics: {e}")))?;
    Ok((settings, info, records))
}

fn check_settings(s: &RunSettings) -> CliResult {
    if !(0.0..1.0).contains(&s.validation_split) {
        return Err(CliError::usage(format!(
            "--validation-split must be in [0, 1), got {}",
            s.validation_split
        )));
    }
    if s.early_stopping.is_some() && s.validation_split == 0.0 {
        return Err(CliError::usage(
            "--early-stopping needs --validation-split (it watches the validation loss)",
        ));
    }
    if s.warmup >= s.epochs && s.warmup > 0 {
        return Err(CliError::usage(format!(
            "--warmup {} must be fewer than --epochs {}",
            s.warmup, s.epochs
        )));
    }
    Ok(())
}

/// The learning-rate schedule of `--schedule`/`--warmup`, per epoch.
fn schedule(s: &RunSettings) -> CliResult<Option<Box<dyn LrSchedule>>> {
    let after_warmup = s.epochs.saturating_sub(s.warmup).max(1);
    let inner: Option<Box<dyn LrSchedule>> = match s.schedule()? {
        None => None,
        Some(ScheduleName::Step) => Some(Box::new(StepLr::new(s.lr, (s.epochs / 3).max(1), 0.1))),
        Some(ScheduleName::Cosine | ScheduleName::WarmupCosine) => {
            Some(Box::new(CosineAnnealingLr::new(s.lr, after_warmup, 0.0)))
        }
    };
    Ok(match (inner, s.warmup) {
        (inner, 0) => inner,
        (Some(inner), w) => Some(Box::new(LinearWarmup::new(w, 0.1, BoxedSchedule(inner)))),
        (None, w) => Some(Box::new(LinearWarmup::new(w, 0.1, ConstantLr(s.lr)))),
    })
}

/// A boxed schedule as a schedule (for [`LinearWarmup`], which takes one by value).
struct BoxedSchedule(Box<dyn LrSchedule>);

impl LrSchedule for BoxedSchedule {
    fn lr(&self, t: usize) -> f32 {
        self.0.lr(t)
    }
}

/// The augmentation of `--augment`.
fn augment(s: &RunSettings) -> CliResult<Option<Augment>> {
    let names = s.augment()?;
    if names.is_empty() {
        return Ok(None);
    }
    Ok(Some(Augment {
        pad: if names.contains(&AugmentName::Crop) { 4 } else { 0 },
        flip: names.contains(&AugmentName::Flip),
    }))
}

/// What an interrupted run says: where it stopped (counted from 1, like the table), what was
/// saved, and how to continue.
fn interrupted_message(
    report: &FitReport,
    at: Option<(usize, usize)>,
    checkpoint_epochs: Option<usize>,
    out: &Path,
) -> String {
    let resume = format!("continue with `neurite train --resume {}`", out.display());
    match (report.epochs.last(), at) {
        (Some(last), Some((epoch, batches))) => format!(
            "interrupted in epoch {} after {} of it; saved the model and a checkpoint of that point (the table has the {} before); {resume}",
            epoch + 1,
            plural(batches, "batch", "batches"),
            plural(last.epoch, "complete epoch", "complete epochs"),
        ),
        (Some(last), None) => format!(
            "interrupted after epoch {}; saved the model and the checkpoint of {}; {resume}",
            last.epoch + 1,
            plural(checkpoint_epochs.unwrap_or(0), "complete epoch", "complete epochs"),
        ),
        (None, _) => format!("interrupted before the first batch; saved the model and the checkpoint; {resume}"),
    }
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
        })
        .collect()
}

fn print_table(records: &[EpochRecord]) -> CliResult {
    // Validation columns only for runs with a validation split.
    let val = records.iter().any(|r| r.val_loss.is_finite());
    let val_head = if val {
        format!("  {:>9}  {:>8}", "val loss", "val acc")
    } else {
        String::new()
    };
    outln!(
        "\n{:>5}  {:>10}  {:>9}{val_head}  {:>9}  {:>8}  {:>8}",
        "epoch",
        "train loss",
        "train acc",
        "test loss",
        "test acc",
        "seconds"
    )?;
    for r in records {
        let val_cells = if val {
            format!("  {:>9.4}  {:>7.2}%", r.val_loss, r.val_accuracy * 100.0)
        } else {
            String::new()
        };
        outln!(
            "{:>5}  {:>10.4}  {:>8.2}%{val_cells}  {:>9.4}  {:>7.2}%  {:>8.2}",
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

/// Writes JSON atomically ([`neurite_tensor::atomic_file`]), so no partial file is left behind.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value)? + "\n";
    neurite_tensor::atomic_file::write(path, text.as_bytes())
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))
}
