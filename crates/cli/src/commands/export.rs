//! `neurite export`: saved weights and their architecture to an ONNX model.

use neurite_datasets::catalog::DatasetKind;
use neurite_nn::{onnx, serialize, Module};
use neurite_tensor::seeded_rng;

use crate::cli::ExportArgs;
use crate::error::{CliError, CliResult};
use crate::model::spec_for_file;
use crate::output::outln;

/// Runs `neurite export`.
pub fn run(args: &ExportArgs) -> CliResult {
    if args.onnx.exists() && !args.overwrite {
        return Err(CliError::usage(format!(
            "--onnx {} already exists; pass --overwrite to replace it",
            args.onnx.display()
        )));
    }
    let (spec, _) = spec_for_file(&args.weights, &args.model, args.dataset.unwrap_or(DatasetKind::Mnist))?;
    // The spec as trained (a final softmax included): what a deployed model computes.
    let mut model = spec.build(&mut seeded_rng(0));
    serialize::load_into(&mut model, &args.weights).map_err(|e| CliError::new(e.to_string()))?;
    model.set_training(false);
    onnx::export(&model, &spec, &args.onnx).map_err(|e| CliError::new(e.to_string()))?;
    outln!(
        "wrote {} ({spec}; input `{}` [batch, {}], output `{}`)",
        args.onnx.display(),
        onnx::INPUT_NAME,
        join(spec.input_shape()),
        onnx::OUTPUT_NAME
    )?;
    Ok(())
}

fn join(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}
