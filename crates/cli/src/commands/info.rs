//! `neurite info`: the lesson's shape printout, class counts and where the files are, for a
//! built-in set, an image folder or a CSV table.

use neurite_datasets::{DataSource, DatasetInfo};

use crate::cli::InfoArgs;
use crate::data::{self, OpenedAny};
use crate::error::CliResult;
use crate::output::outln;

/// Per-class counts of `labels`.
fn counts(labels: &[usize], classes: usize) -> Vec<usize> {
    let mut counts = vec![0usize; classes];
    for &l in labels {
        counts[l] += 1;
    }
    counts
}

/// The table of classes with their train and test counts.
fn class_table(info: &DatasetInfo, train: &[usize], test: &[usize]) -> CliResult {
    let (train, test) = (counts(train, info.num_classes()), counts(test, info.num_classes()));
    let width = info.class_names.iter().map(|n| n.len()).max().unwrap_or(5).max(5);
    outln!("{:>5}  {:<width$}  {:>7}  {:>7}", "label", "class", "train", "test")?;
    for (i, class) in info.class_names.iter().enumerate() {
        outln!("{i:>5}  {class:<width$}  {:>7}  {:>7}", train[i], test[i])?;
    }
    Ok(())
}

/// Runs `neurite info`.
pub fn run(args: &InfoArgs) -> CliResult {
    match data::open_any(&args.dataset, &args.source, args.data.data_dir.as_deref())? {
        OpenedAny::Images(opened, _) => {
            let d = &opened.data;
            let name = &d.info.display_name;
            outln!("{name} Dataset: Train - {}", d.info.keras_shape(d.train.len()))?;
            outln!("{name} Dataset: Test - {}", d.info.keras_shape(d.test.len()))?;
            match (&opened.files, &d.info.source) {
                (Some(dir), DataSource::Folder(_)) => outln!(
                    "Files: {} (image folder: {}; images {:?} as [C, H, W])",
                    dir.display(),
                    d.info.files.join(" "),
                    d.image_shape()
                )?,
                (Some(dir), _) => outln!("Files: {} (full set)", dir.display())?,
                (None, source) => outln!(
                    "Files: embedded sample ({} train / {} test images); for the full set {}",
                    d.train.len(),
                    d.test.len(),
                    match source {
                        DataSource::BuiltIn(kind) => kind.fetch_hint(),
                        _ => String::new(),
                    }
                )?,
            }
            class_table(&d.info, &d.train.labels(), &d.test.labels())
        }
        OpenedAny::Table(t) => {
            let s = &t.set;
            let name = &s.info.display_name;
            outln!("{name} Dataset: Train - {}", s.info.keras_shape(s.train.len()))?;
            outln!("{name} Dataset: Test - {}", s.info.keras_shape(s.test.len()))?;
            outln!(
                "File: {} (CSV, {}header; features: {}; label: {})",
                t.record.path().display(),
                if s.read.header { "" } else { "no " },
                s.read.feature_names.join(", "),
                s.read.label_name.as_deref().unwrap_or("-")
            )?;
            match (s.train.labels(), s.test.labels()) {
                (Some(train), Some(test)) => class_table(&s.info, train, test),
                _ => {
                    let targets = s.train.targets().unwrap_or(&[]);
                    let (lo, hi) = targets.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    });
                    let mean = targets.iter().map(|&v| f64::from(v)).sum::<f64>() / targets.len().max(1) as f64;
                    outln!("regression targets (train): mean {mean:.4}, min {lo}, max {hi}")
                }
            }
        }
    }
}
