//! The built-in models of the benchmark workloads (`shared/bench-spec.md`, W1-W4), written as
//! specs. Their parameter names and initial values are those neurite has always given them.
//!
//! | name        | layers (inline form)                                                    | PyTorch names |
//! |-------------|-------------------------------------------------------------------------|---------------|
//! | `mlp`       | `linear(128) relu linear(10)` on `[784]` (W1)                           | `0.*`, `2.*` |
//! | `mlp-wide`  | `linear(512) relu linear(512) relu linear(10)` (W2)                     | `0.*`, `2.*`, `4.*` |
//! | `cnn`       | `conv2d(32, 3) relu conv2d(64, 3) relu maxpool2d(2) flatten linear(128) relu linear(10)` (W3) | `0.*`, `2.*`, `6.*`, `8.*` |
//! | `cifar-cnn` | `conv2d(32, 3, padding=1) relu maxpool2d(2) conv2d(64, 3, padding=1) relu maxpool2d(2) flatten linear(128) relu linear(10)` (W4) | `0.*`, `3.*`, `7.*`, `9.*` |

use crate::spec::error::SpecError;
use crate::spec::inline::parse_layers;
use crate::spec::layer::{Layer, LayerSpec};
use crate::spec::ModelSpec;

/// The preset names.
pub const PRESETS: [&str; 4] = ["mlp", "mlp-wide", "cnn", "cifar-cnn"];

/// The most hidden layers `--hidden` may give an MLP.
pub const MAX_HIDDEN_LAYERS: usize = 1024;

fn mlp_layers(hidden: &[usize], classes: usize) -> Vec<Layer> {
    let mut layers = Vec::new();
    for &h in hidden {
        layers.push(LayerSpec::linear(h).into());
        layers.push(LayerSpec::relu().into());
    }
    layers.push(LayerSpec::linear(classes).into());
    layers
}

impl ModelSpec {
    /// A preset (`mlp`, `mlp-wide`, `cnn`, `cifar-cnn`; also `mnist-cnn`) for a data set whose
    /// examples have shape `data_shape` and `classes` classes. `hidden` overrides an MLP's
    /// hidden widths (default `[128]` for `mlp`, `[512, 512]` for `mlp-wide`); CNNs take none.
    ///
    /// ```
    /// use neurite_nn::spec::ModelSpec;
    /// assert_eq!(ModelSpec::preset("mlp", None, &[1, 28, 28], 10).unwrap(), ModelSpec::w1());
    /// assert_eq!(ModelSpec::preset("mlp", Some(&[512, 512]), &[784], 10).unwrap().name(), "mlp-wide");
    /// assert_eq!(ModelSpec::preset("cifar-cnn", None, &[3, 32, 32], 10).unwrap(), ModelSpec::w4());
    /// assert!(ModelSpec::preset("resnet", None, &[3, 32, 32], 10).is_err());
    /// ```
    ///
    /// # Errors
    /// [`SpecError`] for an unknown name, hidden sizes that do not apply, no classes, or an
    /// input the network cannot take.
    pub fn preset(
        name: &str,
        hidden: Option<&[usize]>,
        data_shape: &[usize],
        classes: usize,
    ) -> Result<ModelSpec, SpecError> {
        let name = name.trim().to_ascii_lowercase();
        let bad = |reason: String| SpecError::Preset {
            model: name.clone(),
            reason,
        };
        if classes == 0 {
            return Err(bad("a model needs at least one class".into()));
        }
        let spec = match name.as_str() {
            "mlp" | "mlp-wide" => {
                let default: &[usize] = if name == "mlp" { &[128] } else { &[512, 512] };
                let hidden = hidden.unwrap_or(default);
                if hidden.is_empty() || hidden.contains(&0) || hidden.len() > MAX_HIDDEN_LAYERS {
                    return Err(bad(format!(
                        "hidden layer sizes {hidden:?} must be 1 to {MAX_HIDDEN_LAYERS} sizes of at least 1"
                    )));
                }
                let flat = vec![usize::try_from(super::numel(data_shape)).unwrap_or(usize::MAX)];
                let named = if hidden == [512, 512] { "mlp-wide" } else { "mlp" };
                ModelSpec::new(named, &flat, mlp_layers(hidden, classes))?
            }
            "cnn" | "mnist-cnn" | "cifar-cnn" => {
                if let Some(h) = hidden {
                    return Err(bad(format!("hidden layer sizes {h:?} apply to mlp only")));
                }
                let chw = match *data_shape {
                    [c, h, w] => vec![c, h, w],
                    [h, w] => vec![1, h, w],
                    _ => return Err(bad(format!("expected images [C, H, W], got {data_shape:?}"))),
                };
                let text = if name == "cifar-cnn" {
                    format!("conv2d(32, 3, padding=1) relu maxpool2d(2) conv2d(64, 3, padding=1) relu maxpool2d(2) flatten linear(128) relu linear({classes})")
                } else {
                    format!(
                        "conv2d(32, 3) relu conv2d(64, 3) relu maxpool2d(2) flatten linear(128) relu linear({classes})"
                    )
                };
                let layers = parse_layers(&text)?;
                let named = if name == "cifar-cnn" { "cifar-cnn" } else { "cnn" };
                ModelSpec::new(named, &chw, layers)?
            }
            _ => return Err(SpecError::UnknownPreset(name)),
        };
        Ok(spec)
    }

    /// W1: `784 -> 128 -> ReLU -> 10`.
    pub fn w1() -> ModelSpec {
        ModelSpec::preset("mlp", None, &[784], 10).expect("W1 is a valid preset")
    }

    /// W2: `784 -> 512 -> ReLU -> 512 -> ReLU -> 10`.
    pub fn w2() -> ModelSpec {
        ModelSpec::preset("mlp-wide", None, &[784], 10).expect("W2 is a valid preset")
    }

    /// W3: the MNIST CNN on `[1, 28, 28]`, 10 classes.
    pub fn w3() -> ModelSpec {
        ModelSpec::preset("cnn", None, &[1, 28, 28], 10).expect("W3 is a valid preset")
    }

    /// W4: the CIFAR CNN on `[3, 32, 32]`, 10 classes.
    pub fn w4() -> ModelSpec {
        ModelSpec::preset("cifar-cnn", None, &[3, 32, 32], 10).expect("W4 is a valid preset")
    }
}
