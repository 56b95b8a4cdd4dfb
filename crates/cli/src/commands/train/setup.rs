//! Building the run: the model and optimizer from the settings, restored from the checkpoint
//! when resuming, and the settings and metrics a resumed run starts from.

use std::collections::HashMap;
use std::path::Path;

use neurite_datasets::csv::Standardize;
use neurite_datasets::DatasetInfo;
use neurite_nn::optim::Optimizer;
use neurite_nn::serialize::{self, Metadata};
use neurite_nn::spec::{ModelSpec, METADATA_KEY};
use neurite_nn::train::checkpoint::{self, CheckpointInfo};
use neurite_nn::train::BestSoFar;
use neurite_nn::{Module, Sequential};
use neurite_tensor::seeded_rng;

use super::optimizer;
use crate::cli::{OptimizerName, TrainArgs};
use crate::data::{self, OpenedAny};
use crate::error::{CliError, CliResult};
use crate::metrics_file::EpochRecord;
use crate::model::{spec_from_flags, ModelFlags, DATASET_KEY};
use crate::output::outln;
use crate::regression::{self, TARGET_KEY};
use crate::run_dir;
use crate::run_settings::RunSettings;
use crate::source::{parse_dataset_arg, DataRecord, DATA_KEY, STANDARDIZE_KEY};

/// What `--resume DIR` found in the run's checkpoint (its record only; tensors come later).
pub struct Resumed {
    /// The run's settings.
    pub settings: RunSettings,
    /// Where the run stands.
    pub info: CheckpointInfo,
    /// Its metrics so far.
    pub records: Vec<EpochRecord>,
}

/// Where training starts: epoch, batch within it, global step (all 0 for a new run) and
/// early stopping's state.
#[derive(Clone, Debug, Default)]
pub struct Start {
    /// First epoch index to run.
    pub epoch: usize,
    /// Batches of that epoch already trained.
    pub batch: usize,
    /// Optimizer steps already taken.
    pub step: usize,
    /// Early stopping's best epoch so far.
    pub best: Option<BestSoFar>,
}

/// A run ready to train.
pub struct Prepared {
    /// The data: images (a built-in set or a folder) or a CSV table.
    pub opened: OpenedAny,
    /// Facts about the data (name, shapes, classes).
    pub info: DatasetInfo,
    /// Whether the images are the embedded MNIST sample.
    pub embedded: bool,
    /// The architecture.
    pub spec: ModelSpec,
    /// The optimizer's name.
    pub optimizer_name: OptimizerName,
    /// The model (restored when resuming).
    pub model: Sequential,
    /// The optimizer (restored when resuming).
    pub opt: Box<dyn Optimizer>,
    /// Metadata saved with the model and the checkpoints.
    pub metadata: Metadata,
    /// A regression table's target standardisation (the training rows' mean and std).
    pub target_scale: Option<Standardize>,
    /// Where training starts.
    pub start: Start,
    /// Metrics of the epochs before `start` (a resumed run's).
    pub earlier: Vec<EpochRecord>,
}

/// The architecture recorded in the `--init` file's metadata (`hidden`: whether `--hidden`
/// was given, which needs `--model`).
pub fn init_spec(init: &Path, hidden: bool) -> CliResult<ModelSpec> {
    if hidden {
        return Err(CliError::usage(
            "--hidden with --init needs --model (the file names its own architecture)",
        ));
    }
    let metadata = serialize::read_metadata(init).map_err(|e| CliError::new(format!("--init: {e}")))?;
    let Some(text) = metadata.get(METADATA_KEY) else {
        return Err(CliError::usage(format!(
            "--init {}: the file has no neurite architecture metadata (saved by PyTorch?): name it with --model or --layers",
            init.display()
        )));
    };
    ModelSpec::from_metadata(text).map_err(|e| CliError::new(format!("--init {}: {e}", init.display())))
}

/// Reads the settings and records of the run in `dir` for `--resume`.
///
/// # Errors
/// A usage error when `dir` holds no checkpoint; a runtime error when it is damaged.
pub fn read_resume(dir: &Path) -> CliResult<Resumed> {
    let path = dir.join(run_dir::CHECKPOINT);
    if !path.exists() {
        return Err(CliError::usage(format!(
            "--resume {}: no {} there (is it the --out of a neurite train run?)",
            dir.display(),
            run_dir::CHECKPOINT
        )));
    }
    let (info, _) = checkpoint::read_info(&path).map_err(|e| CliError::new(format!("--resume: {e}")))?;
    let bad = |what: &str| CliError::new(format!("--resume: {}: {what}", path.display()));
    let settings: RunSettings =
        serde_json::from_value(info.run["settings"].clone()).map_err(|e| bad(&format!("run settings: {e}")))?;
    let records: Vec<EpochRecord> =
        serde_json::from_value(info.run["epochs"].clone()).map_err(|e| bad(&format!("run metrics: {e}")))?;
    Ok(Resumed {
        settings,
        info,
        records,
    })
}

/// Opens the data, builds the model and optimizer, and, when resuming, restores them from
/// `out`'s checkpoint after checking that it is this run's.
///
/// # Errors
/// Data that cannot be opened, settings that build no model, a checkpoint that does not fit.
pub fn prepare(args: &TrainArgs, settings: &RunSettings, out: &Path, resumed: Option<Resumed>) -> CliResult<Prepared> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| CliError::new(format!("--threads {n}: {e}")))?;
    }
    let dataset = parse_dataset_arg(&settings.dataset).map_err(|e| CliError::usage(format!("--dataset: {e}")))?;
    // The run's own source flags (a resumed run's saved ones), so `--resume` reads the same data.
    let opened = data::open_any(&dataset, &settings.source, args.data.data_dir.as_deref())?;
    let (info, embedded, record, standardize): (DatasetInfo, bool, Option<DataRecord>, Option<Standardize>) =
        match &opened {
            OpenedAny::Images(o, record) => (o.data.info.clone(), o.is_embedded(), record.clone(), None),
            OpenedAny::Table(t) => (
                t.set.info.clone(),
                false,
                Some(t.record.clone()),
                Some(t.set.standardize.clone()),
            ),
        };
    if matches!(opened, OpenedAny::Table(_)) && !settings.augment.is_empty() {
        return Err(CliError::usage("--augment works on images, not on a CSV table"));
    }
    // Regression: one output, trained on the targets standardised with the training rows'.
    let target_scale = match &opened {
        OpenedAny::Table(t) if t.set.train.targets().is_some() => Some(regression::fit_targets(&t.set.train)),
        _ => None,
    };
    let spec = spec_from_flags(
        ModelFlags {
            model: settings.model.as_deref(),
            layers: settings.layers.as_deref(),
            hidden: settings.hidden.as_deref(),
        },
        &info.input_shape(),
        Some(if target_scale.is_some() { 1 } else { info.num_classes() }),
    )?;
    let optimizer_name = settings.optimizer()?;
    if spec.ends_in_softmax() {
        outln!("note: the model ends in softmax; it is trained on the logits before it with cross-entropy (as Keras' categorical_crossentropy does), and saved with it")?;
    }
    let mut model = spec.logits_spec().build(&mut seeded_rng(settings.seed));
    if let Some(init) = args.init.as_deref().filter(|_| resumed.is_none()) {
        serialize::load_into(&mut model, init).map_err(|e| CliError::new(format!("--init: {e}")))?;
    }
    let mut opt = optimizer(optimizer_name, model.parameters(), settings.lr);
    let mut metadata = HashMap::from([(METADATA_KEY.to_string(), spec.to_metadata())]);
    match (info.kind(), &record) {
        (Some(kind), _) => {
            metadata.insert(DATASET_KEY.to_string(), kind.name().to_string());
        }
        (None, Some(record)) => {
            metadata.insert(DATA_KEY.to_string(), record.to_json());
        }
        (None, None) => {}
    }
    if let Some(standardize) = &standardize {
        metadata.insert(STANDARDIZE_KEY.to_string(), standardize.to_json());
    }
    if let Some(scale) = &target_scale {
        metadata.insert(TARGET_KEY.to_string(), scale.to_json());
    }
    let n_train = train_len(&opened);
    if let (Some(saved), Some(r)) = (settings.train_images, &resumed) {
        if saved != n_train {
            return Err(CliError::usage(format!(
                "--resume: the run trained on {saved} examples, the {} training set here has {n_train} (the embedded sample and the full set differ; see `neurite info {}`)",
                info.display_name,
                r.settings.dataset
            )));
        }
    }
    let (start, earlier) = match resumed {
        Some(r) => (
            restore(out, settings, &spec, &mut model, opt.as_mut(), &r.info)?,
            r.records,
        ),
        None => (Start::default(), Vec::new()),
    };
    Ok(Prepared {
        opened,
        info,
        embedded,
        spec,
        optimizer_name,
        model,
        opt,
        metadata,
        target_scale,
        start,
        earlier,
    })
}

/// Restores `model` and `opt` from the checkpoint in `out`.
fn restore(
    out: &Path,
    settings: &RunSettings,
    spec: &ModelSpec,
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    info: &CheckpointInfo,
) -> CliResult<Start> {
    let path = out.join(run_dir::CHECKPOINT);
    if info.epochs_done >= settings.epochs {
        return Err(CliError::usage(format!(
            "--resume: the run has done {} of --epochs {}; give a larger --epochs to continue it",
            info.epochs_done, settings.epochs
        )));
    }
    let loaded = checkpoint::load(&path).map_err(|e| CliError::new(format!("--resume: {e}")))?;
    let recorded = loaded.metadata.get(METADATA_KEY);
    if recorded != Some(&spec.to_metadata()) {
        return Err(CliError::usage(format!(
            "--resume: {} holds a different architecture ({}) than this run ({})",
            path.display(),
            recorded.map_or("none", String::as_str),
            spec.to_metadata()
        )));
    }
    loaded
        .restore(model, opt)
        .map_err(|e| CliError::new(format!("--resume: {e}")))?;
    // `--lr` may change on resume; everything else is the checkpoint's.
    if settings.lr != loaded.optimizer.learning_rate {
        opt.set_learning_rate(settings.lr);
    }
    Ok(Start {
        epoch: info.epochs_done,
        batch: info.batches_done,
        step: info.global_step,
        best: loaded.info.best,
    })
}

/// The number of training examples (images or rows).
pub fn train_len(opened: &OpenedAny) -> usize {
    match opened {
        OpenedAny::Images(o, _) => o.data.train.len(),
        OpenedAny::Table(t) => t.set.train.len(),
    }
}
