//! The [`Module`] trait: a layer or model with a forward pass, named parameters and a
//! train/eval mode, PyTorch's `nn.Module` in Rust; and [`Fuse`], the optional fusion hooks
//! that [`crate::Sequential`] asks its layers for.

use neurite_tensor::Tensor;

use crate::functional::WeightLayout;
use crate::layers::activation::Activation;
use crate::sequential::Sequential;

/// A layer or a whole model.
///
/// Parameters are trainable leaf tensors (`requires_grad`); optimizers hold clones of these
/// handles and update their values in place. Names follow PyTorch's `state_dict` keys
/// (`weight`, `bias`, and `0.weight` inside a [`crate::Sequential`]), so saved files move
/// between neurite and PyTorch unchanged.
///
/// # Deriving
///
/// A custom module derives this trait ([`derive@crate::Module`], re-exported from
/// `neurite-derive`) and writes only an inherent `forward`. The derive walks the named
/// fields: a [`Tensor`] is a parameter named after the field, a sub-module's names get the
/// field name as prefix, `Vec` elements get their index (`blocks.0.conv.weight`), a `None`
/// adds nothing ([`crate::ModuleField`] says what a field may be). `#[module(buffer)]` marks
/// a saved, untrained tensor, `#[module(skip)]` plain configuration. `set_training` reaches
/// every sub-module, and `describe` prints PyTorch's repr.
///
/// ```
/// use neurite_nn::{Conv2d, Dropout, Linear, Module};
/// use neurite_tensor::{seeded_rng, Tensor};
///
/// #[derive(Module)]
/// struct Net {
///     conv1: Conv2d,
///     drop: Dropout,
///     fc: Linear,
///     #[module(skip)]
///     classes: usize,
/// }
///
/// impl Net {
///     fn forward(&mut self, x: &Tensor) -> Tensor {
///         let h = self.conv1.forward(x).relu();
///         let h = self.drop.forward(&h.reshape(&[x.dim(0), 8 * 4 * 4]));
///         self.fc.forward(&h)
///     }
/// }
///
/// fn main() {
///     let mut rng = seeded_rng(0);
///     let mut net = Net {
///         conv1: Conv2d::new(1, 8, 3, &mut rng),
///         drop: Dropout::new(0.5, 0),
///         fc: Linear::new(8 * 4 * 4, 10, &mut rng),
///         classes: 10,
///     };
///     let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
///     assert_eq!(names, ["conv1.weight", "conv1.bias", "fc.weight", "fc.bias"]);
///     net.set_training(false); // reaches the dropout
///     let model: &mut dyn Module = &mut net; // usable wherever a Module is
///     assert_eq!(model.forward(&Tensor::zeros(&[2, 1, 6, 6])).shape(), vec![2, 10]);
///     assert!(net.describe().starts_with("Net(\n  (conv1): Conv2d(1, 8, kernel_size=(3, 3)"));
///     assert_eq!(net.classes, 10);
/// }
/// ```
///
/// A derived struct without an inherent `forward` does not compile ("function cannot return
/// without recursing", pointing at the struct) instead of recursing at run time:
///
/// ```compile_fail
/// use neurite_nn::{Linear, Module};
/// #[derive(Module)]
/// struct NoForward {
///     fc: Linear,
/// }
/// fn main() {}
/// ```
///
/// Enums, unions and tuple structs are refused with a compile error naming the reason:
///
/// ```compile_fail
/// use neurite_nn::{Linear, Module};
/// #[derive(Module)]
/// struct Pair(Linear, Linear);
/// fn main() {}
/// ```
pub trait Module: Send {
    /// Runs the layer on `input`. Takes `&mut self` because some layers change state when
    /// called: a Keras-style [`crate::Dense`] builds its kernel on first use, batch norm
    /// updates running statistics in training mode, dropout draws from its generator.
    fn forward(&mut self, input: &Tensor) -> Tensor;

    /// Trainable parameters with their `state_dict` names, in a stable order.
    fn named_parameters(&self) -> Vec<(String, Tensor)>;

    /// Non-trainable state saved with the model (e.g. batch norm's running statistics).
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Switches between training (`true`) and evaluation (`false`) behaviour.
    fn set_training(&mut self, _training: bool) {}

    /// A short description such as `Linear(in_features=784, out_features=128, bias=true)`;
    /// containers print their children in PyTorch's repr style ([`describe_children`]).
    fn describe(&self) -> String;

    /// The trainable parameters without names.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters().into_iter().map(|(_, t)| t).collect()
    }

    /// Total number of trainable scalars.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(Tensor::numel).sum()
    }

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// This layer's fusion hooks, if it has any (the built-in activations, `Linear`, `Dense`
    /// and `Conv2d` answer `Some(self)`). Only [`crate::Sequential`] asks; a user's module
    /// leaves the default.
    #[doc(hidden)]
    fn fusion(&mut self) -> Option<&mut dyn Fuse> {
        None
    }

    /// This module as a [`Sequential`], if it is one, so that the training loop can compile
    /// an MLP's step ([`crate::train::MlpStep`]). Only `Sequential` answers `Some`.
    #[doc(hidden)]
    fn as_sequential(&mut self) -> Option<&mut Sequential> {
        None
    }
}

/// An affine layer's parameters as a fused op reads them ([`Fuse::as_affine`]).
#[derive(Clone)]
pub struct AffineParts {
    /// The weight matrix, laid out as `layout` says.
    pub weight: Tensor,
    /// `[out, in]` (PyTorch's `Linear`) or `[in, out]` (Keras' `Dense`).
    pub layout: WeightLayout,
    /// The bias `[out]`, if the layer has one.
    pub bias: Option<Tensor>,
    /// The activation the layer applies to its own output (a Keras `Dense`'s); `Linear`
    /// for none.
    pub activation: Activation,
}

/// Layer fusion: what [`crate::Sequential`] asks a layer (through the hidden
/// `Module::fusion` hook) to run a layer and the activation after it as one op.
pub trait Fuse {
    /// The element-wise activation this layer is, if it is nothing else (a [`crate::ReLU`]
    /// answers `Some(Activation::Relu)`).
    fn as_activation(&self) -> Option<Activation> {
        None
    }

    /// `activation(self.forward(input))` as one fused op, when this layer has one for
    /// `activation`; `None` (the default) when it has not, and nothing has been computed.
    /// Values and gradients equal the unfused pair's.
    fn forward_with_activation(&mut self, _input: &Tensor, _activation: Activation) -> Option<Tensor> {
        None
    }

    /// The layer's parameters, if it is an affine layer `activation(x · W + b)` and its
    /// weights exist (a Keras `Dense` builds them on first use); `None` (the default)
    /// otherwise.
    fn as_affine(&self) -> Option<AffineParts> {
        None
    }
}

impl Module for Box<dyn Module> {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        (**self).forward(input)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        (**self).named_parameters()
    }
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        (**self).named_buffers()
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn fusion(&mut self) -> Option<&mut dyn Fuse> {
        (**self).fusion()
    }
    fn as_sequential(&mut self) -> Option<&mut Sequential> {
        (**self).as_sequential()
    }
}

/// Prefixes every name in `named` with `prefix.` (used by containers).
pub fn prefixed(prefix: &str, named: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    named.into_iter().map(|(n, t)| (format!("{prefix}.{n}"), t)).collect()
}

/// PyTorch's repr of a container: `Type(\n  (name): child\n)`, each child's own lines
/// indented by two more spaces; `Type()` without children.
///
/// ```
/// use neurite_nn::module::describe_children;
/// let inner = describe_children("Sequential", [("0".to_string(), "ReLU()".to_string())]);
/// let outer = describe_children("Net", [("body".to_string(), inner)]);
/// assert_eq!(outer, "Net(\n  (body): Sequential(\n    (0): ReLU()\n  )\n)");
/// ```
pub fn describe_children(type_name: &str, children: impl IntoIterator<Item = (String, String)>) -> String {
    let lines: Vec<String> = children
        .into_iter()
        .map(|(name, text)| format!("  ({name}): {}", text.replace('\n', "\n  ")))
        .collect();
    if lines.is_empty() {
        format!("{type_name}()")
    } else {
        format!("{type_name}(\n{}\n)", lines.join("\n"))
    }
}
