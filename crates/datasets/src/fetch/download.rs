//! HTTP downloads: one URL into a `.part` file, resumed with `Range` after a cut when the
//! server answers 206 (else restarted), with a progress bar showing bytes, rate and ETA.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Why one URL failed.
#[derive(Debug)]
pub enum DownloadError {
    /// The source failed (status, connection, cut): the next source may be tried.
    Source(String),
    /// Writing the local file failed: no point in trying another source.
    Local {
        /// The file being written.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// One attempt's outcome when it did not finish.
enum Attempt {
    /// Worth retrying the same URL (a cut after the response started).
    Retry(String),
    /// Give up on this URL (or on everything, for a local error).
    Fail(DownloadError),
}

/// An HTTP client for downloads.
#[derive(Debug, Clone)]
pub struct Http {
    agent: ureq::Agent,
    /// How many times a cut transfer is resumed or restarted before the URL is given up.
    pub retries: u32,
    /// Pause before each retry.
    pub retry_delay: Duration,
    /// Whether to draw progress bars (they are hidden anyway when stderr is not a terminal).
    pub progress: bool,
    /// The slowest transfer accepted, in bytes per second, measured over each
    /// [`Http::rate_window`]: a server that trickles slower is cut (and retried, then given up),
    /// so a download has a deadline proportional to its size.
    pub min_rate: u64,
    /// The span over which [`Http::min_rate`] is measured.
    pub rate_window: Duration,
}

impl Http {
    /// A client with sensible timeouts: 20 s to connect, 60 s without any byte.
    pub fn new(progress: bool) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .user_agent(concat!("neurite-datasets/", env!("CARGO_PKG_VERSION")))
            .build();
        Http {
            agent: config.into(),
            retries: 3,
            retry_delay: Duration::from_secs(2),
            progress,
            min_rate: 8 * 1024,
            rate_window: Duration::from_secs(30),
        }
    }

    /// Downloads `url` into `part`. When `part` already holds a prefix (an earlier cut, or an
    /// interrupted run), asks for the rest with `Range`; a server that answers 200 instead of
    /// 206 sends the whole file again. Retries a cut transfer up to [`Http::retries`] times.
    /// A body longer than `max` bytes (announced or sent) fails the source before it fills the
    /// disk. Returns the final size.
    pub fn download(&self, url: &str, part: &Path, label: &str, max: u64) -> Result<u64, DownloadError> {
        let mut retries_left = self.retries;
        loop {
            match self.attempt(url, part, label, max) {
                Ok(size) => return Ok(size),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry(why)) if retries_left > 0 => {
                    retries_left -= 1;
                    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
                    warn_line!("  {url}: {why}; retrying from byte {have}");
                    thread::sleep(self.retry_delay);
                }
                Err(Attempt::Retry(why)) => return Err(DownloadError::Source(why)),
            }
        }
    }

    /// One request: resumes from the length of `part`.
    fn attempt(&self, url: &str, part: &Path, label: &str, max: u64) -> Result<u64, Attempt> {
        let local = |source| {
            Attempt::Fail(DownloadError::Local {
                path: part.to_path_buf(),
                source,
            })
        };
        let offset = match fs::metadata(part) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(local(e)),
        };
        let mut request = self.agent.get(url).header("Accept-Encoding", "identity");
        if offset > 0 {
            request = request.header("Range", format!("bytes={offset}-"));
        }
        let response = request
            .call()
            .map_err(|e| Attempt::Fail(DownloadError::Source(describe_ureq(&e))))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        // A body the transport decodes (Content-Encoding) cannot be resumed by byte offset.
        let encoded = header("content-encoding").is_some_and(|v| !v.eq_ignore_ascii_case("identity"));
        let length = header("content-length")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|_| !encoded);
        let (append, total) = match status {
            206 if offset > 0 => match header("content-range").as_deref().and_then(parse_content_range) {
                Some((start, total)) if start == offset => (true, total),
                _ => {
                    let _ = fs::remove_file(part);
                    return Err(Attempt::Retry(
                        "server sent an unexpected range; restarting".to_string(),
                    ));
                }
            },
            200..=299 => (false, length),
            416 if offset > 0 => {
                let _ = fs::remove_file(part);
                return Err(Attempt::Retry("server refused the range; restarting".to_string()));
            }
            _ => return Err(Attempt::Fail(DownloadError::Source(format!("HTTP {status}")))),
        };
        if let Some(t) = total.filter(|&t| t > max) {
            return Err(Attempt::Fail(DownloadError::Source(format!(
                "announces {t} bytes, more than the {max} bytes this file can have"
            ))));
        }
        let mut file = if append {
            OpenOptions::new().append(true).open(part)
        } else {
            File::create(part)
        }
        .map_err(local)?;
        let start = if append { offset } else { 0 };
        let bar = self.bar(label, total, start);
        let mut body = response.into_body().into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut have = start;
        let (mut window_start, mut window_bytes) = (Instant::now(), 0u64);
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    bar.abandon();
                    file.flush().map_err(local)?;
                    if encoded {
                        let _ = fs::remove_file(part);
                    }
                    return Err(Attempt::Retry(format!("connection cut after {have} bytes ({e})")));
                }
            };
            if have + n as u64 > max {
                bar.abandon();
                drop(file);
                let _ = fs::remove_file(part);
                return Err(Attempt::Fail(DownloadError::Source(format!(
                    "sent more than the {max} bytes this file can have"
                ))));
            }
            file.write_all(&buf[..n]).map_err(local)?;
            have += n as u64;
            bar.set_position(have);
            window_bytes += n as u64;
            let elapsed = window_start.elapsed();
            if elapsed >= self.rate_window {
                let rate = window_bytes as f64 / elapsed.as_secs_f64();
                if rate < self.min_rate as f64 {
                    bar.abandon();
                    file.flush().map_err(local)?;
                    return Err(Attempt::Retry(format!(
                        "too slow: {rate:.0} bytes/s over {:.0} s, below the {} bytes/s required",
                        elapsed.as_secs_f64(),
                        self.min_rate
                    )));
                }
                (window_start, window_bytes) = (Instant::now(), 0);
            }
        }
        file.sync_all().map_err(local)?;
        bar.finish_and_clear();
        match total {
            Some(t) if have != t => Err(Attempt::Retry(format!("got {have} of {t} bytes"))),
            _ => Ok(have),
        }
    }

    /// A progress bar for one file (hidden when progress is off or stderr is no terminal).
    fn bar(&self, label: &str, total: Option<u64>, start: u64) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let (bar, template) = match total {
            Some(t) => (
                ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
                "  {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            ),
            None => (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                "  {msg} {spinner} {bytes} {bytes_per_sec}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        bar.set_position(start);
        bar.reset_eta();
        bar
    }
}

/// Parses `bytes START-END/TOTAL` (TOTAL may be `*`) into the start and the total; `None`
/// unless `START <= END` and, with a known total, `END < TOTAL`.
pub fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let number = |t: &str| -> Option<u64> {
        let t = t.trim();
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let (start, end) = (number(start)?, number(end)?);
    let total = match total.trim() {
        "*" => None,
        t => Some(number(t)?),
    };
    (start <= end && total.is_none_or(|t| end < t)).then_some((start, total))
}

/// A one-line description of a request failure.
fn describe_ureq(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Io(e) => format!("connection failed: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn parses_content_range() {
        assert_eq!(parse_content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
        // Ranges that cannot be: start after end, end at or past the total, signs.
        assert_eq!(parse_content_range("bytes 500-10/1000"), None);
        assert_eq!(parse_content_range("bytes 5-100/100"), None);
        assert_eq!(parse_content_range("bytes +5-9/100"), None);
        assert_eq!(parse_content_range("bytes 5-/100"), None);
    }
}
