//! The model architectures of the benchmark workloads (`shared/bench-spec.md`, W1-W4) as a
//! [`ModelSpec`], built into a [`Sequential`] whose parameter names are exactly those of the
//! equivalent `torch.nn.Sequential`, and recorded in saved files as a compact JSON string.
//!
//! | name        | spec                                   | PyTorch parameter names        |
//! |-------------|----------------------------------------|--------------------------------|
//! | `mlp`       | 784 -> 128 -> ReLU -> 10 (W1)          | `0.*`, `2.*`                   |
//! | `mlp-wide`  | 784 -> 512 -> ReLU -> 512 -> ReLU -> 10 (W2) | `0.*`, `2.*`, `4.*`      |
//! | `cnn`       | Conv(1->32,3) ReLU Conv(32->64,3) ReLU MaxPool2 Flatten Linear(9216->128) ReLU Linear(128->10) (W3) | `0.*`, `2.*`, `6.*`, `8.*` |
//! | `cifar-cnn` | Conv(3->32,3,p1) ReLU MaxPool2 Conv(32->64,3,p1) ReLU MaxPool2 Flatten Linear(4096->128) ReLU Linear(128->10) (W4) | `0.*`, `3.*`, `7.*`, `9.*` |
//!
//! ```
//! use neurite_nn::models::ModelSpec;
//! use neurite_nn::Module;
//! use neurite_tensor::{seeded_rng, Tensor};
//! let spec = ModelSpec::from_name("cnn", None, &[1, 28, 28], 10).unwrap();
//! let mut model = spec.build(&mut seeded_rng(0));
//! let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias", "8.weight", "8.bias"]);
//! assert_eq!(model.forward(&Tensor::zeros(&[2, 1, 28, 28])).shape(), vec![2, 10]);
//! let meta = spec.to_metadata();
//! assert_eq!(ModelSpec::from_metadata(&meta).unwrap(), spec);
//! ```

use std::fmt;

use neurite_tensor::TensorRng;

use crate::layers::conv::{Conv2d, Conv2dConfig};
use crate::layers::flatten::Flatten;
use crate::layers::pool::MaxPool2d;
use crate::serialize::MAX_TENSOR_VALUES;
use crate::{Linear, ReLU, Sequential};

/// The metadata key under which a saved model records its [`ModelSpec::to_metadata`] string.
pub const METADATA_KEY: &str = "neurite.architecture";

/// The most hidden layers an MLP spec may have (metadata asking for more is refused).
pub const MAX_HIDDEN_LAYERS: usize = 1024;

/// One of the benchmark architectures, with its input shape and class count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelSpec {
    /// `Linear(input, h₁), ReLU, ..., Linear(h_last, classes)`; input `[B, input]`.
    Mlp {
        /// Input features (784 for MNIST).
        input: usize,
        /// Hidden layer widths (W1: `[128]`, W2: `[512, 512]`).
        hidden: Vec<usize>,
        /// Output classes.
        classes: usize,
    },
    /// W3: two valid 3x3 convolutions (32, 64 channels), 2x2 max pool, `Linear(.., 128)`,
    /// `Linear(128, classes)`; input `[B, C, H, W]`.
    MnistCnn {
        /// `[C, H, W]` (`[1, 28, 28]` for MNIST).
        input: [usize; 3],
        /// Output classes.
        classes: usize,
    },
    /// W4: two padded 3x3 convolutions (32, 64 channels) each followed by a 2x2 max pool,
    /// `Linear(.., 128)`, `Linear(128, classes)`; input `[B, C, H, W]`.
    CifarCnn {
        /// `[C, H, W]` (`[3, 32, 32]` for CIFAR-10).
        input: [usize; 3],
        /// Output classes.
        classes: usize,
    },
}

/// Why a model name, input shape or metadata string was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelSpecError {
    /// The name is not one of `mlp`, `mlp-wide`, `cnn`, `cifar-cnn`.
    #[error("unknown model `{0}`: expected one of mlp, mlp-wide, cnn, cifar-cnn")]
    UnknownModel(String),
    /// The input shape does not suit the model.
    #[error("model `{model}` cannot take inputs of shape {input:?}: {reason}")]
    BadInput {
        /// The model name.
        model: String,
        /// The input shape given (without the batch axis).
        input: Vec<usize>,
        /// What is wrong.
        reason: String,
    },
    /// Hidden sizes were given for a model that has none to set, or were empty / zero.
    #[error("hidden layer sizes {hidden:?} do not apply to model `{model}`")]
    BadHidden {
        /// The model name.
        model: String,
        /// The sizes given.
        hidden: Vec<usize>,
    },
    /// A parameter would hold more than [`MAX_TENSOR_VALUES`] values (or its size overflows).
    #[error(
        "parameter `{param}` would have shape {shape:?}, more than the {} values a tensor may hold",
        MAX_TENSOR_VALUES
    )]
    TooLarge {
        /// The parameter's `state_dict` name.
        param: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// The class count is zero.
    #[error("a model needs at least one class")]
    NoClasses,
    /// The metadata string could not be read.
    #[error("invalid model metadata `{text}`: {reason}")]
    BadMetadata {
        /// The text read.
        text: String,
        /// What is wrong.
        reason: String,
    },
}

impl ModelSpec {
    /// W1: `784 -> 128 -> ReLU -> 10`.
    pub fn w1() -> ModelSpec {
        ModelSpec::Mlp {
            input: 784,
            hidden: vec![128],
            classes: 10,
        }
    }

    /// W2: `784 -> 512 -> ReLU -> 512 -> ReLU -> 10`.
    pub fn w2() -> ModelSpec {
        ModelSpec::Mlp {
            input: 784,
            hidden: vec![512, 512],
            classes: 10,
        }
    }

    /// W3: the MNIST CNN on `[1, 28, 28]`, 10 classes.
    pub fn w3() -> ModelSpec {
        ModelSpec::MnistCnn {
            input: [1, 28, 28],
            classes: 10,
        }
    }

    /// W4: the CIFAR CNN on `[3, 32, 32]`, 10 classes.
    pub fn w4() -> ModelSpec {
        ModelSpec::CifarCnn {
            input: [3, 32, 32],
            classes: 10,
        }
    }

    /// Parses a CLI model name (`mlp`, `mlp-wide`, `cnn`, `cifar-cnn`; also `mnist-cnn`) for a
    /// data set whose examples have shape `input` (e.g. `[1, 28, 28]`, or `[784]` for an MLP)
    /// and `classes` classes. `hidden` overrides an MLP's hidden widths (default `[128]` for
    /// `mlp`, `[512, 512]` for `mlp-wide`); CNNs take none.
    ///
    /// ```
    /// use neurite_nn::models::ModelSpec;
    /// assert_eq!(ModelSpec::from_name("mlp", None, &[1, 28, 28], 10).unwrap(), ModelSpec::w1());
    /// assert_eq!(ModelSpec::from_name("mlp", Some(&[512, 512]), &[784], 10).unwrap().name(), "mlp-wide");
    /// assert_eq!(ModelSpec::from_name("cifar-cnn", None, &[3, 32, 32], 10).unwrap(), ModelSpec::w4());
    /// assert!(ModelSpec::from_name("resnet", None, &[3, 32, 32], 10).is_err());
    /// ```
    pub fn from_name(
        name: &str,
        hidden: Option<&[usize]>,
        input: &[usize],
        classes: usize,
    ) -> Result<ModelSpec, ModelSpecError> {
        let name = name.trim().to_ascii_lowercase();
        if classes == 0 {
            return Err(ModelSpecError::NoClasses);
        }
        let bad_input = |reason: &str| ModelSpecError::BadInput {
            model: name.clone(),
            input: input.to_vec(),
            reason: reason.to_string(),
        };
        let spec = match name.as_str() {
            "mlp" | "mlp-wide" => {
                let default: &[usize] = if name == "mlp" { &[128] } else { &[512, 512] };
                let hidden = hidden.unwrap_or(default).to_vec();
                if hidden.is_empty() || hidden.contains(&0) || hidden.len() > MAX_HIDDEN_LAYERS {
                    return Err(ModelSpecError::BadHidden {
                        model: name.clone(),
                        hidden,
                    });
                }
                let features = input
                    .iter()
                    .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                    .unwrap_or(usize::MAX);
                if input.is_empty() || features == 0 {
                    return Err(bad_input("an MLP needs a non-empty input"));
                }
                ModelSpec::Mlp {
                    input: features,
                    hidden,
                    classes,
                }
            }
            "cnn" | "mnist-cnn" | "cifar-cnn" => {
                if let Some(h) = hidden {
                    return Err(ModelSpecError::BadHidden {
                        model: name.clone(),
                        hidden: h.to_vec(),
                    });
                }
                let chw = match *input {
                    [c, h, w] => [c, h, w],
                    [h, w] => [1, h, w],
                    _ => return Err(bad_input("expected images [C, H, W]")),
                };
                let spec = if name == "cifar-cnn" {
                    ModelSpec::CifarCnn { input: chw, classes }
                } else {
                    ModelSpec::MnistCnn { input: chw, classes }
                };
                if chw[0] == 0 || spec.flat_features() == 0 {
                    return Err(bad_input("the image is too small for this network"));
                }
                spec
            }
            _ => return Err(ModelSpecError::UnknownModel(name)),
        };
        if let Some((param, shape)) = spec.parameter_shapes().into_iter().find(|(_, shape)| {
            shape
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
                .is_none_or(|n| n > MAX_TENSOR_VALUES)
        }) {
            return Err(ModelSpecError::TooLarge { param, shape });
        }
        Ok(spec)
    }

    /// The short name: `mlp` (`mlp-wide` for hidden widths `[512, 512]`), `cnn`, `cifar-cnn`.
    pub fn name(&self) -> &'static str {
        match self {
            ModelSpec::Mlp { hidden, .. } if hidden == &[512, 512] => "mlp-wide",
            ModelSpec::Mlp { .. } => "mlp",
            ModelSpec::MnistCnn { .. } => "cnn",
            ModelSpec::CifarCnn { .. } => "cifar-cnn",
        }
    }

    /// The shape of one example, without the batch axis: `[784]` for an MLP (images must be
    /// flattened), `[C, H, W]` for the CNNs.
    pub fn input_shape(&self) -> Vec<usize> {
        match self {
            ModelSpec::Mlp { input, .. } => vec![*input],
            ModelSpec::MnistCnn { input, .. } | ModelSpec::CifarCnn { input, .. } => input.to_vec(),
        }
    }

    /// The number of output classes (logits).
    pub fn classes(&self) -> usize {
        match self {
            ModelSpec::Mlp { classes, .. }
            | ModelSpec::MnistCnn { classes, .. }
            | ModelSpec::CifarCnn { classes, .. } => *classes,
        }
    }

    /// Features entering the first linear layer of a CNN (9216 for W3, 4096 for W4); the input
    /// size for an MLP.
    pub fn flat_features(&self) -> usize {
        match self {
            ModelSpec::Mlp { input, .. } => *input,
            // Saturating: an absurd input saturates, and `from_name` refuses the layer it sizes.
            ModelSpec::MnistCnn { input: [_, h, w], .. } => 64usize
                .saturating_mul(h.saturating_sub(4) / 2)
                .saturating_mul(w.saturating_sub(4) / 2),
            ModelSpec::CifarCnn { input: [_, h, w], .. } => 64usize.saturating_mul(h / 2 / 2).saturating_mul(w / 2 / 2),
        }
    }

    /// Builds the model, drawing PyTorch-style initial weights from `rng`, layer by layer.
    ///
    /// # Panics
    /// When the spec is degenerate (zero sizes); specs from [`ModelSpec::from_name`] and
    /// [`ModelSpec::from_metadata`] are checked.
    pub fn build(&self, rng: &mut TensorRng) -> Sequential {
        let mut model = Sequential::new();
        match self {
            ModelSpec::Mlp { input, hidden, classes } => {
                let mut prev = *input;
                for &h in hidden {
                    model = model.add(Linear::new(prev, h, rng)).add(ReLU);
                    prev = h;
                }
                model = model.add(Linear::new(prev, *classes, rng));
            }
            ModelSpec::MnistCnn { input, classes } => {
                model = model
                    .add(Conv2d::new(input[0], 32, 3, rng))
                    .add(ReLU)
                    .add(Conv2d::new(32, 64, 3, rng))
                    .add(ReLU)
                    .add(MaxPool2d::new(2))
                    .add(Flatten::new())
                    .add(Linear::new(self.flat_features(), 128, rng))
                    .add(ReLU)
                    .add(Linear::new(128, *classes, rng));
            }
            ModelSpec::CifarCnn { input, classes } => {
                let pad1 = Conv2dConfig::default().padding(1);
                model = model
                    .add(Conv2d::with_config(input[0], 32, 3, pad1, rng))
                    .add(ReLU)
                    .add(MaxPool2d::new(2))
                    .add(Conv2d::with_config(32, 64, 3, pad1, rng))
                    .add(ReLU)
                    .add(MaxPool2d::new(2))
                    .add(Flatten::new())
                    .add(Linear::new(self.flat_features(), 128, rng))
                    .add(ReLU)
                    .add(Linear::new(128, *classes, rng));
            }
        }
        model
    }

    /// The `state_dict` names and shapes [`ModelSpec::build`] produces, without building.
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        let mut push = |idx: usize, w: Vec<usize>| {
            out.push((format!("{idx}.weight"), w.clone()));
            out.push((format!("{idx}.bias"), vec![w[0]]));
        };
        match self {
            ModelSpec::Mlp { input, hidden, classes } => {
                let mut prev = *input;
                for (i, &h) in hidden.iter().enumerate() {
                    push(2 * i, vec![h, prev]);
                    prev = h;
                }
                push(2 * hidden.len(), vec![*classes, prev]);
            }
            ModelSpec::MnistCnn { input, classes } => {
                push(0, vec![32, input[0], 3, 3]);
                push(2, vec![64, 32, 3, 3]);
                push(6, vec![128, self.flat_features()]);
                push(8, vec![*classes, 128]);
            }
            ModelSpec::CifarCnn { input, classes } => {
                push(0, vec![32, input[0], 3, 3]);
                push(3, vec![64, 32, 3, 3]);
                push(7, vec![128, self.flat_features()]);
                push(9, vec![*classes, 128]);
            }
        }
        out
    }

    /// A compact JSON description stored in a saved file's metadata under [`METADATA_KEY`],
    /// e.g. `{"model":"mlp","input":[784],"hidden":[128],"classes":10}` or
    /// `{"model":"cnn","input":[1,28,28],"classes":10}`.
    pub fn to_metadata(&self) -> String {
        let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        match self {
            ModelSpec::Mlp { input, hidden, classes } => {
                format!(
                    r#"{{"model":"mlp","input":[{input}],"hidden":[{}],"classes":{classes}}}"#,
                    list(hidden)
                )
            }
            ModelSpec::MnistCnn { input, classes } | ModelSpec::CifarCnn { input, classes } => {
                format!(
                    r#"{{"model":"{}","input":[{}],"classes":{classes}}}"#,
                    self.name(),
                    list(input)
                )
            }
        }
    }

    /// Reads a [`ModelSpec::to_metadata`] string back (whitespace and key order are free).
    ///
    /// ```
    /// use neurite_nn::models::ModelSpec;
    /// let spec = ModelSpec::from_metadata(r#"{ "model": "mlp", "input": [784], "hidden": [512, 512], "classes": 10 }"#);
    /// assert_eq!(spec.unwrap(), ModelSpec::w2());
    /// assert!(ModelSpec::from_metadata("{\"model\":\"mlp\"}").is_err());
    /// ```
    pub fn from_metadata(text: &str) -> Result<ModelSpec, ModelSpecError> {
        let bad = |reason: String| ModelSpecError::BadMetadata {
            text: text.to_string(),
            reason,
        };
        let fields = parse_flat_json(text).map_err(bad)?;
        let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let model = match get("model") {
            Some(Value::Str(s)) => s.clone(),
            _ => return Err(bad("missing string field \"model\"".into())),
        };
        let input = match get("input") {
            Some(Value::List(v)) => v.clone(),
            Some(Value::Num(n)) => vec![*n],
            _ => return Err(bad("missing list field \"input\"".into())),
        };
        let classes = match get("classes") {
            Some(Value::Num(n)) => *n,
            _ => return Err(bad("missing number field \"classes\"".into())),
        };
        let hidden = match get("hidden") {
            Some(Value::List(v)) => Some(v.clone()),
            None => None,
            Some(_) => return Err(bad("field \"hidden\" must be a list".into())),
        };
        if model == "mlp" && hidden.is_none() {
            return Err(bad("an mlp needs a \"hidden\" list".into()));
        }
        ModelSpec::from_name(&model, hidden.as_deref(), &input, classes)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = self.input_shape();
        match self {
            ModelSpec::Mlp { hidden, classes, .. } => {
                write!(f, "{} ({shape:?} -> {hidden:?} -> {classes})", self.name())
            }
            _ => write!(f, "{} ({shape:?} -> {})", self.name(), self.classes()),
        }
    }
}

/// A value in the flat metadata object.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Num(usize),
    List(Vec<usize>),
}

/// Parses `{"key": value, ...}` whose values are strings (no escapes), non-negative integers
/// or lists of them: exactly what [`ModelSpec::to_metadata`] writes.
fn parse_flat_json(text: &str) -> Result<Vec<(String, Value)>, String> {
    struct P<'a> {
        s: &'a [u8],
        i: usize,
    }
    impl P<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected `{}` at byte {}", c as char, self.i))
            }
        }
        fn peek(&mut self) -> Option<u8> {
            self.ws();
            self.s.get(self.i).copied()
        }
        fn string(&mut self) -> Result<String, String> {
            self.eat(b'"')?;
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'"' {
                if self.s[self.i] == b'\\' {
                    return Err("escapes are not supported".into());
                }
                self.i += 1;
            }
            let out = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            self.eat(b'"')?;
            Ok(out)
        }
        fn number(&mut self) -> Result<usize, String> {
            self.ws();
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            std::str::from_utf8(&self.s[start..self.i])
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| format!("expected a non-negative integer at byte {start}"))
        }
    }
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    p.eat(b'{')?;
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            let key = p.string()?;
            p.eat(b':')?;
            let value = match p.peek() {
                Some(b'"') => Value::Str(p.string()?),
                Some(b'[') => {
                    p.i += 1;
                    let mut v = Vec::new();
                    if p.peek() == Some(b']') {
                        p.i += 1;
                    } else {
                        loop {
                            v.push(p.number()?);
                            match p.peek() {
                                Some(b',') => p.i += 1,
                                Some(b']') => {
                                    p.i += 1;
                                    break;
                                }
                                _ => return Err(format!("expected `,` or `]` at byte {}", p.i)),
                            }
                        }
                    }
                    Value::List(v)
                }
                _ => Value::Num(p.number()?),
            };
            out.push((key, value));
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b'}') => {
                    p.i += 1;
                    break;
                }
                _ => return Err(format!("expected `,` or `}}` at byte {}", p.i)),
            }
        }
    }
    if p.peek().is_some() {
        return Err(format!("unexpected text after the object at byte {}", p.i));
    }
    Ok(out)
}
