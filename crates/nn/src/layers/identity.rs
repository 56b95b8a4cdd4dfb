//! [`Identity`]: `torch.nn.Identity`, the layer that returns its input.

use neurite_tensor::Tensor;

use crate::module::Module;

/// Returns its input unchanged (`torch.nn.Identity`; Keras' `Activation('linear')`).
///
/// ```
/// use neurite_nn::layers::identity::Identity;
/// use neurite_nn::Module;
/// use neurite_tensor::Tensor;
/// assert_eq!(Identity.forward(&Tensor::ones(&[2])).to_vec(), vec![1.0, 1.0]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity;

impl Module for Identity {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        input.clone()
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "Identity()".into()
    }
}
