//! [`LayerSpec`]: one layer of a model spec, with every setting it has, and [`Layer`]: a
//! layer with its optional `state_dict` name.

use crate::functional::Size2;
use crate::layers::activation::Activation;

/// Batch norm's defaults (PyTorch's).
pub const BATCH_NORM_EPS: f32 = 1e-5;
/// Batch norm's default running-statistics momentum (PyTorch's).
pub const BATCH_NORM_MOMENTUM: f32 = 0.1;
/// Layer norm's default eps (PyTorch's).
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// Zero padding of a convolution: explicit (PyTorch's `padding=p`) or Keras' / PyTorch's
/// `'same'` (output size = input size; stride 1 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// `p` rows/columns of zeros on each side.
    Explicit(Size2),
    /// As much as keeps the output the size of the input (`dilation·(k-1)/2` per side).
    Same,
}

/// One layer of a model spec. Sizes that follow from the layer's input (a linear layer's
/// `in_features`, a convolution's `in_channels`, batch norm's features) are inferred when
/// the spec is checked; where one is given it must agree.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    /// `torch.nn.Linear`: `weight [out, in]`, `bias [out]`; needs a flat input.
    Linear {
        /// The input size, if stated (checked against the input).
        in_features: Option<usize>,
        /// The output size.
        out_features: usize,
        /// Whether the layer has a bias.
        bias: bool,
    },
    /// Keras' `Dense(units, activation)`: `kernel [in, units]`, `bias [units]`.
    Dense {
        /// The output size.
        units: usize,
        /// Applied after the affine map.
        activation: Activation,
        /// Whether the layer has a bias.
        use_bias: bool,
    },
    /// `torch.nn.Conv2d` over `[C, H, W]`: `weight [out, in/groups, kh, kw]`, `bias [out]`.
    Conv2d {
        /// The input channels, if stated (checked against the input).
        in_channels: Option<usize>,
        /// The output channels.
        out_channels: usize,
        /// The kernel `(kh, kw)`.
        kernel_size: Size2,
        /// Step between windows.
        stride: Size2,
        /// Zero padding.
        padding: Padding,
        /// Spacing between kernel taps.
        dilation: Size2,
        /// Channel groups (`in_channels` for a depthwise convolution).
        groups: usize,
        /// Whether the layer has a bias.
        bias: bool,
    },
    /// `torch.nn.MaxPool2d`.
    MaxPool2d {
        /// Window `(h, w)`.
        kernel_size: Size2,
        /// Step between windows (PyTorch's default: the window).
        stride: Size2,
        /// `-inf` padding on each side, at most half the window.
        padding: Size2,
    },
    /// `torch.nn.AvgPool2d` (`count_include_pad=True`).
    AvgPool2d {
        /// Window `(h, w)`.
        kernel_size: Size2,
        /// Step between windows (PyTorch's default: the window).
        stride: Size2,
        /// Zero padding on each side, at most half the window.
        padding: Size2,
    },
    /// `torch.nn.AdaptiveAvgPool2d(output_size)`: `[C, H, W]` to `[C, oh, ow]`.
    AdaptiveAvgPool2d {
        /// The output `(oh, ow)`.
        output_size: Size2,
    },
    /// Keras' `GlobalAveragePooling2D`: the mean over each channel, `[C, H, W]` to `[C]`.
    GlobalAvgPool2d,
    /// `torch.nn.BatchNorm1d` over `[F]` (or `[C, L]`).
    BatchNorm1d {
        /// Added to the variance.
        eps: f32,
        /// Running-statistics momentum (PyTorch's convention: 0.1 = Keras' 0.9).
        momentum: f32,
    },
    /// `torch.nn.BatchNorm2d` over `[C, H, W]`.
    BatchNorm2d {
        /// Added to the variance.
        eps: f32,
        /// Running-statistics momentum (PyTorch's convention).
        momentum: f32,
    },
    /// `torch.nn.LayerNorm` over the last `dims` axes, with `weight` and `bias`.
    LayerNorm {
        /// How many trailing axes are normalised together.
        dims: usize,
        /// Added to the variance.
        eps: f32,
    },
    /// `torch.nn.Dropout(p)`.
    Dropout {
        /// Drop probability, in `[0, 1)`.
        p: f32,
    },
    /// `torch.nn.Dropout2d(p)`: drops whole channels of `[C, H, W]`.
    Dropout2d {
        /// Drop probability, in `[0, 1)`.
        p: f32,
    },
    /// `torch.nn.Flatten()`: everything but the batch axis into one.
    Flatten,
    /// An element-wise activation (softmax: over the last axis).
    Activation(Activation),
    /// A residual block: `body(x) + x`, or `body(x) + downsample(x)` when the body changes the
    /// shape (torchvision's `BasicBlock` without its final ReLU: follow it with `relu`).
    /// Parameter names: the body's own names, then `downsample.*`.
    Residual {
        /// The layers of the main path.
        body: Vec<Layer>,
        /// The shortcut's layers (e.g. a 1x1 convolution with stride 2 and batch norm).
        downsample: Option<Vec<Layer>>,
    },
}

/// A layer and its `state_dict` name (its index in the enclosing sequence when unnamed).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// What the layer is.
    pub kind: LayerSpec,
    /// Its name, if given (`conv1` gives `conv1.weight`).
    pub name: Option<String>,
}

impl Layer {
    /// An unnamed layer.
    pub fn new(kind: LayerSpec) -> Layer {
        Layer { kind, name: None }
    }

    /// A named layer.
    pub fn named(name: impl Into<String>, kind: LayerSpec) -> Layer {
        Layer {
            kind,
            name: Some(name.into()),
        }
    }
}

impl From<LayerSpec> for Layer {
    fn from(kind: LayerSpec) -> Layer {
        Layer::new(kind)
    }
}

impl LayerSpec {
    /// `linear(out)`: in_features inferred, with bias.
    pub fn linear(out_features: usize) -> LayerSpec {
        LayerSpec::Linear {
            in_features: None,
            out_features,
            bias: true,
        }
    }

    /// `conv2d(out, k)`: stride 1, no padding, with bias.
    pub fn conv2d(out_channels: usize, kernel_size: impl Into<Size2>) -> LayerSpec {
        LayerSpec::Conv2d {
            in_channels: None,
            out_channels,
            kernel_size: kernel_size.into(),
            stride: Size2(1, 1),
            padding: Padding::Explicit(Size2(0, 0)),
            dilation: Size2(1, 1),
            groups: 1,
            bias: true,
        }
    }

    /// `maxpool2d(k)`: stride k, no padding.
    pub fn max_pool2d(kernel_size: impl Into<Size2>) -> LayerSpec {
        let k = kernel_size.into();
        LayerSpec::MaxPool2d {
            kernel_size: k,
            stride: k,
            padding: Size2(0, 0),
        }
    }

    /// `avgpool2d(k)`: stride k, no padding.
    pub fn avg_pool2d(kernel_size: impl Into<Size2>) -> LayerSpec {
        let k = kernel_size.into();
        LayerSpec::AvgPool2d {
            kernel_size: k,
            stride: k,
            padding: Size2(0, 0),
        }
    }

    /// `maxpool2d` (`max`) or `avgpool2d` with every setting.
    pub fn pool2d(max: bool, kernel_size: Size2, stride: Size2, padding: Size2) -> LayerSpec {
        if max {
            LayerSpec::MaxPool2d {
                kernel_size,
                stride,
                padding,
            }
        } else {
            LayerSpec::AvgPool2d {
                kernel_size,
                stride,
                padding,
            }
        }
    }

    /// `batchnorm1d` with PyTorch's eps and momentum.
    pub fn batch_norm1d() -> LayerSpec {
        LayerSpec::BatchNorm1d {
            eps: BATCH_NORM_EPS,
            momentum: BATCH_NORM_MOMENTUM,
        }
    }

    /// `batchnorm2d` with PyTorch's eps and momentum.
    pub fn batch_norm2d() -> LayerSpec {
        LayerSpec::BatchNorm2d {
            eps: BATCH_NORM_EPS,
            momentum: BATCH_NORM_MOMENTUM,
        }
    }

    /// `relu`.
    pub fn relu() -> LayerSpec {
        LayerSpec::Activation(Activation::Relu)
    }

    /// The PyTorch class name (`Conv2d`, `Linear`, `ReLU`, ...), as in summaries and errors.
    pub fn kind_name(&self) -> &'static str {
        match self {
            LayerSpec::Linear { .. } => "Linear",
            LayerSpec::Dense { .. } => "Dense",
            LayerSpec::Conv2d { .. } => "Conv2d",
            LayerSpec::MaxPool2d { .. } => "MaxPool2d",
            LayerSpec::AvgPool2d { .. } => "AvgPool2d",
            LayerSpec::AdaptiveAvgPool2d { .. } => "AdaptiveAvgPool2d",
            LayerSpec::GlobalAvgPool2d => "GlobalAvgPool2d",
            LayerSpec::BatchNorm1d { .. } => "BatchNorm1d",
            LayerSpec::BatchNorm2d { .. } => "BatchNorm2d",
            LayerSpec::LayerNorm { .. } => "LayerNorm",
            LayerSpec::Dropout { .. } => "Dropout",
            LayerSpec::Dropout2d { .. } => "Dropout2d",
            LayerSpec::Flatten => "Flatten",
            LayerSpec::Activation(a) => match a {
                Activation::Linear => "Identity",
                Activation::Relu => "ReLU",
                Activation::LeakyRelu(_) => "LeakyReLU",
                Activation::Sigmoid => "Sigmoid",
                Activation::Tanh => "Tanh",
                Activation::Gelu => "GELU",
                Activation::Softmax => "Softmax",
            },
            LayerSpec::Residual { .. } => "Residual",
        }
    }

    /// Whether the layer needs a flat `[features]` input (so a spec starting with it takes
    /// flattened images).
    pub fn wants_flat_input(&self) -> bool {
        match self {
            LayerSpec::Linear { .. } | LayerSpec::Dense { .. } | LayerSpec::BatchNorm1d { .. } => true,
            LayerSpec::Residual { body, .. } => body.first().is_some_and(|l| l.kind.wants_flat_input()),
            _ => false,
        }
    }
}
