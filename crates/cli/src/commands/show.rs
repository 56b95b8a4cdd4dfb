//! `neurite show`: samples drawn in the terminal with their labels, or a PNG grid; for a CSV
//! table, its rows with their labels.

use crate::cli::{ShowArgs, Split};
use crate::data::{self, OpenedAny, OpenedTable};
use crate::error::{CliError, CliResult};
use crate::output::{outln, plural, use_colour};
use crate::render::{to_plain, to_terminal, write_png_grid, Pixels};

/// The indices `--index`/`--count` ask for, checked against `len` samples.
fn indices(args: &ShowArgs, len: usize, unit: &str) -> CliResult<Vec<usize>> {
    let indices: Vec<usize> = match (args.index, args.count) {
        (Some(i), _) => vec![i],
        (None, Some(0)) => return Err(CliError::usage("--count must be at least 1")),
        (None, Some(n)) => (0..n.min(len)).collect(),
        (None, None) => vec![0],
    };
    if let Some(&bad) = indices.iter().find(|&&i| i >= len) {
        return Err(CliError::usage(format!(
            "--index {bad} is out of range: the {:?} split has {len} {unit} (0..{len})",
            args.split
        )));
    }
    Ok(indices)
}

/// Runs `neurite show`.
pub fn run(args: &ShowArgs) -> CliResult {
    let opened = match data::open_any(&args.dataset, &args.source, args.data.data_dir.as_deref())? {
        OpenedAny::Images(opened, _) => opened,
        OpenedAny::Table(table) => return show_rows(args, &table),
    };
    let set = match args.split {
        Split::Train => &opened.data.train,
        Split::Test => &opened.data.test,
    };
    let indices = indices(args, set.len(), "images")?;
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

/// Prints rows of a CSV's split: their line, features and label (or target).
fn show_rows(args: &ShowArgs, table: &OpenedTable) -> CliResult {
    if args.png.is_some() {
        return Err(CliError::usage(
            "--png draws images: a CSV table has rows, shown as text",
        ));
    }
    let set = &table.set;
    let part = match args.split {
        Split::Train => &set.train,
        Split::Test => &set.test,
    };
    for i in indices(args, part.len(), "rows")? {
        let features: Vec<String> = set
            .read
            .feature_names
            .iter()
            .zip(part.row(i))
            .map(|(name, v)| format!("{name}={v}"))
            .collect();
        let label = match (part.labels(), part.targets()) {
            (Some(labels), _) => format!("label {} ({})", labels[i], set.info.class_names[labels[i]]),
            (_, Some(targets)) => format!("target {}", targets[i]),
            _ => String::new(),
        };
        outln!("#{i}  line {}  {}  {label}", part.lines()[i], features.join(" "))?;
    }
    Ok(())
}
