//! [`Conv2d`]: PyTorch's 2-D convolution layer over NCHW tensors.

use neurite_tensor::{Tensor, TensorRng};

use crate::functional::{conv2d, conv2d_relu, Size2};
use crate::layers::activation::Activation;
use crate::module::{Fuse, Module};

/// Settings of a [`Conv2d`] layer beyond its channel counts and kernel size, with PyTorch's
/// defaults: stride 1, padding 0, dilation 1, groups 1, with bias.
///
/// ```
/// use neurite_nn::layers::conv::Conv2dConfig;
/// let cfg = Conv2dConfig::default().stride(2).padding(1).groups(4);
/// assert_eq!((cfg.stride, cfg.padding, cfg.groups), ((2, 2).into(), (1, 1).into(), 4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Step between windows `(h, w)`.
    pub stride: Size2,
    /// Zero padding added on both sides `(h, w)`.
    pub padding: Size2,
    /// Spacing between kernel taps `(h, w)`.
    pub dilation: Size2,
    /// Channel groups convolved separately (`in_channels` for a depthwise convolution); must
    /// divide both channel counts.
    pub groups: usize,
    /// Whether the layer has a bias.
    pub bias: bool,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig {
            stride: Size2(1, 1),
            padding: Size2(0, 0),
            dilation: Size2(1, 1),
            groups: 1,
            bias: true,
        }
    }
}

impl Conv2dConfig {
    /// Sets the stride.
    pub fn stride(mut self, s: impl Into<Size2>) -> Self {
        self.stride = s.into();
        self
    }
    /// Sets the padding.
    pub fn padding(mut self, p: impl Into<Size2>) -> Self {
        self.padding = p.into();
        self
    }
    /// Sets the dilation.
    pub fn dilation(mut self, d: impl Into<Size2>) -> Self {
        self.dilation = d.into();
        self
    }
    /// Sets the number of channel groups (PyTorch's `groups`).
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
    /// Sets whether the layer has a bias.
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

/// A 2-D convolution with PyTorch semantics (`torch.nn.Conv2d`): input `[N, C_in, H, W]`,
/// weight `[C_out, C_in/groups, kh, kw]`, bias `[C_out]`, output `[N, C_out, OH, OW]`. Weight
/// and bias are initialised from U(-1/√fan_in, 1/√fan_in) with `fan_in = C_in/groups·kh·kw`
/// (PyTorch's `kaiming_uniform_(a=√5)`), weight drawn first. The forward is [`conv2d`], one
/// fused im2col + sgemm op (per group when `groups > 1`).
///
/// ```
/// use neurite_nn::layers::conv::{Conv2d, Conv2dConfig};
/// use neurite_nn::Module;
/// use neurite_tensor::{seeded_rng, Tensor};
/// let mut rng = seeded_rng(0);
/// // nn.Conv2d(3, 8, kernel_size=3, padding=1)
/// let mut conv = Conv2d::with_config(3, 8, 3, Conv2dConfig::default().padding(1), &mut rng);
/// let y = conv.forward(&Tensor::ones(&[2, 3, 32, 32]));
/// assert_eq!(y.shape(), vec![2, 8, 32, 32]);
/// let names: Vec<String> = conv.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// // Depthwise: nn.Conv2d(8, 8, 3, padding=1, groups=8)
/// let dw = Conv2d::with_config(8, 8, 3, Conv2dConfig::default().padding(1).groups(8), &mut rng);
/// assert_eq!(dw.weight.shape(), vec![8, 1, 3, 3]);
/// ```
pub struct Conv2d {
    /// `[out_channels, in_channels, kh, kw]`.
    pub weight: Tensor,
    /// `[out_channels]`, if the layer has a bias.
    pub bias: Option<Tensor>,
    /// Stride `(h, w)`.
    pub stride: Size2,
    /// Zero padding `(h, w)`.
    pub padding: Size2,
    /// Dilation `(h, w)`.
    pub dilation: Size2,
    /// Channel groups.
    pub groups: usize,
}

impl Conv2d {
    /// `nn.Conv2d(in_channels, out_channels, kernel_size)`: stride 1, no padding, with bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl Into<Size2>, rng: &mut TensorRng) -> Conv2d {
        Conv2d::with_config(in_channels, out_channels, kernel_size, Conv2dConfig::default(), rng)
    }

    /// A layer with the given stride, padding, dilation, groups and bias setting.
    ///
    /// # Panics
    /// When `config.groups` is zero or does not divide both channel counts (the message names
    /// `Conv2d` and the counts).
    pub fn with_config(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl Into<Size2>,
        config: Conv2dConfig,
        rng: &mut TensorRng,
    ) -> Conv2d {
        let Size2(kh, kw) = kernel_size.into();
        let groups = config.groups;
        assert!(
            groups > 0 && in_channels.is_multiple_of(groups) && out_channels.is_multiple_of(groups),
            "Conv2d: groups = {groups} must divide in_channels = {in_channels} and out_channels = {out_channels}"
        );
        let fan_in = (in_channels / groups * kh * kw).max(1);
        let bound = 1.0 / (fan_in as f32).sqrt();
        let weight =
            Tensor::uniform(&[out_channels, in_channels / groups, kh, kw], -bound, bound, rng).requires_grad_();
        let bias = config
            .bias
            .then(|| Tensor::uniform(&[out_channels], -bound, bound, rng).requires_grad_());
        Conv2d {
            weight,
            bias,
            stride: config.stride,
            padding: config.padding,
            dilation: config.dilation,
            groups,
        }
    }

    /// A layer from existing values (weight `[O, C/groups, kh, kw]`, bias `[O]`).
    ///
    /// # Panics
    /// When the weight is not 4-D, `config.groups` is zero or does not divide `O`, or the bias
    /// is not `[O]`.
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>, config: Conv2dConfig) -> Conv2d {
        let ws = weight.shape();
        assert!(
            ws.len() == 4,
            "Conv2d::from_tensors: weight shape {ws:?} is not [O, C, kh, kw]"
        );
        assert!(
            config.groups > 0 && ws[0].is_multiple_of(config.groups),
            "Conv2d::from_tensors: groups = {} must divide the output channels of weight shape {ws:?}",
            config.groups
        );
        if let Some(b) = &bias {
            assert!(
                b.shape() == [ws[0]],
                "Conv2d::from_tensors: bias shape {:?} does not fit weight shape {ws:?}",
                b.shape()
            );
        }
        Conv2d {
            weight: weight.detach().requires_grad_(),
            bias: bias.map(|b| b.detach().requires_grad_()),
            stride: config.stride,
            padding: config.padding,
            dilation: config.dilation,
            groups: config.groups,
        }
    }

    /// Input channels (all groups together).
    pub fn in_channels(&self) -> usize {
        self.weight.dim(1) * self.groups
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.dim(0)
    }

    /// Kernel size `(kh, kw)`.
    pub fn kernel_size(&self) -> Size2 {
        Size2(self.weight.dim(2), self.weight.dim(3))
    }
}

/// A functional convolution ([`conv2d`] or [`conv2d_relu`]) with its geometry arguments fixed
/// to [`Size2`].
type ConvOp = fn(&Tensor, &Tensor, Option<&Tensor>, Size2, Size2, Size2, usize) -> Tensor;

impl Conv2d {
    /// Runs `op` with this layer's parameters and geometry.
    fn apply(&self, op: ConvOp, input: &Tensor) -> Tensor {
        op(
            input,
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )
    }
}

impl Module for Conv2d {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        self.apply(conv2d, input)
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
        let Size2(kh, kw) = self.kernel_size();
        let mut s = format!(
            "Conv2d({}, {}, kernel_size=({kh}, {kw}), stride=({}, {})",
            self.in_channels(),
            self.out_channels(),
            self.stride.0,
            self.stride.1
        );
        if self.padding != Size2(0, 0) {
            s += &format!(", padding=({}, {})", self.padding.0, self.padding.1);
        }
        if self.dilation != Size2(1, 1) {
            s += &format!(", dilation=({}, {})", self.dilation.0, self.dilation.1);
        }
        if self.groups != 1 {
            s += &format!(", groups={}", self.groups);
        }
        if self.bias.is_none() {
            s += ", bias=False";
        }
        s + ")"
    }
}

impl Fuse for Conv2d {
    /// Fuses a following ReLU ([`conv2d_relu`]).
    fn forward_with_activation(&mut self, input: &Tensor, activation: Activation) -> Option<Tensor> {
        (activation == Activation::Relu).then(|| self.apply(conv2d_relu, input))
    }
}
