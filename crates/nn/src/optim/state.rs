//! [`OptimizerState`]: what an optimizer must remember between steps (step counts, momentum
//! and moment buffers), taken out for a checkpoint and put back to continue bit-identically.

use ndarray::ArrayD;
use thiserror::Error;

/// An optimizer's state: everything that, with the parameters, decides its next steps.
///
/// Buffers are named after PyTorch's `optimizer.state_dict()` entries with the parameter's
/// index: `momentum_buffer.3` (SGD), `exp_avg.3` and `exp_avg_sq.3` (Adam, AdamW). A
/// parameter that has not been updated yet has no buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    /// Which optimizer wrote it (`Sgd`, `Adam`, `AdamW`).
    pub kind: String,
    /// `step` calls so far.
    pub steps: u64,
    /// The learning rate at the time.
    pub learning_rate: f32,
    /// Per-parameter step counts (Adam's bias correction); empty for SGD.
    pub param_steps: Vec<u64>,
    /// Named state buffers.
    pub buffers: Vec<(String, ArrayD<f32>)>,
}

/// Why [`crate::optim::Optimizer::load_state`] refused a state; the optimizer is unchanged.
#[derive(Debug, Error, PartialEq)]
pub enum StateError {
    /// The state was written by another kind of optimizer.
    #[error("optimizer state is for {found}, not {expected}")]
    Kind {
        /// This optimizer.
        expected: String,
        /// The state's.
        found: String,
    },
    /// A buffer name, index or shape does not fit this optimizer's parameters.
    #[error("optimizer state buffer `{name}`: {reason}")]
    Buffer {
        /// The buffer's name.
        name: String,
        /// What does not fit.
        reason: String,
    },
    /// The number of per-parameter step counts differs from the number of parameters.
    #[error("optimizer state has {found} per-parameter step counts for {expected} parameters")]
    ParamSteps {
        /// Parameters of this optimizer.
        expected: usize,
        /// Counts in the state.
        found: usize,
    },
}

/// Checks `state` against an optimizer of `kind` over parameters of `shapes` and returns,
/// per parameter, its buffer for each of `slots` (in that order), `None` where absent. A
/// parameter has all of its slots or none.
pub(super) fn buffers_by_param(
    state: &OptimizerState,
    kind: &str,
    shapes: &[Vec<usize>],
    slots: &[&str],
) -> Result<Vec<Option<Vec<ArrayD<f32>>>>, StateError> {
    if state.kind != kind {
        return Err(StateError::Kind {
            expected: kind.to_string(),
            found: state.kind.clone(),
        });
    }
    let mut found: Vec<Vec<Option<ArrayD<f32>>>> = vec![vec![None; slots.len()]; shapes.len()];
    for (name, value) in &state.buffers {
        let bad = |reason: String| StateError::Buffer {
            name: name.clone(),
            reason,
        };
        let (slot, index) = name
            .rsplit_once('.')
            .and_then(|(s, i)| Some((slots.iter().position(|&x| x == s)?, i.parse::<usize>().ok()?)))
            .ok_or_else(|| bad(format!("not one of {slots:?} followed by a parameter index")))?;
        let shape = shapes
            .get(index)
            .ok_or_else(|| bad(format!("index {index}, but there are {} parameters", shapes.len())))?;
        if value.shape() != shape.as_slice() {
            return Err(bad(format!(
                "shape {:?}, but the parameter is {shape:?}",
                value.shape()
            )));
        }
        if found[index][slot].replace(value.clone()).is_some() {
            return Err(bad("appears twice".to_string()));
        }
    }
    found
        .into_iter()
        .enumerate()
        .map(|(i, slots_of)| match slots_of.iter().filter(|b| b.is_some()).count() {
            0 => Ok(None),
            n if n == slots.len() => Ok(Some(slots_of.into_iter().flatten().collect())),
            _ => Err(StateError::Buffer {
                name: format!("{}.{i}", slots[0]),
                reason: format!("parameter {i} has only some of {slots:?}"),
            }),
        })
        .collect()
}
