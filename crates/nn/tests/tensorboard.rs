//! TensorBoard event files: the framing, CRCs and protobuf bytes against a file made by the
//! `tensorboard` package itself (scripts/make_tensorboard_fixture.py), a read-back of a real
//! `fit` run with the package's EventAccumulator (skipped when it is not installed), and
//! the writer's file handling.

use std::collections::BTreeMap;
use std::path::Path;

use neurite_nn::optim::Sgd;
use neurite_nn::tensorboard::event::Event;
use neurite_nn::tensorboard::record::{masked_crc32c, write_record};
use neurite_nn::tensorboard::{EventWriter, TensorBoardLogger};
use neurite_nn::train::{fit, Batch, BatchStats, Control, EpochStats, TrainCallback};
use neurite_nn::{Linear, Module, ReLU, Sequential};
use neurite_tensor::{seeded_rng, Tensor};
use prost::Message;

#[path = "common/python.rs"]
mod python;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tensorboard_events.bin");

#[test]
fn events_are_byte_identical_to_what_tensorboard_writes() {
    // The same three events as scripts/make_tensorboard_fixture.py.
    let events = [
        Event::file_version(1700000000.5),
        Event::scalar("train_loss", 0.25, 3, 1700000001.25),
        Event::scalar("step/learning_rate", -1.5e-3, 1234567, 1700000002.0),
    ];
    let mut ours = Vec::new();
    for e in &events {
        write_record(&mut ours, &e.encode_to_vec()).unwrap();
    }
    let theirs = std::fs::read(FIXTURE).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(read_records(&theirs).unwrap(), events);
}

/// Splits a file into its events, checking both CRCs of every record.
fn read_records(mut bytes: &[u8]) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    while !bytes.is_empty() {
        let (head, rest) = bytes.split_at_checked(12).ok_or("truncated header")?;
        let len_bytes: [u8; 8] = head[..8].try_into().unwrap();
        if masked_crc32c(&len_bytes).to_le_bytes() != head[8..12] {
            return Err("bad length CRC".into());
        }
        let len = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|e| e.to_string())?;
        let (data, rest) = rest.split_at_checked(len).ok_or("truncated data")?;
        let (crc, rest) = rest.split_at_checked(4).ok_or("truncated data CRC")?;
        if masked_crc32c(data).to_le_bytes() != crc {
            return Err("bad data CRC".into());
        }
        events.push(Event::decode(data).map_err(|e| e.to_string())?);
        bytes = rest;
    }
    Ok(events)
}

#[test]
fn a_damaged_record_is_caught_by_its_crc() {
    let mut bytes = std::fs::read(FIXTURE).unwrap();
    bytes[20] ^= 1;
    assert_eq!(read_records(&bytes), Err("bad data CRC".to_string()));
    let mut bytes = std::fs::read(FIXTURE).unwrap();
    bytes[0] ^= 1;
    assert_eq!(read_records(&bytes), Err("bad length CRC".to_string()));
}

#[test]
fn each_writer_gets_its_own_file_starting_with_the_file_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = EventWriter::create(dir.path().join("tb")).unwrap();
    let b = EventWriter::create(dir.path().join("tb")).unwrap();
    assert_ne!(a.path(), b.path());
    a.add_scalar("x", 1.5, 7).unwrap();
    let path = a.finish().unwrap();
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let parts: Vec<&str> = name.splitn(5, '.').collect();
    assert_eq!(parts[..3], ["events", "out", "tfevents"], "{name}");
    assert!(parts[3].parse::<u64>().unwrap() > 1_600_000_000, "{name}");
    let events = read_records(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], Event::file_version(events[0].wall_time));
    assert_eq!(events[1], Event::scalar("x", 1.5, 7, events[1].wall_time));
    assert!(events[1].wall_time >= events[0].wall_time);
}

#[test]
fn a_log_folder_that_is_a_file_is_an_error_naming_it() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let err = TensorBoardLogger::create(file.path()).unwrap_err();
    assert!(err.to_string().contains(&file.path().display().to_string()), "{err}");
}

/// Records what `fit` reports, for comparison with what TensorBoard reads.
#[derive(Default)]
struct Recorder {
    batches: Vec<BatchStats>,
    epochs: Vec<EpochStats>,
}

impl TrainCallback for Recorder {
    fn on_batch_end(&mut self, stats: &BatchStats) -> Control {
        self.batches.push(stats.clone());
        Control::Continue
    }
    fn on_epoch_end(&mut self, stats: &EpochStats) -> Control {
        self.epochs.push(stats.clone());
        Control::Continue
    }
}

/// The scalars of `logdir` as read by the `tensorboard` package, or `None` (with a message)
/// when the package is not installed. Python comes from `NEURITE_PYTHON`, else `python3`.
fn read_with_tensorboard(logdir: &Path) -> Option<BTreeMap<String, Vec<(i64, f64)>>> {
    let stdout = python::run_script("read_tensorboard.py", [logdir])?;
    Some(serde_json::from_slice(&stdout).expect("JSON from read_tensorboard.py"))
}

#[test]
fn a_fit_run_reads_back_in_tensorboard_with_the_reported_values() {
    let mut rng = seeded_rng(3);
    let x = Tensor::uniform(&[48, 4], -1.0, 1.0, &mut rng);
    let y: Vec<usize> = x.to_vec().chunks(4).map(|r| usize::from(r[0] - r[3] > 0.0)).collect();
    let batches = move |_epoch: usize| -> Vec<Batch> {
        (0..3)
            .map(|b| Batch::new(x.narrow(0, b * 16, 16), y[b * 16..(b + 1) * 16].to_vec()))
            .collect()
    };
    let mut model = Sequential::new()
        .add(Linear::new(4, 8, &mut rng))
        .add(ReLU)
        .add(Linear::new(8, 2, &mut rng));
    let mut opt = Sgd::new(model.parameters(), 0.3);
    let dir = tempfile::tempdir().unwrap();
    let mut logger = TensorBoardLogger::create(dir.path()).unwrap();
    let mut recorder = Recorder::default();
    fit(
        &mut model,
        &mut opt,
        batches.clone(),
        batches,
        4,
        &mut [&mut logger, &mut recorder],
    )
    .unwrap();
    logger.finish().unwrap();

    let mut expected: BTreeMap<String, Vec<(i64, f32)>> = BTreeMap::new();
    let mut add = |tag: &str, step: usize, value: f32| {
        expected.entry(tag.to_string()).or_default().push((step as i64, value));
    };
    for b in &recorder.batches {
        add("step/train_loss", b.global_step, b.loss);
        add("step/train_accuracy", b.global_step, b.accuracy);
        add("step/learning_rate", b.global_step, b.learning_rate);
    }
    for e in &recorder.epochs {
        add("train_loss", e.epoch + 1, e.train_loss);
        add("train_accuracy", e.epoch + 1, e.train_accuracy);
        add("test_loss", e.epoch + 1, e.test_loss.unwrap());
        add("test_accuracy", e.epoch + 1, e.test_accuracy.unwrap());
        add("seconds", e.epoch + 1, e.seconds as f32);
    }
    assert_eq!(expected["step/train_loss"].len(), 12);
    assert_eq!(expected["test_accuracy"].len(), 4);

    let Some(read) = read_with_tensorboard(dir.path()) else {
        return;
    };
    // TensorBoard stores f32; JSON carries it as a double, exact once rounded back to f32.
    let read: BTreeMap<String, Vec<(i64, f32)>> = read
        .into_iter()
        .map(|(tag, points)| (tag, points.into_iter().map(|(s, v)| (s, v as f32)).collect()))
        .collect();
    assert_eq!(read, expected);
}
