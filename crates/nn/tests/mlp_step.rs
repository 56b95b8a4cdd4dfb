//! The compiled MLP step (`MlpStep`, which `fit` runs for MLPs on cross-entropy) against the
//! autograd graph step: whole `fit` runs give bit-identical losses and weights, with SGD
//! (plain, momentum, weight decay), Adam, clipping, PyTorch and Keras layouts and a partial
//! last batch; the models and batches it must not run fall back to the graph step.

use neurite_nn::functional::WeightLayout;
use neurite_nn::module::AffineParts;
use neurite_nn::optim::{Adam, Optimizer, Sgd};
use neurite_nn::train::{fit_with, train_step, Batch, FitOptions, FitReport, Loss, MlpStep, StepError, TrainError};
use neurite_nn::{Activation, Dense, Dropout, Flatten, Fuse, Linear, Module, ReLU, Sequential, Sigmoid};
use neurite_tensor::{seeded_rng, Tensor};

/// `rows` random rows of `features` in `[0, 1)` with labels cycling over `classes`, cut into
/// batches of `batch` (the last one partial when `rows` is not a multiple).
fn batches(rows: usize, features: usize, classes: usize, batch: usize) -> Vec<Batch> {
    let x = Tensor::uniform(&[rows, features], 0.0, 1.0, &mut seeded_rng(7));
    let labels: Vec<usize> = (0..rows).map(|i| (i * 7 + i / 3) % classes).collect();
    (0..rows.div_ceil(batch))
        .map(|b| {
            let n = batch.min(rows - b * batch);
            Batch::new(
                x.narrow(0, b * batch, n).contiguous(),
                labels[b * batch..b * batch + n].to_vec(),
            )
        })
        .collect()
}

/// Every parameter of `model`, as bits.
fn bits(model: &dyn Module) -> Vec<(String, Vec<u32>)> {
    model
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// Trains a fresh `build()` for 3 epochs on `data`, on the graph step or not.
fn train(
    build: &dyn Fn() -> Sequential,
    make_opt: &dyn Fn(Vec<Tensor>) -> Box<dyn Optimizer>,
    data: &[Batch],
    clip: Option<f32>,
    graph_steps: bool,
) -> (FitReport, Vec<(String, Vec<u32>)>) {
    let mut model = build();
    let mut opt = make_opt(model.parameters());
    let options = FitOptions {
        clip_grad_norm: clip,
        graph_steps,
        ..FitOptions::new(3)
    };
    let report = fit_with(
        &mut model,
        opt.as_mut(),
        |_| data.to_vec(),
        |_| data[..2].to_vec(),
        &options,
        &mut [],
    )
    .expect("trains");
    (report, bits(&model))
}

/// Asserts that `build()` compiles to an `MlpStep` and that `fit` gives the same numbers on
/// it as on the graph step.
fn assert_same_as_graph(
    build: &dyn Fn() -> Sequential,
    make_opt: &dyn Fn(Vec<Tensor>) -> Box<dyn Optimizer>,
    data: &[Batch],
    clip: Option<f32>,
) {
    assert!(MlpStep::new(&mut build()).is_some(), "the model should compile");
    let (graph_report, graph_weights) = train(build, make_opt, data, clip, true);
    let (fused_report, fused_weights) = train(build, make_opt, data, clip, false);
    assert_eq!(graph_report.compiled_steps, 0);
    assert_eq!(fused_report.compiled_steps, fused_report.steps, "every step compiled");
    assert!(fused_report.steps > 0);
    let losses = |r: &FitReport| -> Vec<u32> { r.epochs.iter().map(|e| e.train_loss.to_bits()).collect() };
    assert_eq!(losses(&fused_report), losses(&graph_report));
    assert_eq!(
        fused_report.epochs.iter().map(|e| e.train_accuracy).collect::<Vec<_>>(),
        graph_report.epochs.iter().map(|e| e.train_accuracy).collect::<Vec<_>>()
    );
    assert_eq!(fused_weights, graph_weights);
    // And training did something.
    assert_ne!(fused_weights, bits(&build()));
}

fn pytorch_mlp() -> Sequential {
    let mut rng = seeded_rng(3);
    Sequential::new()
        .add(Linear::new(20, 16, &mut rng))
        .add(ReLU)
        .add(Linear::new(16, 12, &mut rng))
        .add(ReLU)
        .add(Linear::new(12, 5, &mut rng))
}

#[test]
fn sgd_runs_bit_identical_to_the_graph_step() {
    let data = batches(100, 20, 5, 16);
    assert_same_as_graph(&pytorch_mlp, &|p| Box::new(Sgd::new(p, 0.1)), &data, None);
    assert_same_as_graph(
        &pytorch_mlp,
        &|p| Box::new(Sgd::new(p, 0.05).with_momentum(0.9).with_weight_decay(1e-3)),
        &data,
        None,
    );
}

#[test]
fn adam_with_clipping_runs_bit_identical_to_the_graph_step() {
    let data = batches(90, 20, 5, 32);
    assert_same_as_graph(&pytorch_mlp, &|p| Box::new(Adam::new(p, 1e-2)), &data, Some(0.5));
}

#[test]
fn keras_dense_layers_and_a_bias_free_layer_run_bit_identical() {
    // Dense kernels exist only after a first forward: build them before training.
    let keras = || {
        let mut m = Sequential::new()
            .add(Dense::new(16, "relu").with_seed(1))
            .add(Dense::new(8, "linear").with_seed(2))
            .add(ReLU)
            .add(Dense::new(4, "linear").with_seed(3).use_bias(false));
        m.forward(&Tensor::zeros(&[1, 20]));
        m
    };
    let data = batches(70, 20, 4, 16);
    assert_same_as_graph(&keras, &|p| Box::new(Sgd::new(p, 0.1).with_momentum(0.5)), &data, None);
    let no_bias = || {
        let mut rng = seeded_rng(4);
        Sequential::new()
            .add(Linear::with_bias(20, 10, false, &mut rng))
            .add(ReLU)
            .add(Linear::new(10, 4, &mut rng))
    };
    assert_same_as_graph(&no_bias, &|p| Box::new(Adam::new(p, 1e-2)), &data, None);
}

#[test]
fn an_unbuilt_dense_model_compiles_after_its_first_batch() {
    let mut model = Sequential::new()
        .add(Dense::new(8, "relu"))
        .add(Dense::new(3, "linear"));
    assert!(MlpStep::new(&mut model).is_none(), "no kernels yet");
    model.forward(&Tensor::zeros(&[1, 6]));
    assert!(MlpStep::new(&mut model).is_some());
}

#[test]
fn models_it_does_not_run_are_declined() {
    let mut rng = seeded_rng(5);
    let declined = [
        Sequential::new()
            .add(Linear::new(4, 4, &mut rng))
            .add(Dropout::new(0.5, 1))
            .add(Linear::new(4, 2, &mut rng)),
        Sequential::new()
            .add(Linear::new(4, 4, &mut rng))
            .add(Sigmoid)
            .add(Linear::new(4, 2, &mut rng)),
        Sequential::new().add(Flatten::new()).add(Linear::new(4, 2, &mut rng)),
        Sequential::new()
            .add(Dense::new(4, "tanh"))
            .add(Dense::new(2, "linear")),
        // A ReLU with no affine layer before it.
        Sequential::new().add(ReLU).add(Linear::new(4, 2, &mut rng)),
        Sequential::new(),
    ];
    for mut model in declined {
        model.forward(&Tensor::zeros(&[1, 4]));
        assert!(MlpStep::new(&mut model).is_none(), "{}", model.describe());
    }
    // Layers that do not chain, and weights shared between two layers.
    let w = Tensor::uniform(&[4, 4], -0.5, 0.5, &mut rng).requires_grad_();
    let mut unchained = Sequential::new()
        .add(Linear::new(4, 3, &mut rng))
        .add(Linear::new(4, 2, &mut rng));
    assert!(MlpStep::new(&mut unchained).is_none());
    let mut shared = Sequential::new().add(Tied(w.clone())).add(ReLU).add(Tied(w));
    assert!(MlpStep::new(&mut shared).is_none());
    // Not a Sequential at all.
    assert!(MlpStep::new(&mut Linear::new(4, 2, &mut rng)).is_none());
}

/// An affine layer `x · Wᵀ` whose weight can be shared with another layer.
struct Tied(Tensor);

impl Module for Tied {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        neurite_nn::functional::linear(input, &self.0, None)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("weight".to_string(), self.0.clone())]
    }
    fn describe(&self) -> String {
        "Tied".to_string()
    }
    fn fusion(&mut self) -> Option<&mut dyn Fuse> {
        Some(self)
    }
}

impl Fuse for Tied {
    fn as_affine(&self) -> Option<AffineParts> {
        Some(AffineParts {
            weight: self.0.clone(),
            layout: WeightLayout::OutIn,
            bias: None,
            activation: Activation::Linear,
        })
    }
}

#[test]
fn batches_that_do_not_fit_are_left_to_the_graph_step() {
    let mut model = pytorch_mlp();
    let step = MlpStep::new(&mut model).expect("an MLP");
    let x = Tensor::uniform(&[4, 20], 0.0, 1.0, &mut seeded_rng(1));
    assert!(step.fits(&Batch::new(x.clone(), vec![0, 1, 2, 3])));
    assert!(
        !step.fits(&Batch::new(x.clone(), vec![0, 1, 2, 5])),
        "label 5 of 5 classes"
    );
    assert!(!step.fits(&Batch::new(x.clone(), vec![0, 1, 2])), "3 labels for 4 rows");
    assert!(
        !step.fits(&Batch::new(x.reshape(&[4, 2, 10]), vec![0, 1, 2, 3])),
        "3-D inputs"
    );
    assert!(!step.fits(&Batch::new(x.t(), vec![0; 20])), "transposed inputs");
    assert!(!step.fits(&Batch::new(Tensor::zeros(&[0, 20]), vec![])), "no rows");
}

/// One epoch of `fit` on `data`, without evaluation.
fn fit_one_epoch(model: &mut Sequential, opt: &mut Sgd, data: &[Batch]) -> Result<FitReport, TrainError> {
    fit_with(
        model,
        opt,
        |_| data.to_vec(),
        |_| Vec::<Batch>::new(),
        &FitOptions::new(1),
        &mut [],
    )
}

#[test]
#[should_panic(expected = "cross_entropy: target 7 at position 1 is out of range for 5 classes")]
fn a_label_out_of_range_gets_the_graph_steps_error() {
    let mut model = pytorch_mlp();
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let x = Tensor::uniform(&[2, 20], 0.0, 1.0, &mut seeded_rng(1));
    let _ = fit_one_epoch(&mut model, &mut opt, &[Batch::new(x, vec![0, 7])]);
}

#[test]
fn a_non_finite_loss_is_refused_as_by_the_graph_step() {
    let huge = || {
        let model = pytorch_mlp();
        for (name, p) in model.named_parameters() {
            if name.ends_with("weight") {
                p.update(|mut v| v.fill(1e30));
            }
        }
        model
    };
    let data = batches(16, 20, 5, 16);
    let mut model = huge();
    let before = bits(&model);
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let mut step = MlpStep::new(&mut model).expect("an MLP");
    let got = step.step(&mut opt, &data[0], None).expect("fits");
    let mut graph_model = huge();
    let mut graph_opt = Sgd::new(graph_model.parameters(), 0.1);
    let want = train_step(&mut graph_model, &mut graph_opt, &data[0], Loss::CrossEntropy, None);
    assert!(matches!(want, Err(StepError::NonFiniteLoss(_))), "{want:?}");
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
    assert_eq!(bits(&model), before, "no step taken");
    assert!(
        model.parameters().iter().all(|p| p.grad().is_none()),
        "gradients cleared"
    );
    // Through fit, the error names the batch.
    let mut model = huge();
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let err = fit_one_epoch(&mut model, &mut opt, &data).unwrap_err();
    assert!(matches!(err, TrainError::NonFiniteLoss { batch: 0, .. }), "{err}");
}

#[test]
fn gradients_are_written_into_the_storage_of_the_last_step() {
    let mut model = pytorch_mlp();
    let mut opt = Sgd::new(model.parameters(), 0.1);
    let mut step = MlpStep::new(&mut model).expect("an MLP");
    let data = batches(32, 20, 5, 16);
    step.step(&mut opt, &data[0], None).expect("fits").expect("finite");
    let first = model.parameters()[0].grad_array().expect("a gradient");
    step.step(&mut opt, &data[1], None).expect("fits").expect("finite");
    let second = model.parameters()[0].grad_array().expect("a gradient");
    assert_ne!(first, second, "a new gradient, not an accumulated or stale one");
    // The graph's gradient for the same weights and batch.
    let mut graph = pytorch_mlp();
    for (g, m) in graph.parameters().iter().zip(model.parameters()) {
        g.set_data(m.data());
    }
    let mut graph_opt = Sgd::new(graph.parameters(), 0.1);
    let mut again = MlpStep::new(&mut model).expect("an MLP");
    let snapshot: Vec<Tensor> = model
        .parameters()
        .iter()
        .map(|p| Tensor::from_array(p.data().to_owned()))
        .collect();
    again.step(&mut opt, &data[0], None).expect("fits").expect("finite");
    for (g, s) in graph.parameters().iter().zip(&snapshot) {
        g.set_data(s.data());
    }
    train_step(&mut graph, &mut graph_opt, &data[0], Loss::CrossEntropy, None).expect("finite");
    for (g, m) in graph.parameters().iter().zip(model.parameters()) {
        assert_eq!(g.grad_array(), m.grad_array());
    }
}
