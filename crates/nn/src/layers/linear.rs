//! [`Linear`]: PyTorch's fully connected layer, `y = x Wᵀ + b` with `W: [out, in]`.

use neurite_tensor::{Tensor, TensorRng};

use crate::functional::{linear, linear_relu, WeightLayout};
use crate::layers::activation::Activation;
use crate::module::{AffineParts, Fuse, Module};

/// A fully connected layer with PyTorch semantics: weight `[out_features, in_features]`,
/// bias `[out_features]`, both initialised from U(-1/√in, 1/√in) as `torch.nn.Linear` does.
///
/// ```
/// use neurite_nn::{Linear, Module};
/// use neurite_tensor::{seeded_rng, Tensor};
/// let mut layer = Linear::new(10, 5, &mut seeded_rng(0)); // nn.Linear(in_features=10, out_features=5)
/// let y = layer.forward(&Tensor::ones(&[3, 10]));
/// assert_eq!(y.shape(), vec![3, 5]);
/// ```
pub struct Linear {
    /// `[out_features, in_features]`.
    pub weight: Tensor,
    /// `[out_features]`, if the layer has a bias.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// A layer with bias, initialised as PyTorch does.
    pub fn new(in_features: usize, out_features: usize, rng: &mut TensorRng) -> Linear {
        Linear::with_bias(in_features, out_features, true, rng)
    }

    /// A layer with or without bias.
    pub fn with_bias(in_features: usize, out_features: usize, bias: bool, rng: &mut TensorRng) -> Linear {
        let bound = 1.0 / (in_features.max(1) as f32).sqrt();
        let weight = Tensor::uniform(&[out_features, in_features], -bound, bound, rng).requires_grad_();
        let bias = bias.then(|| Tensor::uniform(&[out_features], -bound, bound, rng).requires_grad_());
        Linear { weight, bias }
    }

    /// A layer from existing values (weight `[out, in]`, bias `[out]`).
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Linear {
        Linear {
            weight: weight.detach().requires_grad_(),
            bias: bias.map(|b| b.detach().requires_grad_()),
        }
    }

    /// Input size.
    pub fn in_features(&self) -> usize {
        self.weight.dim(1)
    }

    /// Output size.
    pub fn out_features(&self) -> usize {
        self.weight.dim(0)
    }
}

impl Module for Linear {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        linear(input, &self.weight, self.bias.as_ref())
    }

    fn fusion(&mut self) -> Option<&mut dyn Fuse> {
        Some(self)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b.clone()));
        }
        out
    }

    fn describe(&self) -> String {
        format!(
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features(),
            self.out_features(),
            self.bias.is_some()
        )
    }
}

impl Fuse for Linear {
    /// Fuses a following ReLU ([`linear_relu`]).
    fn forward_with_activation(&mut self, input: &Tensor, activation: Activation) -> Option<Tensor> {
        (activation == Activation::Relu).then(|| linear_relu(input, &self.weight, self.bias.as_ref()))
    }

    fn as_affine(&self) -> Option<AffineParts> {
        Some(AffineParts {
            weight: self.weight.clone(),
            layout: WeightLayout::OutIn,
            bias: self.bias.clone(),
            activation: Activation::Linear,
        })
    }
}
