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
        after_help = "Examples:\n  neurite train\n  neurite train --model mlp --hidden 256,128 --epochs 10 --optimizer adam --lr 0.001\n  neurite train --model cnn --epochs 1 --out runs/cnn\n  neurite train --tensorboard runs/tb                 # then: tensorboard --logdir runs/tb\n  neurite train --dataset cifar10 --model cifar-cnn --optimizer momentum --lr 0.01\n  neurite train --dataset photos/ --image-size 32x32 --model cifar-cnn   # one subfolder per class\n  neurite train --dataset iris.csv --label species --hidden 16 --optimizer adam"
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

/// Model architectures (docs/benchmarks.md, W1-W4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelName {
    /// MLP: input -> hidden (ReLU) ... -> classes; default hidden 128 (W1).
    Mlp,
    /// Wide MLP: 512, 512 hidden (W2).
    MlpWide,
    /// MNIST CNN: two 3x3 convs, max-pool, two linear layers (W3).
    Cnn,
    /// CIFAR CNN: two padded 3x3 convs with pooling, two linear layers (W4).
    CifarCnn,
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
    /// Architecture of the weights; only needed for a file without neurite metadata (one
    /// saved by PyTorch); files written by `neurite train` say what they are.
    #[arg(long, value_enum)]
    pub model: Option<ModelName>,
    /// Hidden layer sizes of that MLP, e.g. 128,64.
    #[arg(long, value_delimiter = ',', value_parser = parse_hidden)]
    pub hidden: Option<Vec<usize>>,
}

/// Architecture flags of train.
#[derive(Debug, Args, Clone)]
pub struct TrainModelArgs {
    /// Architecture to train.
    #[arg(long, value_enum, default_value_t = ModelName::Mlp)]
    pub model: ModelName,
    /// Hidden layer sizes of an MLP, e.g. 256,128 [default: 128 for mlp, 512,512 for mlp-wide].
    #[arg(long, value_delimiter = ',', value_parser = parse_hidden)]
    pub hidden: Option<Vec<usize>>,
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
    #[command(flatten)]
    pub data: DataDirArg,
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
