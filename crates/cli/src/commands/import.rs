//! `neurite import`: an ONNX model to DIR/model.safetensors with its architecture in the
//! metadata, as `neurite train` saves a model, so that eval, predict and summary read it.

use std::collections::HashMap;

use neurite_nn::onnx;
use neurite_nn::serialize;
use neurite_nn::spec::METADATA_KEY;

use crate::cli::ImportArgs;
use crate::error::{CliError, CliResult};
use crate::model::DATASET_KEY;
use crate::output::outln;
use crate::run_dir::MODEL;

/// Runs `neurite import`.
pub fn run(args: &ImportArgs) -> CliResult {
    let dest = args.out.join(MODEL);
    if dest.exists() && !args.overwrite {
        return Err(CliError::usage(format!(
            "--out {} already holds {MODEL}; pass --overwrite to replace it",
            args.out.display()
        )));
    }
    let (spec, tensors) = onnx::import(&args.onnx).map_err(|e| CliError::new(e.to_string()))?;
    if let Some(kind) = args.dataset {
        let info = neurite_datasets::DatasetInfo::builtin(kind);
        let flat: usize = info.input_shape().iter().product();
        let fits = spec.input_shape() == info.input_shape().as_slice() || spec.input_shape() == [flat];
        if !fits {
            return Err(CliError::usage(format!(
                "--dataset {}: the model takes {:?} but {} examples are {:?}",
                kind.name(),
                spec.input_shape(),
                kind.name(),
                info.input_shape()
            )));
        }
        spec.check_classes(info.num_classes())
            .map_err(|e| CliError::usage(format!("--dataset {}: {e}", kind.name())))?;
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::new(format!("--out {}: cannot create: {e}", args.out.display())))?;
    let mut metadata = HashMap::from([(METADATA_KEY.to_string(), spec.to_metadata())]);
    if let Some(kind) = args.dataset {
        metadata.insert(DATASET_KEY.to_string(), kind.name().to_string());
    }
    let tensors: Vec<_> = spec
        .tensor_shapes()
        .into_iter()
        .map(|(name, _)| {
            let t = tensors[&name].clone();
            (name, t)
        })
        .collect();
    serialize::save_tensors(&tensors, &dest, &metadata).map_err(|e| CliError::new(e.to_string()))?;
    outln!("wrote {} ({spec}): {}", dest.display(), spec.layers_text())?;
    Ok(())
}
