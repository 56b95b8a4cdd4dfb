//! Pooling layers: [`MaxPool2d`], [`AvgPool2d`] and [`AdaptiveAvgPool2d`] (PyTorch
//! semantics, NCHW).

use neurite_tensor::Tensor;

use crate::functional::{adaptive_avg_pool2d, avg_pool2d, max_pool2d, Size2};
use crate::module::Module;

/// `torch.nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0)`; see [`max_pool2d`].
///
/// ```
/// use neurite_nn::{MaxPool2d, Module};
/// use neurite_tensor::Tensor;
/// let y = MaxPool2d::new(2).forward(&Tensor::ones(&[1, 3, 8, 8]));
/// assert_eq!(y.shape(), vec![1, 3, 4, 4]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2d {
    /// Window size `(h, w)`.
    pub kernel_size: Size2,
    /// Step between windows (defaults to the window size).
    pub stride: Size2,
    /// Implicit `-inf` padding on both sides (at most half the window).
    pub padding: Size2,
}

impl MaxPool2d {
    /// A pool with stride equal to the window and no padding.
    pub fn new(kernel_size: impl Into<Size2>) -> MaxPool2d {
        let k = kernel_size.into();
        MaxPool2d {
            kernel_size: k,
            stride: k,
            padding: Size2(0, 0),
        }
    }

    /// Sets the stride.
    pub fn stride(mut self, s: impl Into<Size2>) -> MaxPool2d {
        self.stride = s.into();
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, p: impl Into<Size2>) -> MaxPool2d {
        self.padding = p.into();
        self
    }
}

impl Module for MaxPool2d {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        max_pool2d(input, self.kernel_size, self.stride, self.padding)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        let (k, s, p) = (self.kernel_size, self.stride, self.padding);
        format!(
            "MaxPool2d(kernel_size=({}, {}), stride=({}, {}), padding=({}, {}))",
            k.0, k.1, s.0, s.1, p.0, p.1
        )
    }
}

/// `torch.nn.AvgPool2d(kernel_size, stride=kernel_size, padding=0)` with
/// `count_include_pad=True`; see [`avg_pool2d`].
///
/// ```
/// use neurite_nn::{AvgPool2d, Module};
/// use neurite_tensor::Tensor;
/// let y = AvgPool2d::new(2).forward(&Tensor::ones(&[1, 1, 4, 4]));
/// assert_eq!(y.to_vec(), vec![1.0; 4]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvgPool2d {
    /// Window size `(h, w)`.
    pub kernel_size: Size2,
    /// Step between windows (defaults to the window size).
    pub stride: Size2,
    /// Implicit zero padding on both sides (at most half the window).
    pub padding: Size2,
}

impl AvgPool2d {
    /// A pool with stride equal to the window and no padding.
    pub fn new(kernel_size: impl Into<Size2>) -> AvgPool2d {
        let k = kernel_size.into();
        AvgPool2d {
            kernel_size: k,
            stride: k,
            padding: Size2(0, 0),
        }
    }

    /// Sets the stride.
    pub fn stride(mut self, s: impl Into<Size2>) -> AvgPool2d {
        self.stride = s.into();
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, p: impl Into<Size2>) -> AvgPool2d {
        self.padding = p.into();
        self
    }
}

impl Module for AvgPool2d {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        avg_pool2d(input, self.kernel_size, self.stride, self.padding)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        let (k, s, p) = (self.kernel_size, self.stride, self.padding);
        format!(
            "AvgPool2d(kernel_size=({}, {}), stride=({}, {}), padding=({}, {}))",
            k.0, k.1, s.0, s.1, p.0, p.1
        )
    }
}

/// `torch.nn.AdaptiveAvgPool2d(output_size)`: average pooling to a fixed output size for any
/// input size; see [`adaptive_avg_pool2d`]. [`AdaptiveAvgPool2d::global`] (output `(1, 1)`) is
/// the global average pooling before a ResNet's classifier.
///
/// ```
/// use neurite_nn::{AdaptiveAvgPool2d, Module};
/// use neurite_tensor::Tensor;
/// let y = AdaptiveAvgPool2d::global().forward(&Tensor::ones(&[2, 8, 5, 7]));
/// assert_eq!(y.shape(), vec![2, 8, 1, 1]);
/// assert_eq!(AdaptiveAvgPool2d::new((2, 3)).forward(&Tensor::ones(&[1, 1, 5, 7])).shape(), vec![1, 1, 2, 3]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveAvgPool2d {
    /// Output size `(h, w)`.
    pub output: Size2,
}

impl AdaptiveAvgPool2d {
    /// Pools every plane to `output` (`(h, w)`, or one number for a square).
    pub fn new(output: impl Into<Size2>) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d { output: output.into() }
    }

    /// Global average pooling: output `(1, 1)`.
    pub fn global() -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d::new(1)
    }
}

impl Module for AdaptiveAvgPool2d {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        adaptive_avg_pool2d(input, self.output)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("AdaptiveAvgPool2d(output_size=({}, {}))", self.output.0, self.output.1)
    }
}
