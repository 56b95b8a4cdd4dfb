//! `neurite eval`: accuracy, per-class accuracy and the confusion matrix of saved weights on
//! a data set's test split.

use neurite_datasets::{DataLoader, Layout};
use neurite_nn::metrics::ConfusionMatrix;
use neurite_nn::Module;
use neurite_tensor::no_grad;
use serde_json::json;

use crate::cli::EvalArgs;
use crate::data;
use crate::error::{CliError, CliResult};
use crate::model::{load_model, spec_for_file};
use crate::output::{out, outln};

/// Runs `neurite eval`.
pub fn run(args: &EvalArgs) -> CliResult {
    let (spec, _) = spec_for_file(&args.weights, &args.model, args.dataset)?;
    // The weights first: a bad file is reported before any note about the data.
    let mut model = load_model(&spec, &args.weights)?;
    let opened = data::open(args.dataset, args.data.data_dir.as_deref())?;
    let d = &opened.data;
    // An MLP takes flattened images (only the count must agree); a CNN the exact shape.
    let fits = if spec.takes_flat_input() {
        spec.input_shape() == [d.image_shape().iter().product::<usize>()]
    } else {
        spec.input_shape() == d.image_shape()
    };
    if spec.classes() != d.num_classes() || !fits {
        return Err(CliError::new(format!(
            "{} is a {} for input {:?} with {} classes, but {} has images {:?} with {} classes",
            args.weights.display(),
            spec.name(),
            spec.input_shape(),
            spec.classes(),
            args.dataset.display_name(),
            d.image_shape(),
            d.num_classes()
        )));
    }
    let layout = if spec.takes_flat_input() {
        Layout::Flat
    } else {
        Layout::Nchw
    };
    let loader = DataLoader::new(&d.test, 1000).layout(layout);
    let mut confusion = ConfusionMatrix::new(d.num_classes());
    // On a pool worker, as `train`: parallel ops then split work with this thread.
    rayon::scope(|_| {
        no_grad(|| {
            for batch in loader.epoch(0) {
                let logits = model.forward(&batch.images);
                confusion.update(&logits, &batch.labels);
            }
        })
    });
    let per_class = confusion.per_class_accuracy();
    if args.json {
        let value = json!({
            "weights": args.weights.display().to_string(),
            "dataset": args.dataset.name(),
            "embedded_sample": opened.is_embedded(),
            "samples": confusion.total(),
            "accuracy": confusion.accuracy(),
            "per_class_accuracy": per_class,
            "confusion_matrix": confusion.rows(),
        });
        outln!("{}", serde_json::to_string(&value)?)?;
        return Ok(());
    }
    let names = d.class_names();
    outln!(
        "{} on {} test ({} images): accuracy {:.2}%",
        spec.name(),
        args.dataset.display_name(),
        confusion.total(),
        confusion.accuracy() * 100.0
    )?;
    outln!("\n{:>12}  {:>8}", "class", "accuracy")?;
    for (name, acc) in names.iter().zip(&per_class) {
        match acc {
            Some(acc) => outln!("{name:>12}  {:>7.2}%", acc * 100.0)?,
            None => outln!("{name:>12}  {:>8}", "no images")?,
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
