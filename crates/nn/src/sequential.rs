//! [`Sequential`]: layers applied in order, named `0`, `1`, ... like `torch.nn.Sequential`, or
//! by the names given (`nn.Sequential(OrderedDict(...))`).

use neurite_tensor::Tensor;

use crate::module::{describe_children, prefixed, Module};

/// Layers applied one after another.
///
/// Parameter names are the layer's name and the layer's own parameter name, exactly as in
/// PyTorch. A layer added without a name is named by its index:
/// `Sequential[Linear(784, 128), ReLU, Linear(128, 10)]` has `0.weight`, `0.bias`,
/// `2.weight`, `2.bias`; one added with [`Sequential::add_named`] (PyTorch's
/// `nn.Sequential(OrderedDict(...))`) by that name.
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
///
/// let named = Sequential::new().add_named("fc", Linear::new(4, 2, &mut rng)).add(ReLU);
/// assert_eq!(named.names(), ["fc", "1"]);
/// assert_eq!(named.named_parameters()[0].0, "fc.weight");
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    /// One per layer: the given name, or the layer's index.
    names: Vec<String>,
}

impl Sequential {
    /// An empty sequence.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer named by its index (builder style), like Keras' `Sequential.add`.
    ///
    /// # Panics
    /// When an earlier layer was explicitly given the name this index would take.
    #[allow(clippy::should_implement_trait)] // named after Keras' `add`, not `std::ops::Add`
    pub fn add(mut self, layer: impl Module + 'static) -> Sequential {
        self.push(Box::new(layer));
        self
    }

    /// Appends a layer under `name` (builder style), like PyTorch's `add_module(name, layer)`.
    ///
    /// # Panics
    /// When `name` is empty, contains a `.`, or is already taken.
    pub fn add_named(mut self, name: &str, layer: impl Module + 'static) -> Sequential {
        self.push_named(name.to_string(), Box::new(layer));
        self
    }

    /// Appends a boxed layer named by its index.
    ///
    /// # Panics
    /// As [`Sequential::add`].
    pub fn push(&mut self, layer: Box<dyn Module>) {
        let name = self.layers.len().to_string();
        self.push_named(name, layer);
    }

    /// Appends a boxed layer under `name`.
    ///
    /// # Panics
    /// As [`Sequential::add_named`].
    pub fn push_named(&mut self, name: String, layer: Box<dyn Module>) {
        assert!(
            !name.is_empty() && !name.contains('.'),
            "Sequential::push_named: layer name {name:?} must be non-empty and contain no `.`"
        );
        assert!(
            !self.names.contains(&name),
            "Sequential::push_named: layer name {name:?} is already taken (names: {:?})",
            self.names
        );
        self.layers.push(layer);
        self.names.push(name);
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// The layers, mutably (to ask each for its fusion hooks).
    pub(crate) fn layers_mut(&mut self) -> &mut [Box<dyn Module>] {
        &mut self.layers
    }

    /// The layers' names, in order (an index for a layer added without a name).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// `f(name, layer)` for every layer, concatenated with each name as prefix.
    fn collect(&self, f: impl Fn(&dyn Module) -> Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
        self.names
            .iter()
            .zip(&self.layers)
            .flat_map(|(name, l)| prefixed(name, f(l.as_ref())))
            .collect()
    }
}

impl Module for Sequential {
    /// Runs the layers in order. A layer followed by an activation layer that it can fuse
    /// (e.g. `Linear` or `Conv2d`, then `ReLU`; see [`crate::module::Fuse`]) runs the pair
    /// as one op: same values and gradients, one pass fewer.
    fn forward(&mut self, input: &Tensor) -> Tensor {
        let mut x = input.clone();
        let mut i = 0;
        while i < self.layers.len() {
            let next_activation = self
                .layers
                .get_mut(i + 1)
                .and_then(|l| l.fusion())
                .and_then(|f| f.as_activation());
            let fused =
                next_activation.and_then(|a| self.layers[i].fusion().and_then(|f| f.forward_with_activation(&x, a)));
            if let Some(y) = fused {
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
        self.collect(|l| l.named_parameters())
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        self.collect(|l| l.named_buffers())
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    fn describe(&self) -> String {
        let children = self
            .names
            .iter()
            .zip(&self.layers)
            .map(|(n, l)| (n.clone(), l.describe()));
        describe_children("Sequential", children)
    }

    fn as_sequential(&mut self) -> Option<&mut Sequential> {
        Some(self)
    }
}
