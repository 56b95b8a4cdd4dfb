//! [`AdamW`]: Adam with decoupled weight decay, following `torch.optim.AdamW`.

use neurite_tensor::Tensor;

use super::adam::{adam_family, AdamCore};

/// AdamW, `torch.optim.AdamW`: Adam whose weight decay shrinks the parameter directly
/// (`p = p * (1 - lr * weight_decay)` before the Adam update) instead of adding an L2 term
/// to the gradient. Defaults as PyTorch: betas (0.9, 0.999), eps 1e-8, weight decay 0.01.
///
/// ```
/// use neurite_nn::optim::{AdamW, Optimizer};
/// use neurite_tensor::Tensor;
/// let w = Tensor::from_vec(vec![2.0], &[1]).unwrap().requires_grad_();
/// let mut opt = AdamW::new(vec![w.clone()], 0.1).with_weight_decay(0.5);
/// (&w * 0.0).sum().backward(); // a zero gradient: only the decay acts
/// opt.step();
/// assert!((w.item() - 2.0 * (1.0 - 0.1 * 0.5)).abs() < 1e-6);
/// ```
pub struct AdamW {
    core: AdamCore,
}

impl AdamW {
    /// AdamW over `params` with learning rate `lr` and weight decay 0.01.
    ///
    /// # Panics
    /// When `lr` is negative or not finite, or a parameter is not a leaf or appears twice.
    pub fn new(params: Vec<Tensor>, lr: f32) -> AdamW {
        AdamW {
            core: AdamCore::new("AdamW", params, lr, 0.01, true),
        }
    }

    /// Sets the decoupled weight decay (default 0.01).
    pub fn with_weight_decay(mut self, weight_decay: f32) -> AdamW {
        self.core.set_weight_decay(weight_decay);
        self
    }
}

adam_family!(AdamW);
