//! Running one of `crates/nn/scripts/*.py` from a test, for checks that need a Python package
//! (tensorboard's reader, onnx and onnxruntime). The interpreter is `NEURITE_PYTHON`, else
//! `python3`. The scripts exit with status 3 when a package they need is missing; the test
//! then skips with a message instead of failing.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

/// Runs `scripts/<script>` with `args` and returns its stdout, or `None` (after printing why)
/// when Python or a package the script needs is missing.
///
/// # Panics
/// When the script fails for any other reason (its stderr is the message).
pub fn run_script<I, S>(script: &str, args: I) -> Option<Vec<u8>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let python = std::env::var_os("NEURITE_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts").join(script);
    let out = match Command::new(&python).arg(&path).args(args).output() {
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
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}
