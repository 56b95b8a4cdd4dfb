//! Shape inference: walks a spec from its input shape, giving every layer's output shape and
//! the names and shapes of its parameters and buffers, before anything is allocated. A layer
//! that does not accept its input, or a model over the size budget, is an error naming the
//! layer.

use crate::functional::Size2;
use crate::serialize::MAX_TENSOR_VALUES;
use crate::spec::error::{SpecError, MAX_MODEL_VALUES};
use crate::spec::layer::{Layer, LayerSpec, Padding};

/// What inference found for one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// The `state_dict` prefix: `6`, `conv1`, `layer1.conv2`, `layer2.downsample.0`.
    pub path: String,
    /// The PyTorch class name (`Conv2d`, `ReLU`, `Residual`).
    pub kind: &'static str,
    /// How deep inside residual blocks the layer sits (0 at the top).
    pub depth: usize,
    /// The output shape, without the batch axis.
    pub output: Vec<usize>,
    /// The layer's own trainable tensors: full names and shapes.
    pub parameters: Vec<(String, Vec<usize>)>,
    /// The layer's own non-trainable tensors (batch norm's running statistics).
    pub buffers: Vec<(String, Vec<usize>)>,
}

/// The number of values in a tensor of `shape` (saturating).
pub fn numel(shape: &[usize]) -> u64 {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .unwrap_or(u64::MAX)
}

/// Infers every layer of `layers` on examples of shape `input` (no batch axis). Layers inside
/// residual blocks follow their block in the result.
///
/// # Errors
/// [`SpecError`] for the first layer whose input does not fit, for duplicate names, and for a
/// model with more than [`MAX_MODEL_VALUES`] values.
pub fn infer(input: &[usize], layers: &[Layer]) -> Result<Vec<LayerInfo>, SpecError> {
    if layers.is_empty() {
        return Err(SpecError::Empty);
    }
    if input.is_empty() || input.contains(&0) {
        return Err(SpecError::Output {
            output: input.to_vec(),
            reason: "the input shape has no values".into(),
        });
    }
    let mut walker = Walker {
        out: Vec::new(),
        values: 0,
    };
    walker.sequence(input, layers, "", 0)?;
    Ok(walker.out)
}

struct Walker {
    out: Vec<LayerInfo>,
    values: u64,
}

fn shape_err(at: &str, kind: impl Into<String>, input: &[usize], reason: impl Into<String>) -> SpecError {
    SpecError::Shape {
        at: at.to_string(),
        kind: kind.into(),
        input: input.to_vec(),
        reason: reason.into(),
    }
}

/// `(size + 2·pad - dilation·(k-1) - 1) / stride + 1`, or `None` when the window does not fit.
fn window_out(size: usize, k: usize, stride: usize, pad: usize, dilation: usize) -> Option<usize> {
    let span = (dilation as u128) * (k as u128 - 1) + 1;
    let padded = size as u128 + 2 * pad as u128;
    (padded >= span && stride > 0).then(|| ((padded - span) / stride as u128 + 1) as usize)
}

impl Walker {
    fn sequence(
        &mut self,
        input: &[usize],
        layers: &[Layer],
        prefix: &str,
        depth: usize,
    ) -> Result<Vec<usize>, SpecError> {
        let mut names: Vec<String> = Vec::new();
        let mut shape = input.to_vec();
        for (i, layer) in layers.iter().enumerate() {
            let name = layer.name.clone().unwrap_or_else(|| i.to_string());
            if names.contains(&name) || (name == "downsample" && prefix.ends_with('.') && depth > 0) {
                return Err(SpecError::DuplicateName(format!("{prefix}{name}")));
            }
            names.push(name.clone());
            shape = self.layer(&shape, layer, &format!("{prefix}{name}"), depth)?;
        }
        Ok(shape)
    }

    fn count(&mut self, at: &str, tensors: &[(String, Vec<usize>)]) -> Result<(), SpecError> {
        for (name, shape) in tensors {
            let n = numel(shape);
            if n > MAX_TENSOR_VALUES {
                return Err(SpecError::TooLarge {
                    values: n,
                    what: format!("tensor `{name}` of shape {shape:?}"),
                });
            }
            self.values = self.values.saturating_add(n);
            if self.values > MAX_MODEL_VALUES {
                return Err(SpecError::TooLarge {
                    values: self.values,
                    what: format!("counted up to layer {at}"),
                });
            }
        }
        Ok(())
    }

    fn layer(&mut self, input: &[usize], layer: &Layer, at: &str, depth: usize) -> Result<Vec<usize>, SpecError> {
        let kind = layer.kind.kind_name();
        let mut parameters: Vec<(String, Vec<usize>)> = Vec::new();
        let mut buffers: Vec<(String, Vec<usize>)> = Vec::new();
        let p = |n: &str| format!("{at}.{n}");
        let rank = |r: usize, what: &str| -> Result<(), SpecError> {
            if input.len() == r {
                Ok(())
            } else {
                Err(shape_err(at, kind, input, format!("expected {what}")))
            }
        };
        let output: Vec<usize> = match &layer.kind {
            LayerSpec::Linear {
                in_features,
                out_features,
                bias,
            } => {
                rank(1, "a flat input [N, features]: put flatten before it")?;
                if let Some(i) = in_features.filter(|&i| i != input[0]) {
                    return Err(shape_err(
                        at,
                        format!("Linear, in_features {i}"),
                        input,
                        format!("expected [N, {i}]"),
                    ));
                }
                parameters.push((p("weight"), vec![*out_features, input[0]]));
                if *bias {
                    parameters.push((p("bias"), vec![*out_features]));
                }
                vec![*out_features]
            }
            LayerSpec::Dense { units, use_bias, .. } => {
                rank(1, "a flat input [N, features]: put flatten before it")?;
                parameters.push((p("kernel"), vec![input[0], *units]));
                if *use_bias {
                    parameters.push((p("bias"), vec![*units]));
                }
                vec![*units]
            }
            LayerSpec::Conv2d {
                in_channels,
                out_channels,
                kernel_size: Size2(kh, kw),
                stride,
                padding,
                dilation,
                groups,
                bias,
            } => {
                rank(3, "images [N, C, H, W]")?;
                let [c, h, w] = [input[0], input[1], input[2]];
                if let Some(i) = in_channels.filter(|&i| i != c) {
                    return Err(shape_err(
                        at,
                        format!("Conv2d, in_channels {i}"),
                        input,
                        format!("expected {i} channels"),
                    ));
                }
                if c % groups != 0 || out_channels % groups != 0 {
                    return Err(shape_err(
                        at,
                        format!("Conv2d, groups {groups}"),
                        input,
                        format!("{c} input and {out_channels} output channels must both divide by {groups} groups"),
                    ));
                }
                let pad = match padding {
                    Padding::Explicit(p) => *p,
                    Padding::Same => {
                        let (sh, sw) = ((dilation.0 * (kh - 1)), (dilation.1 * (kw - 1)));
                        if *stride != Size2(1, 1) || sh % 2 != 0 || sw % 2 != 0 {
                            return Err(shape_err(
                                at,
                                "Conv2d, padding same",
                                input,
                                "padding=same needs stride 1 and an odd (dilated) kernel, so that both sides get the same padding",
                            ));
                        }
                        Size2(sh / 2, sw / 2)
                    }
                };
                let (Some(oh), Some(ow)) = (
                    window_out(h, *kh, stride.0, pad.0, dilation.0),
                    window_out(w, *kw, stride.1, pad.1, dilation.1),
                ) else {
                    return Err(shape_err(
                        at,
                        format!("Conv2d, kernel_size {kh}x{kw}"),
                        input,
                        "the (dilated) kernel is larger than the padded image",
                    ));
                };
                parameters.push((p("weight"), vec![*out_channels, c / groups, *kh, *kw]));
                if *bias {
                    parameters.push((p("bias"), vec![*out_channels]));
                }
                vec![*out_channels, oh, ow]
            }
            LayerSpec::MaxPool2d {
                kernel_size,
                stride,
                padding,
            }
            | LayerSpec::AvgPool2d {
                kernel_size,
                stride,
                padding,
            } => {
                rank(3, "images [N, C, H, W]")?;
                if padding.0 > kernel_size.0 / 2 || padding.1 > kernel_size.1 / 2 {
                    return Err(shape_err(
                        at,
                        format!("{kind}, padding {}x{}", padding.0, padding.1),
                        input,
                        "padding must be at most half the window",
                    ));
                }
                let (Some(oh), Some(ow)) = (
                    window_out(input[1], kernel_size.0, stride.0, padding.0, 1),
                    window_out(input[2], kernel_size.1, stride.1, padding.1, 1),
                ) else {
                    return Err(shape_err(
                        at,
                        format!("{kind}, kernel_size {}x{}", kernel_size.0, kernel_size.1),
                        input,
                        "the window is larger than the padded image",
                    ));
                };
                vec![input[0], oh, ow]
            }
            LayerSpec::AdaptiveAvgPool2d { output_size } => {
                rank(3, "images [N, C, H, W]")?;
                vec![input[0], output_size.0, output_size.1]
            }
            LayerSpec::GlobalAvgPool2d => {
                rank(3, "images [N, C, H, W]")?;
                vec![input[0]]
            }
            LayerSpec::BatchNorm1d { .. } | LayerSpec::BatchNorm2d { .. } => {
                if matches!(layer.kind, LayerSpec::BatchNorm2d { .. }) {
                    rank(3, "images [N, C, H, W] (batchnorm1d is for [N, F])")?;
                } else if !matches!(input.len(), 1 | 2) {
                    return Err(shape_err(
                        at,
                        kind,
                        input,
                        "expected [N, F] or [N, C, L] (batchnorm2d is for images)",
                    ));
                }
                let c = input[0];
                parameters.push((p("weight"), vec![c]));
                parameters.push((p("bias"), vec![c]));
                buffers.push((p("running_mean"), vec![c]));
                buffers.push((p("running_var"), vec![c]));
                buffers.push((p("num_batches_tracked"), vec![]));
                input.to_vec()
            }
            LayerSpec::LayerNorm { dims, .. } => {
                if *dims > input.len() {
                    return Err(shape_err(
                        at,
                        format!("LayerNorm, dims {dims}"),
                        input,
                        format!(
                            "cannot normalise over the last {dims} axes of a rank-{} example",
                            input.len()
                        ),
                    ));
                }
                let normalized = input[input.len() - dims..].to_vec();
                parameters.push((p("weight"), normalized.clone()));
                parameters.push((p("bias"), normalized));
                input.to_vec()
            }
            LayerSpec::Dropout2d { .. } => {
                rank(3, "images [N, C, H, W]")?;
                input.to_vec()
            }
            LayerSpec::Dropout { .. } | LayerSpec::Activation(_) => input.to_vec(),
            LayerSpec::Flatten => vec![input.iter().product()],
            LayerSpec::Residual { body, downsample } => {
                let index = self.out.len();
                self.out.push(LayerInfo {
                    path: at.to_string(),
                    kind,
                    depth,
                    output: Vec::new(),
                    parameters: Vec::new(),
                    buffers: Vec::new(),
                });
                let main = self.sequence(input, body, &format!("{at}."), depth + 1)?;
                let shortcut = match downsample {
                    Some(d) => self.sequence(input, d, &format!("{at}.downsample."), depth + 1)?,
                    None => input.to_vec(),
                };
                if main != shortcut {
                    return Err(shape_err(
                        at,
                        kind,
                        input,
                        format!(
                            "the body gives {main:?} but the {} gives {shortcut:?}; add a downsample path (e.g. `| conv2d({}, 1, stride=2) batchnorm2d`) that matches",
                            if downsample.is_some() { "downsample path" } else { "shortcut (the input)" },
                            main.first().copied().unwrap_or(1)
                        ),
                    ));
                }
                self.out[index].output = main.clone();
                return Ok(main);
            }
        };
        let values = numel(&output);
        if values > MAX_TENSOR_VALUES || output.contains(&0) {
            return Err(SpecError::OutputTooLarge {
                at: at.to_string(),
                kind: kind.to_string(),
                values,
            });
        }
        self.count(at, &parameters)?;
        self.count(at, &buffers)?;
        self.out.push(LayerInfo {
            path: at.to_string(),
            kind,
            depth,
            output: output.clone(),
            parameters,
            buffers,
        });
        Ok(output)
    }
}
