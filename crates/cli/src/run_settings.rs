//! What defines a training run, saved in its checkpoint so that `neurite train --resume DIR`
//! continues it with the same settings and the same data (the folder or CSV flags too); flags
//! given again must agree, except the few that may change (`--epochs`, `--lr`,
//! `--early-stopping`).

use clap::parser::ValueSource;
use clap::{CommandFactory, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::cli::{AugmentName, Cli, OptimizerName, ScheduleName, TrainArgs};
use crate::error::{CliError, CliResult};
use crate::source::SourceArgs;

/// The settings of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSettings {
    /// Data set name.
    pub dataset: String,
    /// `--model` (a preset or a spec file), when given.
    pub model: Option<String>,
    /// `--layers`, when given.
    #[serde(default)]
    pub layers: Option<String>,
    /// `--hidden`.
    pub hidden: Option<Vec<usize>>,
    /// Total epochs.
    pub epochs: usize,
    /// `--batch-size`.
    pub batch_size: usize,
    /// `--optimizer`.
    pub optimizer: String,
    /// Learning rate (the default for the optimizer resolved).
    pub lr: f32,
    /// `--seed`.
    pub seed: u64,
    /// `--validation-split`.
    pub validation_split: f32,
    /// `--early-stopping`.
    pub early_stopping: Option<usize>,
    /// `--schedule`.
    pub schedule: Option<String>,
    /// `--warmup`.
    pub warmup: usize,
    /// `--augment`.
    pub augment: Vec<String>,
    /// How a folder or CSV is read (`--label`, `--task`, `--test-split`, `--split-seed`,
    /// `--drop-bad-rows`, `--no-header`, `--image-size`, `--channels`, `--skip-bad`): what
    /// changes the data. Runs saved before it was recorded read the defaults.
    #[serde(default)]
    pub source: SourceArgs,
    /// Images in the training set the run was started on (the embedded MNIST sample and the
    /// full set differ), filled in once the data is open.
    #[serde(default)]
    pub train_images: Option<usize>,
}

fn name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

fn parse<T: ValueEnum>(flag: &str, s: &str) -> CliResult<T> {
    T::from_str(s, false).map_err(|_| CliError::new(format!("checkpoint: unknown {flag} `{s}`")))
}

impl RunSettings {
    /// The settings of a fresh run from the command line (`lr` resolved).
    pub fn from_args(args: &TrainArgs, lr: f32) -> RunSettings {
        RunSettings {
            dataset: args.dataset.as_arg(),
            model: args.model.model.clone(),
            layers: args.model.layers.clone(),
            hidden: args.model.hidden.clone(),
            epochs: args.epochs,
            batch_size: args.batch_size,
            optimizer: name(&args.optimizer),
            lr,
            seed: args.seed,
            validation_split: args.validation_split,
            early_stopping: args.early_stopping,
            schedule: args.schedule.as_ref().map(name),
            warmup: args.warmup,
            augment: args.augment.iter().map(name).collect(),
            source: args.source.clone(),
            train_images: None,
        }
    }

    /// The settings of a resumed run: the saved ones, with `--epochs`, `--lr` and
    /// `--early-stopping` taken from the command line when given there.
    ///
    /// # Errors
    /// A usage error naming each flag given with a value other than the run's.
    pub fn resumed(saved: RunSettings, args: &TrainArgs, lr: f32) -> CliResult<RunSettings> {
        let given = given_flags();
        let wanted = RunSettings::from_args(args, lr);
        let mut merged = saved.clone();
        if given.contains("epochs") {
            merged.epochs = wanted.epochs;
        }
        if given.contains("lr") {
            merged.lr = wanted.lr;
        }
        if given.contains("early_stopping") {
            merged.early_stopping = wanted.early_stopping;
        }
        let mut fixed: Vec<(&str, &str, String, String)> = vec![
            ("dataset", "--dataset", saved.dataset.clone(), wanted.dataset.clone()),
            (
                "model",
                "--model",
                saved.model.clone().unwrap_or_default(),
                wanted.model.clone().unwrap_or_default(),
            ),
            (
                "layers",
                "--layers",
                saved.layers.clone().unwrap_or_default(),
                wanted.layers.clone().unwrap_or_default(),
            ),
            (
                "hidden",
                "--hidden",
                format!("{:?}", saved.hidden),
                format!("{:?}", wanted.hidden),
            ),
            (
                "batch_size",
                "--batch-size",
                saved.batch_size.to_string(),
                wanted.batch_size.to_string(),
            ),
            (
                "optimizer",
                "--optimizer",
                saved.optimizer.clone(),
                wanted.optimizer.clone(),
            ),
            ("seed", "--seed", saved.seed.to_string(), wanted.seed.to_string()),
            (
                "validation_split",
                "--validation-split",
                saved.validation_split.to_string(),
                wanted.validation_split.to_string(),
            ),
            (
                "schedule",
                "--schedule",
                format!("{:?}", saved.schedule),
                format!("{:?}", wanted.schedule),
            ),
            (
                "warmup",
                "--warmup",
                saved.warmup.to_string(),
                wanted.warmup.to_string(),
            ),
            (
                "augment",
                "--augment",
                saved.augment.join(","),
                wanted.augment.join(","),
            ),
        ];
        fixed.extend(source_flags(&saved.source, &wanted.source));
        let differs: Vec<String> = fixed
            .iter()
            .filter(|(id, _, old, new)| given.contains(*id) && old != new)
            .map(|(_, flag, old, new)| format!("{flag} {new} (the run has {old})"))
            .collect();
        if !differs.is_empty() {
            return Err(CliError::usage(format!(
                "--resume: the checkpoint's run differs: {}; resume with the run's settings or start a new run",
                differs.join(", ")
            )));
        }
        Ok(merged)
    }

    /// The optimizer as the CLI enum.
    pub fn optimizer(&self) -> CliResult<OptimizerName> {
        parse("--optimizer", &self.optimizer)
    }

    /// A short name of the model for a default `--out`: the preset, the spec file's stem, or
    /// `custom` for `--layers`.
    pub fn model_name(&self) -> String {
        match (&self.layers, &self.model) {
            (Some(_), _) => "custom".to_string(),
            (None, None) => "mlp".to_string(),
            (None, Some(m)) => std::path::Path::new(m)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(m)
                .to_string(),
        }
    }

    /// The schedule as the CLI enum.
    pub fn schedule(&self) -> CliResult<Option<ScheduleName>> {
        self.schedule.as_deref().map(|s| parse("--schedule", s)).transpose()
    }

    /// The augmentations as the CLI enum.
    pub fn augment(&self) -> CliResult<Vec<AugmentName>> {
        self.augment.iter().map(|s| parse("--augment", s)).collect()
    }
}

/// The data-source flags of a run (`saved`) and of the command line (`wanted`), as (id, flag,
/// the run's value, the given value), for [`RunSettings::resumed`] to compare.
fn source_flags(saved: &SourceArgs, wanted: &SourceArgs) -> Vec<(&'static str, &'static str, String, String)> {
    let both = |f: &dyn Fn(&SourceArgs) -> String| (f(saved), f(wanted));
    let rows: [(&str, &str, (String, String)); 9] = [
        ("image_size", "--image-size", both(&|s| format!("{:?}", s.image_size))),
        ("channels", "--channels", both(&|s| format!("{:?}", s.channels))),
        ("test_split", "--test-split", both(&|s| s.test_split.to_string())),
        ("split_seed", "--split-seed", both(&|s| s.split_seed.to_string())),
        ("skip_bad", "--skip-bad", both(&|s| s.skip_bad.to_string())),
        ("label", "--label", both(&|s| s.label.clone().unwrap_or_default())),
        ("no_header", "--no-header", both(&|s| s.no_header.to_string())),
        ("task", "--task", both(&|s| name(&s.task))),
        (
            "drop_bad_rows",
            "--drop-bad-rows",
            both(&|s| s.drop_bad_rows.to_string()),
        ),
    ];
    rows.into_iter()
        .map(|(id, flag, (old, new))| (id, flag, old, new))
        .collect()
}

/// The ids of the `train` arguments given on the command line (not defaulted).
fn given_flags() -> std::collections::HashSet<String> {
    let Ok(matches) = Cli::command().try_get_matches_from(std::env::args_os()) else {
        return Default::default();
    };
    let Some(("train", sub)) = matches.subcommand() else {
        return Default::default();
    };
    [
        "dataset",
        "model",
        "layers",
        "hidden",
        "epochs",
        "batch_size",
        "optimizer",
        "lr",
        "seed",
        "validation_split",
        "early_stopping",
        "schedule",
        "warmup",
        "augment",
        "image_size",
        "channels",
        "test_split",
        "split_seed",
        "skip_bad",
        "label",
        "no_header",
        "task",
        "drop_bad_rows",
    ]
    .into_iter()
    .filter(|id| sub.value_source(id) == Some(ValueSource::CommandLine))
    .map(str::to_string)
    .collect()
}
