//! The training options of `neurite train` from its settings: checks, the learning-rate
//! schedule, augmentation, and the batches fed to `fit` (images or a table's rows, with or
//! without a validation split).

use neurite_datasets::csv::{Standardize, TableLoader};
use neurite_datasets::{Augment, Batch, DataLoader};
use neurite_nn::optim::{ConstantLr, CosineAnnealingLr, LinearWarmup, LrSchedule, StepLr};
use neurite_nn::train::{Batch as TrainBatch, EpochBatches};

use crate::cli::{AugmentName, ScheduleName};
use crate::error::{CliError, CliResult};
use crate::regression;
use crate::run_settings::RunSettings;
use crate::validation;

/// Settings that cannot work together, refused before anything is created.
///
/// # Errors
/// A usage error naming the flags.
pub fn check_settings(s: &RunSettings) -> CliResult {
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

/// The learning-rate schedule of `--schedule`/`--warmup`, per epoch: step (x0.1 every third
/// of the run), cosine to 0 over the epochs after the warm-up; a warm-up rises linearly from
/// a tenth of `--lr`.
///
/// # Errors
/// A schedule name the CLI does not know (from a damaged checkpoint).
pub fn schedule(s: &RunSettings) -> CliResult<Option<Box<dyn LrSchedule>>> {
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
///
/// # Errors
/// An augmentation name the CLI does not know (from a damaged checkpoint).
pub fn augment(s: &RunSettings) -> CliResult<Option<Augment>> {
    let names = s.augment()?;
    if names.is_empty() {
        return Ok(None);
    }
    Ok(Some(Augment {
        pad: if names.contains(&AugmentName::Crop) { 4 } else { 0 },
        flip: names.contains(&AugmentName::Flip),
    }))
}

/// The training batches of `epoch`: the loader's own shuffled epoch, or, with a validation
/// split, the shuffled batches of the indices left for training.
pub fn train_batches<'a>(
    loader: &'a DataLoader,
    train_idx: Option<&'a [usize]>,
    seed: u64,
    epoch: usize,
) -> Box<dyn Iterator<Item = TrainBatch> + 'a> {
    match train_idx {
        Some(idx) => Box::new(validation::batches(loader, idx, epoch, seed, true).map(to_batch)),
        None => Box::new(loader.epoch(epoch as u64).map(to_batch)),
    }
}

/// The validation batches (the same every epoch, in order, not augmented).
pub fn validation_batches<'a>(
    plain: &'a DataLoader,
    val_idx: &'a [usize],
) -> Box<dyn Fn(usize) -> EpochBatches<'a> + Send + Sync + 'a> {
    Box::new(move |_| Box::new(validation::batches(plain, val_idx, 0, 0, false).map(to_batch)))
}

/// A table's training batches of `epoch` (a regression's targets standardised by `targets`):
/// the loader's own shuffled epoch, or, with a validation split, the shuffled batches of the
/// rows left for training.
pub fn table_train_batches<'a>(
    loader: &'a TableLoader,
    train_idx: Option<&'a [usize]>,
    targets: Option<&'a Standardize>,
    s: &RunSettings,
    epoch: usize,
) -> Box<dyn Iterator<Item = TrainBatch> + 'a> {
    let scaled = move |b| regression::scaled_batch(b, targets);
    match train_idx {
        Some(idx) => Box::new(validation::table_batches(loader, idx, s.batch_size, epoch, s.seed, true).map(scaled)),
        None => Box::new(loader.epoch(epoch as u64).map(scaled)),
    }
}

/// A table's validation rows `val_idx` of the training part (the same every epoch, in order).
pub fn table_validation_batches<'a>(
    loader: &'a TableLoader,
    val_idx: &'a [usize],
    targets: Option<&'a Standardize>,
) -> Box<dyn Fn(usize) -> EpochBatches<'a> + Send + Sync + 'a> {
    Box::new(move |_| {
        Box::new(
            validation::table_batches(loader, val_idx, regression::EVAL_BATCH, 0, 0, false)
                .map(move |b| regression::scaled_batch(b, targets)),
        )
    })
}

/// A datasets batch as a training batch.
pub fn to_batch(b: Batch) -> TrainBatch {
    TrainBatch {
        inputs: b.images,
        labels: b.labels,
        targets: b.targets,
    }
}
