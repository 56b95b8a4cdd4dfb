//! The errors of this crate: one typed error per bad-input case, each naming the file and the
//! problem. Loaders never panic on bad files.
//!
//! Parsers that work on plain bytes ([`crate::idx::parse_idx`], [`crate::cifar::parse_cifar`])
//! return a [`FormatError`] (they know no file name); the file-level functions wrap it in
//! [`DatasetError::Format`] together with the path.

use std::path::PathBuf;

use crate::catalog::DatasetKind;

/// Short for `Result<T, DatasetError>`.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

/// A problem with the bytes of a data file, independent of where the bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The data is empty.
    #[error("the file is empty")]
    Empty,
    /// The data ends inside the header.
    #[error("header truncated: {len} bytes, the header needs {needed}")]
    HeaderTruncated {
        /// Bytes present.
        len: usize,
        /// Bytes the header needs.
        needed: usize,
    },
    /// The first two bytes of an IDX file are not zero.
    #[error("bad IDX magic {magic:02x?}: expected two zero bytes, a type code and a rank")]
    BadMagic {
        /// The first four bytes.
        magic: [u8; 4],
    },
    /// The IDX type code (third byte) is not one of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.
    #[error("unknown IDX type code 0x{code:02x} (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)")]
    BadTypeCode {
        /// The type code found.
        code: u8,
    },
    /// The IDX rank (fourth byte) is zero.
    #[error("IDX rank is 0: at least one dimension is required")]
    ZeroRank,
    /// A dimension is zero.
    #[error("dimension {axis} is zero (dims {dims:?})")]
    ZeroDim {
        /// Which dimension.
        axis: usize,
        /// All dimensions.
        dims: Vec<usize>,
    },
    /// The product of the dimensions (times the element size) overflows.
    #[error("dims {dims:?} overflow: their byte size does not fit in memory")]
    DimsOverflow {
        /// All dimensions.
        dims: Vec<usize>,
    },
    /// Fewer data bytes than the header announces.
    #[error("truncated: the header announces {expected} data bytes, the file holds {actual}")]
    Truncated {
        /// Bytes announced.
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
    /// More data bytes than the header announces.
    #[error("{extra} trailing bytes after the {expected} data bytes the header announces")]
    TrailingBytes {
        /// Bytes announced.
        expected: usize,
        /// Bytes beyond them.
        extra: usize,
    },
    /// The IDX element type is not the one this data set needs.
    #[error("element type {found} where {expected} is required")]
    WrongType {
        /// Required type name.
        expected: &'static str,
        /// Type found.
        found: &'static str,
    },
    /// The IDX rank is not the one this data set needs.
    #[error("rank {found} (dims {dims:?}) where rank {expected} is required")]
    WrongRank {
        /// Required rank.
        expected: usize,
        /// Rank found.
        found: usize,
        /// Dims found.
        dims: Vec<usize>,
    },
    /// A CIFAR file whose size is not a whole number of records.
    #[error("size {len} is not a multiple of the {record}-byte record size")]
    RecordSize {
        /// File size.
        len: usize,
        /// Record size.
        record: usize,
    },
    /// The first bytes of a folder cache are not `NRTIMGC\0`.
    #[error("not a neurite image-folder cache: magic {magic:02x?}, expected `NRTIMGC\\0`")]
    BadCacheMagic {
        /// The first eight bytes.
        magic: [u8; 8],
    },
    /// A header field has a value outside what the format allows.
    #[error("header field `{field}` is {value}: expected {expected}")]
    BadField {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// What is allowed.
        expected: &'static str,
    },
    /// A value handed to the IDX writer does not fit its dims.
    #[error("{values} values do not fill dims {dims:?}")]
    ValueCount {
        /// Dims given.
        dims: Vec<usize>,
        /// Values given.
        values: usize,
    },
}

/// Everything that can go wrong while loading a data set.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file the loader needs does not exist.
    #[error("{}: file not found{}", .path.display(), fetch_hint(*.dataset))]
    Missing {
        /// The path looked for.
        path: PathBuf,
        /// The data set it belongs to, for the fetch hint.
        dataset: Option<DatasetKind>,
    },
    /// A directory (or other non-file) where a file should be.
    #[error("{}: not a regular file (a directory?)", .path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// An I/O error while opening, mapping or writing a file.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file's bytes are not a valid file of its kind.
    #[error("{}: {problem}", .path.display())]
    Format {
        /// The path (or `embedded:NAME` for the embedded sample).
        path: PathBuf,
        /// What is wrong.
        problem: FormatError,
    },
    /// An image file and its label file hold different numbers of items.
    #[error("{} holds {images} images but {} holds {labels} labels", .images_path.display(), .labels_path.display())]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// Its item count.
        images: usize,
        /// The label file.
        labels_path: PathBuf,
        /// Its item count.
        labels: usize,
    },
    /// The train and test images of a set have different shapes.
    #[error(
        "{} holds images of shape {train_shape:?} but {} holds images of shape {test_shape:?}: train and test images must have the same shape",
        .train_path.display(),
        .test_path.display()
    )]
    SplitShapes {
        /// The training images file.
        train_path: PathBuf,
        /// Its image shape `[C, H, W]`.
        train_shape: [usize; 3],
        /// The test images file.
        test_path: PathBuf,
        /// Its image shape `[C, H, W]`.
        test_shape: [usize; 3],
    },
    /// A label is not below the number of classes.
    #[error("{}: label {label} of item {index} is out of range (expected < {classes})", .path.display())]
    LabelOutOfRange {
        /// The file holding the label.
        path: PathBuf,
        /// Item index inside that file.
        index: usize,
        /// The label.
        label: usize,
        /// Number of classes.
        classes: usize,
    },
    /// A class-name file (`batches.meta.txt`, ...) has the wrong number of names.
    #[error("{}: {found} class names where {expected} are expected", .path.display())]
    ClassNames {
        /// The file.
        path: PathBuf,
        /// Names expected.
        expected: usize,
        /// Names found.
        found: usize,
    },
    /// An image folder that cannot be used as a data set (no class folders, too few images
    /// for the split, a test class unknown to the training part, ...).
    #[error("{}: {reason}", .path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Files in an image folder that are not decodable images.
    #[error("{}: {} not a decodable image: {}{}; remove {} or skip {} with --skip-bad",
        .root.display(),
        if .bad.len() == 1 { "1 file is".to_string() } else { format!("{} files are", .bad.len()) },
        bad_list(.bad),
        if .bad.len() > 10 { format!(" and {} more", .bad.len() - 10) } else { String::new() },
        if .bad.len() == 1 { "it" } else { "them" },
        if .bad.len() == 1 { "it" } else { "them" },
    )]
    BadImages {
        /// The folder.
        root: PathBuf,
        /// Each bad file and why it could not be decoded.
        bad: Vec<(PathBuf, String)>,
    },
    /// A CSV table with a bad value, a missing column or an unusable label.
    #[error("{}{}{}: {reason}",
        .path.display(),
        .line.map(|l| format!(", line {l}")).unwrap_or_default(),
        .column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default(),
    )]
    Table {
        /// The CSV file.
        path: PathBuf,
        /// The 1-based line, when the problem is in one row.
        line: Option<u64>,
        /// The column (name, or 0-based index when there is no header), when known.
        column: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// The embedded MNIST sample was requested but the crate was built without it.
    #[error(
        "the embedded MNIST sample is not available: neurite-datasets was built without the `embedded-mnist` feature{}",
        fetch_hint(Some(DatasetKind::Mnist))
    )]
    EmbeddedUnavailable,
}

impl DatasetError {
    /// Wraps a [`FormatError`] with the path it came from.
    pub fn format(path: impl Into<PathBuf>, problem: FormatError) -> Self {
        DatasetError::Format {
            path: path.into(),
            problem,
        }
    }

    /// The format problem, when this is a [`DatasetError::Format`].
    pub fn format_problem(&self) -> Option<&FormatError> {
        match self {
            DatasetError::Format { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// The first ten bad files, `path (reason)`, comma-separated.
fn bad_list(bad: &[(PathBuf, String)]) -> String {
    bad.iter()
        .take(10)
        .map(|(p, why)| format!("{} ({why})", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fetch_hint(dataset: Option<DatasetKind>) -> String {
    match dataset {
        Some(kind) => format!("; {}", kind.fetch_hint()),
        None => String::new(),
    }
}
