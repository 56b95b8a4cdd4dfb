//! `metrics.json`: the run's settings and one record per epoch.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// One epoch's results; accuracies are fractions in [0, 1]. Values that were not measured
/// (no validation split, a regression loss's accuracy) are NaN, written as `null`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss: f64,
    /// Training accuracy over the epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub train_accuracy: f64,
    /// Loss on the validation split (`--validation-split`).
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub val_loss: f64,
    /// Accuracy on the validation split.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub val_accuracy: f64,
    /// Loss on the test split.
    #[serde(deserialize_with = "nan_if_null")]
    pub test_loss: f64,
    /// Accuracy on the test split.
    #[serde(deserialize_with = "nan_if_null")]
    pub test_accuracy: f64,
    /// Wall-clock seconds of the epoch's training.
    pub seconds: f64,
    /// Other metrics than accuracy (a regression's `train_mse`, `val_mae`, `test_mse`, ...),
    /// by split and name; absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

/// The whole file: settings beside the epochs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricsFile {
    /// The run's settings (data set, model, optimizer, ...).
    pub settings: serde_json::Value,
    /// Per-epoch results.
    pub epochs: Vec<EpochRecord>,
}

fn nan() -> f64 {
    f64::NAN
}

/// Reads `null` (how serde_json writes NaN) back as NaN.
fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}
