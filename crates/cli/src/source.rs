//! `--dataset`: a built-in set's name or a path (an image folder or a `.csv` table), the
//! flags that say how folders and tables are read, and the record of the data source that a
//! saved model keeps in its metadata so that `eval` and `predict` read data the same way.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::csv::{CsvOptions, LabelColumn, Standardize, Task};
use neurite_datasets::folder::{FolderOptions, DEFAULT_TEST_SPLIT};
use neurite_nn::serialize;
use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};

/// Metadata key of the [`DataRecord`] of a model trained on a folder or a CSV.
pub const DATA_KEY: &str = "neurite.data";
/// Metadata key of the CSV standardisation (`{"mean": [...], "std": [...]}`).
pub const STANDARDIZE_KEY: &str = "neurite.standardize";

/// What `--dataset` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetArg {
    /// A built-in set.
    BuiltIn(DatasetKind),
    /// A folder of images, one subfolder per class.
    Folder(PathBuf),
    /// A CSV table.
    Csv(PathBuf),
}

impl DatasetArg {
    /// The `--dataset` text that names this again (a built-in name or the path).
    pub fn as_arg(&self) -> String {
        match self {
            DatasetArg::BuiltIn(kind) => kind.name().to_string(),
            DatasetArg::Folder(p) | DatasetArg::Csv(p) => p.display().to_string(),
        }
    }

    /// The name used in the default `--out` (`runs/NAME-MODEL`).
    pub fn short_name(&self) -> String {
        match self {
            DatasetArg::BuiltIn(kind) => kind.name().to_string(),
            DatasetArg::Folder(p) | DatasetArg::Csv(p) => {
                let stem = p
                    .canonicalize()
                    .ok()
                    .and_then(|c| c.file_stem().map(|s| s.to_string_lossy().into_owned()));
                stem.unwrap_or_else(|| "data".to_string())
            }
        }
    }
}

/// The built-in names, for messages.
fn builtin_names() -> String {
    DatasetKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

/// Parses `--dataset`: a built-in name first, else an existing folder or `.csv` file; anything
/// else is an error naming it and listing the built-in names (never a silent MNIST).
pub fn parse_dataset_arg(s: &str) -> Result<DatasetArg, String> {
    if let Ok(kind) = s.parse::<DatasetKind>() {
        return Ok(DatasetArg::BuiltIn(kind));
    }
    let path = PathBuf::from(s);
    if path.is_dir() {
        return Ok(DatasetArg::Folder(path));
    }
    if path.is_file() {
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        return if is_csv {
            Ok(DatasetArg::Csv(path))
        } else {
            Err(format!(
                "`{s}` is a file but not a .csv table: expected a built-in name ({}), an image folder or a .csv file",
                builtin_names()
            ))
        };
    }
    Err(format!(
        "unknown data set `{s}`: not a built-in name ({}) nor an existing image folder or .csv file",
        builtin_names()
    ))
}

/// `--task` of a CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskName {
    /// Class labels (integers or names).
    Classification,
    /// Float targets (mean squared error).
    Regression,
}

impl From<TaskName> for Task {
    fn from(t: TaskName) -> Task {
        match t {
            TaskName::Classification => Task::Classification,
            TaskName::Regression => Task::Regression,
        }
    }
}

/// Parses `32x32` (width x height) into `(height, width)`.
fn parse_image_size(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not an image size like 32x32 (width x height, each 1 to 16384)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let side = |v: &str| v.trim().parse::<usize>().ok().filter(|&n| (1..=16384).contains(&n));
    Ok((side(h).ok_or_else(bad)?, side(w).ok_or_else(bad)?))
}

/// Parses `--channels`: 1 or 3.
fn parse_channels(s: &str) -> Result<usize, String> {
    match s.trim() {
        "1" => Ok(1),
        "3" => Ok(3),
        _ => Err(format!("`{s}`: expected 1 (grey) or 3 (RGB)")),
    }
}

/// Parses `--test-split`: strictly between 0 and 1.
fn parse_split(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f < 1.0 => Ok(f),
        _ => Err(format!("`{s}`: expected a share strictly between 0 and 1, e.g. 0.2")),
    }
}

/// How image folders and CSV tables are read (ignored for the built-in sets); saved in a
/// run's settings, so that `--resume` reads the same data.
#[derive(Debug, Args, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceArgs {
    /// Image folder: resize every image to WIDTHxHEIGHT, e.g. 32x32 [default: the first
    /// image's size].
    #[arg(long, value_name = "WxH", value_parser = parse_image_size)]
    pub image_size: Option<(usize, usize)>,
    /// Image folder: 1 (grey) or 3 (RGB) channels [default: 1 when the first image is grey].
    #[arg(long, value_parser = parse_channels)]
    pub channels: Option<usize>,
    /// Image folder without train/ and test/ subfolders, or CSV: the share held out for
    /// testing (per class for folders), drawn with --split-seed.
    #[arg(long, value_name = "SHARE", default_value_t = DEFAULT_TEST_SPLIT, value_parser = parse_split)]
    pub test_split: f64,
    /// Seed of that split (kept apart from --seed, so a new seed reuses the folder's cache).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub split_seed: u64,
    /// Image folder: leave out files that are not decodable images (and count them) instead
    /// of refusing the folder.
    #[arg(long)]
    pub skip_bad: bool,
    /// CSV: the label column, by name or 0-based index [default: the last column].
    #[arg(long, value_name = "COLUMN")]
    pub label: Option<String>,
    /// CSV: the first row is data, not a header [default: detected].
    #[arg(long)]
    pub no_header: bool,
    /// CSV: what the label column holds.
    #[arg(long, value_enum, default_value_t = TaskName::Classification)]
    pub task: TaskName,
    /// CSV: drop rows with a missing or non-numeric value (and count them) instead of failing.
    #[arg(long)]
    pub drop_bad_rows: bool,
}

impl Default for SourceArgs {
    /// The flags' defaults.
    fn default() -> Self {
        SourceArgs {
            image_size: None,
            channels: None,
            test_split: DEFAULT_TEST_SPLIT,
            split_seed: 0,
            skip_bad: false,
            label: None,
            no_header: false,
            task: TaskName::Classification,
            drop_bad_rows: false,
        }
    }
}

impl SourceArgs {
    /// The folder options these flags ask for.
    pub fn folder_options(&self) -> FolderOptions {
        FolderOptions {
            image_size: self.image_size,
            channels: self.channels,
            test_split: self.test_split,
            seed: self.split_seed,
            skip_bad: self.skip_bad,
            cache_dir: None,
        }
    }

    /// The CSV options these flags ask for.
    pub fn csv_options(&self) -> CsvOptions {
        CsvOptions {
            label: self.label.clone().map_or(LabelColumn::Last, LabelColumn::Named),
            header: self.no_header.then_some(false),
            task: self.task.into(),
            drop_bad_rows: self.drop_bad_rows,
            test_split: self.test_split,
            seed: self.split_seed,
        }
    }
}

/// How a model's data was read, stored as JSON under [`DATA_KEY`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DataRecord {
    /// An image folder.
    Folder {
        /// The folder (absolute when it could be resolved).
        path: PathBuf,
        /// `--image-size` as given, `(height, width)`.
        image_size: Option<(usize, usize)>,
        /// `--channels` as given.
        channels: Option<usize>,
        /// `--test-split`.
        test_split: f64,
        /// `--split-seed`.
        split_seed: u64,
        /// `--skip-bad`.
        skip_bad: bool,
        /// The images' `[C, H, W]`.
        shape: [usize; 3],
        /// Class names in label order.
        class_names: Vec<String>,
    },
    /// A CSV table.
    Csv {
        /// The file (absolute when it could be resolved).
        path: PathBuf,
        /// The label column's name (its index without a header).
        label: String,
        /// Whether the first row is a header.
        header: bool,
        /// Classification or regression.
        task: Task,
        /// `--drop-bad-rows`.
        drop_bad_rows: bool,
        /// `--test-split`.
        test_split: f64,
        /// `--split-seed`.
        split_seed: u64,
        /// The feature columns' names.
        feature_names: Vec<String>,
        /// Class names in label order (empty for regression).
        class_names: Vec<String>,
    },
}

impl DataRecord {
    /// The recorded path.
    pub fn path(&self) -> &Path {
        match self {
            DataRecord::Folder { path, .. } | DataRecord::Csv { path, .. } => path,
        }
    }

    /// The `--dataset` this record reads (its path, as a folder or a CSV).
    pub fn dataset_arg(&self, path: Option<&Path>) -> DatasetArg {
        let path = path.unwrap_or(self.path()).to_path_buf();
        match self {
            DataRecord::Folder { .. } => DatasetArg::Folder(path),
            DataRecord::Csv { .. } => DatasetArg::Csv(path),
        }
    }

    /// The flags that read the data the way training did.
    pub fn source_args(&self) -> SourceArgs {
        let mut args = SourceArgs::default();
        match self {
            DataRecord::Folder {
                image_size,
                channels,
                test_split,
                split_seed,
                skip_bad,
                ..
            } => {
                args.image_size = *image_size;
                args.channels = *channels;
                args.test_split = *test_split;
                args.split_seed = *split_seed;
                args.skip_bad = *skip_bad;
            }
            DataRecord::Csv {
                label,
                header,
                task,
                drop_bad_rows,
                test_split,
                split_seed,
                ..
            } => {
                args.label = Some(label.clone());
                args.no_header = !header;
                args.task = match task {
                    Task::Classification => TaskName::Classification,
                    Task::Regression => TaskName::Regression,
                };
                args.drop_bad_rows = *drop_bad_rows;
                args.test_split = *test_split;
                args.split_seed = *split_seed;
            }
        }
        args
    }

    /// The JSON stored under [`DATA_KEY`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a data record serialises")
    }

    /// Reads [`DataRecord::to_json`]'s text.
    ///
    /// # Errors
    /// The parser's message.
    pub fn from_json(text: &str) -> Result<DataRecord, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// `path` made absolute when possible, so a model trained in one directory evaluates from another.
pub fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The data record and the CSV standardisation a weights file keeps, if any; the
/// standardisation is checked against `features` inputs.
///
/// # Errors
/// A message naming the file when the header cannot be read or a value is malformed.
pub fn recorded_data(weights: &Path, features: usize) -> CliResult<(Option<DataRecord>, Option<Standardize>)> {
    let header = serialize::read_header(weights).map_err(|e| CliError::new(e.to_string()))?;
    let record = header
        .metadata
        .get(DATA_KEY)
        .map(|text| DataRecord::from_json(text))
        .transpose()
        .map_err(|e| CliError::new(format!("{}: bad `{DATA_KEY}` metadata: {e}", weights.display())))?;
    let standardize = header
        .metadata
        .get(STANDARDIZE_KEY)
        .map(|text| Standardize::from_json(text, features))
        .transpose()
        .map_err(|e| CliError::new(format!("{}: bad `{STANDARDIZE_KEY}` metadata: {e}", weights.display())))?;
    Ok((record, standardize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_size_is_width_by_height() {
        assert_eq!(parse_image_size("40x30"), Ok((30, 40)));
        assert_eq!(parse_image_size("7X5"), Ok((5, 7)));
        for bad in ["32", "0x3", "3x", "ax3", "20000x2"] {
            assert!(parse_image_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn built_in_names_come_first_then_paths() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("mnist");
        std::fs::create_dir(&folder).unwrap();
        assert_eq!(parse_dataset_arg("MNIST"), Ok(DatasetArg::BuiltIn(DatasetKind::Mnist)));
        // A folder named like a built-in set is reached by its path.
        let by_path = folder.to_str().unwrap();
        assert_eq!(parse_dataset_arg(by_path), Ok(DatasetArg::Folder(folder.clone())));
        let csv = dir.path().join("t.CSV");
        std::fs::write(&csv, "a,b\n").unwrap();
        assert_eq!(parse_dataset_arg(csv.to_str().unwrap()), Ok(DatasetArg::Csv(csv)));
        let err = parse_dataset_arg("nope").unwrap_err();
        assert!(err.contains("mnist, fashion-mnist, cifar10, cifar100"), "{err}");
    }

    #[test]
    fn a_record_reads_the_data_as_training_did() {
        let record = DataRecord::Csv {
            path: "/data/t.csv".into(),
            label: "y".into(),
            header: false,
            task: Task::Regression,
            drop_bad_rows: true,
            test_split: 0.3,
            split_seed: 4,
            feature_names: vec!["0".into()],
            class_names: vec![],
        };
        let back = DataRecord::from_json(&record.to_json()).unwrap();
        assert_eq!(back, record);
        let options = back.source_args().csv_options();
        assert_eq!(options.label, LabelColumn::Named("y".into()));
        assert_eq!(options.header, Some(false));
        assert_eq!(
            (options.task, options.drop_bad_rows, options.test_split, options.seed),
            (Task::Regression, true, 0.3, 4)
        );
        assert_eq!(back.dataset_arg(None), DatasetArg::Csv("/data/t.csv".into()));
    }
}
