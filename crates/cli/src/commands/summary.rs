//! `neurite summary`: Keras' `model.summary()` table for a preset, a spec (inline or file),
//! Keras JSON or a saved model.

use std::path::Path;

use neurite_datasets::DatasetInfo;
use neurite_nn::spec::ModelSpec;

use crate::cli::{ModelArgs, SummaryArgs};
use crate::error::CliResult;
use crate::model::{spec_for_file, spec_from_flags, ModelFlags};
use crate::output::outln;

/// Whether `model` names a saved model rather than an architecture.
fn is_weights_file(model: &str) -> bool {
    Path::new(model)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
}

/// Runs `neurite summary`.
pub fn run(args: &SummaryArgs) -> CliResult {
    let info = DatasetInfo::builtin(args.dataset);
    let (shape, classes) = (info.input_shape(), info.num_classes());
    let spec: ModelSpec = match args.model.as_deref() {
        Some(file) if is_weights_file(file) => {
            let flags = ModelArgs {
                model: None,
                layers: None,
                hidden: args.hidden.clone(),
            };
            spec_for_file(Path::new(file), &flags, args.dataset)?.0
        }
        model => {
            // Presets are sized for the data set's classes; a spec states its own output.
            let flags = ModelFlags {
                model,
                layers: args.layers.as_deref(),
                hidden: args.hidden.as_deref(),
            };
            let preset = args.layers.is_none() && model.is_none_or(|m| !m.contains('.'));
            spec_from_flags(flags, &shape, preset.then_some(classes))?
        }
    };
    outln!("{}", spec.summary())?;
    Ok(())
}
