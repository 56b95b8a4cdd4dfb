//! [`Sequential`]: layers applied in order, named `0`, `1`, ... like `torch.nn.Sequential`.

use neurite_tensor::Tensor;

use crate::module::{prefixed, Module};

/// Layers applied one after another.
///
/// Parameter names are the layer index and the layer's own name, exactly as in PyTorch:
/// `Sequential[Linear(784, 128), ReLU, Linear(128, 10)]` has `0.weight`, `0.bias`,
/// `2.weight`, `2.bias`.
///
/// ```
/// use neurite_nn::{Linear, Module, ReLU, Sequential};
/// use neurite_tensor::{seeded_rng, Tensor};
/// let mut rng = seeded_rng(0);
/// let mut model = Sequential::new()
///     .add(Linear::new(784, 128, &mut rng))
///     .add(ReLU)
///     .add(Linear::new(128, 10, &mut rng));
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(model.forward(&Tensor::zeros(&[2, 784])).shape(), vec![2, 10]);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty sequence.
    pub fn new() -> Sequential {
        Sequential { layers: Vec::new() }
    }

    /// Appends a layer (builder style), like Keras' `Sequential.add`.
    #[allow(clippy::should_implement_trait)] // named after Keras' `add`, not `std::ops::Add`
    pub fn add(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer.
    pub fn push(&mut self, layer: Box<dyn Module>) {
        self.layers.push(layer);
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    /// Runs the layers in order. A layer followed by an activation layer that it can fuse
    /// (e.g. `Linear` or `Conv2d`, then `ReLU`) runs the pair as one op
    /// ([`Module::forward_with_activation`]): same values and gradients, one pass fewer.
    fn forward(&mut self, input: &Tensor) -> Tensor {
        let mut x = input.clone();
        let mut i = 0;
        while i < self.layers.len() {
            let next_activation = self.layers.get(i + 1).and_then(|l| l.as_activation());
            if let Some(y) = next_activation.and_then(|a| self.layers[i].forward_with_activation(&x, a)) {
                x = y;
                i += 2;
            } else {
                x = self.layers[i].forward(&x);
                i += 1;
            }
        }
        x
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.named_parameters()))
            .collect()
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.named_buffers()))
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    fn describe(&self) -> String {
        let inner: Vec<String> = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| format!("  ({i}): {}", l.describe()))
            .collect();
        format!("Sequential(\n{}\n)", inner.join("\n"))
    }
}
