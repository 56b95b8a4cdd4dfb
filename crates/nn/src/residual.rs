//! [`Residual`]: a block whose output is added to its input (or to a projection of it), the
//! skip connection of a ResNet.

use neurite_tensor::Tensor;

use crate::module::{describe_children, prefixed, Module};
use crate::sequential::Sequential;

/// `body(x) + x`, or `body(x) + downsample(x)` with a projection (torchvision's
/// `BasicBlock` without its final ReLU: a ReLU after the add is the next layer).
///
/// Parameter and buffer names are the body's own names without a prefix, then the
/// projection's under `downsample.`, as in torchvision: a body whose children are named
/// `conv1`, `bn1`, `conv2`, `bn2` gives `conv1.weight`, ..., `downsample.0.weight`,
/// `downsample.1.running_mean`.
///
/// ```
/// use neurite_nn::layers::conv::{Conv2d, Conv2dConfig};
/// use neurite_nn::{BatchNorm2d, Module, ReLU, Residual, Sequential};
/// use neurite_tensor::{seeded_rng, Tensor};
/// let mut rng = seeded_rng(0);
/// let pad1 = Conv2dConfig::default().padding(1).bias(false);
/// let body = Sequential::new()
///     .add_named("conv1", Conv2d::with_config(4, 8, 3, pad1.stride(2), &mut rng))
///     .add_named("bn1", BatchNorm2d::new(8))
///     .add_named("relu", ReLU)
///     .add_named("conv2", Conv2d::with_config(8, 8, 3, pad1, &mut rng))
///     .add_named("bn2", BatchNorm2d::new(8));
/// let project = Conv2dConfig::default().stride(2).bias(false);
/// let downsample = Sequential::new().add(Conv2d::with_config(4, 8, 1, project, &mut rng)).add(BatchNorm2d::new(8));
/// let mut block = Residual::new(body, Some(downsample));
/// assert_eq!(block.forward(&Tensor::ones(&[2, 4, 8, 8])).shape(), vec![2, 8, 4, 4]);
/// let names: Vec<String> = block.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names[0], "conv1.weight");
/// assert_eq!(names.last().unwrap(), "downsample.1.bias");
/// ```
pub struct Residual {
    body: Sequential,
    downsample: Option<Sequential>,
}

impl Residual {
    /// `body(x) + downsample(x)`, or `body(x) + x` when `downsample` is `None`.
    pub fn new(body: Sequential, downsample: Option<Sequential>) -> Residual {
        Residual { body, downsample }
    }

    /// The main branch.
    pub fn body(&self) -> &Sequential {
        &self.body
    }

    /// The projection on the skip branch, if any.
    pub fn downsample(&self) -> Option<&Sequential> {
        self.downsample.as_ref()
    }

    /// The body's names and values, then the projection's under `downsample.`.
    fn collect(&self, f: impl Fn(&Sequential) -> Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
        let mut out = f(&self.body);
        if let Some(d) = &self.downsample {
            out.extend(prefixed("downsample", f(d)));
        }
        out
    }
}

impl Module for Residual {
    /// # Panics
    /// When the body's output and the skip branch's differ in shape (both shapes named).
    fn forward(&mut self, input: &Tensor) -> Tensor {
        let main = self.body.forward(input);
        let skip = match &mut self.downsample {
            Some(d) => d.forward(input),
            None => input.clone(),
        };
        assert!(
            main.shape() == skip.shape(),
            "Residual: body output {:?} and {} {:?} differ in shape",
            main.shape(),
            if self.downsample.is_some() {
                "downsample output"
            } else {
                "input"
            },
            skip.shape()
        );
        &main + &skip
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.collect(|s| s.named_parameters())
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        self.collect(|s| s.named_buffers())
    }

    fn set_training(&mut self, training: bool) {
        self.body.set_training(training);
        if let Some(d) = &mut self.downsample {
            d.set_training(training);
        }
    }

    /// The body's children, then `(downsample): Sequential(...)`, in a `Residual(...)`.
    fn describe(&self) -> String {
        let mut children: Vec<(String, String)> = self
            .body
            .names()
            .iter()
            .zip(self.body.layers())
            .map(|(n, l)| (n.clone(), l.describe()))
            .collect();
        if let Some(d) = &self.downsample {
            children.push(("downsample".to_string(), d.describe()));
        }
        describe_children("Residual", children)
    }
}
