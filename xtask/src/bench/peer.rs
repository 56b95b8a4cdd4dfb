//! Running a workload in a peer framework: one script per framework under `benches/peers/`,
//! one process per run, its JSON result read from the last line of stdout.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::measure::Measurement;
use super::spec::Workload;

/// Environment variables removed from every peer's environment: they force OpenBLAS (numpy,
/// and the BLAS some frameworks link) onto older kernels than the CPU can run.
pub const SCRUBBED_ENV: [&str; 2] = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

/// One peer implementation of the workloads (a framework, or one way of using it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerKind {
    /// PyTorch, eager (W1-W5, W7).
    Pytorch,
    /// JAX with one `jit` per train step (W1-W5, W7).
    Jax,
    /// JAX with the whole epoch in one `jit` and `lax.scan` (W1, W2).
    JaxScan,
    /// TensorFlow 2 with a `tf.function` train step and Keras layers (W1-W5).
    Tensorflow,
    /// ONNX Runtime's `InferenceSession` (W5).
    Onnxruntime,
    /// numpy with the BLAS it links (W6, W7).
    Numpy,
}

/// What `--compare` accepts: a framework, which may stand for several [`PeerKind`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compare {
    /// PyTorch.
    Pytorch,
    /// JAX: the per-step `jit` and the whole-epoch `lax.scan` variants.
    Jax,
    /// TensorFlow.
    Tensorflow,
    /// ONNX Runtime.
    Onnxruntime,
    /// numpy.
    Numpy,
}

impl Compare {
    /// The peer implementations this choice runs.
    pub fn kinds(self) -> &'static [PeerKind] {
        match self {
            Compare::Pytorch => &[PeerKind::Pytorch],
            Compare::Jax => &[PeerKind::Jax, PeerKind::JaxScan],
            Compare::Tensorflow => &[PeerKind::Tensorflow],
            Compare::Onnxruntime => &[PeerKind::Onnxruntime],
            Compare::Numpy => &[PeerKind::Numpy],
        }
    }

    /// The name used on the command line and in `--python NAME=PATH`.
    pub fn name(self) -> &'static str {
        match self {
            Compare::Pytorch => "pytorch",
            Compare::Jax => "jax",
            Compare::Tensorflow => "tensorflow",
            Compare::Onnxruntime => "onnxruntime",
            Compare::Numpy => "numpy",
        }
    }
}

impl PeerKind {
    /// The name in reports and the `--peer` argument of its script.
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Pytorch => "pytorch",
            PeerKind::Jax => "jax",
            PeerKind::JaxScan => "jax-scan",
            PeerKind::Tensorflow => "tensorflow",
            PeerKind::Onnxruntime => "onnxruntime",
            PeerKind::Numpy => "numpy",
        }
    }

    /// The framework it belongs to.
    pub fn framework(self) -> Compare {
        match self {
            PeerKind::Pytorch => Compare::Pytorch,
            PeerKind::Jax | PeerKind::JaxScan => Compare::Jax,
            PeerKind::Tensorflow => Compare::Tensorflow,
            PeerKind::Onnxruntime => Compare::Onnxruntime,
            PeerKind::Numpy => Compare::Numpy,
        }
    }

    /// Whether its script implements `workload`.
    pub fn runs(self, workload: Workload) -> bool {
        use Workload::*;
        match self {
            PeerKind::Pytorch | PeerKind::Jax => matches!(workload, W1 | W2 | W3 | W4 | W5 | W7),
            PeerKind::JaxScan => matches!(workload, W1 | W2),
            PeerKind::Tensorflow => matches!(workload, W1 | W2 | W3 | W4 | W5),
            PeerKind::Onnxruntime => matches!(workload, W5),
            PeerKind::Numpy => matches!(workload, W6 | W7),
        }
    }

    fn script(self) -> &'static str {
        match self.framework() {
            Compare::Pytorch => "pytorch_workloads.py",
            Compare::Jax => "jax_workloads.py",
            Compare::Tensorflow => "tensorflow_workloads.py",
            Compare::Onnxruntime => "onnxruntime_workloads.py",
            Compare::Numpy => "numpy_workloads.py",
        }
    }

    fn modules(self) -> &'static str {
        match self.framework() {
            Compare::Pytorch => "torch",
            Compare::Jax => "jax",
            Compare::Tensorflow => "tensorflow, keras",
            Compare::Onnxruntime => "onnxruntime, onnx, numpy",
            Compare::Numpy => "numpy",
        }
    }

    fn pip_packages(self) -> &'static str {
        match self.framework() {
            Compare::Pytorch => "torch numpy",
            Compare::Jax => "jax numpy",
            Compare::Tensorflow => "tensorflow-cpu numpy",
            Compare::Onnxruntime => "onnxruntime onnx numpy",
            Compare::Numpy => "numpy threadpoolctl",
        }
    }
}

/// A Python interpreter that can run one peer's script.
pub struct Peer {
    /// Which implementation.
    pub kind: PeerKind,
    python: PathBuf,
    script: PathBuf,
}

/// Picks the interpreter for `framework` from `--python` entries: `NAME=PATH` for that
/// framework, else a bare `PATH` (every framework), else `python3`.
pub fn python_for(entries: &[String], framework: Compare) -> PathBuf {
    let named = entries.iter().find_map(|e| {
        let (name, path) = e.split_once('=')?;
        (name.trim().eq_ignore_ascii_case(framework.name())).then(|| PathBuf::from(path))
    });
    named
        .or_else(|| entries.iter().find(|e| !e.contains('=')).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Checks the `--python` entries: each is `PATH` or `NAME=PATH` with a known framework name.
pub fn check_python_entries(entries: &[String]) -> Result<(), String> {
    use clap::ValueEnum;
    for e in entries {
        if let Some((name, _)) = e.split_once('=') {
            if Compare::from_str(name.trim(), true).is_err() {
                return Err(format!(
                    "--python {e}: unknown framework `{name}`: expected pytorch, jax, tensorflow, onnxruntime or numpy"
                ));
            }
        }
    }
    Ok(())
}

impl Peer {
    /// Finds the script of `kind` and checks that `python` can import what it needs.
    ///
    /// # Errors
    /// One line saying what is missing and how to install it.
    pub fn find(python: &Path, kind: PeerKind) -> Result<Peer, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../benches/peers")
            .join(kind.script());
        let modules = kind.modules();
        let ok = Command::new(python)
            .args(["-c", &format!("import {modules}")])
            .env("KERAS_BACKEND", "tensorflow")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            return Err(format!(
                "--compare {}: `{}` cannot import {modules}; install it with `python3 -m venv ~/venv && ~/venv/bin/pip install {}` and pass `--python {}=~/venv/bin/python`",
                kind.framework().name(),
                python.display(),
                kind.pip_packages(),
                kind.framework().name()
            ));
        }
        Ok(Peer {
            kind,
            python: python.to_path_buf(),
            script,
        })
    }

    /// Runs one repeat of `workload` with `threads` threads.
    pub fn run(
        &self,
        workload: Workload,
        data_dir: &Path,
        threads: usize,
        epochs: usize,
        accuracy: bool,
    ) -> Result<Measurement, String> {
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script)
            .arg(workload.id())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--threads", &threads.to_string(), "--epochs", &epochs.to_string()])
            .args(["--peer", self.kind.name()])
            .env("OMP_NUM_THREADS", threads.to_string())
            .env("OPENBLAS_NUM_THREADS", threads.to_string())
            .env("MKL_NUM_THREADS", threads.to_string());
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        if accuracy {
            cmd.arg("--accuracy");
        }
        let who = format!("{} {}", self.kind.name(), workload.id());
        let out = cmd
            .output()
            .map_err(|e| format!("{who}: cannot run {}: {e}", self.python.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!("{who} failed: {}", err.lines().last().unwrap_or("").trim()));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().last().unwrap_or("");
        serde_json::from_str(line).map_err(|e| format!("{who} printed no JSON result ({e}): {line}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_entries_pick_the_named_framework_then_the_default() {
        let entries = vec!["jax=/v/jax/python".to_string(), "/v/all/python".to_string()];
        assert_eq!(python_for(&entries, Compare::Jax), PathBuf::from("/v/jax/python"));
        assert_eq!(python_for(&entries, Compare::Pytorch), PathBuf::from("/v/all/python"));
        assert_eq!(python_for(&[], Compare::Numpy), PathBuf::from("python3"));
        assert!(check_python_entries(&entries).is_ok());
        let bad = check_python_entries(&["torch=/x".to_string()]).unwrap_err();
        assert!(bad.contains("torch"), "{bad}");
    }

    #[test]
    fn every_workload_but_w6_has_a_training_framework_peer() {
        for w in Workload::ALL {
            let peers: Vec<_> = [PeerKind::Pytorch, PeerKind::Jax, PeerKind::Tensorflow, PeerKind::Numpy]
                .into_iter()
                .filter(|k| k.runs(w))
                .collect();
            assert!(!peers.is_empty(), "{w:?} has no peer");
        }
        assert!(PeerKind::Onnxruntime.runs(Workload::W5) && !PeerKind::Onnxruntime.runs(Workload::W1));
    }
}
