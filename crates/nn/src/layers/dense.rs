//! [`Dense`]: Keras' fully connected layer, `activation(x · kernel + bias)` with a lazily built
//! `kernel: [in, units]`.

use std::sync::atomic::{AtomicU64, Ordering};

use neurite_tensor::{seeded_rng, Tensor, TensorRng};
use rand::Rng;

use crate::functional::{dense, dense_relu, WeightLayout};
use crate::layers::activation::{Activation, UnknownActivation};
use crate::module::{AffineParts, Fuse, Module};

/// Seeds for layers made without an explicit seed: a fixed sequence, so a program that builds
/// its layers in the same order gets the same initial weights on every run.
static NEXT_SEED: AtomicU64 = AtomicU64::new(0x5EED_DE45E);

/// A fully connected layer with Keras semantics (`tf.keras.layers.Dense(units, activation)`).
///
/// * The input size is inferred on the first [`Module::forward`] (lazy build), from the last
///   axis of the input; until then the layer has no parameters.
/// * `kernel` is `[in, units]` (Keras' layout, the transpose of PyTorch's `Linear.weight`),
///   initialised with `glorot_uniform`: U(-√(6/(in+units)), √(6/(in+units))); `bias` is
///   `[units]`, zeros. Parameter names are `kernel` and `bias`.
/// * The activation is an [`Activation`] or a Keras name (`"relu"`, `"sigmoid"`, `"tanh"`,
///   `"softmax"`, `"linear"`, `"gelu"`, `"leaky_relu"`), applied after the affine map.
/// * Initial values come from the layer's own generator, seeded at construction
///   ([`Dense::with_seed`], [`Dense::with_rng`], or a fixed per-process sequence for
///   [`Dense::new`]), and are drawn when the layer is built.
///
/// ```
/// use neurite_nn::{Activation, Dense, Module};
/// use neurite_tensor::Tensor;
/// // tf.keras.layers.Dense(units=10, activation='relu')
/// let mut layer = Dense::new(10, "relu").with_seed(42);
/// assert!(!layer.is_built());
/// let y = layer.forward(&Tensor::ones(&[4, 3]));
/// assert_eq!(y.shape(), vec![4, 10]);
/// assert_eq!(layer.kernel().unwrap().shape(), vec![3, 10]); // built on first call
/// assert!(y.to_vec().iter().all(|&v| v >= 0.0));
/// let out = Dense::new(5, Activation::Softmax);
/// assert!(Dense::try_new(5, "relux").is_err());
/// ```
pub struct Dense {
    units: usize,
    activation: Activation,
    use_bias: bool,
    rng: TensorRng,
    kernel: Option<Tensor>,
    bias: Option<Tensor>,
}

impl Dense {
    /// A layer with `units` outputs and an activation, given as an [`Activation`] or a Keras
    /// name.
    ///
    /// # Panics
    /// When a name is not a known activation (use [`Dense::try_new`] to get an error instead).
    pub fn new(units: usize, activation: impl Into<Activation>) -> Dense {
        Dense {
            units,
            activation: activation.into(),
            use_bias: true,
            rng: seeded_rng(NEXT_SEED.fetch_add(1, Ordering::Relaxed)),
            kernel: None,
            bias: None,
        }
    }

    /// Like [`Dense::new`] with the activation given by name, returning an error for unknown
    /// names.
    pub fn try_new(units: usize, activation: &str) -> Result<Dense, UnknownActivation> {
        Ok(Dense::new(units, activation.parse::<Activation>()?))
    }

    /// Seeds the generator the kernel is drawn from (builder style).
    pub fn with_seed(mut self, seed: u64) -> Dense {
        self.rng = seeded_rng(seed);
        self
    }

    /// Seeds the layer's generator from `rng` (one draw), so a model's layers follow one seed.
    pub fn with_rng(self, rng: &mut TensorRng) -> Dense {
        let seed = rng.random::<u64>();
        self.with_seed(seed)
    }

    /// Keras' `use_bias` (builder style; default `true`).
    pub fn use_bias(mut self, use_bias: bool) -> Dense {
        self.use_bias = use_bias;
        self
    }

    /// Creates the kernel and bias for inputs with `in_features` features, as the first
    /// forward does. Does nothing if the layer is already built.
    pub fn build(&mut self, in_features: usize) {
        if self.kernel.is_some() {
            return;
        }
        let limit = (6.0 / (in_features + self.units).max(1) as f32).sqrt();
        self.kernel = Some(Tensor::uniform(&[in_features, self.units], -limit, limit, &mut self.rng).requires_grad_());
        self.bias = self.use_bias.then(|| Tensor::zeros(&[self.units]).requires_grad_());
    }

    /// Whether the kernel exists yet.
    pub fn is_built(&self) -> bool {
        self.kernel.is_some()
    }

    /// Output size.
    pub fn units(&self) -> usize {
        self.units
    }

    /// The activation applied after the affine map.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The `[in, units]` kernel, once built.
    pub fn kernel(&self) -> Option<&Tensor> {
        self.kernel.as_ref()
    }

    /// The `[units]` bias, once built (and if the layer has one).
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for Dense {
    /// Builds the layer on first use, then computes `activation(x · kernel + bias)` for `x` of
    /// shape `[..., in]`.
    ///
    /// # Panics
    /// When the input is a scalar, or its last axis differs from the built input size.
    fn forward(&mut self, input: &Tensor) -> Tensor {
        let shape = input.shape();
        assert!(
            !shape.is_empty(),
            "Dense: expected an input of shape [..., features], got a scalar"
        );
        self.build(shape[shape.len() - 1]);
        let kernel = self.kernel.as_ref().expect("built above");
        match self.activation {
            Activation::Relu => dense_relu(input, kernel, self.bias.as_ref()),
            activation => activation.apply(&dense(input, kernel, self.bias.as_ref())),
        }
    }

    fn fusion(&mut self) -> Option<&mut dyn Fuse> {
        Some(self)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        if let Some(k) = &self.kernel {
            out.push(("kernel".to_string(), k.clone()));
        }
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b.clone()));
        }
        out
    }

    fn describe(&self) -> String {
        let input = self.kernel.as_ref().map_or("?".to_string(), |k| k.dim(0).to_string());
        format!(
            "Dense(units={}, activation={}, input={input}, use_bias={})",
            self.units, self.activation, self.use_bias
        )
    }
}

impl Fuse for Dense {
    fn as_affine(&self) -> Option<AffineParts> {
        Some(AffineParts {
            weight: self.kernel.clone()?,
            layout: WeightLayout::InOut,
            bias: self.bias.clone(),
            activation: self.activation,
        })
    }
}
