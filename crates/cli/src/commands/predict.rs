//! `neurite predict`: classifies image files, converted the way the training data looks, or
//! the rows of CSV files for a model trained on a table.

use std::path::Path;

use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::csv::{read_table, CsvOptions, LabelColumn, Standardize, Task};
use neurite_datasets::folder::{decode_image, image_to_chw};
use neurite_datasets::DatasetInfo;
use neurite_nn::infer::Inference;
use neurite_nn::{ModelSpec, Module, Sequential};
use neurite_tensor::{no_grad, Tensor};

use crate::cli::PredictArgs;
use crate::error::{CliError, CliResult};
use crate::model::{load_model, spec_for_file};
use crate::output::outln;
use crate::source::{recorded_data, DataRecord};

/// Reads an image and converts it to the model's input: `[C, H, W]` values in [0, 1].
///
/// The image is resized and converted exactly as an image folder's cache is
/// ([`image_to_chw`]). MNIST-family digits are light on dark, so with `light_on_dark` a grey
/// image whose border is mostly light (dark ink on paper) is inverted.
pub fn load_image(path: &Path, chw: [usize; 3], light_on_dark: bool) -> CliResult<Vec<f32>> {
    let img = decode_image(path).map_err(|e| {
        CliError::new(format!(
            "{}: not a readable PNG, JPEG, BMP or PGM image: {e}",
            path.display()
        ))
    })?;
    let [c, h, w] = chw;
    let mut values: Vec<f32> = image_to_chw(&img, chw).iter().map(|&b| f32::from(b) / 255.0).collect();
    if c == 1 && light_on_dark {
        let border: Vec<f32> = (0..h * w)
            .filter(|i| i / w == 0 || i % w == 0 || i / w == h - 1 || i % w == w - 1)
            .map(|i| values[i])
            .collect();
        if border.iter().sum::<f32>() / border.len().max(1) as f32 > 0.5 {
            values.iter_mut().for_each(|v| *v = 1.0 - *v);
        }
    }
    Ok(values)
}

/// A model's forward pass: the inference path when it runs the model (an MLP), else the
/// graph forward under `no_grad`; the same logits either way.
struct Forward<'m> {
    model: &'m mut Sequential,
    fast: Option<Inference>,
}

impl<'m> Forward<'m> {
    fn new(spec: &ModelSpec, model: &'m mut Sequential) -> Forward<'m> {
        let fast = Inference::new(spec, model);
        Forward { model, fast }
    }

    /// The logits of `input` (`[B, ...]`), `[B, outputs]`.
    fn logits(&mut self, input: &Tensor) -> Tensor {
        match &mut self.fast {
            Some(fast) => {
                let outputs = fast.outputs();
                let values = fast.logits(input).to_vec();
                Tensor::from_vec(values, &[input.dim(0), outputs]).expect("rows x outputs logits")
            }
            None => no_grad(|| self.model.forward(input)),
        }
    }
}

/// The three most likely classes of `input` (`[1, ...]`), as `name p%`.
fn top3(model: &mut Forward<'_>, input: &Tensor, names: &[String]) -> String {
    let probs = no_grad(|| model.logits(input).softmax(1)).to_vec();
    let mut ranked: Vec<(usize, f32)> = probs.into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
        .iter()
        .take(3)
        .map(|(i, p)| format!("{} {:.1}%", names[*i], p * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `neurite predict`.
pub fn run(args: &PredictArgs) -> CliResult {
    let fallback = args.dataset.unwrap_or(DatasetKind::Mnist);
    let (spec, recorded) = spec_for_file(&args.weights, &args.model, fallback)?;
    let mut model = load_model(&spec, &args.weights)?;
    let mut model = Forward::new(&spec, &mut model);
    let features: usize = spec.input_shape().iter().product();
    let (record, standardize) = recorded_data(&args.weights, features)?;
    let (chw, names, light_on_dark) = match (&record, args.dataset) {
        (Some(DataRecord::Csv { .. }), None) => {
            return predict_rows(args, &mut model, record.as_ref().expect("matched"), standardize)
        }
        (Some(DataRecord::Folder { shape, class_names, .. }), None) => (*shape, class_names.clone(), false),
        _ => {
            let kind = args.dataset.or(recorded).unwrap_or(DatasetKind::Mnist);
            let info = DatasetInfo::builtin(kind);
            let chw = match *spec.input_shape() {
                [c, h, w] => [c, h, w],
                _ => info.image_shape().expect("built-in sets are images"),
            };
            if chw.iter().product::<usize>() != features {
                return Err(CliError::usage(format!(
                    "the model takes {:?} inputs but {} images are {chw:?}; pass the right --dataset",
                    spec.input_shape(),
                    kind.display_name()
                )));
            }
            (chw, info.class_names.clone(), info.light_on_dark)
        }
    };
    let names: Vec<String> = (0..spec.classes())
        .map(|i| names.get(i).cloned().unwrap_or_else(|| format!("class {i}")))
        .collect();
    for path in &args.images {
        let values = load_image(path, chw, light_on_dark)?;
        let mut shape = vec![1];
        shape.extend(spec.input_shape());
        let input = Tensor::from_vec(values, &shape).map_err(|e| CliError::new(e.to_string()))?;
        outln!("{}: {}", path.display(), top3(&mut model, &input, &names))?;
    }
    Ok(())
}

/// Classifies every row of the CSV files (the label column may be there or not), standardised
/// with the training part's statistics.
fn predict_rows(
    args: &PredictArgs,
    model: &mut Forward<'_>,
    record: &DataRecord,
    standardize: Option<Standardize>,
) -> CliResult {
    let DataRecord::Csv {
        label,
        header,
        task,
        feature_names,
        class_names,
        ..
    } = record
    else {
        unreachable!("predict_rows is called for CSV records")
    };
    let Some(standardize) = standardize else {
        return Err(CliError::new(format!(
            "{}: a model trained on a CSV but without its standardisation metadata",
            args.weights.display()
        )));
    };
    let options = CsvOptions {
        label: LabelColumn::Named(label.clone()),
        header: Some(*header),
        task: *task,
        ..CsvOptions::default()
    };
    let target_scale = match task {
        Task::Regression => Some(crate::regression::recorded_target_scale(&args.weights)?),
        Task::Classification => None,
    };
    for path in &args.images {
        let read =
            read_table(path, &options, false, Some(feature_names.len())).map_err(|e| CliError::new(e.to_string()))?;
        let table = read.table.standardized(&standardize);
        for i in 0..table.len() {
            let input = Tensor::from_vec(table.row(i).to_vec(), &[1, table.num_features()])
                .map_err(|e| CliError::new(e.to_string()))?;
            let answer = match &target_scale {
                Some(s) => {
                    let y = model.logits(&input).item();
                    format!("{}", y * s.std[0] + s.mean[0])
                }
                None => top3(model, &input, class_names),
            };
            outln!("{} line {}: {answer}", path.display(), table.lines()[i])?;
        }
    }
    Ok(())
}
