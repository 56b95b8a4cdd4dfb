//! [`TensorBoardLogger`]: a training callback that writes TensorBoard scalars.
//!
//! Per epoch (step = the 1-based epoch number), the values and names of `metrics.json`:
//! `train_loss`, `train_accuracy`, `test_loss`, `test_accuracy` (when evaluated) and
//! `seconds`. Per optimizer step (step = the global step, from 1): `step/train_loss`,
//! `step/train_accuracy` (of that batch, before the step) and `step/learning_rate`.

use std::io;
use std::path::{Path, PathBuf};

use super::writer::EventWriter;
use crate::train::{BatchStats, Control, EpochStats, TrainCallback};

/// Logs training to a TensorBoard event file. A write error never stops training: the
/// first one is kept and returned by [`TensorBoardLogger::finish`], and nothing more is
/// written.
///
/// ```
/// use neurite_nn::tensorboard::TensorBoardLogger;
/// use neurite_nn::train::{fit, Batch};
/// use neurite_nn::{optim::Sgd, Linear, Module};
/// use neurite_tensor::{seeded_rng, Tensor};
///
/// let mut rng = seeded_rng(0);
/// let batches = |_epoch: usize| -> Vec<Batch> { vec![Batch::new(Tensor::ones(&[4, 2]), vec![0, 1, 0, 1])] };
/// let mut model = Linear::new(2, 2, &mut rng);
/// let mut opt = Sgd::new(model.parameters(), 0.1);
/// let dir = tempfile::tempdir().unwrap();
/// let mut tb = TensorBoardLogger::create(dir.path().join("tb")).unwrap();
/// fit(&mut model, &mut opt, batches, batches, 2, &mut [&mut tb]).unwrap();
/// let file = tb.finish().unwrap(); // dir/tb/events.out.tfevents.<secs>.<host>
/// assert!(file.metadata().unwrap().len() > 0);
/// ```
#[derive(Debug)]
pub struct TensorBoardLogger {
    writer: EventWriter,
    error: Option<io::Error>,
}

impl TensorBoardLogger {
    /// Creates the folder `dir` if needed and a new event file in it.
    ///
    /// # Errors
    /// The I/O error, naming the folder or file.
    pub fn create(dir: impl AsRef<Path>) -> io::Result<TensorBoardLogger> {
        Ok(TensorBoardLogger {
            writer: EventWriter::create(dir)?,
            error: None,
        })
    }

    /// The event file.
    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    /// Flushes and closes the file; returns its path, or the first write error.
    ///
    /// # Errors
    /// The first I/O error met while logging or closing, naming the file.
    pub fn finish(self) -> io::Result<PathBuf> {
        match self.error {
            Some(e) => Err(e),
            None => self.writer.finish(),
        }
    }

    /// Writes `scalars` at `step`, then flushes when `flush`; keeps the first error.
    fn log(&mut self, step: usize, scalars: &[(&str, f32)], flush: bool) {
        if self.error.is_some() {
            return;
        }
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let result = scalars
            .iter()
            .try_for_each(|&(tag, value)| self.writer.add_scalar(tag, value, step))
            .and_then(|()| if flush { self.writer.flush() } else { Ok(()) });
        self.error = result.err();
    }
}

impl TrainCallback for TensorBoardLogger {
    fn on_batch_end(&mut self, stats: &BatchStats) -> Control {
        let scalars = [
            ("step/train_loss", stats.loss),
            ("step/train_accuracy", stats.accuracy),
            ("step/learning_rate", stats.learning_rate),
        ];
        self.log(stats.global_step, &scalars, false);
        Control::Continue
    }

    fn on_epoch_end(&mut self, stats: &EpochStats) -> Control {
        let mut scalars = vec![
            ("train_loss", stats.train_loss),
            ("train_accuracy", stats.train_accuracy),
        ];
        if let Some(loss) = stats.val_loss {
            scalars.push(("val_loss", loss));
        }
        if let Some(accuracy) = stats.val_accuracy {
            scalars.push(("val_accuracy", accuracy));
        }
        if let (Some(loss), Some(accuracy)) = (stats.test_loss, stats.test_accuracy) {
            scalars.extend([("test_loss", loss), ("test_accuracy", accuracy)]);
        }
        scalars.push(("seconds", stats.seconds as f32));
        self.log(stats.epoch + 1, &scalars, true);
        Control::Continue
    }
}
