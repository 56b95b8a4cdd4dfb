//! The training helper: learning a separable problem, callbacks, stopping, divergence.

use neurite_nn::optim::{Optimizer, Sgd, StepLr};
use neurite_nn::train::{
    evaluate, fit, fit_with, Batch, BatchStats, Control, EpochStats, FitOptions, Loss, Metric, ScheduleUnit,
    TrainCallback, TrainError,
};
use neurite_nn::{Linear, Module, ReLU, Sequential};
use neurite_tensor::{seeded_rng, Tensor};
use rand::seq::SliceRandom;

/// Three Gaussian-ish blobs in 4-D: class k is centred at 2 * e_k.
fn blobs(n: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
    let mut rng = seeded_rng(seed);
    let noise = Tensor::uniform(&[n, 4], -0.9, 0.9, &mut rng).to_vec();
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let mut x = noise;
    for (i, &l) in labels.iter().enumerate() {
        x[i * 4 + l] += 2.0;
    }
    (x, labels)
}

/// Seeded, per-epoch shuffled batches of 32 (the last one partial).
fn batches(x: &[f32], y: &[usize], epoch: usize, shuffle: bool) -> Vec<Batch> {
    let mut order: Vec<usize> = (0..y.len()).collect();
    if shuffle {
        order.shuffle(&mut seeded_rng(1000 + epoch as u64));
    }
    order
        .chunks(32)
        .map(|idx| {
            let xs: Vec<f32> = idx.iter().flat_map(|&i| x[i * 4..i * 4 + 4].iter().copied()).collect();
            Batch::new(
                Tensor::from_vec(xs, &[idx.len(), 4]).unwrap(),
                idx.iter().map(|&i| y[i]).collect(),
            )
        })
        .collect()
}

fn mlp(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .add(Linear::new(4, 16, &mut rng))
        .add(ReLU)
        .add(Linear::new(16, 3, &mut rng))
}

#[derive(Default)]
struct Recorder {
    batches: Vec<BatchStats>,
    epochs: Vec<EpochStats>,
    stop_at_batch: Option<(usize, usize)>,
}

impl TrainCallback for Recorder {
    fn on_batch_end(&mut self, stats: &BatchStats) -> Control {
        self.batches.push(stats.clone());
        if self.stop_at_batch == Some((stats.epoch, stats.batch)) {
            Control::Stop
        } else {
            Control::Continue
        }
    }

    fn on_epoch_end(&mut self, stats: &EpochStats) -> Control {
        self.epochs.push(stats.clone());
        Control::Continue
    }
}

#[test]
fn learns_a_separable_problem_and_reports_progress() {
    let (xtr, ytr) = blobs(300, 1);
    let (xte, yte) = blobs(150, 2);
    let mut model = mlp(0);
    let mut opt = Sgd::new(model.parameters(), 0.1).with_momentum(0.9);
    let mut rec = Recorder::default();
    let storage: Vec<*const f32> = model.parameters().iter().map(|p| p.read(|d| d.as_ptr())).collect();
    let report = fit_with(
        &mut model,
        &mut opt,
        |e| batches(&xtr, &ytr, e, true),
        |e| batches(&xte, &yte, e, false),
        &FitOptions {
            batches_per_epoch: Some(10),
            ..FitOptions::new(5)
        },
        &mut [&mut rec],
    )
    .unwrap();
    assert_eq!(report.epochs.len(), 5);
    assert!(!report.stopped_early);
    assert_eq!(report.steps, 50);
    // The graph was dropped before every step, so the updates never copied the parameters.
    let after: Vec<*const f32> = model.parameters().iter().map(|p| p.read(|d| d.as_ptr())).collect();
    assert_eq!(storage, after);
    let first = &report.epochs[0];
    let last = &report.epochs[4];
    assert!(
        last.train_loss < first.train_loss,
        "loss did not decrease: {first:?} -> {last:?}"
    );
    assert!(
        last.test_accuracy.unwrap() > 0.95,
        "test accuracy {:?}",
        last.test_accuracy
    );
    assert!(last.train_accuracy > 0.95);
    assert!(report
        .epochs
        .iter()
        .all(|e| e.completed && e.images == 300 && e.batches == 10));
    // Callbacks saw every batch and epoch, in order, with running counts.
    assert_eq!(rec.batches.len(), 50);
    assert_eq!(rec.epochs, report.epochs);
    let b = &rec.batches[9];
    assert_eq!(
        (
            b.epoch,
            b.batch,
            b.batches_per_epoch,
            b.batch_size,
            b.images_seen,
            b.global_step
        ),
        (0, 9, Some(10), 12, 300, 10)
    );
    assert_eq!(rec.batches[10].images_seen, 32);
    // Evaluation agrees with evaluate() on the trained model.
    let eval = evaluate(&mut model, batches(&xte, &yte, 0, false));
    assert_eq!(eval.samples, 150);
    assert_eq!(Some(eval.accuracy), last.test_accuracy);
    assert_eq!(Some(eval.loss), last.test_loss);
}

#[test]
fn training_is_deterministic() {
    let (x, y) = blobs(96, 5);
    let run = || {
        let mut model = mlp(7);
        let mut opt = Sgd::new(model.parameters(), 0.05);
        fit(
            &mut model,
            &mut opt,
            |e| batches(&x, &y, e, true),
            |_| Vec::new(),
            2,
            &mut [],
        )
        .unwrap();
        model.parameters().iter().flat_map(Tensor::to_vec).collect::<Vec<f32>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn stop_from_a_callback_ends_after_the_current_batch() {
    let (x, y) = blobs(96, 5);
    let mut model = mlp(7);
    let mut opt = Sgd::new(model.parameters(), 0.05);
    let mut rec = Recorder {
        stop_at_batch: Some((1, 1)),
        ..Recorder::default()
    };
    let report = fit(
        &mut model,
        &mut opt,
        |e| batches(&x, &y, e, true),
        |_| batches(&x, &y, 0, false),
        5,
        &mut [&mut rec],
    )
    .unwrap();
    assert!(report.stopped_early);
    assert_eq!(report.steps, 3 + 2);
    assert_eq!(report.epochs.len(), 2);
    assert!(report.epochs[0].completed && report.epochs[0].test_accuracy.is_some());
    let partial = &report.epochs[1];
    assert!(!partial.completed);
    assert_eq!((partial.batches, partial.images, partial.test_accuracy), (2, 64, None));
    assert_eq!(
        rec.epochs.len(),
        1,
        "on_epoch_end is not called for the interrupted epoch"
    );
}

#[test]
fn stop_from_on_epoch_end() {
    struct StopAfterFirst;
    impl TrainCallback for StopAfterFirst {
        fn on_epoch_end(&mut self, _: &EpochStats) -> Control {
            Control::Stop
        }
    }
    let (x, y) = blobs(64, 5);
    let mut model = mlp(7);
    let mut opt = Sgd::new(model.parameters(), 0.05);
    let report = fit(
        &mut model,
        &mut opt,
        |e| batches(&x, &y, e, true),
        |_| Vec::new(),
        3,
        &mut [&mut StopAfterFirst],
    )
    .unwrap();
    assert!(report.stopped_early);
    assert_eq!(report.epochs.len(), 1);
    assert!(report.epochs[0].completed);
}

/// Snapshots the parameters after every step.
struct Snapshots {
    params: Vec<Tensor>,
    last: Vec<f32>,
}

impl TrainCallback for Snapshots {
    fn on_batch_end(&mut self, _: &BatchStats) -> Control {
        self.last = self.params.iter().flat_map(Tensor::to_vec).collect();
        Control::Continue
    }
}

#[test]
fn divergence_stops_with_a_typed_error_and_keeps_the_last_good_parameters() {
    let (x, y) = blobs(96, 5);
    let mut model = mlp(7);
    let initial: Vec<f32> = model.parameters().iter().flat_map(Tensor::to_vec).collect();
    let mut opt = Sgd::new(model.parameters(), 1e30);
    let mut snap = Snapshots {
        params: model.parameters(),
        last: initial,
    };
    let err = fit(
        &mut model,
        &mut opt,
        |e| batches(&x, &y, e, true),
        |_| Vec::new(),
        3,
        &mut [&mut snap],
    )
    .unwrap_err();
    let (epoch, batch, report) = match &err {
        TrainError::NonFiniteLoss {
            epoch, batch, report, ..
        } => (*epoch, *batch, report),
        TrainError::NonFiniteGradient {
            epoch, batch, report, ..
        } => (*epoch, *batch, report),
        other => panic!("expected a divergence, got {other}"),
    };
    let message = err.to_string();
    // The message counts from 1, like the CLI's table; the fields count from 0.
    assert!(
        message.contains(&format!("epoch {}, batch {} (counted from 1)", epoch + 1, batch + 1)),
        "{message}"
    );
    assert_eq!(report.steps, epoch * 3 + batch);
    let now: Vec<f32> = model.parameters().iter().flat_map(Tensor::to_vec).collect();
    assert_eq!(now, snap.last, "the diverging step must not be applied");
    assert!(now.iter().all(|v| v.is_finite()));
    assert!(model.parameters().iter().all(|p| p.grad().is_none()));
}

#[test]
fn step_schedule_drives_the_learning_rate() {
    let (x, y) = blobs(64, 5);
    let mut model = mlp(7);
    let mut opt = Sgd::new(model.parameters(), 1.0);
    let mut rec = Recorder::default();
    let options = FitOptions {
        schedule: Some(Box::new(StepLr::new(0.1, 1, 0.5))),
        schedule_unit: ScheduleUnit::Step,
        clip_grad_norm: Some(1.0),
        ..FitOptions::new(1)
    };
    fit_with(
        &mut model,
        &mut opt,
        |e| batches(&x, &y, e, true),
        |_| Vec::new(),
        &options,
        &mut [&mut rec],
    )
    .unwrap();
    let lrs: Vec<f32> = rec.batches.iter().map(|b| b.learning_rate).collect();
    assert_eq!(lrs, vec![0.1, 0.05]);
    assert_eq!(opt.learning_rate(), 0.05);
}

/// Regression batches of the blobs without labels: targets `[B, 3]` = the one-hot class.
fn regression_batches(x: &[f32], y: &[usize], epoch: usize) -> Vec<Batch> {
    batches(x, y, epoch, true)
        .into_iter()
        .map(|b| {
            let mut t = vec![0.0; b.labels.len() * 3];
            for (i, &l) in b.labels.iter().enumerate() {
                t[i * 3 + l] = 1.0;
            }
            Batch {
                targets: Some(Tensor::from_vec(t, &[b.labels.len(), 3]).unwrap()),
                labels: Vec::new(),
                inputs: b.inputs,
            }
        })
        .collect()
}

#[test]
fn target_std_reports_the_same_training_in_the_targets_units() {
    let (x, y) = blobs(64, 8);
    let run = |target_std: Option<f32>| {
        let mut model = mlp(9);
        let mut opt = Sgd::new(model.parameters(), 0.1);
        let mut rec = Recorder::default();
        let options = FitOptions {
            loss: Loss::Mse,
            target_std,
            ..FitOptions::new(2)
        };
        let report = fit_with(
            &mut model,
            &mut opt,
            |e| regression_batches(&x, &y, e),
            |_| regression_batches(&x, &y, 0),
            &options,
            &mut [&mut rec],
        )
        .unwrap();
        let weights: Vec<f32> = model.parameters().iter().flat_map(Tensor::to_vec).collect();
        (report, rec, weights)
    };
    let (plain, plain_rec, plain_weights) = run(None);
    let (scaled, scaled_rec, scaled_weights) = run(Some(3.0));
    // Batches without labels still count their rows.
    assert_eq!(plain.epochs[0].images, 64);
    assert!(plain.epochs[0].train_loss.is_finite());
    // Training is the same; only what is reported changes, by 9 (MSE) and 3 (MAE).
    assert_eq!(plain_weights, scaled_weights);
    for (p, s) in plain.epochs.iter().zip(&scaled.epochs) {
        assert_eq!(s.train_loss, p.train_loss * 9.0);
        assert_eq!(s.test_loss.unwrap(), p.test_loss.unwrap() * 9.0);
        for (split_p, split_s) in [(&p.train_metrics, &s.train_metrics), (&p.test_metrics, &s.test_metrics)] {
            assert_eq!(split_s[0], (Metric::Mse, split_p[0].1 * 9.0));
            assert_eq!(split_s[1], (Metric::Mae, split_p[1].1 * 3.0));
        }
    }
    // The callbacks see what the report has (accuracy is NaN for a regression loss).
    let seen = |e: &EpochStats| {
        (
            e.train_loss,
            e.test_loss,
            e.train_metrics.clone(),
            e.test_metrics.clone(),
        )
    };
    assert_eq!(
        scaled_rec.epochs.iter().map(seen).collect::<Vec<_>>(),
        scaled.epochs.iter().map(seen).collect::<Vec<_>>()
    );
    for (p, s) in plain_rec.batches.iter().zip(&scaled_rec.batches) {
        assert_eq!(s.loss, p.loss * 9.0);
    }
}
