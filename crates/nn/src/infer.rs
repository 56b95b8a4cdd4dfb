//! [`Inference`]: a model's forward pass for evaluation and prediction without the autograd
//! machinery, for models made of affine layers and element-wise activations (the MLP presets).
//!
//! [`Module::forward`] builds a graph node per op and allocates every intermediate tensor for
//! every batch, even under [`neurite_tensor::no_grad`]. An [`Inference`] runs the same
//! products straight into two buffers that it keeps between batches: each affine layer fills
//! its output rows with the bias and accumulates one sgemm into them, applies its activation
//! in place, and the next layer reads that buffer directly; the predicted class is the
//! arg-max of the logits (softmax is monotonic, so it is never computed). The arithmetic is
//! the graph forward's, op for op, so the logits are bit-identical to
//! `model.forward(x)` (tested for the presets).

use ndarray::ArrayView2;
use neurite_tensor::ops::unary::sigmoid;
use neurite_tensor::Tensor;
use rayon::prelude::*;

use crate::functional::{affine_into, worth_parallel, WeightLayout};
use crate::layers::activation::Activation;
use crate::module::Module;
use crate::sequential::Sequential;
use crate::spec::{LayerSpec, ModelSpec};

/// Values per parallel task of an in-place activation (as the graph's epilogue).
const PAR_CHUNK: usize = 1 << 14;

/// One step of the compiled forward pass.
enum Stage {
    /// `activation(x · W + b)` into the other buffer.
    Affine {
        weight: Tensor,
        layout: WeightLayout,
        bias: Option<Tensor>,
        activation: Activation,
        outputs: usize,
    },
    /// An activation on its own, in place.
    Activation(Activation),
}

/// The forward pass of an MLP-shaped model, compiled for inference (see the module docs).
///
/// ```
/// use neurite_nn::infer::Inference;
/// use neurite_nn::{Module, ModelSpec};
/// use neurite_tensor::{no_grad, seeded_rng, Tensor};
///
/// let spec = ModelSpec::w1(); // 784 -> 128 -> ReLU -> 10
/// let mut model = spec.build(&mut seeded_rng(0));
/// let mut fast = Inference::new(&spec, &model).expect("an MLP");
/// let x = Tensor::uniform(&[5, 784], 0.0, 1.0, &mut seeded_rng(1));
/// let want = no_grad(|| model.forward(&x));
/// assert_eq!(fast.logits(&x), want.to_vec().as_slice());
/// assert_eq!(fast.predict(&x), want.argmax(1).as_slice());
/// ```
pub struct Inference {
    stages: Vec<Stage>,
    /// Features per input row.
    inputs: usize,
    /// Values per output row (the classes).
    outputs: usize,
    /// Each stage reads one buffer and writes the other; kept between batches.
    buffers: [Vec<f32>; 2],
    /// The predicted classes of the last batch.
    classes: Vec<usize>,
}

impl Inference {
    /// Compiles `model`, built from `spec` (by [`ModelSpec::build`], its weights possibly
    /// loaded since), for inference; `None` when the spec has a layer this path does not run
    /// (convolutions, pooling, normalisation, residual blocks, softmax, GELU), or when `model`
    /// does not have the spec's layers. Such models keep [`Module::forward`]. Dropout layers
    /// are skipped (evaluation mode). The weights are read when each batch runs, so the
    /// compiled model sees later changes to them.
    pub fn new(spec: &ModelSpec, model: &Sequential) -> Option<Inference> {
        if spec.layers().len() != model.len() {
            return None;
        }
        let inputs: usize = spec.input_shape().iter().product();
        let mut width = inputs;
        let mut stages = Vec::new();
        for (layer, module) in spec.layers().iter().zip(model.layers()) {
            let params = module.named_parameters();
            let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone());
            let affine = |weight: Tensor, layout, bias: Option<Tensor>, activation| {
                let shape = weight.shape();
                let (w_in, outputs) = match layout {
                    WeightLayout::OutIn => (shape[1], shape[0]),
                    WeightLayout::InOut => (shape[0], shape[1]),
                };
                let fits = shape.len() == 2 && w_in == width && bias.as_ref().is_none_or(|b| b.shape() == [outputs]);
                fits.then_some(Stage::Affine {
                    weight,
                    layout,
                    bias,
                    activation,
                    outputs,
                })
            };
            let stage = match &layer.kind {
                LayerSpec::Linear { bias, .. } => {
                    let b = if *bias { Some(param("bias")?) } else { None };
                    Some(affine(param("weight")?, WeightLayout::OutIn, b, Activation::Linear)?)
                }
                LayerSpec::Dense {
                    activation, use_bias, ..
                } if supported(*activation) => {
                    let b = if *use_bias { Some(param("bias")?) } else { None };
                    Some(affine(param("kernel")?, WeightLayout::InOut, b, *activation)?)
                }
                LayerSpec::Activation(a) if supported(*a) => Some(Stage::Activation(*a)),
                LayerSpec::Flatten | LayerSpec::Dropout { .. } | LayerSpec::Dropout2d { .. } => None,
                _ => return None,
            };
            if let Some(stage) = stage {
                if let Stage::Affine { outputs, .. } = &stage {
                    width = *outputs;
                }
                stages.push(stage);
            }
        }
        // A following activation runs in the affine stage's output pass, as the graph's fused
        // `linear_relu` does (the same element-wise function, so the same values).
        let mut fused: Vec<Stage> = Vec::with_capacity(stages.len());
        for stage in stages {
            match (fused.last_mut(), stage) {
                (Some(Stage::Affine { activation, .. }), Stage::Activation(a)) if *activation == Activation::Linear => {
                    *activation = a;
                }
                (_, stage) => fused.push(stage),
            }
        }
        Some(Inference {
            stages: fused,
            inputs,
            outputs: width,
            buffers: [Vec::new(), Vec::new()],
            classes: Vec::new(),
        })
    }

    /// Values per output row (the model's classes).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// The logits of a batch `x: [B, ...]` (any shape whose rows hold the spec's input
    /// values), `[B, outputs]` row-major, valid until the next call.
    ///
    /// # Panics
    /// When a row of `x` does not hold the model's input size (naming the shapes).
    pub fn logits(&mut self, x: &Tensor) -> &[f32] {
        let shape = x.shape();
        let rows = shape.first().copied().unwrap_or(0);
        let features: usize = shape.iter().skip(1).product();
        assert!(
            shape.len() >= 2 && features == self.inputs,
            "Inference::logits: input shape {shape:?} does not fit the model's {} input values per row",
            self.inputs
        );
        let [front, back] = &mut self.buffers;
        let (mut src, mut dst) = (front, back);
        let mut width = self.inputs;
        let mut first = true;
        for stage in &self.stages {
            match stage {
                Stage::Affine {
                    weight,
                    layout,
                    bias,
                    activation,
                    outputs,
                } => {
                    let len = rows * outputs;
                    if dst.len() < len {
                        dst.resize(len, 0.0);
                    }
                    let out = &mut dst[..len];
                    if first {
                        x.read(|xd| match xd.as_slice() {
                            Some(values) => {
                                let xv = ArrayView2::from_shape((rows, width), values).expect("row-major input");
                                affine_into(&xv, weight, *layout, bias.as_ref(), out);
                            }
                            None => {
                                let values: Vec<f32> = xd.iter().copied().collect();
                                let xv = ArrayView2::from_shape((rows, width), &values[..]).expect("input");
                                affine_into(&xv, weight, *layout, bias.as_ref(), out);
                            }
                        });
                    } else {
                        let xv = ArrayView2::from_shape((rows, width), &src[..rows * width]).expect("hidden");
                        affine_into(&xv, weight, *layout, bias.as_ref(), out);
                    }
                    apply(*activation, out);
                    width = *outputs;
                    first = false;
                    std::mem::swap(&mut src, &mut dst);
                }
                Stage::Activation(a) => {
                    if first {
                        // An activation before any affine layer: work on a copy of the input.
                        let len = rows * width;
                        if src.len() < len {
                            src.resize(len, 0.0);
                        }
                        x.read(|xd| src[..len].iter_mut().zip(xd.iter()).for_each(|(s, &v)| *s = v));
                        first = false;
                    }
                    apply(*a, &mut src[..rows * width]);
                }
            }
        }
        if first {
            // No stage at all: the logits are the input.
            let len = rows * width;
            if src.len() < len {
                src.resize(len, 0.0);
            }
            x.read(|xd| src[..len].iter_mut().zip(xd.iter()).for_each(|(s, &v)| *s = v));
        }
        &src[..rows * width]
    }

    /// The predicted class of each row of `x` (the first maximum of its logits; a NaN wins, as
    /// in [`Tensor::argmax`]), valid until the next call.
    ///
    /// # Panics
    /// As [`Inference::logits`].
    pub fn predict(&mut self, x: &Tensor) -> &[usize] {
        let classes = self.outputs.max(1);
        let mut picked = std::mem::take(&mut self.classes);
        picked.clear();
        picked.extend(self.logits(x).chunks_exact(classes).map(argmax));
        self.classes = picked;
        &self.classes
    }
}

/// Whether this path runs `activation` (element-wise and exactly as the graph's op).
fn supported(activation: Activation) -> bool {
    matches!(
        activation,
        Activation::Linear | Activation::Relu | Activation::LeakyRelu(_) | Activation::Sigmoid | Activation::Tanh
    )
}

/// `activation` on every value in place, with the same scalar function as the graph's op.
fn apply(activation: Activation, values: &mut [f32]) {
    let f: fn(&mut [f32], f32) = match activation {
        Activation::Linear => return,
        Activation::Relu => |v, _| v.iter_mut().for_each(|v| *v = if *v <= 0.0 { 0.0 } else { *v }),
        Activation::LeakyRelu(_) => |v, s| v.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { s * *v }),
        Activation::Sigmoid => |v, _| v.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Activation::Tanh => |v, _| v.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Gelu | Activation::Softmax => unreachable!("not compiled: see `supported`"),
    };
    let slope = match activation {
        Activation::LeakyRelu(s) => s,
        _ => 0.0,
    };
    if worth_parallel(values.len()) {
        values.par_chunks_mut(PAR_CHUNK).for_each(|part| f(part, slope));
    } else {
        f(values, slope);
    }
}

/// The index of the first maximum of `row`; a NaN wins (as [`Tensor::argmax`]).
fn argmax(row: &[f32]) -> usize {
    let mut best = (0, row[0]);
    for (i, &v) in row.iter().enumerate().skip(1) {
        if v > best.1 || (v.is_nan() && !best.1.is_nan()) {
            best = (i, v);
        }
    }
    best.0
}
