//! Opening data sets for the commands: the shared data-directory rule, MNIST's fallback to
//! the embedded sample, and the fetch hint for everything else.

use std::path::PathBuf;

use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::data_dir::resolve_data_dir;
use neurite_datasets::{mnist, Dataset, DatasetError};

use crate::error::{CliError, CliResult};

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
pub fn open(kind: DatasetKind, data_dir: Option<&std::path::Path>) -> CliResult<Opened> {
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
