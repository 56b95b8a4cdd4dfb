//! docs/tutorial.md's command-line section, run as written, in order, in a fresh directory
//! (with the repository's `examples/` beside it, as in a clone), on the embedded MNIST sample;
//! and the sample images of `examples/images/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../datasets/tests/common/image_folder.rs"]
mod image_folder;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The `neurite ...` lines of the ```sh blocks in the tutorial's section `number`, comments
/// removed.
fn tutorial_commands(number: usize) -> Vec<String> {
    let text = fs::read_to_string(repo().join("docs/tutorial.md")).unwrap();
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with(&format!("{number}. ")))
        .unwrap_or_else(|| panic!("the tutorial has a section {number}"));
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in section.lines() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            in_sh = !in_sh && info == "sh";
            continue;
        }
        if in_sh && trimmed.starts_with("neurite ") {
            let command = trimmed.split(" #").next().unwrap().trim();
            commands.push(command.to_string());
        }
    }
    commands
}

/// `examples/images/mnist-*.png` style arguments expanded as a shell would (sorted).
fn expand(arg: &str, cwd: &Path) -> Vec<String> {
    let Some((dir, pattern)) = arg.rsplit_once('/').filter(|_| arg.contains('*')) else {
        return vec![arg.to_string()];
    };
    let (prefix, suffix) = pattern.split_once('*').unwrap();
    let mut names: Vec<String> = fs::read_dir(cwd.join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    names
}

fn run(command: &str, cwd: &Path) -> Output {
    let args: Vec<String> = command
        .split_whitespace()
        .skip(1)
        .flat_map(|a| expand(a, cwd))
        .collect();
    Command::new(env!("CARGO_BIN_EXE_neurite"))
        .args(&args)
        .current_dir(cwd)
        .env("NEURITE_DATA_DIR", cwd.join("no-data"))
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

/// `path: LABEL (p%), ...` lines of `predict` as (file name, top-1 class).
fn top1(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let (path, rest) = l.split_once(": ")?;
            let name = Path::new(path).file_name()?.to_string_lossy().to_string();
            Some((name, rest.split_whitespace().next()?.to_string()))
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn the_tutorial_commands_run_in_order_as_written() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("examples"), dir.path().join("examples")).unwrap();
    let commands = tutorial_commands(2);
    assert!(commands.len() >= 5, "too few commands found: {commands:?}");
    let mut predictions = Vec::new();
    for command in &commands {
        let o = run(command, dir.path());
        assert!(o.status.success(), "`{command}` failed: {}", stderr(&o));
        if command.starts_with("neurite predict") {
            predictions.push((command.clone(), top1(&String::from_utf8_lossy(&o.stdout))));
        }
    }
    // The first run's model is still where eval, predict and the PyTorch step look for it.
    let metrics = fs::read_to_string(dir.path().join("runs/mnist-mlp/metrics.json")).unwrap();
    let metrics: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    assert_eq!(metrics["settings"]["model"], "mlp");
    assert!(
        !metrics["settings"]["architecture"].to_string().contains("256"),
        "{metrics}"
    );
    // The sample digits are real, clearly written MNIST test images: the tutorial's models
    // read them right (all ten here; at least 9 of 10 required, since another CPU's sgemm
    // kernel rounds differently and a borderline digit may flip).
    assert!(!predictions.is_empty(), "the tutorial predicts nothing");
    for (command, lines) in predictions {
        assert!(!lines.is_empty(), "`{command}` printed no prediction");
        let wrong: Vec<String> = lines
            .iter()
            .filter(|(file, class)| file.trim_start_matches("mnist-").trim_end_matches(".png") != class)
            .map(|(file, class)| format!("{file} read as {class}"))
            .collect();
        assert!(wrong.len() * 10 <= lines.len(), "`{command}`: {wrong:?}");
    }
}

#[test]
fn the_sample_images_are_what_their_readme_says() {
    let images = repo().join("examples/images");
    for digit in 0..10 {
        let img = image::open(images.join(format!("mnist-{digit}.png"))).unwrap();
        assert_eq!((img.width(), img.height()), (28, 28));
        assert_eq!(img.color(), image::ColorType::L8, "MNIST samples are grey");
    }
    for class in neurite_datasets::catalog::CIFAR10_CLASSES {
        let img = image::open(images.join(format!("cifar10-{class}.png"))).unwrap();
        assert_eq!((img.width(), img.height()), (32, 32));
        assert_eq!(img.color(), image::ColorType::Rgb8, "CIFAR-10 samples are RGB");
    }
    let readme = fs::read_to_string(images.join("README.md")).unwrap();
    assert!(readme.contains("Creative Commons Attribution-Share Alike 3.0") && readme.contains("Krizhevsky"));
}

/// Runs every command of a section in `dir`, in order; returns each command's stdout.
fn run_section(number: usize, dir: &Path) -> Vec<(String, String)> {
    let commands = tutorial_commands(number);
    assert!(
        commands.len() >= 4,
        "too few commands in section {number}: {commands:?}"
    );
    commands
        .iter()
        .map(|command| {
            let o = run(command, dir);
            assert!(o.status.success(), "`{command}` failed: {}", stderr(&o));
            (command.clone(), String::from_utf8_lossy(&o.stdout).to_string())
        })
        .collect()
}

#[test]
fn the_own_images_section_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    // photos/cats and photos/dogs: real MNIST zeros and ones, as PNG files; a JPEG to predict.
    let photos = dir.path().join("photos");
    image_folder::write_mnist_folder(&photos, 2, 20);
    fs::rename(photos.join("digit-0"), photos.join("cats")).unwrap();
    fs::rename(photos.join("digit-1"), photos.join("dogs")).unwrap();
    let zero = fs::read_dir(photos.join("cats"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    image::open(&zero).unwrap().save(dir.path().join("my-cat.jpg")).unwrap();
    let outputs = run_section(4, dir.path());
    let (_, predicted) = outputs.iter().find(|(c, _)| c.starts_with("neurite predict")).unwrap();
    assert!(predicted.starts_with("my-cat.jpg: "), "{predicted}");
    let (_, info) = outputs.iter().find(|(c, _)| c.starts_with("neurite info")).unwrap();
    assert!(
        info.contains("photos Dataset: Train - (32, 28, 28)") && info.contains("dogs"),
        "{info}"
    );
    assert!(dir.path().join("grid.png").is_file());
}

#[test]
fn the_csv_section_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for name in ["iris.csv", "diabetes.csv"] {
        fs::copy(data.join(name), dir.path().join(name)).unwrap();
    }
    // Three new flowers, without the species column.
    let iris = fs::read_to_string(dir.path().join("iris.csv")).unwrap();
    let rows: Vec<&str> = iris.lines().collect();
    let new: Vec<String> = [rows[0], rows[1], rows[60], rows[120]]
        .iter()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect();
    fs::write(dir.path().join("new-flowers.csv"), new.join("\n") + "\n").unwrap();
    let outputs = run_section(5, dir.path());
    let (_, eval) = outputs.iter().find(|(c, _)| c.starts_with("neurite eval")).unwrap();
    let accuracy: f64 = eval
        .split("accuracy ")
        .nth(1)
        .and_then(|r| r.split('%').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no accuracy in {eval}"));
    assert!(accuracy > 85.0, "{eval}");
    let (_, predicted) = outputs.iter().find(|(c, _)| c.starts_with("neurite predict")).unwrap();
    let species: Vec<&str> = predicted
        .lines()
        .map(|l| l.split(": ").nth(1).unwrap().split_whitespace().next().unwrap())
        .collect();
    assert_eq!(species, ["setosa", "versicolor", "virginica"], "{predicted}");
}
