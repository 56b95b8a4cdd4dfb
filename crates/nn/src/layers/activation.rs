//! Activation layers (ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax) and the [`Activation`]
//! enum that Keras-style layers take by name.

use std::fmt;
use std::str::FromStr;

use neurite_tensor::Tensor;

use crate::module::{Fuse, Module};

/// An activation function, selectable by its Keras name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// Identity (`"linear"` in Keras, also `None`).
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `x` if positive else `slope * x`.
    LeakyRelu(f32),
    /// Logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// GELU (exact erf form).
    Gelu,
    /// Softmax over the last axis.
    Softmax,
}

impl Activation {
    /// Applies the activation to `x`.
    pub fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Linear => x.clone(),
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(s) => x.leaky_relu(s),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Gelu => x.gelu(),
            Activation::Softmax => x.softmax(x.ndim() - 1),
        }
    }

    /// The Keras name.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::Softmax => "softmax",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An activation name Keras does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activation `{0}`: expected one of linear, relu, leaky_relu, sigmoid, tanh, gelu, softmax")]
pub struct UnknownActivation(pub String);

impl FromStr for Activation {
    type Err = UnknownActivation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "linear" | "none" | "identity" => Ok(Activation::Linear),
            "relu" => Ok(Activation::Relu),
            "leaky_relu" | "leakyrelu" => Ok(Activation::LeakyRelu(0.01)),
            "sigmoid" => Ok(Activation::Sigmoid),
            "tanh" => Ok(Activation::Tanh),
            "gelu" => Ok(Activation::Gelu),
            "softmax" => Ok(Activation::Softmax),
            _ => Err(UnknownActivation(s.to_string())),
        }
    }
}

/// A Keras activation name, for APIs that take `impl Into<Activation>` such as
/// [`crate::Dense::new`].
///
/// # Panics
/// When the name is unknown (parse with [`str::parse`] to get an [`UnknownActivation`] error).
impl From<&str> for Activation {
    fn from(name: &str) -> Activation {
        name.parse().unwrap_or_else(|e: UnknownActivation| panic!("{e}"))
    }
}

/// Declares a parameter-free activation layer.
macro_rules! activation_layer {
    ($(#[$doc:meta])* $name:ident, $act:expr, $text:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Module for $name {
            fn forward(&mut self, input: &Tensor) -> Tensor {
                $act.apply(input)
            }
            fn named_parameters(&self) -> Vec<(String, Tensor)> {
                Vec::new()
            }
            fn describe(&self) -> String {
                $text.to_string()
            }
            fn fusion(&mut self) -> Option<&mut dyn Fuse> {
                Some(self)
            }
        }

        impl Fuse for $name {
            fn as_activation(&self) -> Option<Activation> {
                Some($act)
            }
        }
    };
}

activation_layer!(
    /// `torch.nn.ReLU`.
    ReLU, Activation::Relu, "ReLU()"
);
activation_layer!(
    /// `torch.nn.Sigmoid`.
    Sigmoid, Activation::Sigmoid, "Sigmoid()"
);
activation_layer!(
    /// `torch.nn.Tanh`.
    Tanh, Activation::Tanh, "Tanh()"
);
activation_layer!(
    /// `torch.nn.GELU` (exact erf form).
    GELU, Activation::Gelu, "GELU()"
);

/// `torch.nn.LeakyReLU(negative_slope)`.
#[derive(Debug, Clone, Copy)]
pub struct LeakyReLU {
    /// Slope for negative inputs (PyTorch's default is 0.01).
    pub negative_slope: f32,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU { negative_slope: 0.01 }
    }
}

impl Module for LeakyReLU {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        input.leaky_relu(self.negative_slope)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("LeakyReLU(negative_slope={})", self.negative_slope)
    }
}

/// `torch.nn.Softmax(dim)`.
#[derive(Debug, Clone, Copy)]
pub struct Softmax {
    /// The axis normalised over.
    pub axis: usize,
}

impl Module for Softmax {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        input.softmax(self.axis)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("Softmax(dim={})", self.axis)
    }
}
