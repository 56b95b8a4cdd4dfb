//! [`MlpStep`]: an MLP's training step on cross-entropy without the autograd graph.
//!
//! For a [`Sequential`] of affine layers (`Linear`, or `Dense` without an activation or with
//! a ReLU) and `ReLU` layers, trained on [`Loss::CrossEntropy`](super::Loss), [`super::fit`]
//! runs each step here instead of through [`super::train_step`]. The graph step builds a node
//! per op, allocates every activation, the softmax, each gradient and the optimizer's view of
//! it afresh for every batch, and clears the gradients first; this one keeps every buffer
//! between steps (each layer's output, two gradient buffers, the parameters' gradient
//! storage), takes the cross-entropy's gradient with respect to the logits straight from the
//! softmax it computed for the loss, masks by each ReLU in place, and writes each weight
//! gradient with one sgemm into the storage the optimizer reads. The first layer's input
//! gradient, which nothing needs, is never computed.
//!
//! The arithmetic is the graph step's op for op (the same sgemm calls on the same layouts,
//! the same softmax and column sums, the same optimizer), so losses, gradients and trained
//! weights are bit-identical to [`super::train_step`]'s (tested, in every thread count).

use std::mem;

use ndarray::{ArrayD, ArrayView2, ArrayViewMut2, IxDyn};
use neurite_tensor::gemm::gemm;
use neurite_tensor::simd::vectorized;
use neurite_tensor::Tensor;

use super::step::{check_and_step, StepError};
use super::Batch;
use crate::functional::{affine_into, in_out_view, Epilogue, WeightLayout};
use crate::layers::activation::Activation;
use crate::loss::{cross_entropy_grad_rows, softmax_cross_entropy_rows};
use crate::module::Module;
use crate::optim::Optimizer;

/// One affine layer of the compiled step: `relu?(x · W + b)`.
struct AffineLayer {
    weight: Tensor,
    layout: WeightLayout,
    bias: Option<Tensor>,
    /// Whether a ReLU follows (the layer's own activation or a `ReLU` layer after it).
    relu: bool,
    inputs: usize,
    outputs: usize,
}

impl AffineLayer {
    /// The weight's shape as stored: `[out, in]` or `[in, out]`.
    fn weight_shape(&self) -> [usize; 2] {
        match self.layout {
            WeightLayout::OutIn => [self.outputs, self.inputs],
            WeightLayout::InOut => [self.inputs, self.outputs],
        }
    }
}

/// The training step of an MLP-shaped model, compiled once and run for every batch (see the
/// module docs). [`super::fit`] compiles one itself; it is public for loops of one's own.
///
/// ```
/// use neurite_nn::optim::Sgd;
/// use neurite_nn::train::{Batch, MlpStep};
/// use neurite_nn::{Linear, Module, ReLU, Sequential};
/// use neurite_tensor::{seeded_rng, Tensor};
///
/// let mut rng = seeded_rng(0);
/// let mut model = Sequential::new().add(Linear::new(4, 8, &mut rng)).add(ReLU).add(Linear::new(8, 3, &mut rng));
/// let mut step = MlpStep::new(&mut model).expect("an MLP");
/// let mut opt = Sgd::new(model.parameters(), 0.1);
/// let batch = Batch::new(Tensor::uniform(&[16, 4], -1.0, 1.0, &mut rng), (0..16).map(|i| i % 3).collect());
/// let first = step.step(&mut opt, &batch, None).expect("fits the model").unwrap();
/// let later = (0..50).map(|_| step.step(&mut opt, &batch, None).unwrap().unwrap()).last().unwrap();
/// assert!(later < first);
/// ```
pub struct MlpStep {
    layers: Vec<AffineLayer>,
    /// Each layer's output `[rows, outputs]`, after its ReLU; the last one holds the logits.
    outputs: Vec<Vec<f32>>,
    /// The gradient with respect to the current layer's output, and with respect to its
    /// input (the previous layer's output); swapped after each layer.
    grads: [Vec<f32>; 2],
    /// Each row's loss.
    losses: Vec<f32>,
}

impl MlpStep {
    /// Compiles `model`'s training step; `None` unless it is a [`crate::Sequential`] of
    /// affine layers and ReLUs as the module docs say, chained shape to shape, every
    /// parameter trainable and none shared between layers (such models keep the graph step).
    /// The parameters are read when each step runs, so later changes to their values are
    /// seen.
    pub fn new(model: &mut dyn Module) -> Option<MlpStep> {
        let sequential = model.as_sequential()?;
        let mut layers: Vec<AffineLayer> = Vec::new();
        for module in sequential.layers_mut() {
            let fuse = module.fusion()?;
            if let Some(affine) = fuse.as_affine() {
                let relu = match affine.activation {
                    Activation::Linear => false,
                    Activation::Relu => true,
                    _ => return None,
                };
                let (inputs, outputs) = match (affine.layout, affine.weight.shape().as_slice()) {
                    (WeightLayout::OutIn, &[o, i]) => (i, o),
                    (WeightLayout::InOut, &[i, o]) => (i, o),
                    _ => return None,
                };
                let chained = layers.last().is_none_or(|prev| prev.outputs == inputs);
                let bias_fits = affine.bias.as_ref().is_none_or(|b| b.shape() == [outputs]);
                let trainable = affine.weight.requires_grad() && affine.bias.as_ref().is_none_or(Tensor::requires_grad);
                if !(chained && bias_fits && trainable) {
                    return None;
                }
                layers.push(AffineLayer {
                    weight: affine.weight,
                    layout: affine.layout,
                    bias: affine.bias,
                    relu,
                    inputs,
                    outputs,
                });
            } else {
                match fuse.as_activation()? {
                    // relu(relu(v)) is relu(v), and masking twice by the same sign masks once.
                    Activation::Relu => layers.last_mut()?.relu = true,
                    Activation::Linear => {}
                    _ => return None,
                }
            }
        }
        let mut ids: Vec<u64> = layers
            .iter()
            .flat_map(|l| std::iter::once(&l.weight).chain(&l.bias))
            .map(Tensor::id)
            .collect();
        ids.sort_unstable();
        if layers.is_empty() || ids.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        Some(MlpStep {
            outputs: vec![Vec::new(); layers.len()],
            layers,
            grads: [Vec::new(), Vec::new()],
            losses: Vec::new(),
        })
    }

    /// One step on `batch`, as [`super::train_step`] with cross-entropy: forward, loss,
    /// backward, (clip,) check the gradients' norm, `optimizer.step()`. Returns the batch's
    /// mean loss before the step; `None`, with nothing done, when the batch does not fit
    /// this path (inputs other than a row-major `[rows, in_features]`, no rows, a label out
    /// of range): the graph step then runs it and reports what is wrong.
    ///
    /// # Errors
    /// [`StepError`] as [`super::train_step`]: the parameters are then unchanged and their
    /// gradients cleared.
    pub fn step(
        &mut self,
        optimizer: &mut dyn Optimizer,
        batch: &Batch,
        clip: Option<f32>,
    ) -> Option<Result<f32, StepError>> {
        self.fits(batch)
            .then(|| self.step_fitting(optimizer, batch, clip, |_, _| {}))
    }

    /// [`MlpStep::step`] for a batch that [`MlpStep::fits`] (checked by the caller), calling
    /// `observe(loss, logits)` after the backward pass (for metrics), as the graph step does.
    pub(super) fn step_fitting(
        &mut self,
        optimizer: &mut dyn Optimizer,
        batch: &Batch,
        clip: Option<f32>,
        observe: impl FnOnce(f32, &Tensor),
    ) -> Result<f32, StepError> {
        let (x, rows, classes) = (batch.inputs.data(), batch.len(), self.classes());
        let x = x.as_slice().expect("fits: row-major");
        self.forward(x, rows);
        let value = self.loss(&batch.labels, rows);
        if !value.is_finite() {
            optimizer.zero_grad();
            return Err(StepError::NonFiniteLoss(value));
        }
        let logits = self.outputs.last().expect("at least one layer").clone();
        self.backward(x, rows, &batch.labels);
        observe(
            value,
            &Tensor::from_vec(logits, &[rows, classes]).expect("rows x classes values"),
        );
        check_and_step(optimizer, clip).map(|()| value)
    }

    /// Whether [`MlpStep::step`] runs `batch`: inputs a row-major `[rows, in_features]` with
    /// at least one row, and one label below the class count per row.
    pub fn fits(&self, batch: &Batch) -> bool {
        let rows = batch.len();
        let inputs_fit = batch
            .inputs
            .read(|x| x.shape() == [rows, self.layers[0].inputs] && x.is_standard_layout());
        inputs_fit && rows > 0 && batch.labels.len() == rows && batch.labels.iter().all(|&t| t < self.classes())
    }

    /// Outputs of the last layer.
    fn classes(&self) -> usize {
        self.layers.last().expect("at least one layer").outputs
    }

    /// Every layer's output for inputs `x` (`[rows, in]`), into `self.outputs`.
    fn forward(&mut self, x: &[f32], rows: usize) {
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = self.outputs.split_at_mut(l);
            let input = if l == 0 { x } else { &done[l - 1] };
            let out = &mut rest[0];
            out.resize(rows * layer.outputs, 0.0);
            let input = ArrayView2::from_shape((rows, layer.inputs), input).expect("rows x inputs");
            affine_into(&input, &layer.weight, layer.layout, layer.bias.as_ref(), out);
            if layer.relu {
                Epilogue::Relu.forward(out);
            }
        }
    }

    /// The mean cross-entropy of the logits against `labels`; leaves the softmax in
    /// `self.grads[0]`.
    fn loss(&mut self, labels: &[usize], rows: usize) -> f32 {
        let classes = self.classes();
        let probs = &mut self.grads[0];
        probs.resize(rows * classes, 0.0);
        self.losses.resize(rows, 0.0);
        let logits = self.outputs.last().expect("at least one layer");
        softmax_cross_entropy_rows(logits, classes, labels, 0.0, probs, &mut self.losses);
        self.losses.iter().sum::<f32>() / rows as f32
    }

    /// The gradients of every parameter, written into their gradient storage, from the
    /// softmax that [`MlpStep::loss`] left in `self.grads[0]`.
    fn backward(&mut self, x: &[f32], rows: usize, labels: &[usize]) {
        let classes = self.classes();
        // The mean's seed gradient 1 / rows on every row.
        let per_row = vec![1.0 / rows as f32; rows];
        cross_entropy_grad_rows(&mut self.grads[0], classes, labels, 0.0, &per_row);
        for l in (0..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let [g_out, g_in] = &mut self.grads;
            if layer.relu {
                Epilogue::Relu.backward_in_place(g_out, &self.outputs[l]);
            }
            let input = if l == 0 { x } else { &self.outputs[l - 1] };
            let input = ArrayView2::from_shape((rows, layer.inputs), input).expect("rows x inputs");
            let g = ArrayView2::from_shape((rows, layer.outputs), g_out.as_slice()).expect("rows x outputs");
            write_grad(&layer.weight, &layer.weight_shape(), |gw| match layer.layout {
                WeightLayout::OutIn => gemm(1.0, &g.t(), &input, 0.0, gw),
                WeightLayout::InOut => gemm(1.0, &input.t(), &g, 0.0, gw),
            });
            if let Some(bias) = &layer.bias {
                write_grad(bias, &[1, layer.outputs], |gb| column_sums(&g, gb));
            }
            if l > 0 {
                g_in.resize(rows * layer.inputs, 0.0);
                let mut gx =
                    ArrayViewMut2::from_shape((rows, layer.inputs), g_in.as_mut_slice()).expect("rows x inputs");
                layer
                    .weight
                    .read(|w| gemm(1.0, &g, &in_out_view(w, layer.layout).t(), 0.0, &mut gx));
                mem::swap(g_out, g_in);
            }
        }
    }
}

/// Runs `write` on `param`'s gradient storage as a 2-D `shape` view (a bias as `[1, n]`),
/// keeping the array from the last step when it has the parameter's shape. `write` must set
/// every element.
fn write_grad(param: &Tensor, shape: &[usize; 2], write: impl FnOnce(&mut ArrayViewMut2<'_, f32>)) {
    let param_shape = param.shape();
    param.with_grad_slot(|slot| {
        let grad = match slot {
            Some(g) if g.shape() == param_shape.as_slice() && g.is_standard_layout() => g,
            _ => slot.insert(ArrayD::zeros(IxDyn(&param_shape))),
        };
        let mut view = grad
            .view_mut()
            .into_shape_with_order(*shape)
            .expect("the parameter's values");
        write(&mut view);
    });
}

/// The column sums of `g` (`[rows, n]`) into `sums` (`[1, n]`), adding the rows in order to
/// zeros: the order of ndarray's `sum_axis(Axis(0))`, which the graph's bias gradient uses.
fn column_sums(g: &ArrayView2<'_, f32>, sums: &mut ArrayViewMut2<'_, f32>) {
    let g = g.as_slice().expect("row-major gradient");
    let sums = sums.as_slice_mut().expect("row-major gradient storage");
    vectorized(
        #[inline(always)]
        || {
            sums.fill(0.0);
            for row in g.chunks_exact(sums.len()) {
                sums.iter_mut().zip(row).for_each(|(s, &v)| *s += v);
            }
        },
    );
}
