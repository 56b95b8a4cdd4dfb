//! `metrics.json`: the run's settings and one record per epoch.

use serde::{Deserialize, Serialize};

/// One epoch's results; accuracies are fractions in [0, 1].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Training accuracy over the epoch.
    pub train_accuracy: f64,
    /// Loss on the test split.
    pub test_loss: f64,
    /// Accuracy on the test split.
    pub test_accuracy: f64,
    /// Wall-clock seconds of the epoch's training.
    pub seconds: f64,
}

/// The whole file: settings beside the epochs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricsFile {
    /// The run's settings (data set, model, optimizer, ...).
    pub settings: serde_json::Value,
    /// Per-epoch results.
    pub epochs: Vec<EpochRecord>,
}
