//! [`fit`] and [`fit_with`]: the training loop.

use std::time::Instant;

use neurite_tensor::Tensor;

use super::best::BestWeights;
use super::evaluate::{ratio, Totals};
use super::mlp_step::MlpStep;
use super::step::{step_observed, StepError};
use super::{
    evaluate_with, Batch, BatchStats, Control, EpochState, EpochStats, EvalStats, FitOptions, FitReport, Loss,
    ScheduleUnit, TrainCallback, TrainError,
};
use crate::layers::dropout::with_training_step;
use crate::module::Module;
use crate::optim::Optimizer;

/// Trains `model` for `epochs` epochs with `optimizer` on cross-entropy from logits.
///
/// `train_batches(epoch)` gives the training batches of each epoch (shuffle there, seeded by
/// the epoch, for reproducible runs); after each epoch `eval_batches(epoch)` is evaluated
/// with [`super::evaluate`] (return an empty iterator to skip evaluation). Callbacks see
/// every batch and epoch and may stop training. The run is deterministic given the same
/// batches, whatever the number of threads.
///
/// Each step drops the autograd graph before the optimizer runs, so the parameters are
/// updated in place without copies. Before each step the loss (and the gradient norm) is
/// checked: a NaN or infinite value stops training with [`TrainError`], without applying
/// that step.
///
/// The loop runs on a worker of rayon's pool (it enters the pool itself, so callers need no
/// `rayon::scope`): the calling thread then does its share of each parallel op instead of
/// waking the pool from outside and waiting (4-13% of a CNN step on 2 cores, see
/// docs/benchmarks.md). Results are the same either way.
///
/// # Errors
/// [`TrainError`] when the loss or the gradients become non-finite.
pub fn fit<T, E, B>(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    train_batches: impl FnMut(usize) -> T + Send,
    eval_batches: impl FnMut(usize) -> E + Send,
    epochs: usize,
    callbacks: &mut [&mut dyn TrainCallback],
) -> Result<FitReport, TrainError>
where
    T: IntoIterator<Item = B>,
    E: IntoIterator<Item = B>,
    B: Into<Batch>,
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

/// [`fit`] with [`FitOptions`]: the loss and metrics, validation batches, early stopping,
/// gradient clipping, an LR schedule, and where a resumed run starts.
///
/// # Errors
/// [`TrainError`] when the loss or the gradients become non-finite, or a callback fails
/// after an epoch.
pub fn fit_with<T, E, B>(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    mut train_batches: impl FnMut(usize) -> T + Send,
    mut eval_batches: impl FnMut(usize) -> E + Send,
    options: &FitOptions<'_>,
    callbacks: &mut [&mut dyn TrainCallback],
) -> Result<FitReport, TrainError>
where
    T: IntoIterator<Item = B>,
    E: IntoIterator<Item = B>,
    B: Into<Batch>,
{
    // `rayon::scope` runs the closure on a pool worker (in place when already on one).
    rayon::scope(|_| {
        Loop {
            model,
            optimizer,
            options,
            callbacks,
        }
        .run(&mut train_batches, &mut eval_batches)
    })
}

/// The state of one [`fit_with`] call.
struct Loop<'m, 'o, 'f, 'c, 'd> {
    model: &'m mut dyn Module,
    optimizer: &'m mut dyn Optimizer,
    options: &'o FitOptions<'f>,
    callbacks: &'c mut [&'d mut dyn TrainCallback],
}

impl Loop<'_, '_, '_, '_, '_> {
    fn run<T, E, B>(
        &mut self,
        train_batches: &mut impl FnMut(usize) -> T,
        eval_batches: &mut impl FnMut(usize) -> E,
    ) -> Result<FitReport, TrainError>
    where
        T: IntoIterator<Item = B>,
        E: IntoIterator<Item = B>,
        B: Into<Batch>,
    {
        let options = self.options;
        let metrics = options.metrics();
        let mut best = options
            .early_stopping
            .map(|rule| BestWeights::new(rule, options.resume_best.clone()));
        let mut report = FitReport::default();
        let mut mlp: Option<MlpStep> = None;
        for epoch in options.start_epoch..options.epochs {
            if let (Some(s), ScheduleUnit::Epoch) = (&options.schedule, options.schedule_unit) {
                s.apply(self.optimizer, epoch);
            }
            self.model.set_training(true);
            // Compiled at each epoch's start until it works: a Keras `Dense` has no weights
            // before its first batch.
            if mlp.is_none() && !options.graph_steps && options.loss == Loss::CrossEntropy {
                mlp = MlpStep::new(self.model);
            }
            let start = Instant::now();
            let mut totals = Totals::default();
            let mut stop = false;
            let skip = if epoch == options.start_epoch {
                options.start_batch
            } else {
                0
            };
            for (index, batch) in train_batches(epoch).into_iter().enumerate().skip(skip) {
                let batch: Batch = batch.into();
                let global_step = options.start_step + report.steps;
                if let (Some(s), ScheduleUnit::Step) = (&options.schedule, options.schedule_unit) {
                    s.apply(self.optimizer, global_step);
                }
                let rows = batch.len();
                let mut correct = 0;
                let observe = |value, output: &Tensor| correct = totals.add(value, output, &batch, options.loss, "fit");
                let stepped = match mlp.as_mut().filter(|m| m.fits(&batch)) {
                    Some(mlp) => {
                        report.compiled_steps += 1;
                        mlp.step_fitting(self.optimizer, &batch, options.clip_grad_norm, observe)
                    }
                    // Dropout masks keyed to the step: a resumed run draws the same ones.
                    None => with_training_step(global_step as u64, || {
                        step_observed(
                            self.model,
                            self.optimizer,
                            &batch,
                            options.loss,
                            options.clip_grad_norm,
                            observe,
                        )
                    }),
                };
                let loss_value = match stepped {
                    Ok(value) => value,
                    Err(failure) => {
                        report
                            .epochs
                            .push(epoch_stats(&totals, epoch, start, false, options, &metrics));
                        let report = Box::new(report);
                        return Err(match failure {
                            StepError::NonFiniteLoss(loss) => TrainError::NonFiniteLoss {
                                epoch,
                                batch: index,
                                loss,
                                report,
                            },
                            StepError::NonFiniteGradient(norm) => TrainError::NonFiniteGradient {
                                epoch,
                                batch: index,
                                norm,
                                report,
                            },
                        });
                    }
                };
                report.steps += 1;
                let stats = BatchStats {
                    epoch,
                    batch: index,
                    batches_per_epoch: options.batches_per_epoch,
                    loss: options.loss.in_target_units(loss_value, options.target_std),
                    accuracy: if options.loss.is_classification() {
                        ratio(correct, rows)
                    } else {
                        f32::NAN
                    },
                    batch_size: rows,
                    images_seen: totals.samples,
                    global_step: options.start_step + report.steps,
                    learning_rate: self.optimizer.learning_rate(),
                    elapsed: start.elapsed(),
                };
                for cb in self.callbacks.iter_mut() {
                    stop |= cb.on_batch_end(&stats) == Control::Stop;
                }
                if stop {
                    break;
                }
            }
            let mut stats = epoch_stats(&totals, epoch, start, !stop, options, &metrics);
            if stop {
                report.epochs.push(stats);
                report.stopped_early = true;
                return Ok(report);
            }
            let eval_start = Instant::now();
            if let Some(validation) = &options.validation {
                let v = evaluate_with(self.model, validation(epoch), options.loss, &metrics)
                    .in_target_units(options.loss, options.target_std);
                if v.samples > 0 {
                    stats.val_loss = Some(v.loss);
                    stats.val_accuracy = classification(&v, options);
                    stats.val_metrics = v.metrics;
                }
            }
            let test = evaluate_with(self.model, eval_batches(epoch), options.loss, &metrics)
                .in_target_units(options.loss, options.target_std);
            self.model.set_training(true);
            if test.samples > 0 {
                stats.test_loss = Some(test.loss);
                stats.test_accuracy = classification(&test, options);
                stats.test_metrics = test.metrics;
            }
            stats.eval_seconds = eval_start.elapsed().as_secs_f64();
            let patience_out = best.as_mut().is_some_and(|b| {
                let monitored = stats.val_loss.or(stats.test_loss).unwrap_or(stats.train_loss);
                b.observe(epoch, monitored, self.model)
            });
            for cb in self.callbacks.iter_mut() {
                stop |= cb.on_epoch_end(&stats) == Control::Stop;
            }
            report.epochs.push(stats);
            let last = epoch + 1 == options.epochs || stop || patience_out;
            if last {
                report.restored_epoch = best.as_ref().and_then(|b| b.restore(self.model, epoch));
            }
            report.best = best.as_ref().and_then(BestWeights::snapshot);
            let state = EpochState {
                model: self.model,
                optimizer: self.optimizer,
                report: &report,
                epoch,
                global_step: options.start_step + report.steps,
            };
            for cb in self.callbacks.iter_mut() {
                if let Err(message) = cb.on_epoch_state(&state) {
                    return Err(TrainError::Callback {
                        epoch,
                        message,
                        report: Box::new(report),
                    });
                }
            }
            if stop || patience_out {
                report.stopped_early = epoch + 1 < options.epochs;
                break;
            }
        }
        Ok(report)
    }
}

fn classification(stats: &EvalStats, options: &FitOptions<'_>) -> Option<f32> {
    options.loss.is_classification().then_some(stats.accuracy)
}

fn epoch_stats(
    totals: &Totals,
    epoch: usize,
    start: Instant,
    completed: bool,
    options: &FitOptions<'_>,
    metrics: &[super::Metric],
) -> EpochStats {
    EpochStats {
        epoch,
        train_loss: options.loss.in_target_units(totals.mean_loss(), options.target_std),
        train_accuracy: totals.accuracy(options.loss),
        train_metrics: super::metrics_in_target_units(totals.metrics(metrics), options.target_std),
        val_loss: None,
        val_accuracy: None,
        val_metrics: Vec::new(),
        test_loss: None,
        test_accuracy: None,
        test_metrics: Vec::new(),
        images: totals.samples,
        batches: totals.batches,
        seconds: start.elapsed().as_secs_f64(),
        eval_seconds: 0.0,
        completed,
    }
}
