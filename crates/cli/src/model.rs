//! Choosing the architecture: from `--model/--hidden` for training, from a saved file's
//! metadata (or the flags, for files saved by PyTorch) for eval and predict.

use std::path::Path;

use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::DatasetInfo;
use neurite_nn::models::{ModelSpec, METADATA_KEY};
use neurite_nn::serialize;
use neurite_nn::{Module, Sequential};
use neurite_tensor::seeded_rng;

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

/// The architecture `model` (with `hidden` sizes for an MLP) on inputs of `input_shape` with `classes` classes.
pub fn spec_from_args(
    model: ModelName,
    hidden: Option<&[usize]>,
    input_shape: &[usize],
    classes: usize,
) -> CliResult<ModelSpec> {
    let name = model_name(model);
    ModelSpec::from_name(name, hidden, input_shape, classes)
        .map_err(|e| CliError::usage(format!("--model {name}: {e}")))
}

/// The architecture of a weights file: its neurite metadata, else `--model/--hidden`.
/// Also returns the data set recorded in the file, if any.
pub fn spec_for_file(
    weights: &Path,
    args: &ModelArgs,
    fallback: DatasetKind,
) -> CliResult<(ModelSpec, Option<DatasetKind>)> {
    let header = serialize::read_header(weights).map_err(|e| CliError::new(e.to_string()))?;
    let (spec, recorded) = spec_from_header(weights, &header.metadata, args, fallback)?;
    check_tensors(weights, &spec, &header)?;
    Ok((spec, recorded))
}

/// The architecture named by a file's metadata, else by `--model/--hidden`.
fn spec_from_header(
    weights: &Path,
    metadata: &serialize::Metadata,
    args: &ModelArgs,
    fallback: DatasetKind,
) -> CliResult<(ModelSpec, Option<DatasetKind>)> {
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
    let info = DatasetInfo::builtin(recorded.unwrap_or(fallback));
    let model = args.model.unwrap_or(ModelName::Mlp);
    let spec = spec_from_args(model, args.hidden.as_deref(), &info.input_shape(), info.num_classes())?;
    Ok((spec, recorded))
}

/// Checks that the tensors of `spec` are exactly those of the file (names and shapes), before
/// anything is allocated for the model: metadata must not size memory the file does not hold.
fn check_tensors(weights: &Path, spec: &ModelSpec, header: &serialize::FileHeader) -> CliResult {
    let wanted = spec.parameter_shapes();
    for (name, shape) in &wanted {
        match header.tensors.get(name) {
            None => {
                return Err(CliError::new(format!(
                    "{}: the architecture {spec} needs tensor `{name}` of shape {shape:?}, which the file lacks",
                    weights.display()
                )))
            }
            Some(t) if &t.shape != shape => {
                return Err(CliError::new(format!(
                "{}: the architecture {spec} needs tensor `{name}` of shape {shape:?}, but the file's has shape {:?}",
                weights.display(),
                t.shape
            )))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = header.tensors.keys().find(|n| !wanted.iter().any(|(w, _)| w == *n)) {
        return Err(CliError::new(format!(
            "{}: tensor `{extra}` is not part of the architecture {spec}",
            weights.display()
        )));
    }
    Ok(())
}

/// Builds `spec` and loads `weights` into it (whose tensors [`spec_for_file`] has checked).
///
/// The model's initial weights and the decoded file both take memory, so that much is asked
/// for first, fallibly: a model too big for this machine is an error, not an abort.
pub fn load_model(spec: &ModelSpec, weights: &Path) -> CliResult<Sequential> {
    let values: u64 = spec
        .parameter_shapes()
        .iter()
        .map(|(_, s)| s.iter().map(|&d| d as u64).product::<u64>())
        .sum();
    let bytes = values.saturating_mul(2 * 4);
    let mut probe: Vec<u8> = Vec::new();
    if usize::try_from(bytes).map_or(true, |b| probe.try_reserve_exact(b).is_err()) {
        return Err(CliError::new(format!(
            "{}: the model has {values} parameters and needs {:.1} GB of memory to load, which cannot be allocated",
            weights.display(),
            bytes as f64 / 1e9
        )));
    }
    drop(probe);
    let mut model = spec.build(&mut seeded_rng(0));
    serialize::load_into(&mut model, weights).map_err(|e| CliError::new(e.to_string()))?;
    model.set_training(false);
    Ok(model)
}
