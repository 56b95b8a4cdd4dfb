//! neurite's side of each workload, run in this process (W6 in a fresh child process).

use std::path::Path;
use std::time::Instant;

use neurite_datasets::{mnist, DataLoader, Dataset, Layout};
use neurite_nn::infer::Inference;
use neurite_nn::loss::Loss;
use neurite_nn::optim::{Adam, Optimizer, Sgd};
use neurite_nn::spec::ModelSpec;
use neurite_nn::train::{evaluate, fit_with, train_step, Batch, FitOptions};
use neurite_nn::{Module, Sequential};
use neurite_tensor::gemm::gemm;
use neurite_tensor::{seeded_rng, Tensor};

use super::measure::Measurement;
use super::spec::Workload;

/// Options shared by the neurite runs.
pub struct RunOptions<'a> {
    /// Holds `mnist/` with the four raw IDX files.
    pub data_dir: &'a Path,
    /// Epochs for W1/W2 (the spec's accuracy figures use 1 and 5).
    pub epochs: usize,
    /// W3: also train one full epoch and report test accuracy.
    pub accuracy: bool,
    /// Seed for initialisation and shuffling.
    pub seed: u64,
}

/// Runs `workload` once. Training goes through `neurite_nn::train`, as `neurite train` does:
/// `fit` (W1, W2), which enters rayon's pool itself, or its `train_step` (W3, W4), run on a
/// worker of the pool the same way, so the caller takes its share of every parallel op (as
/// PyTorch's OpenMP master thread does) instead of waking the pool from outside.
pub fn run(workload: Workload, opts: &RunOptions<'_>) -> Result<Measurement, String> {
    match workload {
        Workload::W1 => train_mlp(opts, ModelSpec::w1(), 64, |p| Box::new(Sgd::new(p, 0.1))),
        Workload::W2 => train_mlp(opts, ModelSpec::w2(), 128, |p| Box::new(Adam::new(p, 1e-3))),
        Workload::W3 => rayon::scope(|_| cnn_steps(opts, Workload::W3)),
        Workload::W4 => rayon::scope(|_| cnn_steps(opts, Workload::W4)),
        Workload::W5 => infer(opts),
        Workload::W6 => load_in_child(opts),
        Workload::W7 => Ok(sgemm()),
    }
}

fn load_mnist(dir: &Path) -> Result<Dataset, String> {
    // The error already says how to fetch the set; say only why the sample will not do.
    mnist::load(dir).map_err(|e| format!("{e} (the benchmarks need the full MNIST, not the embedded sample)"))
}

fn train_mlp(
    opts: &RunOptions<'_>,
    spec: ModelSpec,
    batch: usize,
    make_opt: impl Fn(Vec<Tensor>) -> Box<dyn Optimizer>,
) -> Result<Measurement, String> {
    let data = load_mnist(opts.data_dir)?;
    let mut model = spec.build(&mut seeded_rng(opts.seed));
    let mut opt = make_opt(model.parameters());
    let train = DataLoader::new(&data.train, batch)
        .shuffle(opts.seed)
        .layout(Layout::Flat);
    let test = DataLoader::new(&data.test, 1000).layout(Layout::Flat);
    let report = fit_with(
        &mut model,
        opt.as_mut(),
        |e| train.epoch(e as u64).map(|b| b.into_parts()),
        |_| std::iter::empty(),
        &FitOptions::new(opts.epochs),
        &mut [],
    )
    .map_err(|e| e.to_string())?;
    let stats = evaluate(&mut model, test.epoch(0).map(|b| b.into_parts()));
    Ok(Measurement {
        seconds: report.epochs[0].seconds,
        accuracy: Some(stats.accuracy as f64),
        ..Measurement::default()
    })
}

/// One training step on cross-entropy, through the same `train_step` as `fit`.
fn step(model: &mut Sequential, opt: &mut dyn Optimizer, x: &Tensor, y: &[usize]) {
    let batch = Batch::new(x.clone(), y.to_vec());
    // The benchmark's learning rates do not diverge; a failing step is still just skipped.
    let _ = train_step(model, opt, &batch, Loss::CrossEntropy, None);
}

fn cnn_steps(opts: &RunOptions<'_>, workload: Workload) -> Result<Measurement, String> {
    let (spec, steps, batches): (ModelSpec, usize, Vec<(Tensor, Vec<usize>)>) = if workload == Workload::W3 {
        let data = load_mnist(opts.data_dir)?;
        let loader = DataLoader::new(&data.train, 64).layout(Layout::Nchw);
        (
            ModelSpec::w3(),
            200,
            loader.epoch(0).take(205).map(|b| b.into_parts()).collect(),
        )
    } else {
        // Synthetic CIFAR-shaped batches, shaped by the model's own input and class count.
        let spec = ModelSpec::w4();
        let shape: Vec<usize> = std::iter::once(64).chain(spec.input_shape().iter().copied()).collect();
        let classes = spec.classes();
        let mut rng = seeded_rng(opts.seed);
        let batches = (0..8)
            .map(|i| {
                let x = Tensor::uniform(&shape, 0.0, 1.0, &mut rng);
                (x, (0..64).map(|j| (i * 7 + j * 3) % classes).collect())
            })
            .collect();
        (spec, 100, batches)
    };
    let mut model = spec.build(&mut seeded_rng(opts.seed));
    let mut opt = Sgd::new(model.parameters(), 0.01).with_momentum(0.9);
    let mut i = 0;
    let mut next = || {
        let b = &batches[i % batches.len()];
        i += 1;
        b
    };
    for _ in 0..5 {
        let (x, y) = next();
        step(&mut model, &mut opt, x, y);
    }
    let start = Instant::now();
    for _ in 0..steps {
        let (x, y) = next();
        step(&mut model, &mut opt, x, y);
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut m = Measurement {
        seconds,
        images_per_second: Some((steps * 64) as f64 / seconds),
        ..Measurement::default()
    };
    if workload == Workload::W3 && opts.accuracy {
        let data = load_mnist(opts.data_dir)?;
        let mut model = spec.build(&mut seeded_rng(opts.seed));
        let mut opt = Sgd::new(model.parameters(), 0.01).with_momentum(0.9);
        let train = DataLoader::new(&data.train, 64).shuffle(opts.seed).layout(Layout::Nchw);
        for b in train.epoch(0) {
            let (x, y) = b.into_parts();
            step(&mut model, &mut opt, &x, &y);
        }
        let test = DataLoader::new(&data.test, 1000).layout(Layout::Nchw);
        m.accuracy = Some(evaluate(&mut model, test.epoch(0).map(|b| b.into_parts())).accuracy as f64);
    }
    Ok(m)
}

/// W5 on the inference path (`neurite_nn::infer`, as `neurite eval` runs an MLP): no graph,
/// buffers reused between batches, the arg-max of the logits per image.
fn infer(opts: &RunOptions<'_>) -> Result<Measurement, String> {
    let data = load_mnist(opts.data_dir)?;
    let spec = ModelSpec::w1();
    let model = spec.build(&mut seeded_rng(opts.seed));
    let mut fast = Inference::new(&spec, &model).ok_or("W1's MLP has no inference path")?;
    let batches: Vec<Tensor> = DataLoader::new(&data.test, 1000)
        .layout(Layout::Flat)
        .epoch(0)
        .map(|b| b.into_parts().0)
        .collect();
    let mut best = f64::INFINITY;
    // On a pool worker, as `neurite eval` runs it.
    rayon::scope(|_| {
        for _ in 0..3 {
            let start = Instant::now();
            for x in &batches {
                std::hint::black_box(fast.predict(x));
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
    });
    Ok(Measurement {
        seconds: best,
        images_per_second: Some(data.test.len() as f64 / best),
        ..Measurement::default()
    })
}

/// W6 in a fresh process: re-runs this executable with the hidden `bench-load-child` task.
fn load_in_child(opts: &RunOptions<'_>) -> Result<Measurement, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .arg("bench-load-child")
        .arg("--data-dir")
        .arg(opts.data_dir)
        .arg("--seed")
        .arg(opts.seed.to_string())
        .output()
        .map_err(|e| format!("cannot start the W6 child process: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "W6 child failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("W6 child printed no result: {e}"))
}

/// The body of the W6 child: time to the first normalised batch, then a full shuffled pass.
pub fn load_child(data_dir: &Path, seed: u64) -> Result<Measurement, String> {
    let start = Instant::now();
    let data = load_mnist(data_dir)?;
    let loader = DataLoader::new(&data.train, 64).shuffle(seed).layout(Layout::Flat);
    let first = loader.epoch(0).next().ok_or("empty training set")?;
    let first_ms = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(first.images.shape(), vec![64, 784]);
    let start = Instant::now();
    let mut rows = 0;
    for b in loader.epoch(1) {
        rows += b.labels.len();
    }
    let full = start.elapsed().as_secs_f64();
    assert_eq!(rows, data.train.len());
    Ok(Measurement {
        seconds: first_ms / 1000.0,
        first_batch_ms: Some(first_ms),
        full_pass_seconds: Some(full),
        ..Measurement::default()
    })
}

fn sgemm() -> Measurement {
    let mut m = Measurement::default();
    for &(rows, inner, cols, reps) in &[(1024usize, 1024usize, 1024usize, 20usize), (64, 784, 128, 2000)] {
        let mut rng = seeded_rng(7);
        let a = Tensor::uniform(&[rows, inner], 0.0, 1.0, &mut rng).data();
        let b = Tensor::uniform(&[inner, cols], 0.0, 1.0, &mut rng).data();
        let (a2, b2) = (
            a.view().into_dimensionality().unwrap(),
            b.view().into_dimensionality().unwrap(),
        );
        let mut c = ndarray::Array2::<f32>::zeros((rows, cols));
        gemm(1.0, &a2, &b2, 0.0, &mut c.view_mut());
        let start = Instant::now();
        for _ in 0..reps {
            gemm(1.0, &a2, &b2, 0.0, &mut c.view_mut());
        }
        let per = start.elapsed().as_secs_f64() / reps as f64;
        let gflops = 2.0 * (rows * inner * cols) as f64 / per / 1e9;
        if rows == 1024 {
            m.gflops_large = Some(gflops);
            m.seconds = per;
        } else {
            m.gflops_small = Some(gflops);
        }
    }
    m
}
