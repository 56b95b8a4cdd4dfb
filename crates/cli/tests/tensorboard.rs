//! `neurite train --tensorboard DIR` through the real binary: the event file, read back with
//! the `tensorboard` package (skipped when it is not installed), holds the same per-epoch
//! values as metrics.json, and one point per step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn neurite(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(args)
        .current_dir(cwd)
        // An empty data directory: MNIST comes from the embedded sample.
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

/// The scalars of `logdir` as the `tensorboard` package reads them (as f32, what it
/// stores), or `None` with a message when the package is absent. Python comes from
/// `NEURITE_PYTHON`, else `python3`.
fn read_with_tensorboard(logdir: &Path) -> Option<BTreeMap<String, Vec<(i64, f32)>>> {
    let python = std::env::var_os("NEURITE_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../nn/scripts/read_tensorboard.py");
    let out = match Command::new(&python).arg(script).arg(logdir).output() {
        Ok(out) => out,
        Err(e) => {
            println!("skipped: cannot run {} ({e}); set NEURITE_PYTHON", python.display());
            return None;
        }
    };
    if out.status.code() == Some(3) {
        println!(
            "skipped: {}; set NEURITE_PYTHON to a python with it",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read: BTreeMap<String, Vec<(i64, f64)>> = serde_json::from_slice(&out.stdout).unwrap();
    Some(
        read.into_iter()
            .map(|(tag, points)| (tag, points.into_iter().map(|(s, v)| (s, v as f32)).collect()))
            .collect(),
    )
}

#[test]
fn train_writes_an_event_file_with_the_values_of_metrics_json() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--epochs",
        "2",
        "--batch-size",
        "250",
        "--out",
        "run",
        "--tensorboard",
        "runs/tb",
    ];
    let o = neurite(&args, dir.path());
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("TensorBoard log: "), "{stdout}");
    let files: Vec<_> = std::fs::read_dir(dir.path().join("runs/tb"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("events.out.tfevents."), "{files:?}");

    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/metrics.json")).unwrap()).unwrap();
    let Some(read) = read_with_tensorboard(&dir.path().join("runs/tb")) else {
        return;
    };
    let epochs = metrics["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    for tag in ["train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"] {
        let want: Vec<(i64, f32)> = epochs
            .iter()
            .map(|e| (e["epoch"].as_i64().unwrap(), e[tag].as_f64().unwrap() as f32))
            .collect();
        assert_eq!(read[tag], want, "{tag}");
    }
    // 10,000 embedded training images in batches of 250: 40 steps an epoch.
    for tag in ["step/train_loss", "step/train_accuracy", "step/learning_rate"] {
        let steps: Vec<i64> = read[tag].iter().map(|p| p.0).collect();
        assert_eq!(steps, (1..=80).collect::<Vec<_>>(), "{tag}");
    }
    assert!(read["step/learning_rate"].iter().all(|p| p.1 == 0.1f32));
    let first_loss = read["step/train_loss"][0].1;
    assert!(
        first_loss > 2.0 && first_loss < 2.6,
        "untrained loss near ln 10: {first_loss}"
    );
}

#[test]
fn a_tensorboard_dir_that_is_a_file_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("taken"), b"x").unwrap();
    let o = neurite(
        &["train", "--epochs", "1", "--out", "run", "--tensorboard", "taken"],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    // One error line, besides the note that the embedded sample is in use.
    let errors: Vec<&str> = err.lines().filter(|l| !l.starts_with("note: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(err.contains("--tensorboard: cannot create: taken"), "{err}");
    assert!(!dir.path().join("run/model.safetensors").exists());
}
