//! [`evaluate`]: loss and metrics of a model over batches, without gradients; and the running
//! sums that [`super::fit`] shares with it.

use neurite_tensor::{no_grad, Tensor};

use super::{Batch, EvalStats, Loss, Metric, MetricValues};
use crate::loss::one_hot_like;
use crate::module::Module;

/// Mean cross-entropy and accuracy of `model` over `batches`, without recording gradients and
/// with the model in evaluation mode (`set_training(false)`); the model is switched back to
/// training mode afterwards.
///
/// # Panics
/// When a batch's label count differs from its row count or a label is out of range.
pub fn evaluate<B: Into<Batch>>(model: &mut dyn Module, batches: impl IntoIterator<Item = B>) -> EvalStats {
    evaluate_with(model, batches, Loss::CrossEntropy, &[Metric::Accuracy])
}

/// [`evaluate`] with another loss and metrics.
///
/// # Panics
/// When the outputs do not fit the labels or targets (naming the op and the shapes).
pub fn evaluate_with<B: Into<Batch>>(
    model: &mut dyn Module,
    batches: impl IntoIterator<Item = B>,
    loss: Loss,
    metrics: &[Metric],
) -> EvalStats {
    model.set_training(false);
    let mut totals = Totals::default();
    no_grad(|| {
        for batch in batches {
            let batch = batch.into();
            let output = model.forward(&batch.inputs);
            let value = loss.compute(&output, &batch.labels, batch.targets.as_ref()).item();
            totals.add(value, &output, &batch, loss, "evaluate");
        }
    });
    model.set_training(true);
    EvalStats {
        loss: totals.mean_loss(),
        accuracy: totals.accuracy(loss),
        metrics: totals.metrics(metrics),
        samples: totals.samples,
    }
}

/// Running sums over an epoch or an evaluation.
#[derive(Clone, Debug, Default)]
pub(super) struct Totals {
    pub loss_sum: f64,
    pub correct: usize,
    pub squared_error: f64,
    pub absolute_error: f64,
    pub elements: usize,
    pub samples: usize,
    pub batches: usize,
}

impl Totals {
    /// Adds a batch whose mean loss was `mean_loss` and outputs `output`; returns the number
    /// of rows classified correctly (0 for a regression loss).
    pub fn add(&mut self, mean_loss: f32, output: &Tensor, batch: &Batch, loss: Loss, op: &str) -> usize {
        let rows = batch.len();
        let correct = if loss.is_classification() {
            count_correct(output, &batch.labels, op)
        } else {
            0
        };
        if let Some(targets) = &batch.targets {
            let (sq, abs) = errors(output, targets, op);
            self.squared_error += sq;
            self.absolute_error += abs;
            self.elements += output.numel();
        } else if !loss.is_classification() {
            // Regression against one-hot labels: errors against the implied targets.
            let target = one_hot_like(output, &batch.labels, op);
            let (sq, abs) = errors(output, &target, op);
            self.squared_error += sq;
            self.absolute_error += abs;
            self.elements += output.numel();
        }
        self.loss_sum += f64::from(mean_loss) * rows as f64;
        self.correct += correct;
        self.samples += rows;
        self.batches += 1;
        correct
    }

    pub fn mean_loss(&self) -> f32 {
        (self.loss_sum / self.samples as f64) as f32
    }

    pub fn accuracy(&self, loss: Loss) -> f32 {
        if loss.is_classification() {
            ratio(self.correct, self.samples)
        } else {
            f32::NAN
        }
    }

    pub fn metrics(&self, metrics: &[Metric]) -> MetricValues {
        metrics
            .iter()
            .map(|&m| {
                let v = match m {
                    Metric::Accuracy => ratio(self.correct, self.samples),
                    Metric::Mse => (self.squared_error / self.elements as f64) as f32,
                    Metric::Mae => (self.absolute_error / self.elements as f64) as f32,
                };
                (m, v)
            })
            .collect()
    }
}

pub(super) fn ratio(num: usize, den: usize) -> f32 {
    (num as f64 / den as f64) as f32
}

/// Sums of squared and absolute differences, in f64.
fn errors(output: &Tensor, targets: &Tensor, op: &str) -> (f64, f64) {
    assert!(
        output.shape() == targets.shape(),
        "{op}: outputs of shape {:?} do not fit targets of shape {:?}",
        output.shape(),
        targets.shape()
    );
    let (o, t) = (output.to_vec(), targets.to_vec());
    o.iter().zip(&t).fold((0.0, 0.0), |(sq, abs), (&a, &b)| {
        let d = f64::from(a) - f64::from(b);
        (sq + d * d, abs + d.abs())
    })
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
