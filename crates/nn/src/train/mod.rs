//! A training helper like Keras' `fit`: [`fit`] runs epochs of mini-batch training on a
//! [`Loss`] (cross-entropy by default), evaluates after each epoch (a held-out validation set
//! and a test set), can stop early and restore the best weights, and reports progress to
//! [`TrainCallback`]s, which also see the model and optimizer after each epoch to save a
//! [`checkpoint`]; [`evaluate`] measures loss and metrics without recording gradients.
//!
//! The helper does not know where batches come from: it takes closures that return, for an
//! epoch index, an iterator of batches ([`Batch`], or `(inputs, class labels)` tuples). The
//! datasets crate (a layer above this one) or any in-memory data can feed it.
//!
//! One job per file: `fit.rs` (the loop), `step.rs` (one step), `mlp_step.rs` (an MLP's step
//! without the graph, which `fit` uses where it can), `evaluate.rs` (loss and metrics), `best.rs` (early
//! stopping's best weights), `checkpoint.rs` (saving and restoring a run).
//!
//! ```
//! use neurite_nn::optim::Sgd;
//! use neurite_nn::train::{fit, Batch};
//! use neurite_nn::{Linear, Module, ReLU, Sequential};
//! use neurite_tensor::{seeded_rng, Tensor};
//!
//! let mut rng = seeded_rng(0);
//! // Two classes: is the sum of the two features positive?
//! let x = Tensor::uniform(&[64, 2], -1.0, 1.0, &mut rng);
//! let y: Vec<usize> = x.to_vec().chunks(2).map(|r| usize::from(r[0] + r[1] > 0.0)).collect();
//! let batches = move |_epoch: usize| -> Vec<Batch> {
//!     (0..4).map(|b| Batch::new(x.narrow(0, b * 16, 16), y[b * 16..(b + 1) * 16].to_vec())).collect()
//! };
//! let mut model = Sequential::new().add(Linear::new(2, 16, &mut rng)).add(ReLU).add(Linear::new(16, 2, &mut rng));
//! let mut opt = Sgd::new(model.parameters(), 0.5);
//! let report = fit(&mut model, &mut opt, batches.clone(), batches, 20, &mut []).unwrap();
//! assert!(report.epochs.last().unwrap().test_accuracy.unwrap() > 0.9);
//! ```

use std::time::Duration;

use neurite_tensor::Tensor;
use thiserror::Error;

pub use crate::loss::Loss;
use crate::module::Module;
use crate::optim::{LrSchedule, Optimizer};

mod best;
pub mod checkpoint;
mod evaluate;
mod fit;
mod mlp_step;
mod step;

pub use best::BestSoFar;
pub use evaluate::{evaluate, evaluate_with};
pub use fit::{fit, fit_with};
pub use mlp_step::MlpStep;
pub use step::{train_step, StepError};

/// One mini-batch: inputs `[batch, ...]`, one class index per row and, for regression, float
/// targets. A `(inputs, labels)` tuple converts into one.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Inputs `[B, ...]`.
    pub inputs: Tensor,
    /// One class index per row (empty-valued for pure regression is not allowed: give 0s).
    pub labels: Vec<usize>,
    /// Float targets `[B, k]` for regression; `None` when the targets are the class `labels`.
    pub targets: Option<Tensor>,
}

impl Batch {
    /// A classification batch: inputs and one class index per row.
    pub fn new(inputs: Tensor, labels: Vec<usize>) -> Batch {
        Batch {
            inputs,
            labels,
            targets: None,
        }
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.inputs.shape().first().copied().unwrap_or(0)
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<(Tensor, Vec<usize>)> for Batch {
    fn from((inputs, labels): (Tensor, Vec<usize>)) -> Batch {
        Batch::new(inputs, labels)
    }
}

/// A measurement reported beside the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Fraction of rows whose largest output is the label.
    Accuracy,
    /// Mean squared error of outputs against targets (over all elements).
    Mse,
    /// Mean absolute error of outputs against targets (over all elements).
    Mae,
}

impl Metric {
    /// The metrics reported by default for `loss`: accuracy for classification losses, MSE
    /// and MAE for regression.
    pub fn defaults_for(loss: Loss) -> Vec<Metric> {
        if loss.is_classification() {
            vec![Metric::Accuracy]
        } else {
            vec![Metric::Mse, Metric::Mae]
        }
    }

    /// The short name used in files and logs (`accuracy`, `mse`, `mae`).
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Mse => "mse",
            Metric::Mae => "mae",
        }
    }

    /// `value` of this metric, computed on targets standardised by `target_std`, in the
    /// targets' own units: MSE times `target_std²`, MAE times `target_std`; accuracy and a
    /// `None` scale leave it as it is.
    pub fn in_target_units(&self, value: f32, target_std: Option<f32>) -> f32 {
        match (self, target_std) {
            (Metric::Mse, Some(s)) => value * (s * s),
            (Metric::Mae, Some(s)) => value * s,
            _ => value,
        }
    }
}

/// [`Metric::in_target_units`] of every value.
pub fn metrics_in_target_units(values: MetricValues, target_std: Option<f32>) -> MetricValues {
    values
        .into_iter()
        .map(|(m, v)| (m, m.in_target_units(v, target_std)))
        .collect()
}

/// Metric values, in the order of [`FitOptions::metrics`].
pub type MetricValues = Vec<(Metric, f32)>;

/// What a callback asks the training loop to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Control {
    /// Keep training.
    #[default]
    Continue,
    /// Stop after the current batch (or epoch); [`fit`] still returns the statistics so far.
    Stop,
}

/// Statistics of one training batch, passed to [`TrainCallback::on_batch_end`] after the
/// optimizer step.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchStats {
    /// Epoch index, from 0.
    pub epoch: usize,
    /// Batch index within the epoch, from 0.
    pub batch: usize,
    /// Batches per epoch, when known ([`FitOptions::batches_per_epoch`]).
    pub batches_per_epoch: Option<usize>,
    /// Mean loss of this batch (before the step).
    pub loss: f32,
    /// Fraction of this batch classified correctly (before the step); NaN for a regression
    /// loss.
    pub accuracy: f32,
    /// Rows in this batch.
    pub batch_size: usize,
    /// Rows seen so far in this epoch, this batch included.
    pub images_seen: usize,
    /// Optimizer steps taken since [`fit`] started, this one included.
    pub global_step: usize,
    /// The learning rate used for this step.
    pub learning_rate: f32,
    /// Time since the epoch started.
    pub elapsed: Duration,
}

/// Statistics of one epoch, passed to [`TrainCallback::on_epoch_end`].
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// Epoch index, from 0.
    pub epoch: usize,
    /// Mean training loss over the epoch's rows (each batch's loss taken before its step).
    pub train_loss: f32,
    /// Training accuracy over the epoch's rows (NaN for a regression loss).
    pub train_accuracy: f32,
    /// Training metrics over the epoch's rows ([`FitOptions::metrics`]).
    pub train_metrics: MetricValues,
    /// Mean validation loss after the epoch, if [`FitOptions::validation`] was given.
    pub val_loss: Option<f32>,
    /// Validation accuracy after the epoch, if validation batches were given and the loss
    /// classifies.
    pub val_accuracy: Option<f32>,
    /// Validation metrics after the epoch (empty without validation).
    pub val_metrics: MetricValues,
    /// Mean test loss after the epoch, if evaluation batches were given.
    pub test_loss: Option<f32>,
    /// Test accuracy after the epoch, if evaluation batches were given and the loss classifies.
    pub test_accuracy: Option<f32>,
    /// Test metrics after the epoch (empty without evaluation batches).
    pub test_metrics: MetricValues,
    /// Training rows seen in the epoch.
    pub images: usize,
    /// Batches trained in the epoch.
    pub batches: usize,
    /// Wall-clock seconds of the training part of the epoch (evaluation excluded).
    pub seconds: f64,
    /// Wall-clock seconds of the evaluation after the epoch.
    pub eval_seconds: f64,
    /// `false` for a last epoch cut short by [`Control::Stop`] from `on_batch_end`.
    pub completed: bool,
}

/// Loss and metrics of a model over a set of batches.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalStats {
    /// Mean loss over all rows (NaN when there were none).
    pub loss: f32,
    /// Fraction of rows classified correctly (NaN when there were none or the loss does not
    /// classify).
    pub accuracy: f32,
    /// The metrics asked for, in order.
    pub metrics: MetricValues,
    /// Number of rows.
    pub samples: usize,
}

impl EvalStats {
    /// These statistics, computed on targets standardised by `target_std`, in the targets'
    /// own units ([`Loss::in_target_units`], [`Metric::in_target_units`]).
    pub fn in_target_units(self, loss: Loss, target_std: Option<f32>) -> EvalStats {
        EvalStats {
            loss: loss.in_target_units(self.loss, target_std),
            metrics: metrics_in_target_units(self.metrics, target_std),
            ..self
        }
    }
}

/// Receives progress from [`fit`]; every method defaults to doing nothing. Callbacks are
/// `Send` because [`fit`] runs on a worker of rayon's pool.
pub trait TrainCallback: Send {
    /// Called after each optimizer step.
    fn on_batch_end(&mut self, _stats: &BatchStats) -> Control {
        Control::Continue
    }

    /// Called after each complete epoch and its evaluation.
    fn on_epoch_end(&mut self, _stats: &EpochStats) -> Control {
        Control::Continue
    }

    /// Called after [`TrainCallback::on_epoch_end`] of every callback, with the model and
    /// optimizer as they are after the epoch, for callbacks that save them (a
    /// [`checkpoint`]). An error stops training with [`TrainError::Callback`].
    ///
    /// # Errors
    /// A message saying what could not be done (the file and why).
    fn on_epoch_state(&mut self, _state: &EpochState<'_>) -> Result<(), String> {
        Ok(())
    }
}

/// What [`TrainCallback::on_epoch_state`] sees after an epoch.
pub struct EpochState<'a> {
    /// The model after the epoch; after the last epoch of a run with early stopping, with the
    /// best epoch's weights already restored (the weights the run ends with).
    pub model: &'a dyn Module,
    /// The optimizer after the epoch.
    pub optimizer: &'a dyn Optimizer,
    /// The report so far, this epoch included.
    pub report: &'a FitReport,
    /// The epoch just finished, from 0; a resumed run starts at `epoch + 1`.
    pub epoch: usize,
    /// Optimizer steps since the start of the run (not only of this call), for
    /// [`FitOptions::start_step`] on resume.
    pub global_step: usize,
}

/// When a learning-rate schedule given to [`fit_with`] advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScheduleUnit {
    /// `schedule.lr(epoch)` at the start of each epoch.
    #[default]
    Epoch,
    /// `schedule.lr(global_step)` before each optimizer step.
    Step,
}

/// Early stopping on the validation loss (on the test loss without validation batches, on
/// the training loss without either), Keras' `EarlyStopping(patience=...,
/// restore_best_weights=True)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement before training stops.
    pub patience: usize,
    /// The least decrease of the loss that counts as an improvement.
    pub min_delta: f32,
}

/// Batches of one epoch, for [`FitOptions::validation`].
pub type EpochBatches<'a> = Box<dyn Iterator<Item = Batch> + 'a>;

/// Options of [`fit_with`] beyond the number of epochs.
#[derive(Default)]
pub struct FitOptions<'a> {
    /// Number of epochs to run.
    pub epochs: usize,
    /// Batches per epoch, if known (reported in [`BatchStats`] for progress bars).
    pub batches_per_epoch: Option<usize>,
    /// Clip gradients to this global L2 norm before each step.
    pub clip_grad_norm: Option<f32>,
    /// A learning-rate schedule applied to the optimizer.
    pub schedule: Option<Box<dyn LrSchedule>>,
    /// Whether the schedule advances per epoch or per step.
    pub schedule_unit: ScheduleUnit,
    /// The loss to minimise (cross-entropy by default).
    pub loss: Loss,
    /// Metrics to report; empty means [`Metric::defaults_for`] the loss.
    pub metrics: Vec<Metric>,
    /// The standard deviation the regression targets were divided by (standardised targets
    /// train better): losses and metrics are then reported in the targets' own units
    /// ([`Loss::in_target_units`], [`Metric::in_target_units`]), for the callbacks, the
    /// report and early stopping (whose `min_delta` is then in those units too). Training
    /// itself is unchanged.
    pub target_std: Option<f32>,
    /// Held-out validation batches for an epoch index, evaluated after each epoch (before the
    /// test batches); they drive [`FitOptions::early_stopping`].
    pub validation: Option<Box<dyn Fn(usize) -> EpochBatches<'a> + Send + Sync + 'a>>,
    /// Stop when the monitored loss has not improved for a number of epochs and restore the
    /// weights of the best epoch.
    pub early_stopping: Option<EarlyStopping>,
    /// The first epoch to run (a resumed run: the epochs before are done).
    pub start_epoch: usize,
    /// Optimizer steps already taken by the run before this call (step schedules and
    /// [`BatchStats::global_step`] continue from there).
    pub start_step: usize,
    /// Early stopping's state when the run was saved ([`FitReport::best`]), so a resumed run
    /// stops and restores as the uninterrupted one would.
    pub resume_best: Option<BestSoFar>,
    /// Batches of `start_epoch` already trained (a run interrupted mid-epoch): they are
    /// drawn, to keep the epoch's order, but skipped. That epoch's training loss and
    /// metrics then cover only the batches after them.
    pub start_batch: usize,
    /// Build the autograd graph for every step even where [`MlpStep`] could run it (an MLP
    /// on cross-entropy): for comparisons, as both give the same numbers.
    pub graph_steps: bool,
}

impl FitOptions<'_> {
    /// The metrics this run reports: [`FitOptions::metrics`] or the loss's defaults.
    pub fn metrics(&self) -> Vec<Metric> {
        if self.metrics.is_empty() {
            Metric::defaults_for(self.loss)
        } else {
            self.metrics.clone()
        }
    }
}

impl<'a> FitOptions<'a> {
    /// Options for `epochs` epochs and nothing else.
    pub fn new(epochs: usize) -> FitOptions<'a> {
        FitOptions {
            epochs,
            ..FitOptions::default()
        }
    }
}

/// The result of a training run.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FitReport {
    /// One entry per epoch run, the last one possibly incomplete (`completed == false`).
    pub epochs: Vec<EpochStats>,
    /// Whether a callback stopped training early.
    pub stopped_early: bool,
    /// Optimizer steps taken (in this call).
    pub steps: usize,
    /// Of those steps, the ones run on a compiled [`MlpStep`] instead of the autograd graph.
    pub compiled_steps: usize,
    /// With [`FitOptions::early_stopping`]: the epoch (from 0) whose weights the model holds
    /// after the run, when they were restored from a better earlier epoch.
    pub restored_epoch: Option<usize>,
    /// With [`FitOptions::early_stopping`]: its state after the last complete epoch, for a
    /// checkpoint.
    pub best: Option<BestSoFar>,
}

/// Why [`fit`] gave up.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The loss of a batch was NaN or infinite. The optimizer step for that batch was not
    /// taken, so the model keeps the parameters of the last good step.
    #[error(
        "training diverged: loss is {loss} at epoch {}, batch {} (counted from 1); the step was skipped and the model keeps the parameters of the last good step (try a lower learning rate)",
        .epoch + 1,
        .batch + 1
    )]
    NonFiniteLoss {
        /// Epoch index, from 0.
        epoch: usize,
        /// Batch index within the epoch, from 0.
        batch: usize,
        /// The offending loss value.
        loss: f32,
        /// Statistics of the epochs before (complete) and of the current one (incomplete).
        report: Box<FitReport>,
    },
    /// The loss was finite but the gradient norm was not. The step was skipped.
    #[error(
        "training diverged: gradient norm is {norm} at epoch {}, batch {} (counted from 1); the step was skipped and the model keeps the parameters of the last good step (try a lower learning rate)",
        .epoch + 1,
        .batch + 1
    )]
    NonFiniteGradient {
        /// Epoch index, from 0.
        epoch: usize,
        /// Batch index within the epoch, from 0.
        batch: usize,
        /// The global L2 norm of the gradients.
        norm: f32,
        /// Statistics of the epochs before (complete) and of the current one (incomplete).
        report: Box<FitReport>,
    },
    /// A callback could not do its job after an epoch (a checkpoint could not be written).
    #[error("after epoch {}: {message}", .epoch + 1)]
    Callback {
        /// Epoch index, from 0.
        epoch: usize,
        /// What went wrong.
        message: String,
        /// Statistics of the epochs so far.
        report: Box<FitReport>,
    },
}

impl TrainError {
    /// The statistics of the run up to the failure.
    pub fn report(&self) -> &FitReport {
        match self {
            TrainError::NonFiniteLoss { report, .. }
            | TrainError::NonFiniteGradient { report, .. }
            | TrainError::Callback { report, .. } => report,
        }
    }
}
