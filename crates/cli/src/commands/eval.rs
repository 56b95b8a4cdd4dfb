//! `neurite eval`: accuracy, per-class accuracy and the confusion matrix of saved weights on
//! a data set's test part: a built-in set, an image folder or a CSV table (read the way the
//! model's training read it, with the training part's standardisation).

use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::csv::TableLoader;
use neurite_datasets::{DataLoader, Layout};
use neurite_nn::infer::Inference;
use neurite_nn::metrics::ConfusionMatrix;
use neurite_nn::{Module, Sequential};
use neurite_tensor::{no_grad, Tensor};
use serde_json::json;

use crate::cli::EvalArgs;
use crate::data::{self, OpenedAny};
use crate::error::{CliError, CliResult};
use crate::model::{load_model, spec_for_file};
use crate::output::{out, outln};
use crate::source::{recorded_data, DatasetArg, SourceArgs};

/// Runs `neurite eval`.
pub fn run(args: &EvalArgs) -> CliResult {
    let fallback = match &args.dataset {
        Some(DatasetArg::BuiltIn(kind)) => *kind,
        _ => DatasetKind::Mnist,
    };
    let (spec, recorded_kind) = spec_for_file(&args.weights, &args.model, fallback)?;
    // The weights first: a bad file is reported before any note about the data.
    let mut model = load_model(&spec, &args.weights)?;
    let (record, standardize) = recorded_data(&args.weights, spec.input_shape().iter().product())?;
    let given_path = match &args.dataset {
        Some(DatasetArg::Folder(p) | DatasetArg::Csv(p)) => Some(p.as_path()),
        _ => None,
    };
    let arg = match (&args.dataset, &record) {
        (Some(DatasetArg::BuiltIn(kind)), _) => DatasetArg::BuiltIn(*kind),
        (_, Some(record)) => record.dataset_arg(given_path),
        (Some(other), None) => other.clone(),
        (None, None) => DatasetArg::BuiltIn(recorded_kind.unwrap_or(DatasetKind::Mnist)),
    };
    let source = record.as_ref().map_or_else(SourceArgs::default, |r| r.source_args());
    let opened = data::open_any(&arg, &source, args.data.data_dir.as_deref())?;
    let (info, embedded) = match &opened {
        OpenedAny::Images(o, _) => (o.data.info.clone(), o.is_embedded()),
        OpenedAny::Table(t) => (t.set.info.clone(), false),
    };
    if let OpenedAny::Table(t) = &opened {
        if t.set.test.targets().is_some() {
            return crate::regression::eval(args, &spec, &mut model, t, standardize);
        }
    }
    // An MLP takes flattened inputs (only the count must agree); a CNN the exact shape.
    let input = info.input_shape();
    let fits = match &spec {
        _ if spec.takes_flat_input() => spec.input_shape() == [input.iter().product::<usize>()],
        _ => spec.input_shape() == input,
    };
    if spec.classes() != info.num_classes() || !fits {
        return Err(CliError::new(format!(
            "{} is a {} for input {:?} with {} classes, but {} has inputs {input:?} with {} classes",
            args.weights.display(),
            spec.name(),
            spec.input_shape(),
            spec.classes(),
            info.display_name,
            info.num_classes()
        )));
    }
    let mut confusion = ConfusionMatrix::new(info.num_classes());
    // MLPs run on the inference path (no graph, buffers reused, the same logits).
    let mut fast = Inference::new(&spec, &model);
    match &opened {
        OpenedAny::Images(o, _) => {
            let layout = if spec.takes_flat_input() {
                Layout::Flat
            } else {
                Layout::Nchw
            };
            let loader = DataLoader::new(&o.data.test, 1000).layout(layout);
            // On a pool worker, as `train`: parallel ops then split work with this thread.
            rayon::scope(|_| {
                no_grad(|| {
                    for batch in loader.epoch(0) {
                        classify(&mut fast, &mut model, &batch.images, &batch.labels, &mut confusion);
                    }
                })
            });
        }
        OpenedAny::Table(t) => {
            let Some(standardize) = &standardize else {
                return Err(CliError::new(format!(
                    "{} has no standardisation metadata: it was not trained on a CSV by `neurite train`",
                    args.weights.display()
                )));
            };
            let loader = TableLoader::new(&t.set.test.standardized(standardize), 1000);
            rayon::scope(|_| {
                no_grad(|| {
                    for batch in loader.epoch(0) {
                        classify(&mut fast, &mut model, &batch.images, &batch.labels, &mut confusion);
                    }
                })
            });
        }
    }
    let per_class = confusion.per_class_accuracy();
    if args.json {
        let value = json!({
            "weights": args.weights.display().to_string(),
            "dataset": info.kind().map_or_else(|| info.source.to_string(), |k| k.name().to_string()),
            "embedded_sample": embedded,
            "samples": confusion.total(),
            "accuracy": confusion.accuracy(),
            "per_class_accuracy": per_class,
            "confusion_matrix": confusion.rows(),
        });
        outln!("{}", serde_json::to_string(&value)?)?;
        return Ok(());
    }
    let names = &info.class_names;
    let unit = if info.image_shape().is_some() { "images" } else { "rows" };
    outln!(
        "{} on {} test ({} {unit}): accuracy {:.2}%",
        spec.name(),
        info.display_name,
        confusion.total(),
        confusion.accuracy() * 100.0
    )?;
    outln!("\n{:>12}  {:>8}", "class", "accuracy")?;
    for (name, acc) in names.iter().zip(&per_class) {
        match acc {
            Some(acc) => outln!("{name:>12}  {:>7.2}%", acc * 100.0)?,
            None => outln!("{name:>12}  {:>8}", format!("no {unit}"))?,
        }
    }
    outln!("\nconfusion matrix (rows: true class, columns: predicted)")?;
    let matrix = confusion.rows();
    out!("{:>12}", "")?;
    for j in 0..matrix.len() {
        out!(" {j:>5}")?;
    }
    outln!()?;
    for (name, row) in names.iter().zip(matrix) {
        out!("{name:>12}")?;
        for v in row {
            out!(" {v:>5}")?;
        }
        outln!()?;
    }
    Ok(())
}

/// Adds one batch's predictions to `confusion`: from the inference path when the model has
/// one, else from the graph forward's logits.
fn classify(
    fast: &mut Option<Inference>,
    model: &mut Sequential,
    images: &Tensor,
    labels: &[usize],
    confusion: &mut ConfusionMatrix,
) {
    match fast {
        Some(fast) => confusion.add_predictions(fast.predict(images), labels),
        None => confusion.update(&model.forward(images), labels),
    }
}
