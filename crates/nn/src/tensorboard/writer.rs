//! [`EventWriter`]: one TensorBoard event file, `events.out.tfevents.<secs>.<host>`, in a
//! folder that `tensorboard --logdir` reads.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use super::event::Event;
use super::record::write_record;

/// Appends events to one event file. Records are buffered; [`EventWriter::flush`] makes
/// them visible to a running TensorBoard, [`EventWriter::finish`] flushes and syncs.
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventWriter {
    /// Creates `dir` if needed and a new event file in it, starting with the file-version
    /// event. Never overwrites: a name already taken gets a `.1`, `.2`, ... suffix.
    ///
    /// # Errors
    /// The I/O error, with the folder or file in the message.
    pub fn create(dir: impl AsRef<Path>) -> io::Result<EventWriter> {
        let dir = dir.as_ref();
        let named = |e: io::Error, p: &Path| io::Error::new(e.kind(), format!("{}: {e}", p.display()));
        fs::create_dir_all(dir).map_err(|e| named(e, dir))?;
        let base = format!("events.out.tfevents.{}.{}", unix_seconds() as u64, host_name());
        let mut suffix = 0;
        let (path, file) = loop {
            let name = if suffix == 0 {
                base.clone()
            } else {
                format!("{base}.{suffix}")
            };
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && suffix < 1000 => suffix += 1,
                Err(e) => return Err(named(e, &path)),
            }
        };
        let mut writer = EventWriter {
            path,
            out: BufWriter::new(file),
        };
        writer.write(&Event::file_version(unix_seconds()))?;
        writer.flush()?;
        Ok(writer)
    }

    /// The event file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event.
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        write_record(&mut self.out, &event.encode_to_vec()).map_err(|e| self.named(e))
    }

    /// Appends scalar `value` of series `tag` at `step`, stamped with the current time.
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn add_scalar(&mut self, tag: &str, value: f32, step: i64) -> io::Result<()> {
        self.write(&Event::scalar(tag, value, step, unix_seconds()))
    }

    /// Writes buffered records to the file.
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush().map_err(|e| self.named(e))
    }

    /// Flushes, syncs and closes the file; returns its path.
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn finish(mut self) -> io::Result<PathBuf> {
        self.flush()?;
        self.out.get_ref().sync_all().map_err(|e| self.named(e))?;
        Ok(self.path)
    }

    fn named(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))
    }
}

/// Seconds since the Unix epoch, with fractions.
fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The machine's name for the file name (as TensorFlow's writers do), reduced to
/// characters safe in a file name; `localhost` when unknown.
fn host_name() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let clean: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if clean.is_empty() {
        "localhost".to_string()
    } else {
        clean
    }
}
