//! Learning-rate schedules: [`StepLr`], [`CosineAnnealingLr`], [`LinearWarmup`] and
//! [`ConstantLr`], each a closed-form function of the epoch (or step) index.
//!
//! The formulas are PyTorch's closed forms (`torch.optim.lr_scheduler`), computed in f64.
//! A schedule does not own the optimizer: call [`LrSchedule::apply`] at the start of each
//! epoch (or step) with the index counted from 0.
//!
//! ```
//! use neurite_nn::optim::{CosineAnnealingLr, LinearWarmup, LrSchedule, Optimizer, Sgd};
//! use neurite_tensor::Tensor;
//! let w = Tensor::zeros(&[3]).requires_grad_();
//! let mut opt = Sgd::new(vec![w], 0.1);
//! // 2 warm-up epochs from 0.1 * base, then cosine annealing over 8 epochs.
//! let schedule = LinearWarmup::new(2, 0.1, CosineAnnealingLr::new(0.1, 8, 0.0));
//! let lrs: Vec<f32> = (0..10).map(|epoch| schedule.apply(&mut opt, epoch)).collect();
//! assert!((lrs[0] - 0.01).abs() < 1e-7 && (lrs[2] - 0.1).abs() < 1e-7);
//! assert_eq!(opt.learning_rate(), lrs[9]);
//! ```

use std::f64::consts::PI;

use super::Optimizer;

/// A learning rate as a function of the epoch (or step) index `t`, counted from 0.
pub trait LrSchedule: Send + Sync {
    /// The learning rate for index `t`.
    fn lr(&self, t: usize) -> f32;

    /// Sets `optimizer`'s learning rate to `self.lr(t)` and returns it.
    fn apply(&self, optimizer: &mut dyn Optimizer, t: usize) -> f32 {
        let lr = self.lr(t);
        optimizer.set_learning_rate(lr);
        lr
    }
}

/// The same learning rate at every index.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstantLr(pub f32);

impl LrSchedule for ConstantLr {
    fn lr(&self, _t: usize) -> f32 {
        self.0
    }
}

/// Decays the rate by `gamma` every `step_size` indices: `base_lr * gamma^floor(t / step_size)`,
/// PyTorch's `StepLR`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    base_lr: f32,
    step_size: usize,
    gamma: f32,
}

impl StepLr {
    /// A step schedule starting at `base_lr`.
    ///
    /// # Panics
    /// When `step_size` is 0.
    pub fn new(base_lr: f32, step_size: usize, gamma: f32) -> StepLr {
        assert!(step_size > 0, "StepLr: step_size must be at least 1");
        StepLr {
            base_lr,
            step_size,
            gamma,
        }
    }
}

impl LrSchedule for StepLr {
    fn lr(&self, t: usize) -> f32 {
        let k = (t / self.step_size) as i32;
        (f64::from(self.base_lr) * f64::from(self.gamma).powi(k)) as f32
    }
}

/// Cosine annealing from `base_lr` down to `eta_min` over `t_max` indices,
/// `eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2`, PyTorch's
/// `CosineAnnealingLR` (closed form; past `t_max` the cosine continues, as in PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    base_lr: f32,
    t_max: usize,
    eta_min: f32,
}

impl CosineAnnealingLr {
    /// A cosine schedule with period `2 * t_max`.
    ///
    /// # Panics
    /// When `t_max` is 0.
    pub fn new(base_lr: f32, t_max: usize, eta_min: f32) -> CosineAnnealingLr {
        assert!(t_max > 0, "CosineAnnealingLr: t_max must be at least 1");
        CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min,
        }
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr(&self, t: usize) -> f32 {
        let (base, min) = (f64::from(self.base_lr), f64::from(self.eta_min));
        let cos = (PI * t as f64 / self.t_max as f64).cos();
        (min + (base - min) * (1.0 + cos) / 2.0) as f32
    }
}

/// A linear warm-up in front of another schedule: for `t < warmup`, the inner schedule's
/// first rate times a factor rising linearly from `start_factor` (at `t = 0`) towards 1;
/// from `t = warmup` on, the inner schedule shifted by `warmup` (`inner.lr(t - warmup)`).
///
/// This is PyTorch's `SequentialLR([LinearLR(opt, start_factor, total_iters=warmup), inner],
/// milestones=[warmup])`.
pub struct LinearWarmup {
    warmup: usize,
    start_factor: f32,
    inner: Box<dyn LrSchedule>,
}

impl LinearWarmup {
    /// Warms up over `warmup` indices from `start_factor` times the inner schedule's first
    /// rate; wrap a [`ConstantLr`] for a warm-up to a constant rate.
    ///
    /// # Panics
    /// When `start_factor` is not in `(0, 1]` (as PyTorch's `LinearLR` requires).
    pub fn new(warmup: usize, start_factor: f32, inner: impl LrSchedule + 'static) -> LinearWarmup {
        assert!(
            start_factor > 0.0 && start_factor <= 1.0,
            "LinearWarmup: start_factor must be in (0, 1], got {start_factor}"
        );
        LinearWarmup {
            warmup,
            start_factor,
            inner: Box::new(inner),
        }
    }
}

impl LrSchedule for LinearWarmup {
    fn lr(&self, t: usize) -> f32 {
        if t >= self.warmup {
            return self.inner.lr(t - self.warmup);
        }
        let start = f64::from(self.start_factor);
        let factor = start + (1.0 - start) * t as f64 / self.warmup as f64;
        (f64::from(self.inner.lr(0)) * factor) as f32
    }
}
