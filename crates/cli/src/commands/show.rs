//! `neurite show`: samples drawn in the terminal with their labels, or a PNG grid.

use crate::cli::{ShowArgs, Split};
use crate::data;
use crate::error::{CliError, CliResult};
use crate::output::{outln, plural, use_colour};
use crate::render::{to_plain, to_terminal, write_png_grid, Pixels};

/// Runs `neurite show`.
pub fn run(args: &ShowArgs) -> CliResult {
    let opened = data::open(args.dataset, args.data.data_dir.as_deref())?;
    let set = match args.split {
        Split::Train => &opened.data.train,
        Split::Test => &opened.data.test,
    };
    let indices: Vec<usize> = match (args.index, args.count) {
        (Some(i), _) => vec![i],
        (None, Some(0)) => return Err(CliError::usage("--count must be at least 1")),
        (None, Some(n)) => (0..n.min(set.len())).collect(),
        (None, None) => vec![0],
    };
    if let Some(&bad) = indices.iter().find(|&&i| i >= set.len()) {
        return Err(CliError::usage(format!(
            "--index {bad} is out of range: the {:?} split has {} images (0..{})",
            args.split,
            set.len(),
            set.len()
        )));
    }
    let [channels, height, width] = set.image_shape();
    let pixels: Vec<Pixels<'_>> = indices
        .iter()
        .map(|&i| Pixels {
            data: set.image(i),
            channels,
            height,
            width,
        })
        .collect();
    let names = set.class_names();
    if let Some(png) = &args.png {
        write_png_grid(png, &pixels).map_err(CliError::new)?;
        let labels: Vec<String> = indices.iter().map(|&i| names[set.label(i)].clone()).collect();
        outln!(
            "wrote {} to {}: {}",
            plural(indices.len(), "image", "images"),
            png.display(),
            labels.join(", ")
        )?;
        return Ok(());
    }
    let draw = if use_colour() { to_terminal } else { to_plain };
    for (&i, img) in indices.iter().zip(&pixels) {
        let label = set.label(i);
        let lines = draw(img).map_err(CliError::new)?;
        outln!("#{i}  label {label} ({})", names[label])?;
        for line in lines {
            outln!("{line}")?;
        }
    }
    Ok(())
}
