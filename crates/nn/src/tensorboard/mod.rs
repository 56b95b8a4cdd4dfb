//! TensorBoard event files: scalars a `tensorboard --logdir DIR` shows, written without
//! TensorFlow.
//!
//! - [`record`]: TFRecord framing (length, masked CRC32C of the length, data, masked CRC32C
//!   of the data).
//! - [`event`]: the few protobuf messages of `event.proto` / `summary.proto` a scalar needs,
//!   derived with `prost`.
//! - [`writer`]: [`EventWriter`], one `events.out.tfevents.<secs>.<host>` file in a folder.
//! - [`logger`]: [`TensorBoardLogger`], a [`crate::train::TrainCallback`] that logs what
//!   `neurite train` writes to metrics.json, plus per-step loss, accuracy and learning rate.
//!
//! ```
//! use neurite_nn::tensorboard::EventWriter;
//! let dir = tempfile::tempdir().unwrap();
//! let mut writer = EventWriter::create(dir.path()).unwrap();
//! writer.add_scalar("train_loss", 0.25, 1).unwrap();
//! let path = writer.finish().unwrap();
//! assert!(path.file_name().unwrap().to_str().unwrap().starts_with("events.out.tfevents."));
//! ```

pub mod event;
pub mod logger;
pub mod record;
pub mod writer;

pub use logger::TensorBoardLogger;
pub use writer::EventWriter;
