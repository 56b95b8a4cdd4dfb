//! `neurite info`: the lesson's shape printout, class counts and where the files are.

use neurite_datasets::ImageSet;

use crate::cli::InfoArgs;
use crate::data;
use crate::error::CliResult;
use crate::output::outln;

/// Runs `neurite info`.
pub fn run(args: &InfoArgs) -> CliResult {
    let opened = data::open(args.dataset, args.data.data_dir.as_deref())?;
    let d = &opened.data;
    let name = args.dataset.display_name();
    outln!("{name} Dataset: Train - {}", d.info.keras_shape(d.train.len()))?;
    outln!("{name} Dataset: Test - {}", d.info.keras_shape(d.test.len()))?;
    match &opened.files {
        Some(dir) => outln!("Files: {} (full set)", dir.display())?,
        None => outln!(
            "Files: embedded sample ({} train / {} test images); for the full set {}",
            d.train.len(),
            d.test.len(),
            args.dataset.fetch_hint()
        )?,
    }
    let count = |set: &ImageSet| {
        let mut counts = vec![0usize; set.num_classes()];
        for l in set.labels() {
            counts[l] += 1;
        }
        counts
    };
    let (train, test) = (count(&d.train), count(&d.test));
    let width = d.class_names().iter().map(|n| n.len()).max().unwrap_or(5).max(5);
    outln!("{:>5}  {:<width$}  {:>7}  {:>7}", "label", "class", "train", "test")?;
    for (i, class) in d.class_names().iter().enumerate() {
        outln!(
            "{i:>5}  {class:<width$}  {:>7}  {:>7}",
            train[i],
            test.get(i).copied().unwrap_or(0)
        )?;
    }
    Ok(())
}
