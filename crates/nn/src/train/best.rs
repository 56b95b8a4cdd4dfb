//! Early stopping's bookkeeping: the best monitored loss so far, the epochs since, and a copy
//! of the weights (parameters and buffers) of the best epoch, put back when training stops.
//! [`BestSoFar`] is that state in the open, so a checkpoint can carry it across a resume.

use ndarray::ArrayD;

use super::EarlyStopping;
use crate::module::Module;

/// Early stopping's state after an epoch: the best epoch so far, its monitored loss, the
/// epochs since, and its weights (parameters and buffers, in `state_dict` order).
#[derive(Clone, Debug, PartialEq)]
pub struct BestSoFar {
    /// The best epoch, from 0.
    pub epoch: usize,
    /// Its monitored loss.
    pub loss: f32,
    /// Epochs since without improvement.
    pub waited: usize,
    /// Its weights by `state_dict` name, in name order (restored by name; a name or shape the model lacks
    /// is skipped, which [`super::checkpoint`] rules out by checking first).
    pub weights: Vec<(String, ArrayD<f32>)>,
}

/// The best epoch seen so far and its weights.
pub(super) struct BestWeights {
    rule: EarlyStopping,
    best: Option<BestSoFar>,
}

impl BestWeights {
    /// Fresh bookkeeping, or that of a resumed run.
    pub fn new(rule: EarlyStopping, resumed: Option<BestSoFar>) -> BestWeights {
        BestWeights { rule, best: resumed }
    }

    /// Records the epoch's monitored `loss`; keeps a copy of the weights when it improves.
    /// Returns whether patience has run out.
    pub fn observe(&mut self, epoch: usize, loss: f32, model: &dyn Module) -> bool {
        let improved = match &self.best {
            None => loss.is_finite(),
            Some(best) => loss < best.loss - self.rule.min_delta,
        };
        if improved {
            let mut weights: Vec<(String, ArrayD<f32>)> = state(model)
                .into_iter()
                .map(|(n, t)| (n, t.read(|d| d.to_owned())))
                .collect();
            // In name order, as a checkpoint file stores them.
            weights.sort_by(|a, b| a.0.cmp(&b.0));
            self.best = Some(BestSoFar {
                epoch,
                loss,
                waited: 0,
                weights,
            });
            return false;
        }
        match &mut self.best {
            Some(best) => {
                best.waited += 1;
                best.waited >= self.rule.patience
            }
            None => false,
        }
    }

    /// Puts the best epoch's weights back into `model` unless `last_epoch` is the best one;
    /// returns the best epoch when it restored something.
    pub fn restore(&self, model: &dyn Module, last_epoch: usize) -> Option<usize> {
        let best = self.best.as_ref()?;
        if best.epoch == last_epoch {
            return None;
        }
        // By name: a state read back from a checkpoint comes in file (sorted) order.
        let by_name: std::collections::HashMap<&str, &ArrayD<f32>> =
            best.weights.iter().map(|(n, w)| (n.as_str(), w)).collect();
        for (name, t) in state(model) {
            if let Some(w) = by_name.get(name.as_str()).filter(|w| w.shape() == t.shape().as_slice()) {
                t.set_data((*w).clone());
            }
        }
        Some(best.epoch)
    }

    /// The state so far.
    pub fn snapshot(&self) -> Option<BestSoFar> {
        self.best.clone()
    }
}

fn state(model: &dyn Module) -> Vec<(String, neurite_tensor::Tensor)> {
    let mut all = model.named_parameters();
    all.extend(model.named_buffers());
    all
}
