//! `neurite predict`: classifies image files, converted the way the training data looks.

use std::path::Path;

use image::imageops::FilterType;
use neurite_datasets::catalog::DatasetKind;
use neurite_datasets::DatasetInfo;
use neurite_nn::models::ModelSpec;
use neurite_nn::Module;
use neurite_tensor::{no_grad, Tensor};

use crate::cli::PredictArgs;
use crate::error::{CliError, CliResult};
use crate::model::{load_model, spec_for_file};
use crate::output::outln;

/// Reads an image and converts it to the model's input: `[C, H, W]` values in [0, 1].
///
/// Grey data sets get grey, resized images; MNIST-family digits are light on dark, so an image
/// whose border is mostly light (dark ink on paper) is inverted. Colour sets get RGB planes.
pub fn load_image(path: &Path, [c, h, w]: [usize; 3], light_on_dark: bool) -> CliResult<Vec<f32>> {
    let img = image::ImageReader::open(path)
        .map_err(|e| CliError::new(format!("{}: cannot open: {e}", path.display())))?
        .with_guessed_format()
        .map_err(|e| CliError::new(format!("{}: cannot read: {e}", path.display())))?
        .decode()
        .map_err(|e| {
            CliError::new(format!(
                "{}: not a readable PNG, JPEG or PGM image: {e}",
                path.display()
            ))
        })?;
    if img.width() == 0 || img.height() == 0 {
        return Err(CliError::new(format!(
            "{}: the image is {}x{} pixels: nothing to classify",
            path.display(),
            img.width(),
            img.height()
        )));
    }
    let resized = img.resize_exact(w as u32, h as u32, FilterType::Triangle);
    if c == 1 {
        let grey = resized.to_luma8();
        let mut values: Vec<f32> = grey.pixels().map(|p| p.0[0] as f32 / 255.0).collect();
        if light_on_dark {
            let border: Vec<f32> = grey
                .enumerate_pixels()
                .filter(|(x, y, _)| *x == 0 || *y == 0 || *x as usize == w - 1 || *y as usize == h - 1)
                .map(|(_, _, p)| p.0[0] as f32 / 255.0)
                .collect();
            if border.iter().sum::<f32>() / border.len().max(1) as f32 > 0.5 {
                values.iter_mut().for_each(|v| *v = 1.0 - *v);
            }
        }
        Ok(values)
    } else {
        let rgb = resized.to_rgb8();
        let mut planes = vec![0.0f32; 3 * h * w];
        for (i, p) in rgb.pixels().enumerate() {
            for ch in 0..3 {
                planes[ch * h * w + i] = p.0[ch] as f32 / 255.0;
            }
        }
        Ok(planes)
    }
}

/// Runs `neurite predict`.
pub fn run(args: &PredictArgs) -> CliResult {
    let fallback = args.dataset.unwrap_or(DatasetKind::Mnist);
    let (spec, recorded) = spec_for_file(&args.weights, &args.model, fallback)?;
    let kind = args.dataset.or(recorded).unwrap_or(DatasetKind::Mnist);
    let mut model = load_model(&spec, &args.weights)?;
    let info = DatasetInfo::builtin(kind);
    let chw = match &spec {
        ModelSpec::Mlp { .. } => info.image_shape().expect("built-in sets are images"),
        ModelSpec::MnistCnn { input, .. } | ModelSpec::CifarCnn { input, .. } => *input,
    };
    if chw.iter().product::<usize>() != spec.input_shape().iter().product::<usize>() {
        return Err(CliError::usage(format!(
            "the model takes {:?} inputs but {} images are {chw:?}; pass the right --dataset",
            spec.input_shape(),
            kind.display_name()
        )));
    }
    let names: Vec<String> = (0..spec.classes())
        .map(|i| info.class_names.get(i).cloned().unwrap_or_else(|| format!("class {i}")))
        .collect();
    for path in &args.images {
        let values = load_image(path, chw, info.light_on_dark)?;
        let mut shape = vec![1];
        shape.extend(spec.input_shape());
        let input = Tensor::from_vec(values, &shape).map_err(|e| CliError::new(e.to_string()))?;
        let probs = no_grad(|| model.forward(&input).softmax(1)).to_vec();
        let mut ranked: Vec<(usize, f32)> = probs.into_iter().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|(i, p)| format!("{} {:.1}%", names[*i], p * 100.0))
            .collect();
        outln!("{}: {}", path.display(), top.join(", "))?;
    }
    Ok(())
}
