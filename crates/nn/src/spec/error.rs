//! [`SpecError`]: why a model spec, preset name, spec file, Keras JSON or saved metadata was
//! refused. Every message is one line that names the layer (by its `state_dict` prefix) or
//! the option.

use crate::spec::inline::MAX_SPEC_BYTES;

/// The most values (parameters and buffers, all tensors together) a model may have.
pub const MAX_MODEL_VALUES: u64 = 1 << 31;

/// Why a spec was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The text of a spec could not be read.
    #[error("{at}: {reason}")]
    Syntax {
        /// Where: `layer 3`, `layer 3.1` (inside a residual block) or `byte 17`.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// The text is longer than [`MAX_SPEC_BYTES`].
    #[error("the spec is {bytes} bytes long, more than the {} bytes read", MAX_SPEC_BYTES)]
    TooLong {
        /// Its length.
        bytes: usize,
    },
    /// The spec has no layers.
    #[error("the spec has no layers")]
    Empty,
    /// A layer does not accept the output of the layer before it.
    #[error("layer {at} ({kind}) gets [N, {}]: {reason}", join(.input))]
    Shape {
        /// The layer's `state_dict` prefix (`6`, `layer1.conv2`).
        at: String,
        /// The layer kind and the setting that decides (`Linear, in_features 9216`).
        kind: String,
        /// The shape it gets, without the batch axis.
        input: Vec<usize>,
        /// What it needs.
        reason: String,
    },
    /// Two layers would have the same name.
    #[error("layer name `{0}` is used twice")]
    DuplicateName(String),
    /// The model would need more values than [`MAX_MODEL_VALUES`] (or a tensor more than a
    /// tensor may hold).
    #[error(
        "the model needs {values} parameter and buffer values ({what}), more than the {} a model may have",
        MAX_MODEL_VALUES
    )]
    TooLarge {
        /// The count (saturated at `u64::MAX`).
        values: u64,
        /// Which tensor or layer pushed it over.
        what: String,
    },
    /// A layer's output would hold more values per example than a tensor may.
    #[error("layer {at} ({kind}) would output {values} values per example, more than a tensor may hold")]
    OutputTooLarge {
        /// The layer's prefix.
        at: String,
        /// Its kind.
        kind: String,
        /// The count (saturated).
        values: u64,
    },
    /// The model's output does not suit the data (e.g. 5 logits for 10 classes).
    #[error("the model outputs [N, {}] but {reason}", join(.output))]
    Output {
        /// The output shape, without the batch axis.
        output: Vec<usize>,
        /// What the data needs.
        reason: String,
    },
    /// The name is not a preset.
    #[error("unknown model `{0}`: expected a preset (mlp, mlp-wide, cnn, cifar-cnn), a spec file (.toml, .json) or Keras JSON")]
    UnknownPreset(String),
    /// A preset's options do not apply.
    #[error("model `{model}`: {reason}")]
    Preset {
        /// The preset.
        model: String,
        /// What is wrong.
        reason: String,
    },
    /// A spec file or metadata could not be read.
    #[error("{source_name}: {reason}")]
    File {
        /// The file, or `metadata`.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// A Keras layer or option neurite does not support.
    #[error("Keras layer {index} `{name}` ({class}): {reason}")]
    Keras {
        /// Its index in the Sequential.
        index: usize,
        /// Its Keras name.
        name: String,
        /// Its class name.
        class: String,
        /// What is not supported.
        reason: String,
    },
}

fn join(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

impl SpecError {
    /// A [`SpecError::Syntax`].
    pub fn syntax(at: impl Into<String>, reason: impl Into<String>) -> SpecError {
        SpecError::Syntax {
            at: at.into(),
            reason: reason.into(),
        }
    }
}
