//! [`train_step`]: one optimizer step on one batch, the unit [`super::fit`] repeats and that
//! benchmarks time on their own.

use neurite_tensor::Tensor;

use super::{Batch, Loss};
use crate::module::Module;
use crate::optim::{clip_grad_norm, grad_norm, grad_norm_is_finite, Optimizer};

/// Why [`train_step`] did not step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepError {
    /// The loss was NaN or infinite; no step was taken.
    NonFiniteLoss(f32),
    /// The loss was finite but the gradients' global L2 norm was not; no step was taken.
    NonFiniteGradient(f32),
}

/// One step: clear the gradients, forward, `loss`, backward, (clip,) check, update. Returns
/// the batch's mean loss before the step. Parameters are updated in place: the autograd
/// graph is dropped before the optimizer runs.
///
/// # Errors
/// [`StepError`] when the loss or the gradient norm is not finite; the parameters are then
/// unchanged and the gradients cleared.
///
/// # Panics
/// When the model's output does not fit the batch's labels or targets.
pub fn train_step(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    batch: &Batch,
    loss: Loss,
    clip: Option<f32>,
) -> Result<f32, StepError> {
    step_observed(model, optimizer, batch, loss, clip, |_, _| {})
}

/// [`train_step`], calling `observe(loss, output)` after the backward pass (for metrics).
pub(super) fn step_observed(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    batch: &Batch,
    loss: Loss,
    clip: Option<f32>,
    observe: impl FnOnce(f32, &Tensor),
) -> Result<f32, StepError> {
    optimizer.zero_grad();
    let output = model.forward(&batch.inputs);
    let value_tensor = loss.compute(&output, &batch.labels, batch.targets.as_ref());
    let value = value_tensor.item();
    if !value.is_finite() {
        drop((value_tensor, output));
        optimizer.zero_grad();
        return Err(StepError::NonFiniteLoss(value));
    }
    value_tensor.backward();
    drop(value_tensor);
    observe(value, &output);
    // Free the graph: its closures hold the parameters' storage, which would make the
    // in-place update copy it.
    drop(output);
    check_and_step(optimizer, clip).map(|()| value)
}

/// The end of a step once the gradients are in place: clip them to `clip` (or just measure
/// their global norm), refuse a non-finite norm (clearing them), else `optimizer.step()`.
pub(super) fn check_and_step(optimizer: &mut dyn Optimizer, clip: Option<f32>) -> Result<(), StepError> {
    // The norm when it is not finite. Unclipped, only finiteness matters, and the norm itself
    // is computed for the error alone.
    let non_finite = match clip {
        Some(max) => Some(clip_grad_norm(optimizer.parameters(), max)).filter(|n| !n.is_finite()),
        None if grad_norm_is_finite(optimizer.parameters()) => None,
        None => Some(grad_norm(optimizer.parameters())),
    };
    if let Some(norm) = non_finite {
        optimizer.zero_grad();
        return Err(StepError::NonFiniteGradient(norm));
    }
    optimizer.step();
    Ok(())
}
