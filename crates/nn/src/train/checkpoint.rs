//! Checkpoints: a run's model, optimizer state and progress in one safetensors file, so that
//! training can continue bit-identically after an interruption.
//!
//! The file holds the model's parameters and buffers as `model.<state_dict name>`, the
//! optimizer's buffers as `optimizer.<buffer name>` (see [`OptimizerState`]), and in its
//! metadata, under [`CHECKPOINT_KEY`], a JSON object with the epochs done, the global step,
//! the optimizer's counters and whatever the caller records about the run (its settings, its
//! metrics so far). With early stopping, its best epoch, loss and patience count go there too
//! and the best weights are stored as `best.<state_dict name>`. It is written atomically
//! (`neurite_tensor::atomic_file`): a crash or a
//! second Ctrl-C leaves the previous checkpoint intact.
//!
//! Shuffling and augmentation in neurite are seeded by `(seed, epoch)`, so the epoch number
//! is all the random state a resumed run needs; layers with a generator of their own
//! (dropout) are not restored.
//!
//! ```
//! use neurite_nn::optim::{Optimizer, Sgd};
//! use neurite_nn::train::checkpoint::{self, CheckpointInfo};
//! use neurite_nn::{Linear, Module};
//! use neurite_tensor::{seeded_rng, Tensor};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("checkpoint.safetensors");
//! let mut model = Linear::new(3, 2, &mut seeded_rng(0));
//! let mut opt = Sgd::new(model.parameters(), 0.1).with_momentum(0.9);
//! model.forward(&Tensor::ones(&[4, 3])).sum().backward();
//! opt.step();
//! let info = CheckpointInfo { epochs_done: 1, batches_done: 0, global_step: 1, run: serde_json::json!({"seed": 0}), best: None };
//! checkpoint::save(&path, &model, &opt, &info, &Default::default()).unwrap();
//!
//! let mut model2 = Linear::new(3, 2, &mut seeded_rng(7));
//! let mut opt2 = Sgd::new(model2.parameters(), 0.1).with_momentum(0.9);
//! let loaded = checkpoint::load(&path).unwrap();
//! loaded.restore(&mut model2, &mut opt2).unwrap();
//! assert_eq!(loaded.info.epochs_done, 1);
//! assert_eq!(model2.parameters()[0].to_vec(), model.parameters()[0].to_vec());
//! assert_eq!(opt2.state(), opt.state());
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use neurite_tensor::Tensor;
use serde_json::{json, Value};
use thiserror::Error;

use super::BestSoFar;
use crate::module::Module;
use crate::optim::{Optimizer, OptimizerState, StateError};
use crate::serialize::{self, Metadata, SerializeError};

/// The metadata key of a checkpoint's JSON record.
pub const CHECKPOINT_KEY: &str = "neurite.checkpoint";

/// Where a run stands: what a checkpoint records besides the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointInfo {
    /// Complete epochs; a resumed run starts with epoch index `epochs_done`.
    pub epochs_done: usize,
    /// Batches of epoch `epochs_done` already trained (a run interrupted mid-epoch), else 0
    /// ([`super::FitOptions::start_batch`]).
    pub batches_done: usize,
    /// Optimizer steps of the whole run so far.
    pub global_step: usize,
    /// What the caller records about the run (settings, metrics so far).
    pub run: Value,
    /// Early stopping's state ([`super::FitReport::best`]), saved as `best.*` tensors.
    pub best: Option<BestSoFar>,
}

/// A checkpoint read by [`load`].
#[derive(Debug)]
pub struct Checkpoint {
    /// Where the run stands.
    pub info: CheckpointInfo,
    /// The optimizer's state.
    pub optimizer: OptimizerState,
    /// The file's other metadata entries (the model architecture, ...).
    pub metadata: Metadata,
    model: BTreeMap<String, Tensor>,
    path: PathBuf,
}

/// Why a checkpoint could not be read or restored. Every variant names the file.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// The file could not be read as safetensors.
    #[error(transparent)]
    Read(#[from] SerializeError),
    /// The file is safetensors but not a checkpoint, or its record is damaged.
    #[error("{}: not a neurite checkpoint: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint does not fit the model or optimizer it is restored into.
    #[error("{}: does not fit this run: {reason}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
}

/// Writes a checkpoint of `model` and `optimizer` to `path` atomically, with `info` and the
/// extra `metadata` entries.
///
/// # Errors
/// [`SerializeError`] when the file cannot be written.
pub fn save(
    path: &Path,
    model: &dyn Module,
    optimizer: &dyn Optimizer,
    info: &CheckpointInfo,
    metadata: &Metadata,
) -> Result<(), SerializeError> {
    let state = optimizer.state();
    let mut tensors: Vec<(String, Tensor)> = Vec::new();
    for (name, t) in model.named_parameters().into_iter().chain(model.named_buffers()) {
        tensors.push((format!("model.{name}"), t));
    }
    for (name, b) in &state.buffers {
        tensors.push((format!("optimizer.{name}"), Tensor::from_array(b.clone())));
    }
    if let Some(best) = &info.best {
        for (name, w) in &best.weights {
            tensors.push((format!("best.{name}"), Tensor::from_array(w.clone())));
        }
    }
    let best = info
        .best
        .as_ref()
        .map(|b| json!({ "epoch": b.epoch, "loss_bits": b.loss.to_bits(), "waited": b.waited }));
    let record = json!({
        "epochs_done": info.epochs_done,
        "batches_done": info.batches_done,
        "global_step": info.global_step,
        "optimizer": {
            "kind": state.kind,
            "steps": state.steps,
            "learning_rate_bits": state.learning_rate.to_bits(),
            "param_steps": state.param_steps,
        },
        "run": info.run,
        "best": best,
    });
    let mut meta = metadata.clone();
    meta.insert(CHECKPOINT_KEY.to_string(), record.to_string());
    serialize::save_tensors(&tensors, path, &meta)
}

/// Reads only a checkpoint's record (no tensors): cheap, for checking a run before loading.
///
/// # Errors
/// [`CheckpointError`] when the file cannot be read or is not a checkpoint.
pub fn read_info(path: &Path) -> Result<(CheckpointInfo, Metadata), CheckpointError> {
    let metadata = serialize::read_metadata(path)?;
    let (info, _) = parse_record(path, &metadata)?;
    Ok((info, metadata))
}

/// Reads a whole checkpoint.
///
/// # Errors
/// [`CheckpointError`] when the file cannot be read, is not a checkpoint or is damaged.
pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let (tensors, mut metadata) = serialize::load_state_dict(path)?;
    let (info, mut optimizer) = parse_record(path, &metadata)?;
    metadata.remove(CHECKPOINT_KEY);
    let mut model = BTreeMap::new();
    let mut info = info;
    for (name, t) in tensors {
        if let Some(n) = name.strip_prefix("model.") {
            model.insert(n.to_string(), t);
        } else if let Some(n) = name.strip_prefix("optimizer.") {
            optimizer.buffers.push((n.to_string(), t.read(|d| d.to_owned())));
        } else if let (Some(n), Some(best)) = (name.strip_prefix("best."), info.best.as_mut()) {
            best.weights.push((n.to_string(), t.read(|d| d.to_owned())));
        } else {
            return Err(invalid(path, format!("unexpected tensor `{name}`")));
        }
    }
    Ok(Checkpoint {
        info,
        optimizer,
        metadata,
        model,
        path: path.to_path_buf(),
    })
}

impl Checkpoint {
    /// Puts the checkpoint's weights into `model` and its state into `optimizer` (built over
    /// `model.parameters()`). Everything is checked first: on error nothing has changed.
    ///
    /// # Errors
    /// [`CheckpointError::Mismatch`] naming the tensor or the optimizer setting that differs.
    pub fn restore(&self, model: &mut dyn Module, optimizer: &mut dyn Optimizer) -> Result<(), CheckpointError> {
        let pairs = self.check_model(model)?;
        optimizer
            .load_state(&self.optimizer)
            .map_err(|e: StateError| self.mismatch(e.to_string()))?;
        // The optimizer accepted its state; now the weights (which cannot fail any more).
        for (t, v) in pairs {
            t.set_data(v.read(|d| d.to_owned()));
        }
        Ok(())
    }

    /// Puts only the checkpoint's weights into `model`.
    ///
    /// # Errors
    /// [`CheckpointError::Mismatch`] naming the tensor that differs.
    pub fn restore_model(&self, model: &mut dyn Module) -> Result<(), CheckpointError> {
        for (t, v) in self.check_model(model)? {
            t.set_data(v.read(|d| d.to_owned()));
        }
        Ok(())
    }

    fn check_model(&self, model: &dyn Module) -> Result<Vec<(Tensor, &Tensor)>, CheckpointError> {
        let mut pairs = Vec::new();
        let mut names = Vec::new();
        for (name, t) in model.named_parameters().into_iter().chain(model.named_buffers()) {
            let Some(v) = self.model.get(&name) else {
                return Err(self.mismatch(format!(
                    "the model has `{name}` {:?}, the checkpoint does not",
                    t.shape()
                )));
            };
            if v.shape() != t.shape() {
                return Err(self.mismatch(format!(
                    "`{name}` is {:?} in the checkpoint, {:?} in the model",
                    v.shape(),
                    t.shape()
                )));
            }
            names.push(name);
            pairs.push((t, v));
        }
        if let Some(extra) = self.model.keys().find(|k| !names.contains(k)) {
            return Err(self.mismatch(format!("the checkpoint has `{extra}`, the model does not")));
        }
        if let Some(best) = &self.info.best {
            for (name, w) in &best.weights {
                let fits = pairs
                    .iter()
                    .zip(&names)
                    .any(|((t, _), n)| n == name && t.shape().as_slice() == w.shape());
                if !fits {
                    return Err(self.mismatch(format!("early stopping's best weights `{name}` do not fit the model")));
                }
            }
        }
        Ok(pairs)
    }

    fn mismatch(&self, reason: String) -> CheckpointError {
        CheckpointError::Mismatch {
            path: self.path.clone(),
            reason,
        }
    }
}

fn invalid(path: &Path, reason: String) -> CheckpointError {
    CheckpointError::Invalid {
        path: path.to_path_buf(),
        reason,
    }
}

fn parse_record(path: &Path, metadata: &Metadata) -> Result<(CheckpointInfo, OptimizerState), CheckpointError> {
    let text = metadata
        .get(CHECKPOINT_KEY)
        .ok_or_else(|| invalid(path, format!("no `{CHECKPOINT_KEY}` metadata")))?;
    let v: Value = serde_json::from_str(text).map_err(|e| invalid(path, format!("`{CHECKPOINT_KEY}`: {e}")))?;
    let uint = |v: &Value, key: &str| -> Result<u64, CheckpointError> {
        v.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid(path, format!("`{key}` is missing or not a count")))
    };
    let opt = v
        .get("optimizer")
        .ok_or_else(|| invalid(path, "no `optimizer` record".into()))?;
    let kind = opt
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(path, "`optimizer.kind` is missing".into()))?;
    let bits = u32::try_from(uint(opt, "learning_rate_bits")?)
        .map_err(|_| invalid(path, "`learning_rate_bits` is out of range".into()))?;
    let param_steps = opt
        .get("param_steps")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>())
        .ok_or_else(|| invalid(path, "`optimizer.param_steps` is not a list of counts".into()))?;
    let best = match v.get("best") {
        None | Some(Value::Null) => None,
        Some(b) => Some(BestSoFar {
            epoch: uint(b, "epoch")? as usize,
            loss: f32::from_bits(
                u32::try_from(uint(b, "loss_bits")?)
                    .map_err(|_| invalid(path, "`best.loss_bits` is out of range".into()))?,
            ),
            waited: uint(b, "waited")? as usize,
            weights: Vec::new(),
        }),
    };
    let info = CheckpointInfo {
        best,
        epochs_done: uint(&v, "epochs_done")? as usize,
        batches_done: v.get("batches_done").map_or(Ok(0), |_| uint(&v, "batches_done"))? as usize,
        global_step: uint(&v, "global_step")? as usize,
        run: v.get("run").cloned().unwrap_or(Value::Null),
    };
    let state = OptimizerState {
        kind: kind.to_string(),
        steps: uint(opt, "steps")?,
        learning_rate: f32::from_bits(bits),
        param_steps,
        buffers: Vec::new(),
    };
    Ok((info, state))
}
