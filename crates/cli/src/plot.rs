//! `curves.svg`: training, validation and test loss and accuracy per epoch (a regression's MSE
//! and MAE), drawn with plotters.

use std::path::Path;

use plotters::prelude::*;

use crate::metrics_file::EpochRecord;

/// One chart: its area, its title, and its train, validation and test series.
type Panel<'a, 'b> = (
    &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    &'static str,
    [(&'static str, Vec<(f64, f64)>); 3],
);

/// Draws loss (left) and accuracy (right) per epoch, or a regression's MSE and MAE, into an
/// SVG file at `path`, written atomically.
pub fn write_curves(path: &Path, epochs: &[EpochRecord]) -> Result<(), String> {
    let mut svg = String::new();
    draw_curves(&mut svg, epochs).map_err(|e| format!("cannot draw {}: {e}", path.display()))?;
    neurite_tensor::atomic_file::write(path, svg.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Draws the two panels as SVG text into `svg`.
fn draw_curves(svg: &mut String, epochs: &[EpochRecord]) -> Result<(), String> {
    let root = SVGBackend::with_string(svg, (960, 400)).into_drawing_area();
    let fail = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (left, right) = root.split_horizontally(480);
    let n = epochs.len().max(1) as f64;
    let xs: Vec<f64> = epochs.iter().map(|e| e.epoch as f64).collect();
    let series = |f: &dyn Fn(&EpochRecord) -> f64| -> Vec<(f64, f64)> {
        xs.iter()
            .zip(epochs)
            .map(|(&x, e)| (x, f(e)))
            .filter(|p| p.1.is_finite())
            .collect()
    };
    // A regression (records with `train_mse`): MSE and MAE in the targets' units instead.
    let metric = |key: &'static str| move |e: &EpochRecord| e.metrics.get(key).copied().unwrap_or(f64::NAN);
    let regression = epochs.iter().any(|e| e.metrics.contains_key("train_mse"));
    let panels: [Panel<'_, '_>; 2] = if regression {
        [
            (
                &left,
                "mean squared error",
                [
                    ("train", series(&metric("train_mse"))),
                    ("validation", series(&metric("val_mse"))),
                    ("test", series(&metric("test_mse"))),
                ],
            ),
            (
                &right,
                "mean absolute error",
                [
                    ("train", series(&metric("train_mae"))),
                    ("validation", series(&metric("val_mae"))),
                    ("test", series(&metric("test_mae"))),
                ],
            ),
        ]
    } else {
        [
            (
                &left,
                "loss",
                [
                    ("train", series(&|e| e.train_loss)),
                    ("validation", series(&|e| e.val_loss)),
                    ("test", series(&|e| e.test_loss)),
                ],
            ),
            (
                &right,
                "accuracy",
                [
                    ("train", series(&|e| e.train_accuracy)),
                    ("validation", series(&|e| e.val_accuracy)),
                    ("test", series(&|e| e.test_accuracy)),
                ],
            ),
        ]
    };
    for (area, title, lines) in panels {
        let (lo, hi) = lines
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.1).max(1e-3);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{title} per epoch"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0.5f64..n + 0.5, (lo - pad)..(hi + pad))
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(title)
            .draw()
            .map_err(|e| fail(&e))?;
        // A series without points (no validation split) is left out of chart and legend.
        for ((name, pts), color) in lines
            .into_iter()
            .zip([BLUE, GREEN, RED])
            .filter(|((_, p), _)| !p.is_empty())
        {
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(|e| fail(&e))?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()
            .map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))
}
