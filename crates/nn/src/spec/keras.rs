//! Keras' model JSON (`model.to_json()` of a Keras 3 `Sequential`; Keras 2's layout too) as a
//! spec. Layers keep their Keras names (`conv2d`, `dense_1`), so `state_dict` keys read
//! `dense_1.kernel`. Keras is channels-last: an input `(28, 28, 1)` becomes `[1, 28, 28]`,
//! and parameter counts are Keras' `count_params()`.
//!
//! Read: `InputLayer`, `Dense`, `Conv2D`, `MaxPooling2D`, `AveragePooling2D`,
//! `GlobalAveragePooling2D`, `Flatten`, `Dropout`, `BatchNormalization`, `Activation`,
//! `ReLU`, `LeakyReLU`, with `padding='valid'|'same'`, `strides`, `dilation_rate`, `groups`,
//! `activation` and `use_bias`. Anything else (another layer, a regularizer, a frozen
//! layer, `'same'` padding that would need more zeros on one side than the other) is an
//! error naming the layer and the option.

use serde_json::{Map, Value};

use crate::functional::Size2;
use crate::layers::activation::Activation;
use crate::spec::error::SpecError;
use crate::spec::inline::{is_identifier, MAX_LAYERS};
use crate::spec::layer::{Layer, LayerSpec, Padding};
use crate::spec::ModelSpec;

/// Reads Keras' model JSON for a data set with examples of shape `data_shape` (`[C, H, W]`;
/// used when the JSON states no input shape).
///
/// ```
/// use neurite_nn::spec::from_keras_json;
/// let json = r#"{"class_name": "Sequential", "config": {"name": "tiny", "layers": [
///     {"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1]}},
///     {"class_name": "Flatten", "config": {"name": "flatten"}},
///     {"class_name": "Dense", "config": {"name": "dense", "units": 10, "activation": "softmax"}}]}}"#;
/// let spec = from_keras_json(json, &[1, 28, 28]).unwrap();
/// assert_eq!(spec.num_parameters(), 7850);
/// assert_eq!(spec.layers_text(), "flatten as flatten dense(10, softmax) as dense");
/// ```
///
/// # Errors
/// [`SpecError::Keras`] naming the layer for anything neurite does not support;
/// [`SpecError`] when the shapes do not chain.
pub fn from_keras_json(text: &str, data_shape: &[usize]) -> Result<ModelSpec, SpecError> {
    let value: Value = serde_json::from_str(text).map_err(|e| SpecError::File {
        source_name: "Keras JSON".into(),
        reason: format!("not valid JSON: {e}"),
    })?;
    from_keras_value(&value, "keras", data_shape)
}

/// One Keras layer being read: its index, name and class, for errors.
struct At<'a> {
    index: usize,
    name: &'a str,
    class: &'a str,
    config: &'a Map<String, Value>,
}

impl At<'_> {
    fn err(&self, reason: impl Into<String>) -> SpecError {
        SpecError::Keras {
            index: self.index,
            name: self.name.to_string(),
            class: self.class.to_string(),
            reason: reason.into(),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    fn usize(&self, key: &str) -> Result<Option<usize>, SpecError> {
        self.get(key)
            .map(|v| {
                v.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| self.err(format!("`{key}` must be a positive whole number, got {v}")))
            })
            .transpose()
    }

    fn size2(&self, key: &str) -> Result<Option<Size2>, SpecError> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let one = |x: &Value| x.as_u64().and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0);
        let pair = match v {
            Value::Array(a) if a.len() == 2 => one(&a[0]).zip(one(&a[1])).map(|(h, w)| Size2(h, w)),
            Value::Array(a) if a.len() == 1 => one(&a[0]).map(Size2::from),
            other => one(other).map(Size2::from),
        };
        pair.map(Some)
            .ok_or_else(|| self.err(format!("`{key}` must be one or two positive whole numbers, got {v}")))
    }

    fn float(&self, key: &str) -> Result<Option<f32>, SpecError> {
        self.get(key)
            .map(|v| {
                v.as_f64()
                    .map(|x| x as f32)
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| self.err(format!("`{key}` must be a number, got {v}")))
            })
            .transpose()
    }

    fn string(&self, key: &str) -> Result<Option<&str>, SpecError> {
        self.get(key)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| self.err(format!("`{key}` must be a string, got {v}")))
            })
            .transpose()
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool, SpecError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.err(format!("`{key}` must be true or false, got {v}"))),
        }
    }

    /// Refuses settings that change training in ways neurite's layers cannot express.
    fn refuse_training_options(&self) -> Result<(), SpecError> {
        for key in [
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "beta_regularizer",
            "gamma_regularizer",
            "kernel_constraint",
            "bias_constraint",
            "beta_constraint",
            "gamma_constraint",
            "noise_shape",
            "renorm_clipping",
        ] {
            if self.get(key).is_some() {
                return Err(self.err(format!("option `{key}` is not supported")));
            }
        }
        if !self.boolean("trainable", true)? {
            return Err(self.err("frozen layers (`trainable: false`) are not supported"));
        }
        if self.boolean("renorm", false)? || self.boolean("synchronized", false)? {
            return Err(self.err("batch renormalisation and synchronized batch norm are not supported"));
        }
        Ok(())
    }

    fn channels_last(&self) -> Result<bool, SpecError> {
        match self.string("data_format")? {
            None | Some("channels_last") => Ok(true),
            Some("channels_first") => Ok(false),
            Some(other) => Err(self.err(format!("data_format `{other}` is not channels_last or channels_first"))),
        }
    }

    fn activation(&self, key: &str) -> Result<Activation, SpecError> {
        keras_activation(self.string(key)?.unwrap_or("linear")).ok_or_else(|| {
            self.err(format!(
                "activation `{}` is not supported; expected linear, relu, sigmoid, tanh, softmax, gelu, leaky_relu",
                self.string(key).ok().flatten().unwrap_or_default()
            ))
        })
    }
}

/// A Keras activation name (Keras 3's `leaky_relu` has slope 0.2).
fn keras_activation(name: &str) -> Option<Activation> {
    Some(match name {
        "linear" => Activation::Linear,
        "relu" => Activation::Relu,
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        "softmax" => Activation::Softmax,
        "gelu" => Activation::Gelu,
        "leaky_relu" => Activation::LeakyRelu(0.2),
        _ => return None,
    })
}

/// A Keras batch shape `[null, H, W, C]` (or `[null, F]`) as neurite's `[C, H, W]` (`[F]`).
fn input_from_batch_shape(v: &Value, channels_last: bool) -> Option<Vec<usize>> {
    let dims: Vec<usize> = v
        .as_array()?
        .iter()
        .skip(1)
        .map(|d| d.as_u64().and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0))
        .collect::<Option<_>>()?;
    match (dims.as_slice(), channels_last) {
        ([h, w, c], true) => Some(vec![*c, *h, *w]),
        (_, _) if !dims.is_empty() && dims.len() <= 3 => Some(dims),
        _ => None,
    }
}

/// Reads a parsed Keras model (see [`from_keras_json`]); `stem` names it when it has no name.
pub(super) fn from_keras_value(value: &Value, stem: &str, data_shape: &[usize]) -> Result<ModelSpec, SpecError> {
    let top = |reason: String| SpecError::File {
        source_name: "Keras JSON".into(),
        reason,
    };
    let class = value.get("class_name").and_then(Value::as_str).unwrap_or_default();
    if class != "Sequential" {
        return Err(top(format!(
            "model class `{class}` is not supported: neurite reads Keras `Sequential` models"
        )));
    }
    let config = value
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| top("no `config` object".into()))?;
    let layers_json = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| top("no `config.layers` list".into()))?;
    if layers_json.len() > MAX_LAYERS {
        return Err(top(format!("more than {MAX_LAYERS} layers")));
    }
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| n.len() <= 64 && !n.chars().any(char::is_control))
        .unwrap_or(stem)
        .to_string();

    let mut input: Option<Vec<usize>> = None;
    let mut layers: Vec<Layer> = Vec::new();
    // The rank of one example at this point (3 for images, 1 when flat), to pick batch norm's kind.
    let mut rank = data_shape.len();
    let mut channels_last = true;
    for (index, layer) in layers_json.iter().enumerate() {
        let class = layer.get("class_name").and_then(Value::as_str).unwrap_or_default();
        let empty = Map::new();
        let config = layer.get("config").and_then(Value::as_object).unwrap_or(&empty);
        let keras_name = config.get("name").and_then(Value::as_str).unwrap_or_default();
        let at = At {
            index,
            name: keras_name,
            class,
            config,
        };
        let name = is_identifier(keras_name).then(|| keras_name.to_string());
        // The input shape: an InputLayer, or a first layer that states it (Keras 2 style).
        if layers.is_empty() && input.is_none() {
            channels_last = at.channels_last()?;
            let stated = ["batch_shape", "batch_input_shape"]
                .iter()
                .find_map(|k| at.get(k))
                .or_else(|| layer.get("build_config").and_then(|b| b.get("input_shape")))
                .or_else(|| config_build_shape(value));
            if let Some(v) = stated {
                let shape = input_from_batch_shape(v, channels_last)
                    .ok_or_else(|| at.err(format!("input shape {v} is not supported")))?;
                rank = shape.len();
                input = Some(shape);
            }
        }
        let act_after = |layers: &mut Vec<Layer>, a: Activation| {
            if a != Activation::Linear {
                layers.push(Layer {
                    kind: LayerSpec::Activation(a),
                    name: name.as_ref().map(|n| format!("{n}_act")),
                });
            }
        };
        match class {
            "InputLayer" => continue,
            "Dense" => {
                at.refuse_training_options()?;
                let units = at.usize("units")?.ok_or_else(|| at.err("`units` is missing"))?;
                layers.push(Layer {
                    kind: LayerSpec::Dense {
                        units,
                        activation: at.activation("activation")?,
                        use_bias: at.boolean("use_bias", true)?,
                    },
                    name,
                });
                rank = 1;
            }
            "Conv2D" => {
                at.refuse_training_options()?;
                if at.channels_last()? != channels_last {
                    return Err(at.err("mixes channels_first and channels_last"));
                }
                let filters = at.usize("filters")?.ok_or_else(|| at.err("`filters` is missing"))?;
                let kernel = at.size2("kernel_size")?.ok_or_else(|| at.err("`kernel_size` is missing"))?;
                let padding = match at.string("padding")?.unwrap_or("valid") {
                    "valid" => Padding::Explicit(Size2(0, 0)),
                    "same" => Padding::Same,
                    other => return Err(at.err(format!("padding `{other}` is not supported (valid or same)"))),
                };
                layers.push(Layer {
                    kind: LayerSpec::Conv2d {
                        in_channels: None,
                        out_channels: filters,
                        kernel_size: kernel,
                        stride: at.size2("strides")?.unwrap_or(Size2(1, 1)),
                        padding,
                        dilation: at.size2("dilation_rate")?.unwrap_or(Size2(1, 1)),
                        groups: at.usize("groups")?.unwrap_or(1),
                        bias: at.boolean("use_bias", true)?,
                    },
                    name: name.clone(),
                });
                act_after(&mut layers, at.activation("activation")?);
            }
            "MaxPooling2D" | "AveragePooling2D" => {
                if at.channels_last()? != channels_last {
                    return Err(at.err("mixes channels_first and channels_last"));
                }
                let k = at.size2("pool_size")?.unwrap_or(Size2(2, 2));
                let stride = at.size2("strides")?.unwrap_or(k);
                let padding = match at.string("padding")?.unwrap_or("valid") {
                    "valid" => Size2(0, 0),
                    "same" if class == "MaxPooling2D" && stride == Size2(1, 1) && k.0 % 2 == 1 && k.1 % 2 == 1 => {
                        Size2(k.0 / 2, k.1 / 2)
                    }
                    "same" => {
                        return Err(at.err(
                            "padding `same` is supported for MaxPooling2D with stride 1 and an odd pool size only (it would pad one side more than the other, or average over the padding)",
                        ))
                    }
                    other => return Err(at.err(format!("padding `{other}` is not supported (valid or same)"))),
                };
                let kind = LayerSpec::pool2d(class == "MaxPooling2D", k, stride, padding);
                layers.push(Layer { kind, name });
            }
            "GlobalAveragePooling2D" => {
                let kind = if at.boolean("keepdims", false)? {
                    LayerSpec::AdaptiveAvgPool2d { output_size: Size2(1, 1) }
                } else {
                    rank = 1;
                    LayerSpec::GlobalAvgPool2d
                };
                layers.push(Layer { kind, name });
            }
            "Flatten" => {
                layers.push(Layer {
                    kind: LayerSpec::Flatten,
                    name,
                });
                rank = 1;
            }
            "Dropout" => {
                at.refuse_training_options()?;
                let p = at.float("rate")?.unwrap_or(0.5);
                if !(0.0..1.0).contains(&p) {
                    return Err(at.err(format!("`rate` must be in [0, 1), got {p}")));
                }
                layers.push(Layer {
                    kind: LayerSpec::Dropout { p },
                    name,
                });
            }
            "BatchNormalization" => {
                at.refuse_training_options()?;
                if !at.boolean("center", true)? || !at.boolean("scale", true)? {
                    return Err(at.err("`center` and `scale` must be true"));
                }
                let axis = at.get("axis").cloned().unwrap_or(Value::from(-1));
                let axis = axis.as_i64().or_else(|| axis.as_array().filter(|a| a.len() == 1).and_then(|a| a[0].as_i64()));
                let channel_axis_ok = match (axis, rank) {
                    (Some(-1), _) => channels_last || rank == 1,
                    (Some(1), _) => !channels_last || rank == 1,
                    (Some(3), 3) => channels_last,
                    _ => false,
                };
                if !channel_axis_ok {
                    return Err(at.err(format!("`axis` {axis:?} is not the channel axis")));
                }
                let eps = at.float("epsilon")?.unwrap_or(1e-3);
                // Keras' momentum is the weight of the old statistics, PyTorch's of the new batch.
                let keras_momentum = at.float("momentum")?.map_or(0.99, |m| at.get("momentum").and_then(Value::as_f64).unwrap_or(m as f64));
                let momentum = (1.0 - keras_momentum) as f32;
                if eps <= 0.0 || !(0.0..=1.0).contains(&momentum) {
                    return Err(at.err("`epsilon` must be positive and `momentum` in [0, 1]"));
                }
                let kind = if rank == 3 {
                    LayerSpec::BatchNorm2d { eps, momentum }
                } else {
                    LayerSpec::BatchNorm1d { eps, momentum }
                };
                layers.push(Layer { kind, name });
            }
            "Activation" => {
                let a = at.activation("activation")?;
                layers.push(Layer {
                    kind: LayerSpec::Activation(a),
                    name,
                });
            }
            "ReLU" | "LeakyReLU" => {
                if at.get("max_value").is_some() || at.float("threshold")?.unwrap_or(0.0) != 0.0 {
                    return Err(at.err("`max_value` and `threshold` are not supported"));
                }
                let default = if class == "LeakyReLU" { 0.3 } else { 0.0 };
                let slope = at.float("negative_slope")?.or(at.float("alpha")?).unwrap_or(default);
                let kind = if slope == 0.0 {
                    LayerSpec::Activation(Activation::Relu)
                } else {
                    LayerSpec::Activation(Activation::LeakyRelu(slope))
                };
                layers.push(Layer { kind, name });
            }
            "" => return Err(at.err("the layer has no `class_name`")),
            _ => {
                return Err(at.err(
                    "this layer is not supported; neurite reads InputLayer, Dense, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout, BatchNormalization, Activation, ReLU, LeakyReLU",
                ))
            }
        }
    }
    match input {
        Some(shape) => ModelSpec::new(name, &shape, layers),
        None => ModelSpec::for_data(name, layers, data_shape),
    }
}

/// `config.build_input_shape` of the model, when the layers do not state an input.
fn config_build_shape(model: &Value) -> Option<&Value> {
    model
        .get("config")
        .and_then(|c| c.get("build_input_shape"))
        .or_else(|| model.get("build_config").and_then(|b| b.get("input_shape")))
        .filter(|v| !v.is_null())
}
