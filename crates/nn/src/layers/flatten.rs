//! [`Flatten`]: merges all axes from `start_dim` on into one, like `torch.nn.Flatten`.

use neurite_tensor::Tensor;

use crate::module::Module;

/// `torch.nn.Flatten(start_dim=1)`: `[N, C, H, W]` becomes `[N, C·H·W]` (Keras' `Flatten`
/// does the same on batched input). Zero-copy when the input is contiguous.
///
/// ```
/// use neurite_nn::{Flatten, Module};
/// use neurite_tensor::Tensor;
/// assert_eq!(Flatten::new().forward(&Tensor::ones(&[2, 3, 4, 5])).shape(), vec![2, 60]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flatten {
    /// The first axis merged (PyTorch's default is 1, keeping the batch axis).
    pub start_dim: usize,
}

impl Flatten {
    /// Flattens everything but the batch axis.
    pub fn new() -> Flatten {
        Flatten { start_dim: 1 }
    }

    /// Flattens from `start_dim` on.
    pub fn from_dim(start_dim: usize) -> Flatten {
        Flatten { start_dim }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new()
    }
}

impl Module for Flatten {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        input.flatten_from(self.start_dim)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("Flatten(start_dim={}, end_dim=-1)", self.start_dim)
    }
}
