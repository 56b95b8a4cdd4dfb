//! CSV tables: header detection, label columns, classes in sorted order, bad rows named by
//! line and column, the seeded split, standardisation on the training part, TableLoader.

use std::path::{Path, PathBuf};

use neurite_datasets::csv::{open_csv, read_table, CsvOptions, LabelColumn, Standardize, TableLoader, Task};
use neurite_datasets::DatasetError;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// 30 rows: `a = i`, `b = 2i + 1`, `kind` cycling through three names, `y = a + b`.
fn table_text(header: bool) -> String {
    let mut text = if header {
        "a,b,kind,y\n".to_string()
    } else {
        String::new()
    };
    for i in 0..30 {
        let kind = ["zebra", "ant", "moth"][i % 3];
        text += &format!("{i},{},{kind},{}\n", 2 * i + 1, 3 * i + 1);
    }
    text
}

#[test]
fn string_labels_become_sorted_classes_and_features_keep_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", &table_text(true));
    let options = CsvOptions {
        label: LabelColumn::Named("kind".into()),
        ..CsvOptions::default()
    };
    let read = read_table(&path, &options, true, None).unwrap();
    assert!(read.header);
    assert_eq!(read.class_names, ["ant", "moth", "zebra"]);
    assert_eq!(read.feature_names, ["a", "b", "y"]);
    assert_eq!(read.label_name.as_deref(), Some("kind"));
    let t = &read.table;
    assert_eq!((t.len(), t.num_features()), (30, 3));
    assert_eq!(t.row(4), &[4.0, 9.0, 13.0]);
    // Row 4 is "ant" (4 % 3 == 1).
    assert_eq!(t.labels().unwrap()[4], 0);
    assert_eq!(t.labels().unwrap()[0], 2);
    assert_eq!(t.lines()[0], 2, "1-based lines, after the header");
}

#[test]
fn integer_labels_sort_numerically_and_an_index_names_the_column_without_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..12).map(|i| format!("{}.5,{}\n", i, [10, 2, 33][i % 3])).collect();
    let path = write(dir.path(), "n.csv", &text);
    let read = read_table(&path, &CsvOptions::default(), true, None).unwrap();
    assert!(!read.header, "all numbers: no header");
    assert_eq!(read.class_names, ["2", "10", "33"]);
    assert_eq!(read.table.labels().unwrap()[..3], [1, 0, 2]);
    let by_index = CsvOptions {
        label: LabelColumn::Named("0".into()),
        task: Task::Regression,
        ..CsvOptions::default()
    };
    let read = read_table(&path, &by_index, true, None).unwrap();
    assert_eq!(read.table.targets().unwrap()[..2], [0.5, 1.5]);
    assert_eq!(read.table.row(1), &[2.0]);
    // Fractional class labels point to regression.
    let frac = CsvOptions {
        label: LabelColumn::Named("0".into()),
        ..CsvOptions::default()
    };
    let err = read_table(&path, &frac, true, None).unwrap_err().to_string();
    assert!(err.contains("fractional") && err.contains("regression"), "{err}");
}

#[test]
fn bad_values_name_the_line_and_column_or_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = table_text(true);
    text = text
        .replace("7,15,ant,22\n", "7,,ant,22\n")
        .replace("9,19,", "9,nineteen,");
    let path = write(dir.path(), "bad.csv", &text);
    let options = CsvOptions {
        label: LabelColumn::Named("kind".into()),
        ..CsvOptions::default()
    };
    let err = read_table(&path, &options, true, None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DatasetError::Table { line: Some(9), .. }), "{msg}");
    assert!(msg.contains("bad.csv, line 9, column `b`: missing value"), "{msg}");
    let dropping = CsvOptions {
        drop_bad_rows: true,
        ..options.clone()
    };
    let read = read_table(&path, &dropping, true, None).unwrap();
    assert_eq!(read.dropped, vec![9, 11]);
    assert_eq!(read.table.len(), 28);
    // Without a header the column is its index.
    let bare = write(dir.path(), "bare.csv", "1,2,0\n3,x,1\n");
    let err = read_table(
        &bare,
        &CsvOptions {
            header: Some(false),
            ..CsvOptions::default()
        },
        true,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.ends_with("line 2, column 1: `x` is not a finite number"), "{err}");
    // A short row.
    let short = write(dir.path(), "short.csv", "1,2,0\n3,1\n");
    let err = read_table(&short, &CsvOptions::default(), true, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("2 fields where the first row has 3"),
        "{err}"
    );
    // An unknown label column lists the columns.
    let named = CsvOptions {
        label: LabelColumn::Named("species".into()),
        ..CsvOptions::default()
    };
    let err = read_table(&path, &named, true, None).unwrap_err().to_string();
    assert!(
        err.contains("no column named `species`; the columns are: a, b, kind, y"),
        "{err}"
    );
}

#[test]
fn the_split_is_seeded_and_standardisation_uses_the_training_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", &table_text(true));
    let options = CsvOptions {
        label: LabelColumn::Named("kind".into()),
        ..CsvOptions::default()
    };
    let set = open_csv(&path, &options).unwrap();
    assert_eq!((set.train.len(), set.test.len()), (24, 6));
    let again = open_csv(&path, &options).unwrap();
    assert_eq!(set.test.lines(), again.test.lines());
    let other = open_csv(
        &path,
        &CsvOptions {
            seed: 3,
            ..options.clone()
        },
    )
    .unwrap();
    assert_ne!(set.test.lines(), other.test.lines());
    // The statistics are those of the training rows: a = line - 2 over the training lines.
    let a: Vec<f64> = set.train.lines().iter().map(|&l| (l - 2) as f64).collect();
    let mean = a.iter().sum::<f64>() / a.len() as f64;
    let std = (a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
    assert!((f64::from(set.standardize.mean[0]) - mean).abs() < 1e-5);
    assert!((f64::from(set.standardize.std[0]) - std).abs() < 1e-5);
    let all_mean = 14.5;
    assert!(
        (mean - all_mean).abs() > 1e-3,
        "the test rows must shift the full-table mean"
    );
    let standardized = set.train.standardized(&set.standardize);
    let m0: f32 = (0..24).map(|i| standardized.row(i)[0]).sum::<f32>() / 24.0;
    assert!(m0.abs() < 1e-5);
    // The metadata form round-trips and is checked.
    let json = set.standardize.to_json();
    assert_eq!(Standardize::from_json(&json, 3).unwrap(), set.standardize);
    assert!(Standardize::from_json(&json, 4).is_err());
    assert_eq!(set.info.class_names, ["ant", "moth", "zebra"]);
    assert_eq!(set.info.input_shape(), vec![3]);
}

#[test]
fn table_loader_batches_are_seeded_and_carry_labels_or_targets() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", &table_text(true));
    let regression = read_table(
        &path,
        &CsvOptions {
            task: Task::Regression,
            label: LabelColumn::Named("y".into()),
            ..CsvOptions::default()
        },
        true,
        None,
    );
    // `kind` is a string feature: not a number.
    let err = regression.unwrap_err().to_string();
    assert!(
        err.contains("line 2, column `kind`: `zebra` is not a finite number"),
        "{err}"
    );
    let numeric = write(
        dir.path(),
        "num.csv",
        &(0..10).map(|i| format!("{i},{}\n", i * i)).collect::<String>(),
    );
    let options = CsvOptions {
        task: Task::Regression,
        ..CsvOptions::default()
    };
    let read = read_table(&numeric, &options, true, None).unwrap();
    assert_eq!(read.label_name.as_deref(), Some("1"), "the last column by default");
    let loader = TableLoader::new(&read.table, 4).shuffle(5);
    assert_eq!(loader.num_batches(), 3);
    let batches: Vec<_> = loader.epoch(0).collect();
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[2].len(), 2);
    let b = &batches[0];
    assert_eq!(b.images.shape(), vec![4, 1]);
    let targets = b.targets.as_ref().unwrap();
    assert_eq!(targets.shape(), vec![4, 1]);
    for (k, &i) in b.indices.iter().enumerate() {
        assert_eq!(b.images.to_vec()[k], i as f32);
        assert_eq!(targets.to_vec()[k], (i * i) as f32);
    }
    assert_eq!(loader.order(0), TableLoader::new(&read.table, 4).shuffle(5).order(0));
    assert_ne!(loader.order(0), loader.order(1));
    // Features only, for prediction: the label column is absent.
    let features = write(dir.path(), "x.csv", "1\n2\n3\n");
    let read = read_table(&features, &options, false, Some(1)).unwrap();
    assert_eq!(read.label_name, None);
    assert_eq!(read.table.len(), 3);
}
