//! Early stopping's bookkeeping: the best monitored loss so far, the epochs since, and a copy
//! of the weights (parameters and buffers) of the best epoch, put back when training stops.

use ndarray::ArrayD;

use super::EarlyStopping;
use crate::module::Module;

/// The best epoch seen so far and its weights.
pub(super) struct BestWeights {
    rule: EarlyStopping,
    best: Option<(usize, f32)>,
    waited: usize,
    weights: Vec<ArrayD<f32>>,
}

impl BestWeights {
    pub fn new(rule: EarlyStopping) -> BestWeights {
        BestWeights {
            rule,
            best: None,
            waited: 0,
            weights: Vec::new(),
        }
    }

    /// Records the epoch's monitored `loss`; keeps a copy of the weights when it improves.
    /// Returns whether patience has run out.
    pub fn observe(&mut self, epoch: usize, loss: f32, model: &dyn Module) -> bool {
        let improved = match self.best {
            None => loss.is_finite(),
            Some((_, best)) => loss < best - self.rule.min_delta,
        };
        if improved {
            self.best = Some((epoch, loss));
            self.waited = 0;
            self.weights = state(model).iter().map(|t| t.read(|d| d.to_owned())).collect();
            false
        } else {
            self.waited += 1;
            self.waited >= self.rule.patience
        }
    }

    /// Puts the best epoch's weights back into `model` unless `epoch` is the best one;
    /// returns the best epoch when it restored something.
    pub fn restore(&self, model: &dyn Module, last_epoch: usize) -> Option<usize> {
        let (best_epoch, _) = self.best?;
        if best_epoch == last_epoch {
            return None;
        }
        for (t, w) in state(model).iter().zip(&self.weights) {
            t.set_data(w.clone());
        }
        Some(best_epoch)
    }
}

fn state(model: &dyn Module) -> Vec<neurite_tensor::Tensor> {
    let mut all: Vec<_> = model.named_parameters().into_iter().map(|(_, t)| t).collect();
    all.extend(model.named_buffers().into_iter().map(|(_, t)| t));
    all
}
