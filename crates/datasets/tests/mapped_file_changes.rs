//! A mapped data file truncated by another process while loaded: the next read of a lost page
//! ends the program with a one-line error naming the file and exit status 1, not a bare SIGBUS.
//! The faulting part runs in a child process (this test binary, re-run with an env variable).

#![cfg(target_os = "linux")]

use std::process::Command;

use neurite_datasets::idx::{write_idx, IdxData, IdxFile};

const CHILD: &str = "NEURITE_TRUNCATED_MAP_CHILD";

#[test]
fn truncating_a_mapped_file_gives_a_one_line_error_naming_it() {
    if let Ok(path) = std::env::var(CHILD) {
        let file = IdxFile::open(&path).unwrap();
        // Another process truncates the file; here, the same process does it.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(16)
            .unwrap();
        let last = file.data()[file.data().len() - 1];
        println!("read {last} from a truncated map without a fault");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-images-idx3-ubyte");
    let pixels = vec![7u8; 64 * 28 * 28];
    write_idx(&path, &[64, 28, 28], IdxData::U8(&pixels)).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "truncating_a_mapped_file_gives_a_one_line_error_naming_it",
            "--nocapture",
        ])
        .env(CHILD, &path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "status {:?}, stderr: {stderr}", out.status);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in: {stderr}"));
    assert!(
        line.contains(&path.display().to_string()) && line.contains("truncated or changed while it was mapped"),
        "{line}"
    );
}
