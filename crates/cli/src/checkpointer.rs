//! The callback that writes `checkpoint.safetensors` (atomically) after every epoch: model,
//! optimizer state, epochs done, the run's settings and its metrics so far.

use std::path::PathBuf;

use neurite_nn::serialize::Metadata;
use neurite_nn::train::checkpoint::{self, CheckpointInfo};
use neurite_nn::train::{EpochState, TrainCallback};
use serde_json::json;

use crate::metrics_file::EpochRecord;
use crate::run_settings::RunSettings;

/// Writes a checkpoint after each epoch.
pub struct Checkpointer {
    /// The checkpoint file.
    pub path: PathBuf,
    /// The run's settings, saved for `--resume`.
    pub settings: RunSettings,
    /// Records of the epochs before this call (a resumed run's).
    pub earlier: Vec<EpochRecord>,
    /// Metadata entries besides the checkpoint record (architecture, data set).
    pub metadata: Metadata,
    /// Epochs done in the last checkpoint written, if any.
    pub saved_epochs: Option<usize>,
}

impl Checkpointer {
    /// Writes the checkpoint of a run stopped after `batches_done` batches of epoch index
    /// `epoch` (a signal), so that `--resume` continues with the next batch.
    pub fn save_interrupted(
        &mut self,
        model: &dyn neurite_nn::Module,
        optimizer: &dyn neurite_nn::optim::Optimizer,
        report: &neurite_nn::train::FitReport,
        (epoch, batches_done, global_step): (usize, usize, usize),
    ) -> Result<(), String> {
        let mut records = self.earlier.clone();
        records.extend(crate::commands::train::records(report));
        let info = CheckpointInfo {
            epochs_done: epoch,
            batches_done,
            global_step,
            run: Self::run_record(&self.settings, &records),
            best: report.best.clone(),
        };
        checkpoint::save(&self.path, model, optimizer, &info, &self.metadata)
            .map_err(|e| format!("cannot write the checkpoint: {e}"))?;
        self.saved_epochs = Some(epoch);
        Ok(())
    }
}

impl Checkpointer {
    /// The run record stored in a checkpoint.
    pub fn run_record(settings: &RunSettings, records: &[EpochRecord]) -> serde_json::Value {
        json!({ "settings": settings, "epochs": records })
    }
}

impl TrainCallback for Checkpointer {
    fn on_epoch_state(&mut self, state: &EpochState<'_>) -> Result<(), String> {
        let mut records = self.earlier.clone();
        records.extend(crate::commands::train::records(state.report));
        let info = CheckpointInfo {
            epochs_done: state.epoch + 1,
            batches_done: 0,
            global_step: state.global_step,
            run: Self::run_record(&self.settings, &records),
            best: state.report.best.clone(),
        };
        checkpoint::save(&self.path, state.model, state.optimizer, &info, &self.metadata)
            .map_err(|e| format!("cannot write the checkpoint: {e}"))?;
        self.saved_epochs = Some(state.epoch + 1);
        Ok(())
    }
}
