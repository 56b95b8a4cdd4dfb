//! [`LayerNorm`]: layer normalisation over the trailing axes, PyTorch semantics (eps 1e-5,
//! element-wise affine).

use neurite_tensor::Tensor;

use crate::functional::layer_norm;
use crate::module::Module;

/// `torch.nn.LayerNorm(normalized_shape)`: normalises every slice over the trailing
/// `normalized_shape` axes to mean 0 and variance 1, then applies the element-wise affine
/// `weight` (ones) and `bias` (zeros), both of shape `normalized_shape` and named as in
/// PyTorch. Same in training and evaluation (no running statistics); see [`layer_norm`].
///
/// ```
/// use neurite_nn::{LayerNorm, Module};
/// use neurite_tensor::Tensor;
/// let mut ln = LayerNorm::new(&[4]);
/// let y = ln.forward(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 5.0, 5.0], &[2, 4]).unwrap());
/// let row: Vec<f32> = y.to_vec()[..4].to_vec();
/// assert!((row.iter().sum::<f32>()).abs() < 1e-6);
/// let names: Vec<String> = ln.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// assert_eq!(ln.describe(), "LayerNorm((4,), eps=1e-5, elementwise_affine=True)");
/// ```
pub struct LayerNorm {
    /// The trailing axes normalised over.
    normalized_shape: Vec<usize>,
    /// Scale, `normalized_shape`, starts at ones.
    pub weight: Tensor,
    /// Shift, `normalized_shape`, starts at zeros.
    pub bias: Tensor,
    /// Added to the variance.
    pub eps: f32,
}

impl LayerNorm {
    /// `nn.LayerNorm(normalized_shape)` with `eps = 1e-5`.
    ///
    /// # Panics
    /// When `normalized_shape` is empty or holds a zero.
    pub fn new(normalized_shape: &[usize]) -> LayerNorm {
        LayerNorm::with_eps(normalized_shape, 1e-5)
    }

    /// `nn.LayerNorm(normalized_shape, eps=eps)`.
    ///
    /// # Panics
    /// As [`LayerNorm::new`].
    pub fn with_eps(normalized_shape: &[usize], eps: f32) -> LayerNorm {
        assert!(
            !normalized_shape.is_empty() && normalized_shape.iter().all(|&v| v > 0),
            "LayerNorm: normalized_shape {normalized_shape:?} must be non-empty with positive sizes"
        );
        LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            weight: Tensor::ones(normalized_shape).requires_grad_(),
            bias: Tensor::zeros(normalized_shape).requires_grad_(),
            eps,
        }
    }

    /// The trailing axes normalised over.
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }
}

impl Module for LayerNorm {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        layer_norm(
            input,
            &self.normalized_shape,
            Some(&self.weight),
            Some(&self.bias),
            self.eps,
        )
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".to_string(), self.weight.clone()),
            ("bias".to_string(), self.bias.clone()),
        ]
    }

    fn describe(&self) -> String {
        let dims: Vec<String> = self.normalized_shape.iter().map(usize::to_string).collect();
        let tuple = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        format!("LayerNorm({tuple}, eps={:e}, elementwise_affine=True)", self.eps)
    }
}
