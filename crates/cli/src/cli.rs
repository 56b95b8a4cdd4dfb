//! Command-line arguments (clap derive), with examples in each command's `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use neurite_datasets::catalog::DatasetKind;

use crate::source::{parse_dataset_arg, DatasetArg, SourceArgs};

/// neurite: deep learning on the CPU, from the first MNIST digit to a trained CNN.
#[derive(Debug, Parser)]
#[command(name = "neurite", version, about, propagate_version = true)]
#[command(
    after_help = "Examples:\n  neurite fetch mnist                 # download, verify and unpack the full MNIST\n  neurite train                       # MLP (full MNIST if fetched, else the embedded sample)\n  neurite info mnist\n  neurite show mnist --count 4\n  neurite eval --weights runs/mnist-mlp/model.safetensors --dataset mnist\n  neurite predict --weights runs/mnist-mlp/model.safetensors examples/images/mnist-7.png"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per process: `train`'s many flags making the enum large costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download (or import with --from), verify and unpack data sets into the data directory.
    #[cfg(feature = "download")]
    #[command(
        after_help = "Examples:\n  neurite fetch mnist\n  neurite fetch all --list\n  neurite fetch cifar10 --from ~/Downloads        # cifar-10-binary.tar.gz or the extracted folder\n  neurite fetch mnist --mirror https://example.org/mnist/"
    )]
    Fetch(neurite_datasets::fetch::FetchArgs),
    /// Shapes, class counts and file locations of a data set.
    #[command(
        after_help = "Examples:\n  neurite info mnist\n  neurite info cifar10 --data-dir ~/data\n  neurite info photos/\n  neurite info iris.csv --label species"
    )]
    Info(InfoArgs),
    /// Draw samples in the terminal (colour only on a terminal without NO_COLOR) or write
    /// them to a PNG grid.
    #[command(
        after_help = "Examples:\n  neurite show mnist --index 0\n  neurite show cifar10 --count 8 --split test\n  neurite show mnist --count 64 --png grid.png"
    )]
    Show(ShowArgs),
    /// Train a model and save it with its metrics and curves.
    #[command(
        after_help = "Examples:\n  neurite train\n  neurite train --model mlp --hidden 256,128 --epochs 10 --optimizer adam --lr 0.001\n  neurite train --model cnn --epochs 1 --out runs/cnn\n  neurite train --layers \"conv2d(32,3) relu maxpool2d(2) flatten linear(128) relu linear(10)\"\n  neurite train --model my_model.toml               # a spec file, or Keras' model.to_json()\n  neurite train --tensorboard runs/tb                 # then: tensorboard --logdir runs/tb\n  neurite train --dataset cifar10 --model cifar-cnn --optimizer momentum --lr 0.01 --augment flip,crop\n  neurite train --dataset photos/ --image-size 32x32 --model cifar-cnn   # one subfolder per class\n  neurite train --dataset iris.csv --label species --hidden 16 --optimizer adam\n  neurite train --validation-split 0.1 --early-stopping 3 --epochs 30 --schedule cosine\n  neurite train --epochs 10 --out runs/a; neurite train --resume runs/a --epochs 20   # continue a run\n  neurite train --init runs/resnet/model.safetensors --lr 0.0001   # fine-tune a saved or imported model\n\nEvery epoch ends with an atomic checkpoint.safetensors in --out; Ctrl-C or SIGTERM stops after\nthe current batch and saves; a diverged run keeps the last finite checkpoint."
    )]
    Train(TrainArgs),
    /// Accuracy, per-class accuracy and confusion matrix of saved weights.
    #[command(
        after_help = "Examples:\n  neurite eval --weights runs/mnist-mlp/model.safetensors --dataset mnist\n  neurite eval --weights torch_model.safetensors --dataset mnist --model mlp --hidden 128 --json"
    )]
    Eval(EvalArgs),
    /// Classify image files (PNG, JPEG, BMP, PGM), or the rows of a CSV, with saved weights.
    #[command(
        after_help = "Examples:\n  neurite predict --weights runs/mnist-mlp/model.safetensors examples/images/mnist-7.png\n  neurite predict --weights model.safetensors --model cnn a.pgm b.jpg"
    )]
    Predict(PredictArgs),
    /// Keras' model.summary() table: each layer's output shape and parameter count, then the
    /// totals, for a preset, a spec, Keras JSON or a saved model.
    #[command(
        after_help = "Examples:\n  neurite summary cnn\n  neurite summary --layers \"conv2d(32,3) relu maxpool2d(2) flatten linear(10)\"\n  neurite summary examples/models/resnet_cifar.toml --dataset cifar10\n  neurite summary keras_model.json\n  neurite summary runs/mnist-cnn/model.safetensors"
    )]
    Summary(SummaryArgs),
    /// Write saved weights with their architecture as an ONNX model (opset 17; input
    /// `input`, output `logits`, dynamic batch axis) for ONNX Runtime and other runtimes.
    #[command(
        after_help = "Examples:\n  neurite export --onnx mnist-cnn.onnx --weights runs/mnist-cnn/model.safetensors\n  neurite export --onnx mlp.onnx --weights torch_model.safetensors --model mlp --hidden 128\n\nSee docs/interop.md for the operators written and the layers refused."
    )]
    Export(ExportArgs),
    /// Read an ONNX model (from torch.onnx.export or `neurite export`) into DIR/model.safetensors
    /// with its architecture, for eval, predict and summary.
    #[command(
        after_help = "Examples:\n  neurite import resnet.onnx --out runs/resnet\n  neurite eval --weights runs/resnet/model.safetensors --dataset mnist\n\nSee docs/interop.md for the operators read and what is refused."
    )]
    Import(ImportArgs),
}

/// `neurite export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The ONNX file to write.
    #[arg(long, value_name = "FILE")]
    pub onnx: PathBuf,
    /// A model.safetensors saved by `neurite train` (or by PyTorch, with --model/--layers).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
    /// The data set the weights were trained on, for a file that records none (sets a
    /// preset's input shape and classes) [default: mnist].
    #[arg(long, value_parser = parse_dataset)]
    pub dataset: Option<DatasetKind>,
    /// Replace --onnx if it exists (without it, an existing file is refused).
    #[arg(long)]
    pub overwrite: bool,
}

/// `neurite import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The ONNX file to read.
    #[arg(value_name = "FILE")]
    pub onnx: PathBuf,
    /// The folder to write model.safetensors into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The data set the model was trained on, recorded in the file for eval and predict.
    #[arg(long, value_parser = parse_dataset)]
    pub dataset: Option<DatasetKind>,
    /// Replace DIR/model.safetensors if it exists (without it, an existing model is refused).
    #[arg(long)]
    pub overwrite: bool,
}

/// Which part of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Split {
    /// The training images.
    Train,
    /// The test images.
    Test,
}

/// Optimizers the CLI offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerName {
    /// Plain SGD.
    Sgd,
    /// SGD with momentum 0.9.
    Momentum,
    /// Adam.
    Adam,
    /// AdamW (decoupled weight decay 0.01).
    Adamw,
}

/// Parses a data-set name.
fn parse_dataset(s: &str) -> Result<DatasetKind, String> {
    s.parse::<DatasetKind>().map_err(|e| e.to_string())
}

/// Parses `128,64` into hidden sizes.
fn parse_hidden(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("`{s}` is not a positive layer size")),
        Ok(n) => Ok(n),
    }
}

/// `--data-dir`, shared by every command that reads data.
#[derive(Debug, Args)]
pub struct DataDirArg {
    /// Data directory [default: $NEURITE_DATA_DIR, else the per-user data directory,
    /// ~/.local/share/neurite on Linux].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `neurite info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// mnist, fashion-mnist, cifar10, cifar100, an image folder or a .csv file.
    #[arg(value_parser = parse_dataset_arg)]
    pub dataset: DatasetArg,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// `neurite show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// mnist, fashion-mnist, cifar10, cifar100, an image folder or a .csv file.
    #[arg(value_parser = parse_dataset_arg)]
    pub dataset: DatasetArg,
    /// Index of the one sample to show.
    #[arg(long, conflicts_with = "count")]
    pub index: Option<usize>,
    /// Number of samples to show, from the start [default: 1].
    #[arg(long)]
    pub count: Option<usize>,
    /// Which split to read.
    #[arg(long, value_enum, default_value_t = Split::Train)]
    pub split: Split,
    /// Write a grid of the samples to this PNG instead of drawing in the terminal.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// Architecture flags of eval and predict, for weights files without neurite metadata.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// Architecture of the weights: a preset (mlp, mlp-wide, cnn, cifar-cnn), a spec file
    /// (.toml, .json) or Keras JSON; only needed for a file without neurite metadata (one
    /// saved by PyTorch); files written by `neurite train` say what they are.
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "layers")]
    pub model: Option<String>,
    /// The architecture in the inline form, e.g. "conv2d(32,3) relu flatten linear(10)".
    #[arg(long, value_name = "SPEC")]
    pub layers: Option<String>,
    /// Hidden layer sizes of an MLP preset, e.g. 128,64.
    #[arg(long, value_delimiter = ',', value_parser = parse_hidden, conflicts_with = "layers")]
    pub hidden: Option<Vec<usize>>,
}

impl ModelArgs {
    /// Whether any architecture flag was given.
    pub fn is_given(&self) -> bool {
        self.model.is_some() || self.layers.is_some() || self.hidden.is_some()
    }
}

/// Architecture flags of train.
#[derive(Debug, Args, Clone)]
pub struct TrainModelArgs {
    /// Architecture to train: a preset (mlp, mlp-wide, cnn, cifar-cnn), a spec file (.toml,
    /// .json) or the JSON Keras' `model.to_json()` writes [default: mlp].
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "layers")]
    pub model: Option<String>,
    /// The architecture in the inline form (see docs/models.md), e.g.
    /// "conv2d(32,3) relu maxpool2d(2) flatten linear(128) relu linear(10)".
    #[arg(long, value_name = "SPEC")]
    pub layers: Option<String>,
    /// Hidden layer sizes of an MLP preset, e.g. 256,128 [default: 128 for mlp, 512,512 for mlp-wide].
    #[arg(long, value_delimiter = ',', value_parser = parse_hidden, conflicts_with = "layers")]
    pub hidden: Option<Vec<usize>>,
}

/// `neurite summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// A preset (mlp, mlp-wide, cnn, cifar-cnn), a spec file (.toml, .json), Keras JSON or a
    /// saved model.safetensors [default: mlp].
    #[arg(value_name = "MODEL", conflicts_with = "layers")]
    pub model: Option<String>,
    /// The architecture in the inline form.
    #[arg(long, value_name = "SPEC")]
    pub layers: Option<String>,
    /// Hidden layer sizes of an MLP preset.
    #[arg(long, value_delimiter = ',', value_parser = parse_hidden, conflicts_with = "layers")]
    pub hidden: Option<Vec<usize>>,
    /// The data set whose examples the model takes (sets the input shape and class count of
    /// presets, and the input of specs that state none).
    #[arg(long, value_parser = parse_dataset, default_value = "mnist")]
    pub dataset: DatasetKind,
}

/// `neurite train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// mnist, fashion-mnist, cifar10, cifar100, an image folder (one subfolder per class) or
    /// a .csv file.
    #[arg(long, value_parser = parse_dataset_arg, default_value = "mnist")]
    pub dataset: DatasetArg,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub model: TrainModelArgs,
    /// Passes over the training set.
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerName::Sgd)]
    pub optimizer: OptimizerName,
    /// Learning rate [default: 0.1 for sgd, 0.01 for momentum, 0.001 for adam and adamw].
    #[arg(long)]
    pub lr: Option<f32>,
    /// Seed for initialisation and shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads [default: $RAYON_NUM_THREADS, else all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory for model.safetensors, metrics.json and curves.svg
    /// [default: runs/DATASET-MODEL, e.g. runs/mnist-mlp].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write TensorBoard event files to DIR (view with `tensorboard --logdir DIR`).
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
    /// Replace a run already in --out (without it, an existing run is refused).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// Continue the run in DIR from its checkpoint.safetensors, with the run's saved settings
    /// (give --epochs for the new total; --lr may change; other changed settings are refused).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Fine-tune: start from the weights of a saved model (e.g. `neurite import`'s
    /// DIR/model.safetensors) instead of random ones; its architecture is the file's unless
    /// --model or --layers name one (which must then match the file's tensors).
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub init: Option<PathBuf>,
    /// Hold out this fraction of the training set (seeded) for validation after each epoch.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub validation_split: f32,
    /// Stop when the validation loss has not improved for PATIENCE epochs and keep the best
    /// epoch's weights (needs --validation-split).
    #[arg(long, value_name = "PATIENCE")]
    pub early_stopping: Option<usize>,
    /// Learning-rate schedule, per epoch: step (x0.1 every third of the run), cosine (to 0),
    /// warmup-cosine (--warmup epochs of linear warm-up, then cosine).
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleName>,
    /// Epochs of linear warm-up from a tenth of --lr (with any schedule, or none).
    #[arg(long, value_name = "EPOCHS", default_value_t = 0)]
    pub warmup: usize,
    /// Training augmentation: flip (left-right), crop (pad 4, random crop), e.g. flip,crop.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub augment: Vec<AugmentName>,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// Learning-rate schedules of `neurite train --schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleName {
    /// Multiply the rate by 0.1 every third of the epochs.
    Step,
    /// Cosine annealing from --lr to 0 over the run.
    Cosine,
    /// --warmup epochs of linear warm-up, then cosine annealing.
    WarmupCosine,
}

/// Augmentations of `neurite train --augment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AugmentName {
    /// Random left-right flip.
    Flip,
    /// Zero-pad 4 pixels, then crop back to size at a random offset.
    Crop,
}

/// `neurite eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A model.safetensors saved by `neurite train` or by PyTorch.
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// The data set to evaluate on (its test part): a built-in name, an image folder or a
    /// .csv file [default: the one recorded in the file, else mnist]. A folder or CSV is read
    /// the way training read it (size, channels, split, label column).
    #[arg(long, value_parser = parse_dataset_arg)]
    pub dataset: Option<DatasetArg>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// `neurite predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A model.safetensors saved by `neurite train` or by PyTorch.
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
    /// The data set the model was trained on, for class names and input size
    /// [default: the one recorded in the file, else mnist].
    #[arg(long, value_parser = parse_dataset)]
    pub dataset: Option<DatasetKind>,
    /// Image files (PNG, JPEG, BMP or PGM), or CSV files of feature rows for a model trained
    /// on a table.
    #[arg(required = true, value_name = "FILE")]
    pub images: Vec<PathBuf>,
}
