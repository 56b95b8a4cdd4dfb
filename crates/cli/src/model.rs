//! Choosing the architecture: from `--model/--layers/--hidden` for training, from a saved file's
//! metadata (or the flags, for files saved by PyTorch) for eval and predict.

use std::path::Path;

use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::DatasetInfo;
use neurite_nn::serialize;
use neurite_nn::spec::{parse_spec_file, ModelSource, ModelSpec, METADATA_KEY};
use neurite_nn::{Module, Sequential};
use neurite_tensor::seeded_rng;

use crate::cli::ModelArgs;
use crate::error::{CliError, CliResult};

/// Metadata key recording which data set a model was trained on.
pub const DATASET_KEY: &str = "neurite.dataset";

/// The architecture flags of any command: `--model NAME|FILE`, `--layers SPEC`, `--hidden`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelFlags<'a> {
    /// `--model`.
    pub model: Option<&'a str>,
    /// `--layers`.
    pub layers: Option<&'a str>,
    /// `--hidden`.
    pub hidden: Option<&'a [usize]>,
}

/// The architecture the flags name for examples of `data_shape` (the preset `mlp` when none
/// is given). With `classes`, the model's output must be one logit per class.
pub fn spec_from_flags(flags: ModelFlags<'_>, data_shape: &[usize], classes: Option<usize>) -> CliResult<ModelSpec> {
    let spec = match (flags.layers, flags.model) {
        (Some(text), _) => {
            ModelSpec::from_inline(text, data_shape).map_err(|e| CliError::usage(format!("--layers: {e}")))?
        }
        (None, model) => match ModelSource::parse(model.unwrap_or("mlp")) {
            ModelSource::Preset(name) => {
                if flags.hidden.is_some() && !name.to_ascii_lowercase().starts_with("mlp") {
                    return Err(CliError::usage(format!(
                        "--hidden applies to the mlp presets, not --model {name}"
                    )));
                }
                ModelSpec::preset(&name, flags.hidden, data_shape, classes.unwrap_or(10))
                    .map_err(|e| CliError::usage(format!("--model {name}: {e}")))?
            }
            ModelSource::File(path) => {
                if flags.hidden.is_some() {
                    return Err(CliError::usage(
                        "--hidden applies to the mlp presets, not to a spec file",
                    ));
                }
                parse_spec_file(&path, data_shape).map_err(|e| CliError::usage(format!("--model: {e}")))?
            }
        },
    };
    if let Some(classes) = classes {
        spec.check_classes(classes)
            .map_err(|e| CliError::usage(format!("model `{}`: {e}", spec.name())))?;
    }
    Ok(spec)
}

/// The architecture flags of eval and predict.
pub fn flags(args: &ModelArgs) -> ModelFlags<'_> {
    ModelFlags {
        model: args.model.as_deref(),
        layers: args.layers.as_deref(),
        hidden: args.hidden.as_deref(),
    }
}

/// The architecture of a weights file: its neurite metadata, else the architecture flags.
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

/// The architecture named by a file's metadata, else by the flags.
fn spec_from_header(
    weights: &Path,
    metadata: &serialize::Metadata,
    args: &ModelArgs,
    fallback: DatasetKind,
) -> CliResult<(ModelSpec, Option<DatasetKind>)> {
    let recorded = metadata.get(DATASET_KEY).and_then(|d| d.parse::<DatasetKind>().ok());
    if !args.is_given() {
        if let Some(text) = metadata.get(METADATA_KEY) {
            let spec = ModelSpec::from_metadata(text)
                .map_err(|e| CliError::new(format!("{}: bad `{METADATA_KEY}` metadata: {e}", weights.display())))?;
            return Ok((spec, recorded));
        }
        return Err(CliError::usage(format!(
            "{} has no neurite architecture metadata (saved by PyTorch?): say which model it is with --model or --layers (and --hidden for an MLP preset)",
            weights.display()
        )));
    }
    let info = DatasetInfo::builtin(recorded.unwrap_or(fallback));
    Ok((
        spec_from_flags(flags(args), &info.input_shape(), Some(info.num_classes()))?,
        recorded,
    ))
}

/// Checks that the tensors of `spec` are exactly those of the file (names and shapes), before
/// anything is allocated for the model: metadata must not size memory the file does not hold.
fn check_tensors(weights: &Path, spec: &ModelSpec, header: &serialize::FileHeader) -> CliResult {
    let wanted = spec.tensor_shapes();
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

/// Builds `spec` (without a final softmax: eval and predict work on logits) and loads
/// `weights` into it (whose tensors [`spec_for_file`] has checked).
///
/// The model's initial weights and the decoded file both take memory, so that much is asked
/// for first, fallibly: a model too big for this machine is an error, not an abort.
pub fn load_model(spec: &ModelSpec, weights: &Path) -> CliResult<Sequential> {
    let values: u64 = spec
        .tensor_shapes()
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
    let mut model = spec.logits_spec().build(&mut seeded_rng(0));
    serialize::load_into(&mut model, weights).map_err(|e| CliError::new(e.to_string()))?;
    model.set_training(false);
    Ok(model)
}
