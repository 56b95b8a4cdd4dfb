//! Checks a file against a pinned digest or a structural layout.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use md5::Md5;
use sha2::{Digest as _, Sha256};

use super::error::{FetchError, IoContext};
use super::sources::{Digest, Expected, Layout, CIFAR_PIXELS};

/// How a file was found good, for the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Its SHA-256 is the pinned one.
    Sha256,
    /// Its structure is right; no content hash is known for it.
    Structure,
}

impl Verified {
    /// A short phrase for the messages.
    pub fn describe(self) -> &'static str {
        match self {
            Verified::Sha256 => "SHA-256 verified",
            Verified::Structure => "structure validated, no pinned content hash",
        }
    }
}

/// Feeds a whole file through `update`.
fn stream(path: &Path, mut update: impl FnMut(&[u8])) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        update(&buf[..n]);
    }
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut h = Sha256::new();
    stream(path, |b| h.update(b)).at(path)?;
    Ok(hex(&h.finalize()))
}

/// The MD5 of a file, as lower-case hex.
pub fn md5_file(path: &Path) -> Result<String, FetchError> {
    let mut h = Md5::new();
    stream(path, |b| h.update(b)).at(path)?;
    Ok(hex(&h.finalize()))
}

/// Checks `path` against `digest`; `label` names the file in the error. Does not remove it.
pub fn check_digest(path: &Path, digest: &Digest, label: &str) -> Result<(), FetchError> {
    let actual = match digest {
        Digest::Sha256(_) => sha256_file(path)?,
        Digest::Md5(_) => md5_file(path)?,
    };
    if actual.eq_ignore_ascii_case(digest.hex()) {
        Ok(())
    } else {
        Err(FetchError::DigestMismatch {
            file: label.to_string(),
            algorithm: digest.algorithm(),
            expected: digest.hex().to_string(),
            actual,
        })
    }
}

/// Verifies a file the loaders read: by its pinned SHA-256 when there is one, else by its
/// structure. `foreign` lists content hashes that must NOT match (another data set's files).
/// Does not remove the file; `label` names it in the error.
pub fn verify_content(
    path: &Path,
    expected: &Expected,
    foreign: &[String],
    label: &str,
) -> Result<Verified, FetchError> {
    if let Some(pin) = &expected.sha256 {
        check_digest(path, &Digest::Sha256(pin.clone()), label)?;
        return Ok(Verified::Sha256);
    }
    check_layout(path, &expected.layout).map_err(|reason| FetchError::Malformed {
        file: label.to_string(),
        reason,
    })?;
    if !foreign.is_empty() {
        let actual = sha256_file(path)?;
        if foreign.iter().any(|f| f.eq_ignore_ascii_case(&actual)) {
            return Err(FetchError::Malformed {
                file: label.to_string(),
                reason: "this is a file of another data set (its SHA-256 is a pinned MNIST hash)".to_string(),
            });
        }
    }
    Ok(Verified::Structure)
}

/// Checks a file's structure; the error says what is wrong.
pub fn check_layout(path: &Path, layout: &Layout) -> Result<(), String> {
    let io = |e: io::Error| format!("cannot read: {e}");
    let len = std::fs::metadata(path).map_err(io)?.len();
    match layout {
        Layout::IdxImages { count, rows, cols } => {
            let header = read_header(path, 3).map_err(io)?;
            check_idx_header(&header, 0x0803, &[*count, *rows, *cols])?;
            check_len(len, 16 + u64::from(*count) * u64::from(*rows) * u64::from(*cols))
        }
        Layout::IdxLabels { count, classes } => {
            let header = read_header(path, 1).map_err(io)?;
            check_idx_header(&header, 0x0801, &[*count])?;
            check_len(len, 8 + u64::from(*count))?;
            let mut reader = BufReader::new(File::open(path).map_err(io)?);
            reader.read_exact(&mut [0u8; 8]).map_err(io)?;
            check_labels(reader, 1, &[u16::from(*classes)]).map_err(io)?
        }
        Layout::CifarBatch { records, label_classes } => {
            let record = label_classes.len() + CIFAR_PIXELS;
            check_len(len, (*records * record) as u64)?;
            let reader = BufReader::new(File::open(path).map_err(io)?);
            check_labels(reader, record, label_classes).map_err(io)?
        }
        Layout::Text { lines } => {
            let text = std::fs::read(path).map_err(io)?;
            let text = std::str::from_utf8(&text).map_err(|_| "not UTF-8 text".to_string())?;
            let found = text.lines().filter(|l| !l.trim().is_empty()).count();
            if found == *lines {
                Ok(())
            } else {
                Err(format!("expected {lines} class names, found {found}"))
            }
        }
    }
}

/// Reads the magic and `dims` big-endian u32 words of an IDX header.
fn read_header(path: &Path, dims: usize) -> io::Result<Vec<u32>> {
    let mut bytes = vec![0u8; 4 * (1 + dims)];
    let mut file = File::open(path)?;
    match file.read_exact(&mut bytes) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Vec::new()),
        Err(e) => Err(e),
        Ok(()) => Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect()),
    }
}

/// Compares an IDX header with the expected magic and dimensions.
fn check_idx_header(words: &[u32], magic: u32, dims: &[u32]) -> Result<(), String> {
    match words.split_first() {
        None => Err("too short for an IDX header".to_string()),
        Some((m, _)) if *m != magic => Err(format!("IDX magic is 0x{m:08x}, expected 0x{magic:08x}")),
        Some((_, found)) if found != dims => Err(format!("IDX dimensions are {found:?}, expected {dims:?}")),
        Some(_) => Ok(()),
    }
}

/// Compares a file length with the expected one.
fn check_len(len: u64, expected: u64) -> Result<(), String> {
    if len == expected {
        Ok(())
    } else {
        Err(format!("size is {len} bytes, expected {expected}"))
    }
}

/// Reads records of `record` bytes whose first bytes are labels, each below its limit.
fn check_labels(mut reader: impl Read, record: usize, limits: &[u16]) -> io::Result<Result<(), String>> {
    let mut buf = vec![0u8; record];
    let mut index = 0usize;
    loop {
        match reader.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Ok(())),
            Err(e) => return Err(e),
        }
        for (byte, limit) in buf.iter().zip(limits) {
            if u16::from(*byte) >= *limit {
                return Ok(Err(format!("record {index} has label {byte}, expected below {limit}")));
            }
        }
        index += 1;
    }
}
