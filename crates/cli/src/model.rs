//! Choosing the architecture: from `--model/--hidden` for training, from a saved file's
//! metadata (or the flags, for files saved by PyTorch) for eval and predict.

use std::path::Path;

use neurite_datasets::catalog::DatasetKind;
use neurite_nn::models::{ModelSpec, METADATA_KEY};
use neurite_nn::serialize;

use crate::cli::{ModelArgs, ModelName};
use crate::error::{CliError, CliResult};

/// Metadata key recording which data set a model was trained on.
pub const DATASET_KEY: &str = "neurite.dataset";

/// The CLI name of a model.
pub fn model_name(m: ModelName) -> &'static str {
    match m {
        ModelName::Mlp => "mlp",
        ModelName::MlpWide => "mlp-wide",
        ModelName::Cnn => "cnn",
        ModelName::CifarCnn => "cifar-cnn",
    }
}

/// The architecture `model` (with `hidden` sizes for an MLP) on images of `image_shape` with `classes` classes.
pub fn spec_from_args(
    model: ModelName,
    hidden: Option<&[usize]>,
    image_shape: [usize; 3],
    classes: usize,
) -> CliResult<ModelSpec> {
    let name = model_name(model);
    ModelSpec::from_name(name, hidden, &image_shape, classes)
        .map_err(|e| CliError::usage(format!("--model {name}: {e}")))
}

/// The architecture of a weights file: its neurite metadata, else `--model/--hidden`.
/// Also returns the data set recorded in the file, if any.
pub fn spec_for_file(
    weights: &Path,
    args: &ModelArgs,
    fallback: DatasetKind,
) -> CliResult<(ModelSpec, Option<DatasetKind>)> {
    let metadata = serialize::read_metadata(weights).map_err(|e| CliError::new(e.to_string()))?;
    let recorded = metadata.get(DATASET_KEY).and_then(|d| d.parse::<DatasetKind>().ok());
    if args.model.is_none() {
        if let Some(text) = metadata.get(METADATA_KEY) {
            let spec = ModelSpec::from_metadata(text)
                .map_err(|e| CliError::new(format!("{}: bad `{METADATA_KEY}` metadata: {e}", weights.display())))?;
            return Ok((spec, recorded));
        }
        if args.hidden.is_none() {
            return Err(CliError::usage(format!(
                "{} has no neurite architecture metadata (saved by PyTorch?): say which model it is with --model (and --hidden for an MLP)",
                weights.display()
            )));
        }
    }
    let kind = recorded.unwrap_or(fallback);
    let (shape, classes) = shape_of(kind);
    let model = args.model.unwrap_or(ModelName::Mlp);
    Ok((spec_from_args(model, args.hidden.as_deref(), shape, classes)?, recorded))
}

/// Image shape `[C, H, W]` and class count of a data set, without opening it.
pub fn shape_of(kind: DatasetKind) -> ([usize; 3], usize) {
    match kind {
        DatasetKind::Mnist | DatasetKind::FashionMnist => ([1, 28, 28], 10),
        DatasetKind::Cifar10 => ([3, 32, 32], 10),
        DatasetKind::Cifar100 => ([3, 32, 32], 100),
    }
}
