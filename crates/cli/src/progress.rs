//! Live training progress: one indicatif bar per epoch with loss, accuracy and images/s,
//! and the Ctrl-C / SIGTERM flag that stops training after the current batch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use neurite_nn::train::{BatchStats, Control, EpochStats, TrainCallback};

/// Draws progress and honours Ctrl-C.
pub struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
    stop: Arc<AtomicBool>,
    loss_sum: f64,
    correct: f64,
    seen: usize,
}

impl Progress {
    /// Progress for `epochs` epochs; `stop` is set by the Ctrl-C handler.
    pub fn new(epochs: usize, stop: Arc<AtomicBool>) -> Progress {
        Progress {
            bar: None,
            epochs,
            stop,
            loss_sum: 0.0,
            correct: 0.0,
            seen: 0,
        }
    }

    fn bar_for(&mut self, stats: &BatchStats) -> &ProgressBar {
        self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(stats.batches_per_epoch.unwrap_or(0) as u64);
            let style = ProgressStyle::with_template(
                "epoch {prefix} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({elapsed_precise}<{eta_precise})",
            )
            .expect("valid template")
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("{}/{}", stats.epoch + 1, self.epochs));
            bar
        })
    }
}

impl TrainCallback for Progress {
    fn on_batch_end(&mut self, stats: &BatchStats) -> Control {
        self.loss_sum += stats.loss as f64 * stats.batch_size as f64;
        self.correct += stats.accuracy as f64 * stats.batch_size as f64;
        self.seen += stats.batch_size;
        let (loss, acc) = (self.loss_sum / self.seen as f64, self.correct / self.seen as f64);
        let rate = stats.images_seen as f64 / stats.elapsed.as_secs_f64().max(1e-9);
        let stop = self.stop.load(Ordering::SeqCst);
        let bar = self.bar_for(stats);
        bar.set_position(stats.batch as u64 + 1);
        if stats.batch.is_multiple_of(8) || Some(stats.batch + 1) == stats.batches_per_epoch {
            bar.set_message(format!("loss {loss:.4}{} {rate:.0} img/s", acc_text(acc)));
        }
        if stop {
            bar.abandon_with_message("interrupted: stopping after this batch".to_string());
            self.bar = None;
            return Control::Stop;
        }
        Control::Continue
    }

    fn on_epoch_end(&mut self, stats: &EpochStats) -> Control {
        if let Some(bar) = self.bar.take() {
            let part = |name: &str, loss: Option<f32>, acc: Option<f32>| match loss {
                Some(l) => format!(", {name} loss {l:.4}{}", acc_text(acc.map_or(f64::NAN, f64::from))),
                None => String::new(),
            };
            bar.finish_with_message(format!(
                "loss {:.4}{}{}{} in {:.1}s",
                stats.train_loss,
                acc_text(f64::from(stats.train_accuracy)),
                part("val", stats.val_loss, stats.val_accuracy),
                part("test", stats.test_loss, stats.test_accuracy),
                stats.seconds
            ));
        }
        self.loss_sum = 0.0;
        self.correct = 0.0;
        self.seen = 0;
        if self.stop.load(Ordering::SeqCst) {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// ` acc 97.25%`, or nothing for a loss without accuracy (regression).
fn acc_text(acc: f64) -> String {
    if acc.is_finite() {
        format!(" acc {:.2}%", acc * 100.0)
    } else {
        String::new()
    }
}

/// Installs a handler for Ctrl-C (SIGINT) and SIGTERM that sets the returned flag: the first
/// signal stops training after the current batch (then the model and a checkpoint are
/// saved); a second one exits at once, which cannot damage the last checkpoint because every
/// file is written atomically.
pub fn install_ctrl_c() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted twice: exiting without saving; the last checkpoint is intact");
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: finishing the current batch, then saving the model and a checkpoint");
    });
    stop
}
