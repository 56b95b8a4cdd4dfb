//! One measured run of a workload, by neurite or a peer.

use serde::{Deserialize, Serialize};

/// What one run reports. `seconds` is the timed quantity the ratio compares.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Measurement {
    /// The timed quantity (epoch seconds, seconds for the timed steps, ...).
    pub seconds: f64,
    /// Test accuracy (fraction), where the workload defines one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Images per second, for throughput workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_per_second: Option<f64>,
    /// W6: milliseconds to the first batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_batch_ms: Option<f64>,
    /// W6: seconds for a full shuffled pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_pass_seconds: Option<f64>,
    /// W7: GFLOP/s at 1024x1024x1024.
    #[serde(default, rename = "gflops_1024x1024x1024", skip_serializing_if = "Option::is_none")]
    pub gflops_large: Option<f64>,
    /// W7: GFLOP/s at 64x784x128.
    #[serde(default, rename = "gflops_64x784x128", skip_serializing_if = "Option::is_none")]
    pub gflops_small: Option<f64>,
    /// A peer's framework version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// numpy: the BLAS library and kernel it ran (threadpoolctl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blas: Option<String>,
}

/// Median, minimum and maximum of some runs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    /// The median (mean of the middle two for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Summary {
    /// Summarises `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Summary::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Summary::of(&[f64::NAN]).is_none());
    }
}
