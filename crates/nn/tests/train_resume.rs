//! Training that can stop and continue: optimizer state round trips, checkpoints that resume
//! bit-identically, early stopping that restores the best weights, regression losses.

use neurite_nn::optim::{Adam, AdamW, Optimizer, OptimizerState, Sgd, StateError};
use neurite_nn::train::checkpoint::{self, CheckpointInfo};
use neurite_nn::train::{
    fit_with, Batch, EarlyStopping, EpochBatches, EpochState, FitOptions, Loss, Metric, TrainCallback,
};
use neurite_nn::{Linear, Module, ReLU, Sequential};
use neurite_tensor::{seeded_rng, Tensor};

fn model(seed: u64, outputs: usize) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .add(Linear::new(4, 16, &mut rng))
        .add(ReLU)
        .add(Linear::new(16, outputs, &mut rng))
}

/// Batches of 4-feature rows; the label is the index of the largest of the first 3 features.
fn batches(epoch: usize, count: usize) -> Vec<Batch> {
    let mut rng = seeded_rng(500 + epoch as u64);
    (0..count)
        .map(|_| {
            let x = Tensor::uniform(&[16, 4], -1.0, 1.0, &mut rng);
            let labels = x
                .to_vec()
                .chunks(4)
                .map(|r| (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap())
                .collect();
            Batch::new(x, labels)
        })
        .collect()
}

fn bits(model: &dyn Module) -> Vec<u32> {
    model
        .parameters()
        .iter()
        .flat_map(|p| p.to_vec())
        .map(f32::to_bits)
        .collect()
}

type MakeOpt = fn(Vec<Tensor>) -> Box<dyn Optimizer>;

fn optimizers() -> [(&'static str, MakeOpt); 3] {
    [
        ("sgd-momentum", |p| Box::new(Sgd::new(p, 0.05).with_momentum(0.9))),
        ("adam", |p| Box::new(Adam::new(p, 0.01))),
        ("adamw", |p| Box::new(AdamW::new(p, 0.01))),
    ]
}

#[test]
fn a_checkpoint_resumes_bit_identically_for_every_optimizer() {
    let dir = tempfile::tempdir().unwrap();
    for (name, make) in optimizers() {
        let options = |start_epoch, start_step| FitOptions {
            start_epoch,
            start_step,
            ..FitOptions::new(3)
        };
        // Straight through: 3 epochs.
        let mut straight = model(1, 3);
        let mut opt = make(straight.parameters());
        fit_with(
            &mut straight,
            opt.as_mut(),
            |e| batches(e, 5),
            |_| Vec::new(),
            &options(0, 0),
            &mut [],
        )
        .unwrap();

        // 1 epoch, checkpoint, a fresh model and optimizer from the checkpoint, 2 more.
        let mut first = model(1, 3);
        let mut opt = make(first.parameters());
        let once = FitOptions::new(1);
        let report = fit_with(
            &mut first,
            opt.as_mut(),
            |e| batches(e, 5),
            |_| Vec::new(),
            &once,
            &mut [],
        )
        .unwrap();
        let path = dir.path().join(format!("{name}.safetensors"));
        let info = CheckpointInfo {
            epochs_done: 1,
            batches_done: 0,
            global_step: report.steps,
            run: serde_json::json!({}),
            best: None,
        };
        checkpoint::save(&path, &first, opt.as_ref(), &info, &Default::default()).unwrap();
        let mut resumed = model(99, 3);
        let mut opt = make(resumed.parameters());
        let loaded = checkpoint::load(&path).unwrap();
        assert_eq!(loaded.info, info);
        loaded.restore(&mut resumed, opt.as_mut()).unwrap();
        fit_with(
            &mut resumed,
            opt.as_mut(),
            |e| batches(e, 5),
            |_| Vec::new(),
            &options(1, 5),
            &mut [],
        )
        .unwrap();
        assert_eq!(bits(&straight), bits(&resumed), "{name}: resumed weights differ");
    }
}

#[test]
fn optimizer_state_that_does_not_fit_is_refused_and_changes_nothing() {
    let mut m = model(0, 3);
    let mut adam = Adam::new(m.parameters(), 0.01);
    let sgd = Sgd::new(m.parameters(), 0.1);
    assert_eq!(
        adam.load_state(&sgd.state()),
        Err(StateError::Kind {
            expected: "Adam".into(),
            found: "Sgd".into()
        })
    );
    let mut state: OptimizerState = adam.state();
    state
        .buffers
        .push(("exp_avg.0".into(), ndarray::ArrayD::zeros(vec![2, 2])));
    state
        .buffers
        .push(("exp_avg_sq.0".into(), ndarray::ArrayD::zeros(vec![2, 2])));
    let err = adam.load_state(&state).unwrap_err();
    assert!(
        err.to_string().contains("exp_avg.0") && err.to_string().contains("[16, 4]"),
        "{err}"
    );
    assert_eq!(adam.state().buffers.len(), 0);
    let other = model(0, 5);
    let mut other_opt = Sgd::new(other.parameters(), 0.1).with_momentum(0.9);
    let mut trained = Sgd::new(m.parameters(), 0.1).with_momentum(0.9);
    m.forward(&Tensor::ones(&[2, 4])).sum().backward();
    trained.step();
    let err = other_opt.load_state(&trained.state()).unwrap_err();
    assert!(err.to_string().contains("momentum_buffer.2"), "{err}");
}

/// Records each epoch's weights.
#[derive(Default)]
struct Snapshots(Vec<Vec<u32>>);

impl TrainCallback for Snapshots {
    fn on_epoch_state(&mut self, state: &EpochState<'_>) -> Result<(), String> {
        self.0.push(bits(state.model));
        Ok(())
    }
}

#[test]
fn early_stopping_restores_the_best_epoch_weights() {
    // Validation labels contradict the training labels, so the validation loss rises after
    // the first epoch: patience 1 stops after epoch 2 and puts epoch 1's weights back.
    let val = |_e: usize| -> EpochBatches<'static> {
        Box::new(batches(77, 2).into_iter().map(|b| Batch {
            labels: b.labels.iter().map(|l| (l + 1) % 3).collect(),
            ..b
        }))
    };
    let options = FitOptions {
        validation: Some(Box::new(val)),
        early_stopping: Some(EarlyStopping {
            patience: 1,
            min_delta: 0.0,
        }),
        ..FitOptions::new(20)
    };
    let mut m = model(3, 3);
    let mut opt = Sgd::new(m.parameters(), 0.2);
    let mut snaps = Snapshots::default();
    let report = fit_with(
        &mut m,
        &mut opt,
        |e| batches(e, 8),
        |_| Vec::new(),
        &options,
        &mut [&mut snaps],
    )
    .unwrap();
    let losses: Vec<f32> = report.epochs.iter().map(|e| e.val_loss.unwrap()).collect();
    assert!(losses[1] > losses[0], "validation loss should rise: {losses:?}");
    assert_eq!(report.epochs.len(), 2);
    assert!(report.stopped_early);
    assert_eq!(report.restored_epoch, Some(0));
    assert_eq!(bits(&m), snaps.0[0], "the model holds epoch 1's weights");
    // The last epoch's state (what a checkpoint saves) is the restored one too; without early
    // stopping, epoch 2 ends elsewhere.
    assert_eq!(snaps.0[1], snaps.0[0]);
    let mut plain = model(3, 3);
    let mut opt = Sgd::new(plain.parameters(), 0.2);
    fit_with(
        &mut plain,
        &mut opt,
        |e| batches(e, 8),
        |_| Vec::new(),
        &FitOptions::new(2),
        &mut [],
    )
    .unwrap();
    assert_ne!(bits(&plain), snaps.0[0]);
}

#[test]
fn mse_on_float_targets_reports_regression_metrics() {
    // y = x0 - 2 x1 + 0.5 x3: a linear model can fit it.
    let data = |e: usize| -> Vec<Batch> {
        batches(e, 6)
            .into_iter()
            .map(|b| {
                let y: Vec<f32> = b
                    .inputs
                    .to_vec()
                    .chunks(4)
                    .map(|r| r[0] - 2.0 * r[1] + 0.5 * r[3])
                    .collect();
                let n = y.len();
                Batch {
                    targets: Some(Tensor::from_vec(y, &[n, 1]).unwrap()),
                    ..b
                }
            })
            .collect()
    };
    let options = FitOptions {
        loss: Loss::Mse,
        ..FitOptions::new(30)
    };
    let mut m = model(5, 1);
    let mut opt = Adam::new(m.parameters(), 0.02);
    let report = fit_with(&mut m, &mut opt, data, |_| data(1000), &options, &mut []).unwrap();
    let first = &report.epochs[0];
    let last = report.epochs.last().unwrap();
    assert!(last.train_accuracy.is_nan() && last.test_accuracy.is_none());
    let metric = |v: &[(Metric, f32)], m: Metric| v.iter().find(|(k, _)| *k == m).unwrap().1;
    assert_eq!(
        first.train_metrics.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
        [Metric::Mse, Metric::Mae]
    );
    // For MSE the loss is the MSE metric (up to summation order).
    assert!((metric(&last.train_metrics, Metric::Mse) - last.train_loss).abs() < 1e-5);
    assert!(metric(&last.test_metrics, Metric::Mse) < 0.05 * metric(&first.test_metrics, Metric::Mse));
    assert!(metric(&last.test_metrics, Metric::Mae) < 0.2);
}

#[test]
fn float_losses_compare_against_one_hot_labels_without_targets() {
    let logits = Tensor::from_vec(vec![2.0, -1.0, 0.5, 0.0, 1.0, -2.0], &[2, 3]).unwrap();
    let one_hot = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0], &[2, 3]).unwrap();
    let labels = [0, 2];
    let bce = Loss::BceWithLogits.compute(&logits, &labels, None).item();
    let want = neurite_nn::binary_cross_entropy_with_logits(&logits, &one_hot).item();
    assert_eq!(bce.to_bits(), want.to_bits());
    let mse = Loss::Mse.compute(&logits, &labels, None).item();
    assert_eq!(mse.to_bits(), neurite_nn::mse_loss(&logits, &one_hot).item().to_bits());
    // Given targets win over the labels.
    let targets = Tensor::zeros(&[2, 3]);
    let mse0 = Loss::Mse.compute(&logits, &labels, Some(&targets)).item();
    assert!((mse0 - (4.0 + 1.0 + 0.25 + 0.0 + 1.0 + 4.0) / 6.0).abs() < 1e-6);
    // Cross-entropy ignores targets.
    let ce = Loss::CrossEntropy.compute(&logits, &labels, Some(&targets)).item();
    assert_eq!(
        ce.to_bits(),
        neurite_nn::cross_entropy(&logits, &labels).item().to_bits()
    );
}

/// Saves a checkpoint after epoch index `at`, as the CLI's checkpointer does.
struct SaveAt {
    at: usize,
    path: std::path::PathBuf,
}

impl TrainCallback for SaveAt {
    fn on_epoch_state(&mut self, state: &EpochState<'_>) -> Result<(), String> {
        if state.epoch == self.at {
            let info = CheckpointInfo {
                epochs_done: state.epoch + 1,
                batches_done: 0,
                global_step: state.global_step,
                run: serde_json::Value::Null,
                best: state.report.best.clone(),
            };
            checkpoint::save(&self.path, state.model, state.optimizer, &info, &Default::default())
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

#[test]
fn early_stopping_state_survives_a_checkpoint() {
    // The validation loss rises after the first epoch: patience 2 stops after epoch 3 and
    // restores epoch 1. Resuming from the checkpoint of epoch 2 must do the same, which needs
    // the best epoch, its loss, the patience count and its weights.
    let val = |_e: usize| -> EpochBatches<'static> {
        Box::new(batches(77, 2).into_iter().map(|b| Batch {
            labels: b.labels.iter().map(|l| (l + 1) % 3).collect(),
            ..b
        }))
    };
    let options = |start_epoch, start_step, resume_best| FitOptions {
        validation: Some(Box::new(val)),
        early_stopping: Some(EarlyStopping {
            patience: 2,
            min_delta: 0.0,
        }),
        start_epoch,
        start_step,
        resume_best,
        ..FitOptions::new(20)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut save = SaveAt {
        at: 1,
        path: dir.path().join("c.safetensors"),
    };
    let mut straight = model(3, 3);
    let mut opt = Sgd::new(straight.parameters(), 0.2);
    let report = fit_with(
        &mut straight,
        &mut opt,
        |e| batches(e, 8),
        |_| Vec::new(),
        &options(0, 0, None),
        &mut [&mut save],
    )
    .unwrap();
    assert_eq!((report.epochs.len(), report.restored_epoch), (3, Some(0)));

    let loaded = checkpoint::load(&save.path).unwrap();
    let best = loaded
        .info
        .best
        .clone()
        .expect("the checkpoint has early stopping's state");
    assert_eq!((best.epoch, best.waited), (0, 1));
    let mut resumed = model(8, 3);
    let mut opt = Sgd::new(resumed.parameters(), 0.2);
    loaded.restore(&mut resumed, &mut opt).unwrap();
    let again = options(2, loaded.info.global_step, Some(best.clone()));
    let report = fit_with(
        &mut resumed,
        &mut opt,
        |e| batches(e, 8),
        |_| Vec::new(),
        &again,
        &mut [],
    )
    .unwrap();
    assert_eq!((report.epochs.len(), report.restored_epoch), (1, Some(0)));
    assert_eq!(bits(&resumed), bits(&straight));
    // Without the state, the resumed run would take epoch 3 for its best and not stop.
    let mut forgetful = model(8, 3);
    let mut opt = Sgd::new(forgetful.parameters(), 0.2);
    loaded.restore(&mut forgetful, &mut opt).unwrap();
    let report = fit_with(
        &mut forgetful,
        &mut opt,
        |e| batches(e, 8),
        |_| Vec::new(),
        &options(2, 10, None),
        &mut [],
    )
    .unwrap();
    assert_ne!(report.restored_epoch, Some(0));
}
