//! Optimizers, learning-rate schedules and gradient utilities, with PyTorch's update rules.
//!
//! An optimizer is built from the parameter handles of a model (`model.parameters()`); the
//! handles share storage with the model, so [`Optimizer::step`] changes the model's weights in
//! place. State buffers (momentum, Adam's moments) are allocated once, on a parameter's first
//! update, so the steady state allocates nothing. Parameters without a gradient are skipped,
//! as in PyTorch.
//!
//! ```
//! use neurite_nn::optim::{Optimizer, Sgd};
//! use neurite_nn::{Linear, Module, Sequential, ReLU};
//! use neurite_tensor::{seeded_rng, Tensor};
//!
//! let mut rng = seeded_rng(0);
//! let mut model = Sequential::new().add(Linear::new(4, 8, &mut rng)).add(ReLU).add(Linear::new(8, 1, &mut rng));
//! let mut opt = Sgd::new(model.parameters(), 0.05).with_momentum(0.9);
//! let x = Tensor::uniform(&[16, 4], -1.0, 1.0, &mut rng);
//! let target = x.sum_axis(1, true);
//! let mut losses = Vec::new();
//! for _ in 0..50 {
//!     opt.zero_grad();
//!     let loss = (&model.forward(&x) - &target).square().mean();
//!     losses.push(loss.item());
//!     loss.backward();
//!     drop(loss); // free the graph so the update happens in place, without a copy
//!     opt.step();
//! }
//! assert!(losses[49] < 0.1 * losses[0]);
//! ```

mod adam;
mod adamw;
mod clip;
pub mod schedule;
mod sgd;
mod state;

pub use adam::Adam;
pub use adamw::AdamW;
pub use clip::{clip_grad_norm, clip_grad_value, grad_norm, grad_norm_is_finite, zero_grad};
pub use schedule::{ConstantLr, CosineAnnealingLr, LinearWarmup, LrSchedule, StepLr};
pub use sgd::Sgd;
pub use state::{OptimizerState, StateError};

use std::collections::HashSet;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use neurite_tensor::Tensor;

/// Updates parameters from their gradients.
///
/// `step` reads each parameter's accumulated gradient and changes the parameter in place;
/// `zero_grad` clears the gradients before the next backward pass.
pub trait Optimizer: Send {
    /// Applies one update to every parameter that has a gradient.
    fn step(&mut self);

    /// Clears the gradients of all parameters (PyTorch's `zero_grad(set_to_none=True)`).
    fn zero_grad(&self) {
        zero_grad(self.parameters());
    }

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Changes the learning rate (used by [`LrSchedule`]s).
    fn set_learning_rate(&mut self, lr: f32);

    /// The parameters this optimizer updates.
    fn parameters(&self) -> &[Tensor];

    /// The number of `step` calls so far.
    fn steps(&self) -> u64;

    /// The state a checkpoint needs to continue training bit-identically (see
    /// [`OptimizerState`]).
    fn state(&self) -> OptimizerState;

    /// Restores a state taken with [`Optimizer::state`] from an optimizer of the same kind
    /// over parameters of the same shapes; on error nothing is changed.
    ///
    /// # Errors
    /// [`StateError`] naming what does not fit.
    fn load_state(&mut self, state: &OptimizerState) -> Result<(), StateError>;
}

/// Checks the parameter list the way `torch.optim.Optimizer` does.
///
/// # Panics
/// When a parameter is not a leaf tensor or appears twice.
fn check_params(op: &str, params: &[Tensor]) {
    let mut seen = HashSet::new();
    for (i, p) in params.iter().enumerate() {
        assert!(
            p.is_leaf(),
            "{op}: parameter {i} (shape {:?}) is not a leaf tensor and cannot be optimized",
            p.shape()
        );
        assert!(
            seen.insert(p.id()),
            "{op}: parameter {i} (shape {:?}) appears more than once",
            p.shape()
        );
    }
}

/// # Panics
/// When `lr` is negative or not finite.
fn check_lr(op: &str, lr: f32) {
    assert!(lr.is_finite() && lr >= 0.0, "{op}: invalid learning rate {lr}");
}

/// Runs `update` on a parameter's values and gradient, in place; does nothing when the
/// parameter has no gradient. Returns whether an update happened.
///
/// # Panics
/// When the gradient's shape differs from the parameter's.
fn with_param_and_grad(
    op: &str,
    param: &Tensor,
    update: impl FnOnce(ArrayViewMutD<'_, f32>, ArrayViewD<'_, f32>),
) -> bool {
    if !param.with_grad(|g| g.is_some()) {
        return false;
    }
    param.update(|values| {
        param.with_grad(|g| {
            let g = g.expect("checked above; gradients are not cleared during a step");
            assert!(
                g.shape() == values.shape(),
                "{op}: gradient shape {:?} differs from parameter shape {:?}",
                g.shape(),
                values.shape()
            );
            update(values, g.view());
        })
    });
    true
}

/// Lazily allocates a zeroed state buffer shaped like `param` (once per parameter).
fn state_buffer<'a>(slot: &'a mut Option<ArrayD<f32>>, shape: &[usize]) -> &'a mut ArrayD<f32> {
    slot.get_or_insert_with(|| ArrayD::zeros(shape))
}

/// Whether an element loop over `len` elements runs on rayon's pool. Every element is
/// updated independently and identically either way, so results do not depend on it.
fn parallel(len: usize) -> bool {
    len >= neurite_tensor::parallel::PAR_MIN_ELEMS
}

/// Runs an element-wise update over one or more arrays of the same shape with
/// [`ndarray::Zip`], in parallel for large arrays.
macro_rules! zip_update {
    ($len:expr, $zip:expr, $f:expr) => {{
        let zip = $zip;
        if $crate::optim::parallel($len) {
            zip.par_for_each($f);
        } else {
            zip.for_each($f);
        }
    }};
}
pub(crate) use zip_update;
