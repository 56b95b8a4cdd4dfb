//! Command-line manners: a closed stdout ends every subcommand quietly, output into a pipe
//! has no colour codes, and counts read as English.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn neurite_cmd(args: &[&str], cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_neurite"));
    cmd.args(args)
        .current_dir(cwd)
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env("RAYON_NUM_THREADS", "2")
        .env_remove("NO_COLOR");
    cmd
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs the command with its stdout already closed by the reader, as `neurite ... | head -0`
/// would: the first write fails with EPIPE.
fn with_closed_stdout(args: &[&str], cwd: &Path) -> Output {
    let mut child = neurite_cmd(args, cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    child.wait_with_output().expect("the binary ends")
}

fn train_small(dir: &Path) -> String {
    let o = neurite_cmd(&["train", "--epochs", "1", "--out", "run"], dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    dir.join("run/model.safetensors").to_str().unwrap().to_string()
}

#[test]
fn a_closed_stdout_ends_every_subcommand_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let weights = train_small(dir.path());
    let digit = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/images/mnist-7.png");
    let cases: [&[&str]; 6] = [
        &["info", "mnist"],
        &["show", "mnist", "--count", "3"],
        &["eval", "--weights", &weights],
        &["eval", "--weights", &weights, "--json"],
        &["predict", "--weights", &weights, digit],
        &["train", "--epochs", "1", "--out", "run2"],
    ];
    for args in cases {
        let o = with_closed_stdout(args, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(141), "neurite {args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "neurite {args:?}: {err}"
        );
        assert!(
            !err.contains("error"),
            "a closed pipe is not an error worth a line: {err}"
        );
    }
}

#[test]
fn a_reader_that_stops_early_ends_show_quietly() {
    // `neurite show mnist --count 2000 | head -1`: far more than a pipe buffer.
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = neurite_cmd(&["show", "mnist", "--count", "2000"], dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    // Skip the note that says the embedded sample is used.
    while first.is_empty() || first.starts_with("note:") {
        first.clear();
        reader.read_line(&mut first).unwrap();
    }
    assert!(first.starts_with("#0  label 5"), "{first}");
    drop(reader);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(141), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn show_into_a_pipe_has_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let o = neurite_cmd(&["show", "mnist", "--index", "0"], dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(!out.contains('\u{1b}'), "escape codes in a pipe: {out:?}");
    // The first training digit, a 5, drawn in characters: 14 rows of 28 pixel pairs.
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("#0  label"))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 14, "{out}");
    assert!(rows.iter().all(|r| r.chars().count() <= 28), "{out}");
    assert!(out.contains('@') && out.contains(' '), "{out}");
}

#[test]
fn counts_read_as_english() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("one.png");
    let o = neurite_cmd(
        &["show", "mnist", "--count", "1", "--png", png.to_str().unwrap()],
        dir.path(),
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("wrote 1 image to"), "{out}");

    let o = neurite_cmd(
        &["train", "--epochs", "1", "--threads", "1", "--out", "run"],
        dir.path(),
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(", 1 epoch, 1 thread"), "{out}");
}

#[test]
fn train_help_shows_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let o = neurite_cmd(&["train", "--help"], dir.path()).output().unwrap();
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for default in [
        "[default: mlp]",
        "[default: 5]",
        "[default: 64]",
        "[default: sgd]",
        "[default: 0.1 for sgd",
        "[default: runs/DATASET-MODEL",
        "[default: mnist]",
    ] {
        assert!(help.contains(default), "`{default}` not in train --help:\n{help}");
    }
    assert!(
        !help.contains("eval/predict"),
        "train --help speaks of other commands:\n{help}"
    );
}

/// Runs `neurite show mnist --index 0` on a pseudo-terminal (util-linux `script`), with or
/// without `NO_COLOR`; `None` when `script` is not installed.
fn show_on_a_terminal(no_color: Option<&str>, cwd: &Path) -> Option<String> {
    let command = format!("{} show mnist --index 0", env!("CARGO_BIN_EXE_neurite"));
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .current_dir(cwd)
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    let o = cmd.output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).to_string())
}

#[cfg(unix)]
#[test]
fn colour_on_a_terminal_unless_no_color_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let Some(plain_terminal) = show_on_a_terminal(None, dir.path()) else {
        eprintln!("skipped: util-linux `script` is not installed, so no pseudo-terminal to test on");
        return;
    };
    assert!(
        plain_terminal.contains("\u{1b}[38;2;"),
        "a terminal gets 24-bit colour: {plain_terminal:?}"
    );
    let no_color = show_on_a_terminal(Some("1"), dir.path()).unwrap();
    assert!(
        !no_color.contains('\u{1b}'),
        "NO_COLOR=1 still got escape codes: {no_color:?}"
    );
    // An empty NO_COLOR does not count (no-color.org).
    let empty = show_on_a_terminal(Some(""), dir.path()).unwrap();
    assert!(empty.contains("\u{1b}[38;2;"), "{empty:?}");
}
