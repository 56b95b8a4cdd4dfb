//! Model specs: one declarative description of a network, the same in Rust, on the command
//! line (`--layers "conv2d(32,3) relu maxpool2d(2) flatten linear(128) relu linear(10)"`), in
//! a spec file (TOML or JSON), from Keras' `model.to_json()`, and in a saved model's metadata.
//!
//! A [`ModelSpec`] is an input shape and a list of [`Layer`]s. Shapes are inferred through the
//! whole spec when it is made ([`ModelSpec::new`]), before anything is allocated: a spec whose
//! shapes do not chain, or that would need more than [`MAX_MODEL_VALUES`] values, is refused
//! with the layer's name, kind and both shapes. [`ModelSpec::build`] then makes a
//! [`Sequential`] whose parameter names are PyTorch's (`0.weight`, or `conv1.weight` for a
//! named layer, `layer1.downsample.0.weight` inside a residual block).
//!
//! | file | job |
//! |------|-----|
//! | `layer.rs` | [`LayerSpec`] and [`Layer`]: what a layer is |
//! | `inline.rs` | the inline text form: [`parse_layers`], [`format_layers`] |
//! | `shapes.rs` | shape inference and the size budget: [`infer`] |
//! | `build.rs` | spec to modules |
//! | `presets.rs` | `mlp`, `mlp-wide`, `cnn`, `cifar-cnn` |
//! | `metadata.rs` | the spec in a saved file's metadata (and the old format) |
//! | `file.rs` | spec files and the `--model` argument |
//! | `keras.rs` | Keras' model JSON |
//! | `summary.rs` | Keras' `model.summary()` table |
//!
//! ```
//! use neurite_nn::spec::ModelSpec;
//! use neurite_nn::Module;
//! use neurite_tensor::{seeded_rng, Tensor};
//! let spec = ModelSpec::from_inline("conv2d(8,3) relu maxpool2d(2) flatten linear(10)", &[1, 28, 28]).unwrap();
//! assert_eq!(spec.output_shape(), vec![10]);
//! let mut model = spec.build(&mut seeded_rng(0));
//! assert_eq!(model.forward(&Tensor::zeros(&[2, 1, 28, 28])).shape(), vec![2, 10]);
//! let err = ModelSpec::from_inline("conv2d(8,3) relu linear(10)", &[1, 28, 28]).unwrap_err();
//! assert_eq!(err.to_string(), "layer 2 (Linear) gets [N, 8, 26, 26]: expected a flat input [N, features]: put flatten before it");
//! ```

mod build;
mod error;
mod file;
mod inline;
mod keras;
mod layer;
mod metadata;
mod presets;
mod shapes;
mod summary;

use neurite_tensor::TensorRng;

use crate::Sequential;

pub use error::{SpecError, MAX_MODEL_VALUES};
pub use file::{parse_spec_file, ModelSource};
pub use inline::{format_layer, format_layers, is_identifier, parse_layers, MAX_DEPTH, MAX_LAYERS, MAX_SPEC_BYTES};
pub use keras::from_keras_json;
pub use layer::{Layer, LayerSpec, Padding, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM, LAYER_NORM_EPS};
pub use metadata::METADATA_KEY;
pub use presets::{MAX_HIDDEN_LAYERS, PRESETS};
pub use shapes::{infer, numel, LayerInfo};
pub use summary::{Summary, SummaryRow};

/// A checked model description: a name, the shape of one example and the layers.
///
/// Made only through constructors that infer every shape ([`ModelSpec::new`],
/// [`ModelSpec::from_inline`], [`ModelSpec::preset`], [`ModelSpec::from_metadata`], ...), so
/// a `ModelSpec` always chains and fits the size budget.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    name: String,
    input: Vec<usize>,
    layers: Vec<Layer>,
    info: Vec<LayerInfo>,
}

impl ModelSpec {
    /// A spec named `name` (a preset's name, a file's stem, `custom`) on examples of shape
    /// `input` (no batch axis).
    ///
    /// # Errors
    /// [`SpecError`] when the shapes do not chain or the model is too large.
    pub fn new(name: impl Into<String>, input: &[usize], layers: Vec<Layer>) -> Result<ModelSpec, SpecError> {
        let info = infer(input, &layers)?;
        Ok(ModelSpec {
            name: name.into(),
            input: input.to_vec(),
            layers,
            info,
        })
    }

    /// A spec whose input comes from a data set with examples of shape `data_shape`
    /// (`[C, H, W]` for images): flattened to `[C·H·W]` when the first layer needs a flat
    /// input (linear, dense, batchnorm1d), as is.
    ///
    /// # Errors
    /// [`SpecError`] when the shapes do not chain or the model is too large.
    pub fn for_data(name: impl Into<String>, layers: Vec<Layer>, data_shape: &[usize]) -> Result<ModelSpec, SpecError> {
        let flat = layers.first().is_some_and(|l| l.kind.wants_flat_input());
        let input = if flat && data_shape.len() != 1 {
            let n = numel(data_shape);
            let n = usize::try_from(n).map_err(|_| SpecError::TooLarge {
                values: n,
                what: "the flattened input".into(),
            })?;
            vec![n]
        } else {
            data_shape.to_vec()
        };
        ModelSpec::new(name, &input, layers)
    }

    /// [`ModelSpec::for_data`] of the inline form, named `custom`.
    ///
    /// # Errors
    /// [`SpecError`] naming the layer that cannot be read or does not fit.
    pub fn from_inline(text: &str, data_shape: &[usize]) -> Result<ModelSpec, SpecError> {
        ModelSpec::for_data("custom", parse_layers(text)?, data_shape)
    }

    /// The name (`mlp`, `cnn`, a spec file's stem, `custom`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same spec under another name.
    pub fn with_name(mut self, name: impl Into<String>) -> ModelSpec {
        self.name = name.into();
        self
    }

    /// The shape of one example, without the batch axis (`[784]` for an MLP: images are
    /// flattened; `[C, H, W]` for a CNN).
    pub fn input_shape(&self) -> &[usize] {
        &self.input
    }

    /// Whether examples enter flattened (`[features]`).
    pub fn takes_flat_input(&self) -> bool {
        self.input.len() == 1
    }

    /// The layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Every layer's inferred shapes and tensors, nested layers after their block.
    pub fn layer_info(&self) -> &[LayerInfo] {
        &self.info
    }

    /// The shape of one example's output.
    pub fn output_shape(&self) -> Vec<usize> {
        self.info
            .iter()
            .rev()
            .find(|l| l.depth == 0)
            .map(|l| l.output.clone())
            .unwrap_or_else(|| self.input.clone())
    }

    /// The number of outputs per example (the class count of a classifier).
    pub fn classes(&self) -> usize {
        self.output_shape().iter().product()
    }

    /// Checks that the model gives one logit per class for `classes` classes.
    ///
    /// # Errors
    /// [`SpecError::Output`] when the output is not `[classes]`.
    pub fn check_classes(&self, classes: usize) -> Result<(), SpecError> {
        let out = self.output_shape();
        if out == [classes] {
            Ok(())
        } else {
            Err(SpecError::Output {
                output: out,
                reason: format!("the data set has {classes} classes: end the model with linear({classes})"),
            })
        }
    }

    /// The trainable tensors' `state_dict` names and shapes, in build order.
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.info.iter().flat_map(|l| l.parameters.iter().cloned()).collect()
    }

    /// The non-trainable tensors' names and shapes (batch norm's running statistics).
    pub fn buffer_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.info.iter().flat_map(|l| l.buffers.iter().cloned()).collect()
    }

    /// Every tensor a saved model of this spec holds: parameters, then buffers.
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut all = self.parameter_shapes();
        all.extend(self.buffer_shapes());
        all
    }

    /// The number of trainable values.
    pub fn num_parameters(&self) -> u64 {
        self.parameter_shapes().iter().map(|(_, s)| numel(s)).sum()
    }

    /// The layers in the inline form (what `--layers` takes).
    pub fn layers_text(&self) -> String {
        format_layers(&self.layers)
    }

    /// Builds the model, drawing PyTorch-style initial weights from `rng` layer by layer.
    pub fn build(&self, rng: &mut TensorRng) -> Sequential {
        build::build(self, rng)
    }

    /// Keras' `model.summary()` for this spec.
    pub fn summary(&self) -> Summary {
        Summary::of(self)
    }

    /// Whether the model ends in a softmax (a `softmax` layer, or a `dense(.., softmax)` as
    /// Keras models often have): training with cross-entropy then runs it on the logits before
    /// the softmax, as Keras' `categorical_crossentropy` does ([`ModelSpec::logits_spec`]).
    pub fn ends_in_softmax(&self) -> bool {
        matches!(
            self.layers.last().map(|l| &l.kind),
            Some(LayerSpec::Activation(crate::Activation::Softmax))
                | Some(LayerSpec::Dense {
                    activation: crate::Activation::Softmax,
                    ..
                })
        )
    }
}

impl ModelSpec {
    /// The spec without a final softmax (see [`ModelSpec::ends_in_softmax`]): what training
    /// with cross-entropy, evaluation and prediction run. The same parameters, names and
    /// values; the spec itself unchanged otherwise.
    pub fn logits_spec(&self) -> ModelSpec {
        let mut spec = self.clone();
        match spec.layers.last_mut().map(|l| &mut l.kind) {
            Some(LayerSpec::Dense { activation, .. }) if *activation == crate::Activation::Softmax => {
                *activation = crate::Activation::Linear;
            }
            Some(LayerSpec::Activation(crate::Activation::Softmax)) if self.layers.len() > 1 => {
                spec.layers.pop();
                let path = self
                    .layers
                    .last()
                    .and_then(|l| l.name.clone())
                    .unwrap_or(spec.layers.len().to_string());
                spec.info.retain(|l| l.path != path);
            }
            _ => {}
        }
        spec
    }
}

impl std::fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({:?} -> {:?}, {} parameters)",
            self.name,
            self.input,
            self.output_shape(),
            self.num_parameters()
        )
    }
}
