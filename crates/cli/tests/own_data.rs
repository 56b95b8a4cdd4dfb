//! `neurite` on the user's own data, through the real binary: a folder of real images (MNIST
//! digits written as PNG files, with a corrupt file and a text file mixed in) and a CSV of
//! MNIST rows; bad files and rows are named, the folder's cache is reused, `eval` on the saved
//! model reproduces the metrics, and `predict` takes an image or a CSV.

#[path = "../../datasets/tests/common/image_folder.rs"]
mod image_folder;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image_folder::{add_bad_files, write_mnist_folder};

fn neurite(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(args)
        .current_dir(cwd)
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stderr(o), stdout(o));
    stdout(o)
}

/// The error line of a failed run (notes aside), checked to be a single line without a panic.
fn error_line(o: &Output, code: i32) -> String {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    let lines: Vec<String> = stderr(o)
        .lines()
        .filter(|l| !l.starts_with("note: "))
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 1, "one error line: {lines:?}");
    assert!(!lines[0].contains("panicked"), "{}", lines[0]);
    lines[0].clone()
}

/// The last epoch's test accuracy in `run/metrics.json`.
fn saved_test_accuracy(run: &Path) -> f64 {
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    metrics["epochs"].as_array().unwrap().last().unwrap()["test_accuracy"]
        .as_f64()
        .unwrap()
}

fn eval_accuracy(dir: &Path, weights: &str, extra: &[&str]) -> f64 {
    let mut args = vec!["eval", "--weights", weights, "--json"];
    args.extend_from_slice(extra);
    let out = ok(&neurite(&args, dir));
    let value: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    value["accuracy"].as_f64().unwrap()
}

#[test]
fn an_image_folder_trains_names_bad_files_and_reuses_its_cache() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("digits");
    let files = write_mnist_folder(&root, 10, 30);
    let [broken, text] = add_bad_files(&root, &files[0]);

    // Refused by default, naming both bad files.
    let o = neurite(
        &["train", "--dataset", "digits", "--epochs", "1", "--out", "run"],
        dir.path(),
    );
    let err = error_line(&o, 1);
    // Named as the user named the folder (relative here).
    assert!(broken.ends_with("digits/digit-0/broken.png") && text.ends_with("digits/digit-1/notes.txt"));
    assert!(
        err.contains("digits/digit-0/broken.png (unexpected end of file)"),
        "{err}"
    );
    assert!(err.contains("digits/digit-1/notes.txt ("), "{err}");
    assert!(
        err.contains("2 files are not a decodable image") && err.contains("--skip-bad"),
        "{err}"
    );
    assert!(!dir.path().join("run/model.safetensors").exists());

    // --skip-bad trains, counting them.
    let train = [
        "train",
        "--dataset",
        "digits",
        "--skip-bad",
        "--epochs",
        "2",
        "--optimizer",
        "adam",
        "--out",
        "run",
    ];
    let o = neurite(&train, dir.path());
    let out = ok(&o);
    assert!(
        stderr(&o).contains("note: decoded 300 images into the cache")
            && stderr(&o).contains("skipped 2 files that are not decodable images"),
        "{}",
        stderr(&o)
    );
    assert!(out.contains("on digits (240 train / 60 test images)"), "{out}");
    let cache_dir = root.join(".neurite-cache");
    let caches: Vec<PathBuf> = std::fs::read_dir(&cache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(caches.len(), 1, "{caches:?}");
    let mtime = std::fs::metadata(&caches[0]).unwrap().modified().unwrap();

    // Eval on the saved model reads the folder the same way and reproduces the accuracy.
    let saved = saved_test_accuracy(&dir.path().join("run"));
    assert!(saved > 0.5, "a 10-class MLP on 240 digits after 2 epochs: {saved}");
    let o = neurite(&["eval", "--weights", "run/model.safetensors", "--json"], dir.path());
    let value: serde_json::Value = serde_json::from_str(ok(&o).trim()).unwrap();
    assert!(
        (value["accuracy"].as_f64().unwrap() - saved).abs() < 1e-6,
        "{value} vs {saved}"
    );
    assert_eq!(value["samples"], 60);
    assert!(stderr(&o).contains("note: reusing the cache"), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(&caches[0]).unwrap().modified().unwrap(),
        mtime,
        "not rewritten"
    );

    // The second training run reuses the cache too (into the same --out, so --overwrite).
    let mut again = train.to_vec();
    again.push("--overwrite");
    let o = neurite(&again, dir.path());
    ok(&o);
    assert!(stderr(&o).contains("note: reusing the cache"), "{}", stderr(&o));

    // Predict on an image file of the folder: one of the folder's class names.
    let o = neurite(
        &[
            "predict",
            "--weights",
            "run/model.safetensors",
            files[200].to_str().unwrap(),
        ],
        dir.path(),
    );
    let out = ok(&o);
    assert!(out.contains(": digit-"), "{out}");

    // info and show read the folder.
    let out = ok(&neurite(&["info", "digits", "--skip-bad"], dir.path()));
    assert!(out.contains("digits Dataset: Train - (240, 28, 28)"), "{out}");
    assert!(out.contains("digit-9"), "{out}");
    let out = ok(&neurite(&["show", "digits", "--skip-bad", "--index", "3"], dir.path()));
    assert!(out.starts_with("#3  label "), "{out}");

    // A changed file rebuilds the cache.
    image::GrayImage::from_pixel(28, 28, image::Luma([0u8]))
        .save(&files[5])
        .unwrap();
    let o = neurite(&["info", "digits", "--skip-bad"], dir.path());
    ok(&o);
    assert!(stderr(&o).contains("note: decoded 300 images"), "{}", stderr(&o));
}

#[test]
fn a_damaged_folder_cache_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_folder(&dir.path().join("d"), 2, 5);
    ok(&neurite(&["info", "d"], dir.path()));
    let cache_dir = dir.path().join("d/.neurite-cache");
    let cache = std::fs::read_dir(&cache_dir).unwrap().next().unwrap().unwrap().path();
    let bytes = std::fs::read(&cache).unwrap();
    std::fs::write(&cache, &bytes[..bytes.len() - 1]).unwrap();
    let err = error_line(&neurite(&["info", "d"], dir.path()), 1);
    let name = cache.file_name().unwrap().to_str().unwrap();
    assert!(
        err.contains(&format!(
            "d/.neurite-cache/{name}: damaged image-folder cache: truncated"
        )),
        "{err}"
    );
    assert!(err.contains("delete it to rebuild"), "{err}");
}

#[test]
fn a_folder_that_cannot_hold_its_cache_uses_the_user_cache_dir() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_folder(&dir.path().join("d"), 2, 5);
    // A file where the cache folder would go: the folder cannot hold a cache.
    std::fs::write(dir.path().join("d/.neurite-cache"), "not a folder").unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_neurite"))
            .args(["info", "d"])
            .current_dir(dir.path())
            .env("NEURITE_DATA_DIR", dir.path().join("no-data"))
            .env("XDG_CACHE_HOME", dir.path().join("user-cache"))
            .output()
            .unwrap()
    };
    let o = run();
    ok(&o);
    let user = dir.path().join("user-cache/neurite/folders");
    assert!(
        stderr(&o).contains(&format!("note: decoded 10 images into the cache {}", user.display())),
        "{}",
        stderr(&o)
    );
    let o = run();
    ok(&o);
    assert!(
        stderr(&o).contains(&format!("note: reusing the cache {}", user.display())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_unknown_dataset_is_named_with_the_built_in_names() {
    let dir = tempfile::tempdir().unwrap();
    let err = error_line(&neurite(&["train", "--dataset", "flowers"], dir.path()), 2);
    assert!(err.contains("unknown data set `flowers`"), "{err}");
    assert!(err.contains("mnist, fashion-mnist, cifar10, cifar100"), "{err}");
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let err = error_line(&neurite(&["info", "notes.txt"], dir.path()), 2);
    assert!(err.contains("not a .csv table"), "{err}");
}

/// Writes `digits.csv`: 300 MNIST training images of digits 0-2, pooled 4x4 to 7x7 = 49
/// features (0-255 means), and the label as a word (`zero`, `one`, `two`).
fn write_digits_csv(path: &Path) {
    let data = neurite_datasets::mnist::embedded().unwrap();
    let mut text = (0..49).map(|j| format!("p{j}")).collect::<Vec<_>>().join(",") + ",digit\n";
    let mut count = 0;
    for i in 0..data.train.len() {
        let label = data.train.label(i);
        if label > 2 {
            continue;
        }
        let img = data.train.image(i);
        let mut row: Vec<String> = Vec::with_capacity(50);
        for by in 0..7 {
            for bx in 0..7 {
                let mut sum = 0u32;
                for y in 0..4 {
                    for x in 0..4 {
                        sum += u32::from(img[(by * 4 + y) * 28 + bx * 4 + x]);
                    }
                }
                row.push(format!("{}", sum as f32 / 16.0));
            }
        }
        row.push(["zero", "one", "two"][label].to_string());
        text += &(row.join(",") + "\n");
        count += 1;
        if count == 300 {
            break;
        }
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_csv_trains_for_classification_and_eval_reproduces_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    write_digits_csv(&dir.path().join("digits.csv"));
    let train = [
        "train",
        "--dataset",
        "digits.csv",
        "--label",
        "digit",
        "--hidden",
        "32",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "8",
        "--out",
        "table",
    ];
    let out = ok(&neurite(&train, dir.path()));
    assert!(out.contains("on digits.csv (240 train / 60 test rows)"), "{out}");
    let saved = saved_test_accuracy(&dir.path().join("table"));
    assert!(saved > 0.8, "three digit classes from 49 pooled pixels: {saved}");
    assert!((eval_accuracy(dir.path(), "table/model.safetensors", &[]) - saved).abs() < 1e-6);
    // The standardisation of the training rows is stored with the model.
    let bytes = std::fs::read(dir.path().join("table/model.safetensors")).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    let meta = &header["__metadata__"];
    let standardize: serde_json::Value = serde_json::from_str(meta["neurite.standardize"].as_str().unwrap()).unwrap();
    assert_eq!(standardize["mean"].as_array().unwrap().len(), 49);
    let data: serde_json::Value = serde_json::from_str(meta["neurite.data"].as_str().unwrap()).unwrap();
    assert_eq!(data["kind"], "csv");
    assert_eq!(data["class_names"], serde_json::json!(["one", "two", "zero"]));

    // Predict on rows of a CSV (here the training file itself: label column present).
    let out = ok(&neurite(
        &["predict", "--weights", "table/model.safetensors", "digits.csv"],
        dir.path(),
    ));
    assert_eq!(out.lines().count(), 300, "{out}");
    assert!(out.lines().next().unwrap().starts_with("digits.csv line 2: "), "{out}");

    // info and show on the table.
    let out = ok(&neurite(&["info", "digits.csv", "--label", "digit"], dir.path()));
    assert!(out.contains("digits.csv Dataset: Train - (240, 49)"), "{out}");
    let out = ok(&neurite(
        &["show", "digits.csv", "--label", "digit", "--count", "2"],
        dir.path(),
    ));
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn bad_csv_rows_name_the_line_and_column_or_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digits.csv");
    write_digits_csv(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[5].split(',').map(str::to_string).collect();
    fields[3] = String::new();
    lines[5] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let train = ["train", "--dataset", "digits.csv", "--epochs", "1", "--out", "t"];
    let err = error_line(&neurite(&train, dir.path()), 1);
    assert!(err.contains("digits.csv, line 6, column `p3`: missing value"), "{err}");
    let mut dropping = train.to_vec();
    dropping.push("--drop-bad-rows");
    let o = neurite(&dropping, dir.path());
    ok(&o);
    assert!(
        stderr(&o).contains("note: dropped 1 bad row with a missing or non-numeric value (lines 6)"),
        "{}",
        stderr(&o)
    );
}

/// A committed scikit-learn CSV (`tests/data/`, written by `scripts/make_sklearn_csv.py`)
/// copied into `dir`.
fn sklearn_csv(dir: &Path, name: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::copy(src, dir.join(name)).unwrap();
}

#[test]
fn iris_trains_and_eval_reproduces_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    sklearn_csv(dir.path(), "iris.csv");
    let train = [
        "train",
        "--dataset",
        "iris.csv",
        "--label",
        "species",
        "--hidden",
        "16",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "40",
        "--batch-size",
        "16",
        "--out",
        "iris",
    ];
    let out = ok(&neurite(&train, dir.path()));
    assert!(out.contains("on iris.csv (120 train / 30 test rows)"), "{out}");
    let saved = saved_test_accuracy(&dir.path().join("iris"));
    assert!(saved > 0.85, "iris after 40 epochs: {saved}");
    assert!((eval_accuracy(dir.path(), "iris/model.safetensors", &[]) - saved).abs() < 1e-6);
    let out = ok(&neurite(&["eval", "--weights", "iris/model.safetensors"], dir.path()));
    assert!(out.contains("virginica"), "{out}");
}

#[test]
fn diabetes_trains_for_regression_and_eval_reproduces_the_error() {
    let dir = tempfile::tempdir().unwrap();
    sklearn_csv(dir.path(), "diabetes.csv");
    let train = [
        "train",
        "--dataset",
        "diabetes.csv",
        "--label",
        "target",
        "--task",
        "regression",
        "--hidden",
        "32",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "30",
        "--out",
        "dia",
    ];
    let out = ok(&neurite(&train, dir.path()));
    assert!(
        out.contains("for regression on diabetes.csv (354 train / 88 test rows)"),
        "{out}"
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("dia/metrics.json")).unwrap()).unwrap();
    let last = metrics["epochs"].as_array().unwrap().last().unwrap().clone();
    // A regression's metrics sit in each record's `metrics` map (train_mse, test_mae, ...).
    let test_mse = last["metrics"]["test_mse"].as_f64().unwrap();
    // Better than always answering the mean target (the targets' variance, about 5,900).
    assert!(test_mse < 4500.0, "{last}");
    let o = neurite(&["eval", "--weights", "dia/model.safetensors", "--json"], dir.path());
    let value: serde_json::Value = serde_json::from_str(ok(&o).trim()).unwrap();
    assert_eq!(value["samples"], 88);
    assert!(
        (value["mse"].as_f64().unwrap() - test_mse).abs() < 1e-6 * test_mse,
        "{value} vs {last}"
    );
    assert!((value["mae"].as_f64().unwrap() - last["metrics"]["test_mae"].as_f64().unwrap()).abs() < 1e-6);
    // Predict on rows without the label column: one number per row.
    let text = std::fs::read_to_string(dir.path().join("diabetes.csv")).unwrap();
    let rows: Vec<String> = text
        .lines()
        .take(4)
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect();
    std::fs::write(dir.path().join("new.csv"), rows.join("\n") + "\n").unwrap();
    let out = ok(&neurite(
        &["predict", "--weights", "dia/model.safetensors", "new.csv"],
        dir.path(),
    ));
    let values: Vec<f64> = out
        .lines()
        .map(|l| l.rsplit_once(": ").unwrap().1.parse().unwrap())
        .collect();
    assert_eq!(values.len(), 3, "{out}");
    assert!(values.iter().all(|v| (0.0..400.0).contains(v)), "{out}");
}
