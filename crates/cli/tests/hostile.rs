//! The hostile-input corpus, run through the real binary: damaged data directories, crafted
//! weights files, crafted images and crafted model metadata.
//!
//! Every case must end in a clean error: exit status 1 or 2, exactly one line on stderr that
//! names the file and says what is wrong, no panic, no abort, no signal, and no new file left
//! behind; each runs under a 2 GB address-space limit (`ulimit -v`) and a 60-second hang
//! guard (`timeout`), so an allocation sized by a header or an endless loop fails the case.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

/// Runs `neurite args...` in `cwd` under `ulimit -v 2000000` (KiB) and a hang guard, with
/// `data` as the data directory.
fn run_limited(args: &[&str], cwd: &Path, data: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 2000000 || exit 99; exec timeout 60 "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_neurite"))
        .args(args)
        .current_dir(cwd)
        .env("NEURITE_DATA_DIR", data)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("sh runs")
}

/// All files under `dir`, recursively, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Runs one case and checks the contract: exit 1 or 2, one stderr line naming `file` and
/// holding every `needle`, nothing new written in `cwd`.
fn expect_clean_error(case: &str, args: &[&str], cwd: &Path, data: &Path, file: &str, needles: &[&str]) {
    let before = listing(cwd);
    let o = run_limited(args, cwd, data);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let code = o.status.code();
    assert!(
        matches!(code, Some(1) | Some(2)),
        "{case}: exit {:?} (124: hung; none: killed by a signal), stderr: {err}",
        o.status
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{case}: expected one stderr line, got: {err}"
    );
    assert!(err.starts_with("error: "), "{case}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("memory allocation"),
        "{case}: {err}"
    );
    assert!(err.contains(file), "{case}: `{file}` not named in: {err}");
    for n in needles {
        assert!(err.contains(n), "{case}: `{n}` not in: {err}");
    }
    assert_eq!(listing(cwd), before, "{case}: files were left behind");
}

// ---------------------------------------------------------------------------------------
// Data directories

const MNIST: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn idx(code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, code, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    idx(8, &[n, rows, cols], &vec![17u8; (n * rows * cols) as usize])
}

fn labels(n: u32) -> Vec<u8> {
    idx(8, &[n], &(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>())
}

/// A fresh data dir with a good small MNIST (8 train, 4 test images of 28x28).
fn good_mnist(root: &Path) -> PathBuf {
    let data = root.join("data");
    let dir = data.join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(MNIST[0]), images(8, 28, 28)).unwrap();
    std::fs::write(dir.join(MNIST[1]), labels(8)).unwrap();
    std::fs::write(dir.join(MNIST[2]), images(4, 28, 28)).unwrap();
    std::fs::write(dir.join(MNIST[3]), labels(4)).unwrap();
    data
}

#[test]
fn damaged_mnist_directories() {
    type Damage = fn(&Path);
    let cases: Vec<(&str, usize, Damage, &[&str])> = vec![
        (
            "labels file missing",
            3,
            |d| std::fs::remove_file(d.join(MNIST[3])).unwrap(),
            &["file not found"],
        ),
        (
            "images file is a directory",
            0,
            |d| {
                std::fs::remove_file(d.join(MNIST[0])).unwrap();
                std::fs::create_dir(d.join(MNIST[0])).unwrap();
            },
            &["not a regular file"],
        ),
        (
            "empty file",
            2,
            |d| std::fs::write(d.join(MNIST[2]), b"").unwrap(),
            &["empty"],
        ),
        (
            "truncated images",
            0,
            |d| std::fs::write(d.join(MNIST[0]), &images(8, 28, 28)[..1000]).unwrap(),
            &["truncated"],
        ),
        (
            "bad magic",
            1,
            |d| std::fs::write(d.join(MNIST[1]), b"\x89PNG\r\n\x1a\nnot idx").unwrap(),
            &["magic"],
        ),
        (
            "dims overflow",
            0,
            |d| std::fs::write(d.join(MNIST[0]), idx(0x0E, &[u32::MAX, u32::MAX, u32::MAX], &[0; 64])).unwrap(),
            &["overflow"],
        ),
        (
            "huge declared dims",
            0,
            |d| std::fs::write(d.join(MNIST[0]), idx(8, &[60000, 4096, 4096], &[0; 64])).unwrap(),
            &["truncated"],
        ),
        (
            "wrong element type",
            2,
            |d| std::fs::write(d.join(MNIST[2]), idx(0x0D, &[4, 28, 28], &vec![0; 4 * 784 * 4])).unwrap(),
            &["f32"],
        ),
        (
            "label out of range",
            3,
            |d| std::fs::write(d.join(MNIST[3]), idx(8, &[4], &[1, 2, 200, 3])).unwrap(),
            &["label 200"],
        ),
        (
            "count mismatch",
            1,
            |d| std::fs::write(d.join(MNIST[1]), labels(7)).unwrap(),
            &["7 labels"],
        ),
        (
            "test images of another shape (same pixel count)",
            2,
            |d| std::fs::write(d.join(MNIST[2]), images(4, 14, 56)).unwrap(),
            &["[1, 14, 56]", "[1, 28, 28]"],
        ),
        (
            "sparse 3 GB images file",
            0,
            |d| {
                let f = std::fs::File::create(d.join(MNIST[0])).unwrap();
                let n: u32 = 3_900_000;
                std::io::Write::write_all(&mut &f, &idx(8, &[n, 28, 28], &[])).unwrap();
                f.set_len(16 + u64::from(n) * 784).unwrap();
                std::fs::write(d.join(MNIST[1]), labels(n)).unwrap();
            },
            &[],
        ),
    ];
    for (case, file, damage, needles) in cases {
        for command in [
            &["info", "mnist"][..],
            &["show", "mnist"],
            &["train", "--epochs", "1", "--out", "run"],
        ] {
            let root = tempfile::tempdir().unwrap();
            let data = good_mnist(root.path());
            damage(&data.join("mnist"));
            let cwd = root.path().join("cwd");
            std::fs::create_dir(&cwd).unwrap();
            expect_clean_error(
                &format!("{case} ({})", command[0]),
                command,
                &cwd,
                &data,
                MNIST[file],
                needles,
            );
        }
    }
}

#[test]
fn damaged_cifar_directories() {
    let batch = |n: usize, label: u8| {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(label);
            out.extend(std::iter::repeat_n(9u8, 3072));
        }
        out
    };
    // The record files (the class-name file, last in the catalog's list, is optional).
    let files = &neurite_datasets::catalog::CIFAR10_FILES[..6];
    type Damage = fn(&Path);
    let cases: Vec<(&str, &str, Damage, &[&str])> = vec![
        (
            "missing test batch",
            "test_batch.bin",
            |d| std::fs::remove_file(d.join("test_batch.bin")).unwrap(),
            &["not found"],
        ),
        (
            "partial record",
            "data_batch_3.bin",
            |d| std::fs::write(d.join("data_batch_3.bin"), vec![1u8; 3073 + 100]).unwrap(),
            &["3073-byte record"],
        ),
        (
            "label out of range",
            "data_batch_2.bin",
            |d| {
                let mut b = std::fs::read(d.join("data_batch_2.bin")).unwrap();
                b[3073] = 12;
                std::fs::write(d.join("data_batch_2.bin"), b).unwrap();
            },
            &["label 12"],
        ),
        (
            "class names of the wrong count",
            "batches.meta.txt",
            |d| std::fs::write(d.join("batches.meta.txt"), "cat\ndog\n").unwrap(),
            &["2 class names"],
        ),
    ];
    for (case, file, damage, needles) in cases {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data/cifar-10-batches-bin");
        std::fs::create_dir_all(&dir).unwrap();
        for f in files {
            std::fs::write(dir.join(f), batch(2, 3)).unwrap();
        }
        damage(&dir);
        let cwd = root.path().join("cwd");
        std::fs::create_dir(&cwd).unwrap();
        expect_clean_error(
            case,
            &["info", "cifar10"],
            &cwd,
            &root.path().join("data"),
            file,
            needles,
        );
    }
}

#[test]
fn images_too_big_to_draw() {
    // 2 train / 1 test images of 1 x 100,000 pixels: too wide for the terminal and a PNG grid.
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let dir = data.join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(MNIST[0]), images(2, 1, 100_000)).unwrap();
    std::fs::write(dir.join(MNIST[1]), labels(2)).unwrap();
    std::fs::write(dir.join(MNIST[2]), images(1, 1, 100_000)).unwrap();
    std::fs::write(dir.join(MNIST[3]), labels(1)).unwrap();
    let cwd = root.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    expect_clean_error("terminal view", &["show", "mnist"], &cwd, &data, "100000x1", &["--png"]);
    expect_clean_error(
        "png grid",
        &["show", "mnist", "--png", "grid.png"],
        &cwd,
        &data,
        "100000x1",
        &["too big"],
    );
}

// ---------------------------------------------------------------------------------------
// Weights files and model metadata

/// One header entry: name, dtype, shape, data_offsets.
type Entry = (&'static str, &'static str, Vec<u64>, [u64; 2]);

/// A safetensors file from header entries and raw data bytes.
fn safetensors(entries: &[Entry], metadata: Option<serde_json::Value>, data: &[u8]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if let Some(m) = metadata {
        header.insert("__metadata__".into(), m);
    }
    for (name, dtype, shape, offsets) in entries {
        header.insert(
            name.to_string(),
            json!({"dtype": dtype, "shape": shape, "data_offsets": offsets}),
        );
    }
    let text = serde_json::Value::Object(header).to_string();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text.as_bytes());
    out.extend_from_slice(data);
    out
}

fn mlp_metadata(hidden: u64) -> serde_json::Value {
    json!({
        "neurite.architecture": format!(r#"{{"model":"mlp","input":[784],"hidden":[{hidden}],"classes":10}}"#),
        "neurite.dataset": "mnist",
    })
}

/// Entries of an MNIST MLP 784 -> `hidden` -> 10 in F32, laid out back to back.
fn mlp_entries(hidden: u64) -> (Vec<Entry>, u64) {
    let shapes: [(&str, Vec<u64>); 4] = [
        ("0.weight", vec![hidden, 784]),
        ("0.bias", vec![hidden]),
        ("2.weight", vec![10, hidden]),
        ("2.bias", vec![10]),
    ];
    let mut offset = 0;
    let mut out = Vec::new();
    for (name, shape) in shapes {
        let bytes = shape.iter().product::<u64>() * 4;
        out.push((name, "F32", shape, [offset, offset + bytes]));
        offset += bytes;
    }
    (out, offset)
}

/// A valid W1-shaped weights file (small values) with one value replaced by `poison`.
fn w1_file(poison: Option<f32>) -> Vec<u8> {
    let (entries, len) = mlp_entries(128);
    let mut data: Vec<u8> = (0..len / 4)
        .flat_map(|i| ((i % 7) as f32 * 0.01).to_le_bytes())
        .collect();
    if let Some(v) = poison {
        data[400..404].copy_from_slice(&v.to_le_bytes());
    }
    safetensors(&entries, Some(mlp_metadata(128)), &data)
}

#[test]
fn crafted_weights_files() {
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path();
    let no_data = cwd.join("no-data");
    let write = |name: &str, bytes: &[u8]| {
        let p = cwd.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let (big_entries, big_len) = mlp_entries(1_000_000);
    let sparse = cwd.join("sparse.safetensors");
    {
        let head = safetensors(&big_entries, Some(mlp_metadata(1_000_000)), &[]);
        std::fs::write(&sparse, &head).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&sparse)
            .unwrap()
            .set_len(head.len() as u64 + big_len)
            .unwrap();
    }
    let (w1_entries, w1_len) = mlp_entries(128);
    let cases: Vec<(&str, PathBuf, &[&str])> = vec![
        (
            "metadata declares a huge hidden width the tensors lack",
            write(
                "huge-meta.safetensors",
                &safetensors(
                    &[("0.weight", "F32", vec![1], [0, 4])],
                    Some(mlp_metadata(1_000_000)),
                    &[0; 4],
                ),
            ),
            &["[1000000, 784]"],
        ),
        (
            "metadata beyond the size bound",
            write(
                "too-big-meta.safetensors",
                &safetensors(
                    &[("0.weight", "F32", vec![1], [0, 4])],
                    Some(mlp_metadata(1 << 40)),
                    &[0; 4],
                ),
            ),
            &["metadata"],
        ),
        (
            "sparse 3 GB file whose tensors match its metadata",
            sparse.clone(),
            &["cannot be allocated"],
        ),
        (
            "NaN weight",
            write("nan.safetensors", &w1_file(Some(f32::NAN))),
            &["`0.weight`", "NaN"],
        ),
        (
            "infinite weight",
            write("inf.safetensors", &w1_file(Some(f32::INFINITY))),
            &["`0.weight`", "inf"],
        ),
        (
            "overflowing offsets",
            write(
                "offsets.safetensors",
                &safetensors(
                    &[("0.weight", "F32", vec![1], [u64::MAX - 4, u64::MAX])],
                    Some(mlp_metadata(128)),
                    &[0; 4],
                ),
            ),
            &["`0.weight`", "overflows"],
        ),
        (
            "offsets that disagree with the shape",
            write(
                "misaligned.safetensors",
                &safetensors(
                    &[("0.weight", "F32", vec![128, 784], [0, 8])],
                    Some(mlp_metadata(128)),
                    &[0; 8],
                ),
            ),
            &["`0.weight`"],
        ),
        (
            "zero-element tensor with an absurd shape",
            write(
                "zero.safetensors",
                &safetensors(
                    &[("0.weight", "F32", vec![0, u64::MAX, u64::MAX], [0, 0])],
                    Some(mlp_metadata(128)),
                    &[],
                ),
            ),
            &["`0.weight`"],
        ),
        (
            "wrong dtype",
            write("i32.safetensors", &{
                let mut e = w1_entries.clone();
                e[0].1 = "I32";
                safetensors(&e, Some(mlp_metadata(128)), &vec![0; w1_len as usize])
            }),
            &["`0.weight`", "I32"],
        ),
        (
            "unknown dtype",
            write("q7.safetensors", &{
                let mut e = w1_entries.clone();
                e[1].1 = "Q7";
                safetensors(&e, Some(mlp_metadata(128)), &vec![0; w1_len as usize])
            }),
            &["Q7"],
        ),
        (
            "truncated data",
            write("cut.safetensors", &w1_file(None)[..200_000]),
            &["truncated"],
        ),
        (
            "header length beyond the file",
            write("len.safetensors", &[0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, b'{', b'}']),
            &["header length"],
        ),
        (
            "not a safetensors file",
            write("png.safetensors", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            &["not a safetensors file"],
        ),
        ("empty file", write("empty.safetensors", b""), &["0 bytes"]),
        (
            "metadata that is not a model",
            write(
                "garbage-meta.safetensors",
                &safetensors(&[], Some(json!({"neurite.architecture": "{not json"})), &[]),
            ),
            &["metadata"],
        ),
        (
            "CNN metadata with an absurd input",
            write(
                "cnn-meta.safetensors",
                &safetensors(
                    &[],
                    Some(
                        json!({"neurite.architecture": format!(r#"{{"model":"cnn","input":[1,{},{}],"classes":10}}"#, u64::MAX, u64::MAX)}),
                    ),
                    &[],
                ),
            ),
            &["metadata"],
        ),
        (
            "metadata value that is not a string",
            write(
                "meta-num.safetensors",
                &safetensors(&[], Some(json!({"neurite.architecture": 5})), &[]),
            ),
            &["not a string"],
        ),
    ];
    std::fs::create_dir(cwd.join("a-directory.safetensors")).unwrap();
    let mut cases = cases;
    cases.push((
        "a directory",
        cwd.join("a-directory.safetensors"),
        &["not a regular file"],
    ));
    let digit = cwd.join("digit.pgm");
    let mut pgm = b"P5\n28 28\n255\n".to_vec();
    pgm.extend([0u8; 784]);
    std::fs::write(&digit, pgm).unwrap();
    for (case, path, needles) in &cases {
        let name = path.file_name().unwrap().to_str().unwrap();
        let w = path.to_str().unwrap();
        expect_clean_error(case, &["eval", "--weights", w], cwd, &no_data, name, needles);
        expect_clean_error(
            case,
            &["predict", "--weights", w, digit.to_str().unwrap()],
            cwd,
            &no_data,
            name,
            needles,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Images given to `predict`

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG signature and an IHDR chunk (8-bit grey) declaring `width x height`, then `rest`.
fn png_header(width: u32, height: u32, rest: &[u8]) -> Vec<u8> {
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(width.to_be_bytes());
    chunk.extend(height.to_be_bytes());
    chunk.extend([8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&chunk);
    out.extend(crc32(&chunk).to_be_bytes());
    out.extend_from_slice(rest);
    out
}

#[test]
fn crafted_images() {
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path();
    let weights = cwd.join("w1.safetensors");
    std::fs::write(&weights, w1_file(None)).unwrap();
    // A real PNG, to cut short.
    let mut png = Vec::new();
    image::GrayImage::from_pixel(28, 28, image::Luma([90]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = cwd.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    std::fs::create_dir(cwd.join("folder.png")).unwrap();
    let cases: Vec<(&str, PathBuf)> = vec![
        ("empty file", write("empty.png", b"")),
        ("zero-size PNG", write("zero.png", &png_header(0, 0, &[]))),
        (
            "huge declared PNG",
            write("huge.png", &png_header(100_000, 100_000, &[0; 64])),
        ),
        (
            "widest declared PNG",
            write("wide.png", &png_header(u32::MAX >> 1, 1, &[0; 64])),
        ),
        ("truncated PNG", write("cut.png", &png[..png.len() / 2])),
        (
            "huge declared PGM",
            write("huge.pgm", b"P5\n100000 100000\n255\n\0\0\0\0"),
        ),
        (
            "overflowing PGM",
            write("overflow.pgm", b"P5\n4294967295 4294967295\n255\n\0"),
        ),
        ("zero-size PGM", write("zero.pgm", b"P5\n0 0\n255\n")),
        ("truncated PGM", write("cut.pgm", b"P5\n28 28\n255\n\0\0\0")),
        (
            "JPEG garbage",
            write("junk.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0garbage garbage"),
        ),
        ("a directory", cwd.join("folder.png")),
        ("missing", cwd.join("missing.png")),
    ];
    let no_data = cwd.join("no-data");
    for (case, path) in &cases {
        let name = path.file_name().unwrap().to_str().unwrap();
        expect_clean_error(
            case,
            &[
                "predict",
                "--weights",
                weights.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
            cwd,
            &no_data,
            name,
            &[],
        );
    }
}
