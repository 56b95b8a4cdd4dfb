//! Opening data sets for the commands: the shared data-directory rule, MNIST's fallback to
//! the embedded sample, the fetch hint for everything else, and image folders and CSV tables
//! named by path.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use neurite_datasets::csv::{open_csv, TableSet};
use neurite_datasets::folder::open_folder;

use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::data_dir::resolve_data_dir;
use neurite_datasets::{mnist, Dataset, DatasetError};

use crate::error::{CliError, CliResult};
use crate::output::plural;
use crate::source::{absolute, DataRecord, DatasetArg, SourceArgs};

/// A loaded data set and where it came from.
pub struct Opened {
    /// The train and test splits.
    pub data: Dataset,
    /// Folder holding the files, or `None` for the embedded sample.
    pub files: Option<PathBuf>,
}

impl Opened {
    /// Whether this is MNIST's embedded sample rather than the full files.
    pub fn is_embedded(&self) -> bool {
        self.files.is_none()
    }
}

/// Opens `kind` from the data directory (`--data-dir`, else `NEURITE_DATA_DIR`, else the
/// per-user default). MNIST with none of its files falls back to the embedded sample and
/// always says so on stderr; a partial or damaged set, and any other set without files, is
/// an error naming the file.
pub fn open(kind: DatasetKind, data_dir: Option<&Path>) -> CliResult<Opened> {
    let (dir, _) = resolve_data_dir(data_dir);
    if kind == DatasetKind::Mnist {
        let (data, source) = mnist::load_or_embedded(&dir).map_err(describe)?;
        return Ok(match source {
            mnist::MnistSource::Files(path) => Opened {
                data,
                files: Some(path),
            },
            mnist::MnistSource::Embedded => {
                eprintln!(
                    "note: no MNIST files in {}; {source}",
                    dir.join(kind.subdir()).display()
                );
                Opened { data, files: None }
            }
        });
    }
    let data = neurite_datasets::load(kind, &dir).map_err(describe)?;
    Ok(Opened {
        data,
        files: Some(dir.join(kind.subdir())),
    })
}

/// One line for a data-set error (the datasets crate already names the file and the problem).
fn describe(e: DatasetError) -> CliError {
    CliError::new(e.to_string())
}

/// An opened CSV table and how it was read.
pub struct OpenedTable {
    /// The split table and its standardisation.
    pub set: TableSet,
    /// The record a model trained on it keeps.
    pub record: DataRecord,
}

/// Any opened data set.
pub enum OpenedAny {
    /// Images: a built-in set or a folder (then with its record).
    Images(Opened, Option<DataRecord>),
    /// A CSV table.
    Table(OpenedTable),
}

/// Opens what `--dataset` names: a built-in set (as [`open`]), an image folder (decoding it
/// into its cache first when its files changed, with a progress bar) or a CSV table.
pub fn open_any(arg: &DatasetArg, source: &SourceArgs, data_dir: Option<&Path>) -> CliResult<OpenedAny> {
    match arg {
        DatasetArg::BuiltIn(kind) => Ok(OpenedAny::Images(open(*kind, data_dir)?, None)),
        DatasetArg::Folder(path) => {
            let options = source.folder_options();
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "decoding images [{bar:30.cyan/blue}] {pos}/{len} ({elapsed_precise}<{eta_precise})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            let opened = open_folder(path, &options, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            });
            bar.finish_and_clear();
            let opened = opened.map_err(describe)?;
            let d = &opened.data;
            if opened.rebuilt {
                let skipped = match opened.skipped.len() {
                    0 => String::new(),
                    n => format!("; skipped {} that are not decodable images", plural(n, "file", "files")),
                };
                eprintln!(
                    "note: decoded {} into the cache {}{skipped}",
                    plural(d.train.len() + d.test.len(), "image", "images"),
                    opened.cache.display()
                );
            } else {
                eprintln!(
                    "note: reusing the cache {} (the folder's files are unchanged)",
                    opened.cache.display()
                );
            }
            let record = DataRecord::Folder {
                path: absolute(path),
                image_size: options.image_size,
                channels: options.channels,
                test_split: options.test_split,
                split_seed: options.seed,
                skip_bad: options.skip_bad,
                shape: d.image_shape(),
                class_names: d.class_names().to_vec(),
            };
            Ok(OpenedAny::Images(
                Opened {
                    data: opened.data,
                    files: Some(path.clone()),
                },
                Some(record),
            ))
        }
        DatasetArg::Csv(path) => {
            let options = source.csv_options();
            let set = open_csv(path, &options).map_err(describe)?;
            if !set.read.dropped.is_empty() {
                let lines: Vec<String> = set.read.dropped.iter().take(10).map(u64::to_string).collect();
                eprintln!(
                    "note: dropped {} with a missing or non-numeric value (lines {}{})",
                    plural(set.read.dropped.len(), "bad row", "bad rows"),
                    lines.join(", "),
                    if set.read.dropped.len() > 10 { ", ..." } else { "" }
                );
            }
            let record = DataRecord::Csv {
                path: absolute(path),
                label: set.read.label_name.clone().unwrap_or_default(),
                header: set.read.header,
                task: options.task,
                drop_bad_rows: options.drop_bad_rows,
                test_split: options.test_split,
                split_seed: options.seed,
                feature_names: set.read.feature_names.clone(),
                class_names: set.read.class_names.clone(),
            };
            Ok(OpenedAny::Table(OpenedTable { set, record }))
        }
    }
}
