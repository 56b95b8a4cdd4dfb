//! CSV tables: numeric feature columns plus one label column, for classification (integer or
//! string labels, mapped to classes in sorted order) or regression (float targets).
//!
//! - **Header.** Detected from the first two rows (a header row has a non-number where the
//!   next row has a number, or only non-numbers), or forced with [`CsvOptions::header`].
//! - **Label.** [`CsvOptions::label`]: a column name (with a header) or a 0-based index;
//!   default the last column.
//! - **Bad rows.** A missing or non-numeric feature (or label, for regression), or a row with
//!   the wrong number of fields, is a [`DatasetError::Table`] naming the file, the 1-based
//!   line and the column, unless [`CsvOptions::drop_bad_rows`] (then the count is reported).
//! - **Split and standardisation.** [`open_csv`] splits the rows with a seeded shuffle
//!   ([`CsvOptions::test_split`], default 0.2) and fits a [`Standardize`] on the training
//!   part only; the caller stores it with the model so that evaluation and prediction apply
//!   the same.
//!
//! ```
//! use neurite_datasets::csv::{open_csv, CsvOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("points.csv");
//! let mut text = String::from("x,y,kind\n");
//! for i in 0..20 {
//!     text += &format!("{i},{},{}\n", i * 2, if i % 2 == 0 { "even" } else { "odd" });
//! }
//! std::fs::write(&path, text)?;
//! let table = open_csv(&path, &CsvOptions::default())?;
//! assert_eq!(table.info.class_names, ["even", "odd"]);
//! assert_eq!((table.train.len(), table.test.len()), (16, 4));
//! assert_eq!(table.train.num_features(), 2);
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use neurite_tensor::{seeded_rng, Tensor};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::augment::mix;
use crate::batch::Batch;
use crate::error::{DatasetError, Result};
use crate::info::DatasetInfo;

/// Mixed into the split seed, so the split's permutation differs from a loader's epoch-0
/// shuffle with the same seed.
const SPLIT_STREAM: u64 = 0x5eed_0c5f;

/// The share of rows held out as the test part by default.
pub const DEFAULT_TEST_SPLIT: f64 = 0.2;

/// What the label column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Class labels (integers or strings).
    #[default]
    Classification,
    /// Float targets.
    Regression,
}

/// Which column is the label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelColumn {
    /// The last column.
    Last,
    /// The column with this header name, or, when no column has that name and it is a
    /// number, the column at that 0-based index.
    Named(String),
}

/// How a CSV is read.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// The label column (default the last).
    pub label: LabelColumn,
    /// `Some(true)`/`Some(false)`: the first row is/is not a header; `None`: detect.
    pub header: Option<bool>,
    /// Classification or regression.
    pub task: Task,
    /// Drop rows with a missing or non-numeric value (counted) instead of failing.
    pub drop_bad_rows: bool,
    /// Share of rows held out as the test part (strictly between 0 and 1).
    pub test_split: f64,
    /// Seed of the split.
    pub seed: u64,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            label: LabelColumn::Last,
            header: None,
            task: Task::Classification,
            drop_bad_rows: false,
            test_split: DEFAULT_TEST_SPLIT,
            seed: 0,
        }
    }
}

/// Rows of numeric features with their labels (classification) or targets (regression).
/// Cloning is cheap (reference-counted).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    features: Arc<[f32]>,
    num_features: usize,
    labels: Option<Arc<[usize]>>,
    targets: Option<Arc<[f32]>>,
    /// 1-based CSV line of each row, for messages.
    lines: Arc<[u64]>,
}

impl Table {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Features per row.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The features of row `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.num_features..(i + 1) * self.num_features]
    }

    /// Class labels, one per row (classification only).
    pub fn labels(&self) -> Option<&[usize]> {
        self.labels.as_deref()
    }

    /// Float targets, one per row (regression only).
    pub fn targets(&self) -> Option<&[f32]> {
        self.targets.as_deref()
    }

    /// The 1-based CSV line each row came from.
    pub fn lines(&self) -> &[u64] {
        &self.lines
    }

    /// The rows `indices`, in that order.
    fn select(&self, indices: &[usize]) -> Table {
        let f = self.num_features;
        let mut features = Vec::with_capacity(indices.len() * f);
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        Table {
            features: features.into(),
            num_features: f,
            labels: self.labels.as_ref().map(|l| indices.iter().map(|&i| l[i]).collect()),
            targets: self.targets.as_ref().map(|t| indices.iter().map(|&i| t[i]).collect()),
            lines: indices.iter().map(|&i| self.lines[i]).collect(),
        }
    }

    /// A copy with `standardize` applied to every feature.
    ///
    /// # Panics
    /// When `standardize` has not one mean and one std per feature.
    pub fn standardized(&self, standardize: &Standardize) -> Table {
        assert_eq!(
            standardize.mean.len(),
            self.num_features,
            "Standardize for {} features applied to a table of {}",
            standardize.mean.len(),
            self.num_features
        );
        let mut features = self.features.to_vec();
        for row in features.chunks_mut(self.num_features) {
            standardize.apply(row);
        }
        Table {
            features: features.into(),
            ..self.clone()
        }
    }
}

/// Per-feature standardisation `(x - mean) / std`, fitted on a training part; serialised as
/// JSON (`{"mean": [...], "std": [...]}`) into a model's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardize {
    /// Mean of each feature.
    pub mean: Vec<f32>,
    /// Standard deviation of each feature (1 for a constant feature).
    pub std: Vec<f32>,
}

impl Standardize {
    /// The mean and (population) standard deviation of each feature of `table`.
    pub fn fit(table: &Table) -> Standardize {
        let f = table.num_features;
        let n = table.len().max(1) as f64;
        let mut sum = vec![0f64; f];
        for i in 0..table.len() {
            sum.iter_mut().zip(table.row(i)).for_each(|(s, &x)| *s += f64::from(x));
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut var = vec![0f64; f];
        for i in 0..table.len() {
            for ((v, &x), m) in var.iter_mut().zip(table.row(i)).zip(&mean) {
                *v += (f64::from(x) - m).powi(2);
            }
        }
        let std = var
            .iter()
            .map(|v| {
                let s = (v / n).sqrt();
                if s > 1e-12 {
                    s as f32
                } else {
                    1.0
                }
            })
            .collect();
        Standardize {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    /// Standardises one row in place.
    pub fn apply(&self, row: &mut [f32]) {
        for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
            *x = (*x - m) / s;
        }
    }

    /// The JSON text stored in a model's metadata.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("two float vectors serialise")
    }

    /// Reads [`Standardize::to_json`]'s text, checking that it has `features` entries of
    /// finite numbers with positive standard deviations.
    ///
    /// # Errors
    /// A one-line reason.
    pub fn from_json(text: &str, features: usize) -> std::result::Result<Standardize, String> {
        let s: Standardize = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if s.mean.len() != features || s.std.len() != features {
            return Err(format!(
                "{} means and {} stds for {features} features",
                s.mean.len(),
                s.std.len()
            ));
        }
        if s.mean.iter().chain(&s.std).any(|v| !v.is_finite()) || s.std.iter().any(|&v| v <= 0.0) {
            return Err("non-finite mean or non-positive std".to_string());
        }
        Ok(s)
    }
}

/// A table read from a CSV file, before any split.
#[derive(Debug, Clone)]
pub struct ReadTable {
    /// The rows.
    pub table: Table,
    /// Names of the feature columns (`column 0`, ... without a header).
    pub feature_names: Vec<String>,
    /// Name of the label column (its index without a header); `None` when it was absent
    /// (reading features for prediction).
    pub label_name: Option<String>,
    /// Class names in label order (classification), empty for regression.
    pub class_names: Vec<String>,
    /// Whether the first row was a header.
    pub header: bool,
    /// Rows dropped as bad ([`CsvOptions::drop_bad_rows`]), with their 1-based line numbers.
    pub dropped: Vec<u64>,
}

/// A CSV split into train and test parts, with the standardisation of its training part.
#[derive(Debug, Clone)]
pub struct TableSet {
    /// The data-set facts (features, class names).
    pub info: DatasetInfo,
    /// The training rows (not standardised).
    pub train: Table,
    /// The test rows (not standardised).
    pub test: Table,
    /// Fitted on `train` only.
    pub standardize: Standardize,
    /// Column names, the header flag and the dropped rows.
    pub read: ReadTable,
}

fn table_error(path: &Path, line: Option<u64>, column: Option<String>, reason: impl Into<String>) -> DatasetError {
    DatasetError::Table {
        path: path.to_path_buf(),
        line,
        column,
        reason: reason.into(),
    }
}

fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

/// Reads the whole CSV at `path` (no split, no standardisation).
///
/// With `require_label` false, a file without the label column (no such header name, or one
/// column fewer than `expect_features + 1`) is read as features only, for prediction.
///
/// # Errors
/// [`DatasetError::Table`] naming the file, and the line and column when the problem is in
/// one row; [`DatasetError::Io`].
pub fn read_table(
    path: &Path,
    options: &CsvOptions,
    require_label: bool,
    expect_features: Option<usize>,
) -> Result<ReadTable> {
    let text = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DatasetError::Missing {
            path: path.to_path_buf(),
            dataset: None,
        },
        _ => DatasetError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_slice());
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            table_error(path, line, None, format!("not valid CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.is_empty()) {
            continue; // a blank line
        }
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    if rows.is_empty() {
        return Err(table_error(path, None, None, "the file holds no rows"));
    }
    let header = options.header.unwrap_or_else(|| {
        let first = &rows[0].1;
        first.iter().all(|f| !is_number(f))
            || rows
                .get(1)
                .is_some_and(|(_, next)| first.iter().zip(next).any(|(a, b)| !is_number(a) && is_number(b)))
    });
    let columns = rows[0].1.len();
    let names: Vec<String> = if header {
        rows[0].1.clone()
    } else {
        (0..columns).map(|i| i.to_string()).collect()
    };
    let body = &rows[usize::from(header)..];
    if body.is_empty() {
        return Err(table_error(
            path,
            None,
            None,
            "the file holds a header but no data rows",
        ));
    }
    // Which column is the label (None: absent, features only).
    let label_index = match &options.label {
        LabelColumn::Last => Some(columns - 1),
        LabelColumn::Named(name) => match names.iter().position(|n| n == name) {
            Some(i) => Some(i),
            None => match name.parse::<usize>() {
                Ok(i) if i < columns => Some(i),
                Ok(_) if !require_label => None,
                Ok(i) => {
                    return Err(table_error(
                        path,
                        None,
                        None,
                        format!("label column {i} is out of range: the file has {columns} columns (0..{columns})"),
                    ))
                }
                Err(_) if !require_label => None,
                Err(_) => {
                    return Err(table_error(
                        path,
                        None,
                        None,
                        format!("no column named `{name}`; the columns are: {}", names.join(", ")),
                    ))
                }
            },
        },
    };
    let label_index = match (label_index, expect_features, require_label) {
        (_, Some(f), false) if columns == f => None,
        (l, _, _) => l,
    };
    let features = columns - usize::from(label_index.is_some());
    if features == 0 {
        return Err(table_error(path, None, None, "no feature column besides the label"));
    }
    if let Some(f) = expect_features {
        if f != features {
            return Err(table_error(
                path,
                None,
                None,
                format!("{features} feature columns, but the model takes {f}"),
            ));
        }
    }
    let column_name = |j: usize| {
        if header {
            format!("`{}`", names[j])
        } else {
            j.to_string()
        }
    };
    let mut values: Vec<f32> = Vec::new();
    let mut raw_labels: Vec<String> = Vec::new();
    let mut targets: Vec<f32> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut dropped: Vec<u64> = Vec::new();
    let regression = options.task == Task::Regression;
    'rows: for (line, fields) in body {
        let fail = |column: Option<String>, reason: String| table_error(path, Some(*line), column, reason);
        if fields.len() != columns {
            if options.drop_bad_rows {
                dropped.push(*line);
                continue;
            }
            return Err(fail(
                None,
                format!("{} fields where the first row has {columns}", fields.len()),
            ));
        }
        let start = values.len();
        for (j, field) in fields.iter().enumerate() {
            let is_label = Some(j) == label_index;
            if is_label && !regression {
                if field.is_empty() {
                    if options.drop_bad_rows {
                        values.truncate(start);
                        dropped.push(*line);
                        continue 'rows;
                    }
                    return Err(fail(Some(column_name(j)), "missing label".to_string()));
                }
                continue;
            }
            let parsed = field.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as f32);
            match parsed {
                Some(v) if is_label => targets.push(v),
                Some(v) => values.push(v),
                None => {
                    if options.drop_bad_rows {
                        values.truncate(start);
                        targets.truncate(lines.len());
                        dropped.push(*line);
                        continue 'rows;
                    }
                    let reason = if field.is_empty() {
                        "missing value".to_string()
                    } else {
                        format!("`{field}` is not a finite number")
                    };
                    return Err(fail(Some(column_name(j)), reason));
                }
            }
        }
        if let (Some(l), false) = (label_index, regression) {
            raw_labels.push(fields[l].clone());
        }
        lines.push(*line);
    }
    if lines.is_empty() {
        return Err(table_error(
            path,
            None,
            None,
            format!("all {} rows are bad and were dropped", dropped.len()),
        ));
    }
    let (labels, class_names) = match (label_index, regression) {
        (Some(l), false) => {
            let (labels, names) =
                classes_of(&raw_labels).map_err(|r| table_error(path, None, Some(column_name(l)), r))?;
            (Some(labels.into()), names)
        }
        _ => (None, Vec::new()),
    };
    let table = Table {
        features: values.into(),
        num_features: features,
        labels,
        targets: (label_index.is_some() && regression).then(|| targets.into()),
        lines: lines.into(),
    };
    Ok(ReadTable {
        table,
        feature_names: (0..columns)
            .filter(|&j| Some(j) != label_index)
            .map(|j| names[j].clone())
            .collect(),
        label_name: label_index.map(|j| names[j].clone()),
        class_names,
        header,
        dropped,
    })
}

/// Maps raw label strings to classes in sorted order: numerically when every label is an
/// integer, else as strings.
fn classes_of(raw: &[String]) -> std::result::Result<(Vec<usize>, Vec<String>), String> {
    let ints: Option<Vec<i64>> = raw.iter().map(|s| s.parse::<i64>().ok()).collect();
    if ints.is_none() {
        if let Some(bad) = raw.iter().find(|s| s.parse::<f64>().is_ok_and(|v| v.fract() != 0.0)) {
            return Err(format!(
                "label `{bad}` is a fractional number: class labels are integers or names (use the regression task for float targets)"
            ));
        }
    }
    let names: Vec<String> = match &ints {
        Some(ints) => ints
            .iter()
            .collect::<BTreeSet<_>>()
            .iter()
            .map(|v| v.to_string())
            .collect(),
        None => raw.iter().collect::<BTreeSet<_>>().into_iter().cloned().collect(),
    };
    let labels = match &ints {
        Some(ints) => ints
            .iter()
            .map(|v| {
                names
                    .iter()
                    .position(|n| *n == v.to_string())
                    .expect("a class of its own")
            })
            .collect(),
        None => raw
            .iter()
            .map(|s| names.binary_search(s).expect("a class of its own"))
            .collect(),
    };
    Ok((labels, names))
}

/// Reads a CSV, splits it (seeded shuffle) and fits the standardisation on the training part.
///
/// # Errors
/// As [`read_table`]; also when the split leaves a part empty.
pub fn open_csv(path: &Path, options: &CsvOptions) -> Result<TableSet> {
    let f = options.test_split;
    if !(f > 0.0 && f < 1.0) {
        return Err(table_error(
            path,
            None,
            None,
            format!("the test split must be strictly between 0 and 1, got {f}"),
        ));
    }
    let read = read_table(path, options, true, None)?;
    let n = read.table.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut seeded_rng(mix(options.seed, SPLIT_STREAM)));
    let n_test = (n as f64 * f).round() as usize;
    if n_test == 0 || n_test == n {
        return Err(table_error(
            path,
            None,
            None,
            format!("{n} rows are too few for a test split of {f}"),
        ));
    }
    let (test_rows, train_rows) = order.split_at(n_test);
    // Rows keep their file order inside each part.
    let (mut train_rows, mut test_rows) = (train_rows.to_vec(), test_rows.to_vec());
    train_rows.sort_unstable();
    test_rows.sort_unstable();
    let train = read.table.select(&train_rows);
    let test = read.table.select(&test_rows);
    let standardize = Standardize::fit(&train);
    let info = DatasetInfo::table(path, read.table.num_features(), read.class_names.clone());
    Ok(TableSet {
        info,
        train,
        test,
        standardize,
        read,
    })
}

/// Shuffled, seeded batches of a [`Table`]: [`Batch::images`] is `[B, features]`,
/// [`Batch::labels`] the classes (classification) and [`Batch::targets`] `[B, 1]`
/// (regression). The order of epoch `e` depends on `(seed, e)` only, as in
/// [`crate::DataLoader`].
#[derive(Debug, Clone)]
pub struct TableLoader {
    table: Table,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
}

impl TableLoader {
    /// Batches of `batch_size` rows in file order.
    ///
    /// # Panics
    /// When `batch_size` is 0.
    pub fn new(table: &Table, batch_size: usize) -> TableLoader {
        assert!(batch_size > 0, "TableLoader: batch_size must be at least 1");
        TableLoader {
            table: table.clone(),
            batch_size,
            seed: 0,
            shuffle: false,
        }
    }

    /// Shuffles every epoch with a permutation drawn from `(seed, epoch)`.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle = true;
        self.seed = seed;
        self
    }

    /// Batches per epoch (the last one may be partial).
    pub fn num_batches(&self) -> usize {
        self.table.len().div_ceil(self.batch_size)
    }

    /// The row order of `epoch`.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.table.len()).collect();
        if self.shuffle {
            order.shuffle(&mut seeded_rng(mix(self.seed, epoch)));
        }
        order
    }

    /// The batches of `epoch`.
    pub fn epoch(&self, epoch: u64) -> impl Iterator<Item = Batch> + '_ {
        let order = self.order(epoch);
        let chunks: Vec<Vec<usize>> = order.chunks(self.batch_size).map(<[usize]>::to_vec).collect();
        chunks.into_iter().map(move |indices| self.assemble(&indices))
    }

    /// The batch of the rows `indices`.
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn assemble(&self, indices: &[usize]) -> Batch {
        let t = &self.table;
        let f = t.num_features;
        let mut values = Vec::with_capacity(indices.len() * f);
        for &i in indices {
            values.extend_from_slice(t.row(i));
        }
        let images = Tensor::from_vec(values, &[indices.len(), f]).expect("B*F values");
        let labels = t
            .labels
            .as_ref()
            .map_or_else(Vec::new, |l| indices.iter().map(|&i| l[i]).collect());
        let targets = t.targets.as_ref().map(|tg| {
            Tensor::from_vec(indices.iter().map(|&i| tg[i]).collect(), &[indices.len(), 1]).expect("B targets")
        });
        Batch {
            images,
            labels,
            one_hot: None,
            indices: indices.to_vec(),
            targets,
        }
    }
}
