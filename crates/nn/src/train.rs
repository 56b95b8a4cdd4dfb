//! A training helper: [`fit`] runs epochs of mini-batch training with cross-entropy from
//! logits, evaluates after each epoch, and reports progress to [`TrainCallback`]s; [`evaluate`]
//! measures loss and accuracy without recording gradients.
//!
//! The helper does not know where batches come from: it takes closures that return, for an
//! epoch index, an iterator of `(inputs, class labels)` batches ([`Batch`]). The datasets
//! crate (a layer above this one) or any in-memory data can feed it.
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
//!     (0..4).map(|b| (x.narrow(0, b * 16, 16), y[b * 16..(b + 1) * 16].to_vec())).collect()
//! };
//! let mut model = Sequential::new().add(Linear::new(2, 16, &mut rng)).add(ReLU).add(Linear::new(16, 2, &mut rng));
//! let mut opt = Sgd::new(model.parameters(), 0.5);
//! let report = fit(&mut model, &mut opt, batches.clone(), batches, 20, &mut []).unwrap();
//! assert!(report.epochs.last().unwrap().test_accuracy.unwrap() > 0.9);
//! ```

use std::time::{Duration, Instant};

use neurite_tensor::{no_grad, Tensor};
use thiserror::Error;

use crate::loss::cross_entropy;
use crate::module::Module;
use crate::optim::{clip_grad_norm, grad_norm, LrSchedule, Optimizer};

/// One mini-batch: inputs `[batch, ...]` and one class index per row.
pub type Batch = (Tensor, Vec<usize>);

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
    /// Mean cross-entropy of this batch (before the step).
    pub loss: f32,
    /// Fraction of this batch classified correctly (before the step).
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
    /// Training accuracy over the epoch's rows.
    pub train_accuracy: f32,
    /// Mean test loss after the epoch, if evaluation batches were given.
    pub test_loss: Option<f32>,
    /// Test accuracy after the epoch, if evaluation batches were given.
    pub test_accuracy: Option<f32>,
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

/// Loss and accuracy of a model over a set of batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalStats {
    /// Mean cross-entropy over all rows (NaN when there were none).
    pub loss: f32,
    /// Fraction of rows classified correctly (NaN when there were none).
    pub accuracy: f32,
    /// Number of rows.
    pub samples: usize,
}

/// Receives progress from [`fit`]; both methods default to doing nothing.
pub trait TrainCallback {
    /// Called after each optimizer step.
    fn on_batch_end(&mut self, _stats: &BatchStats) -> Control {
        Control::Continue
    }

    /// Called after each complete epoch and its evaluation.
    fn on_epoch_end(&mut self, _stats: &EpochStats) -> Control {
        Control::Continue
    }
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

/// Options of [`fit_with`] beyond the number of epochs.
#[derive(Default)]
pub struct FitOptions {
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
}

impl FitOptions {
    /// Options for `epochs` epochs and nothing else.
    pub fn new(epochs: usize) -> FitOptions {
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
    /// Optimizer steps taken.
    pub steps: usize,
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
}

/// Trains `model` for `epochs` epochs with `optimizer` on cross-entropy from logits.
///
/// `train_batches(epoch)` gives the training batches of each epoch (shuffle there, seeded by
/// the epoch, for reproducible runs); after each epoch `eval_batches(epoch)` is evaluated
/// with [`evaluate`] (return an empty iterator to skip evaluation). Callbacks see every batch
/// and epoch and may stop training. The run is deterministic given the same batches.
///
/// Each step drops the autograd graph before the optimizer runs, so the parameters are
/// updated in place without copies. Before each step the loss (and the gradient norm) is
/// checked: a NaN or infinite value stops training with [`TrainError`], without applying
/// that step.
///
/// Call it on a worker of rayon's pool (for example inside `rayon::scope(|_| fit(..))`, as
/// `neurite train` does) for the best speed: the calling thread then does its share of each
/// parallel op instead of waking the pool from outside and waiting (4-13% of a CNN step on
/// 2 cores, see docs/benchmarks.md). Results are the same either way.
///
/// # Errors
/// [`TrainError`] when the loss or the gradients become non-finite.
pub fn fit<T, E>(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    train_batches: impl FnMut(usize) -> T,
    eval_batches: impl FnMut(usize) -> E,
    epochs: usize,
    callbacks: &mut [&mut dyn TrainCallback],
) -> Result<FitReport, TrainError>
where
    T: IntoIterator<Item = Batch>,
    E: IntoIterator<Item = Batch>,
{
    fit_with(
        model,
        optimizer,
        train_batches,
        eval_batches,
        &FitOptions::new(epochs),
        callbacks,
    )
}

/// [`fit`] with [`FitOptions`]: batches per epoch, gradient clipping and an LR schedule.
///
/// # Errors
/// [`TrainError`] when the loss or the gradients become non-finite.
pub fn fit_with<T, E>(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    mut train_batches: impl FnMut(usize) -> T,
    mut eval_batches: impl FnMut(usize) -> E,
    options: &FitOptions,
    callbacks: &mut [&mut dyn TrainCallback],
) -> Result<FitReport, TrainError>
where
    T: IntoIterator<Item = Batch>,
    E: IntoIterator<Item = Batch>,
{
    let params = model.parameters();
    let mut report = FitReport::default();
    for epoch in 0..options.epochs {
        if let (Some(s), ScheduleUnit::Epoch) = (&options.schedule, options.schedule_unit) {
            s.apply(optimizer, epoch);
        }
        model.set_training(true);
        let start = Instant::now();
        let mut totals = Totals::default();
        let mut stop = false;
        for (batch, (x, labels)) in train_batches(epoch).into_iter().enumerate() {
            if let (Some(s), ScheduleUnit::Step) = (&options.schedule, options.schedule_unit) {
                s.apply(optimizer, report.steps);
            }
            optimizer.zero_grad();
            let logits = model.forward(&x);
            let correct = count_correct(&logits, &labels, "fit");
            let loss = cross_entropy(&logits, &labels);
            let loss_value = loss.item();
            if !loss_value.is_finite() {
                drop((loss, logits));
                optimizer.zero_grad();
                report.epochs.push(totals.epoch_stats(epoch, start, false));
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    batch,
                    loss: loss_value,
                    report: Box::new(report),
                });
            }
            loss.backward();
            // Free the graph: its closures hold the parameters' storage, which would make the
            // in-place update copy it.
            drop((loss, logits));
            let norm = match options.clip_grad_norm {
                Some(max) => clip_grad_norm(&params, max),
                None => grad_norm(&params),
            };
            if !norm.is_finite() {
                optimizer.zero_grad();
                report.epochs.push(totals.epoch_stats(epoch, start, false));
                return Err(TrainError::NonFiniteGradient {
                    epoch,
                    batch,
                    norm,
                    report: Box::new(report),
                });
            }
            optimizer.step();
            report.steps += 1;
            totals.add(loss_value, correct, labels.len());
            let stats = BatchStats {
                epoch,
                batch,
                batches_per_epoch: options.batches_per_epoch,
                loss: loss_value,
                accuracy: ratio(correct, labels.len()),
                batch_size: labels.len(),
                images_seen: totals.samples,
                global_step: report.steps,
                learning_rate: optimizer.learning_rate(),
                elapsed: start.elapsed(),
            };
            for cb in callbacks.iter_mut() {
                stop |= cb.on_batch_end(&stats) == Control::Stop;
            }
            if stop {
                break;
            }
        }
        let mut stats = totals.epoch_stats(epoch, start, !stop);
        if stop {
            report.epochs.push(stats);
            report.stopped_early = true;
            return Ok(report);
        }
        let eval_start = Instant::now();
        let eval = evaluate(model, eval_batches(epoch));
        model.set_training(true);
        if eval.samples > 0 {
            stats.test_loss = Some(eval.loss);
            stats.test_accuracy = Some(eval.accuracy);
        }
        stats.eval_seconds = eval_start.elapsed().as_secs_f64();
        for cb in callbacks.iter_mut() {
            stop |= cb.on_epoch_end(&stats) == Control::Stop;
        }
        report.epochs.push(stats);
        if stop {
            report.stopped_early = epoch + 1 < options.epochs;
            break;
        }
    }
    Ok(report)
}

/// Mean cross-entropy and accuracy of `model` over `batches`, without recording gradients and
/// with the model in evaluation mode (`set_training(false)`); the model is switched back to
/// training mode afterwards.
///
/// # Panics
/// When a batch's label count differs from its row count or a label is out of range.
pub fn evaluate(model: &mut dyn Module, batches: impl IntoIterator<Item = Batch>) -> EvalStats {
    model.set_training(false);
    let mut totals = Totals::default();
    no_grad(|| {
        for (x, labels) in batches {
            let logits = model.forward(&x);
            let correct = count_correct(&logits, &labels, "evaluate");
            let loss = cross_entropy(&logits, &labels).item();
            totals.add(loss, correct, labels.len());
        }
    });
    model.set_training(true);
    EvalStats {
        loss: (totals.loss_sum / totals.samples as f64) as f32,
        accuracy: ratio(totals.correct, totals.samples),
        samples: totals.samples,
    }
}

/// Running sums over an epoch.
#[derive(Default)]
struct Totals {
    loss_sum: f64,
    correct: usize,
    samples: usize,
    batches: usize,
}

impl Totals {
    fn add(&mut self, mean_loss: f32, correct: usize, rows: usize) {
        self.loss_sum += f64::from(mean_loss) * rows as f64;
        self.correct += correct;
        self.samples += rows;
        self.batches += 1;
    }

    fn epoch_stats(&self, epoch: usize, start: Instant, completed: bool) -> EpochStats {
        EpochStats {
            epoch,
            train_loss: (self.loss_sum / self.samples as f64) as f32,
            train_accuracy: ratio(self.correct, self.samples),
            test_loss: None,
            test_accuracy: None,
            images: self.samples,
            batches: self.batches,
            seconds: start.elapsed().as_secs_f64(),
            eval_seconds: 0.0,
            completed,
        }
    }
}

fn ratio(num: usize, den: usize) -> f32 {
    (num as f64 / den as f64) as f32
}

/// Rows of `logits` `[batch, classes]` whose largest entry is the label.
fn count_correct(logits: &Tensor, labels: &[usize], op: &str) -> usize {
    let shape = logits.shape();
    assert!(
        shape.len() == 2 && shape[0] == labels.len(),
        "{op}: logits of shape {shape:?} do not fit {} labels (expected [batch, classes])",
        labels.len()
    );
    logits.argmax(1).iter().zip(labels).filter(|(p, l)| p == l).count()
}
