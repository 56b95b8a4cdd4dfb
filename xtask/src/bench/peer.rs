//! Running a workload in a peer framework: `benches/peers/pytorch_workloads.py`, one process
//! per run, its JSON result read from stdout.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::measure::Measurement;
use super::spec::Workload;

/// A Python interpreter that can run the peer script.
pub struct Peer {
    python: PathBuf,
    script: PathBuf,
}

impl Peer {
    /// Finds the script and checks that `python` can import what `peer` needs (torch or numpy).
    ///
    /// # Errors
    /// One line saying what is missing and how to install it.
    pub fn find(python: &Path, peer: &str) -> Result<Peer, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/peers/pytorch_workloads.py");
        let module = if peer == "pytorch" { "torch" } else { "numpy" };
        let ok = Command::new(python)
            .args(["-c", &format!("import {module}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            return Err(format!(
                "--compare {peer}: `{}` cannot import {module}; install it with `python3 -m venv ~/venv && ~/venv/bin/pip install torch numpy` and pass `--python ~/venv/bin/python`",
                python.display()
            ));
        }
        Ok(Peer {
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
            .args(["--peer", workload.peer()])
            .env("OMP_NUM_THREADS", threads.to_string())
            .env("OPENBLAS_NUM_THREADS", threads.to_string())
            .env("MKL_NUM_THREADS", threads.to_string());
        if accuracy {
            cmd.arg("--accuracy");
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.python.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "peer {} failed: {}",
                workload.id(),
                err.lines().last().unwrap_or("").trim()
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().last().unwrap_or("");
        serde_json::from_str(line).map_err(|e| format!("peer {} printed no JSON result ({e}): {line}", workload.id()))
    }
}
