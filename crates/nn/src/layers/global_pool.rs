//! [`GlobalAvgPool2d`]: Keras' `GlobalAveragePooling2D`, the mean of each channel.

use neurite_tensor::Tensor;

use crate::module::Module;

/// Averages each channel over its whole image: `[N, C, H, W]` to `[N, C]` (Keras'
/// `GlobalAveragePooling2D`; PyTorch's `AdaptiveAvgPool2d(1)` followed by `Flatten`).
///
/// ```
/// use neurite_nn::layers::global_pool::GlobalAvgPool2d;
/// use neurite_nn::Module;
/// use neurite_tensor::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0], &[1, 2, 2, 2]).unwrap();
/// assert_eq!(GlobalAvgPool2d.forward(&x).to_vec(), vec![2.5, 10.0]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalAvgPool2d;

impl Module for GlobalAvgPool2d {
    /// # Panics
    /// When the input is not `[N, C, H, W]`.
    fn forward(&mut self, input: &Tensor) -> Tensor {
        let shape = input.shape();
        assert!(
            shape.len() == 4,
            "GlobalAvgPool2d: input shape {shape:?} is not [N, C, H, W]"
        );
        input
            .reshape(&[shape[0], shape[1], shape[2] * shape[3]])
            .mean_axis(2, false)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "GlobalAvgPool2d()".into()
    }
}
