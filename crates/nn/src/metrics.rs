//! Classification metrics: [`accuracy`] from logits and labels, and a [`ConfusionMatrix`]
//! accumulated over batches.
//!
//! ```
//! use neurite_nn::metrics::{accuracy, ConfusionMatrix};
//! use neurite_tensor::Tensor;
//! let logits = Tensor::from_vec(vec![2.0, 1.0, 0.0, 3.0, 5.0, 1.0], &[3, 2]).unwrap();
//! assert!((accuracy(&logits, &[0, 1, 1]) - 2.0 / 3.0).abs() < 1e-6);
//! let mut cm = ConfusionMatrix::new(2);
//! cm.update(&logits, &[0, 1, 1]);
//! assert_eq!(cm.count(1, 0), 1); // one example of class 1 predicted as 0
//! assert_eq!(cm.per_class_accuracy(), vec![Some(1.0), Some(0.5)]);
//! ```

use std::fmt;

use neurite_tensor::Tensor;

/// The predicted class of each row of `logits: [B, C]` (the first maximum).
///
/// # Panics
/// When `logits` is not 2-D.
pub fn predictions(logits: &Tensor) -> Vec<usize> {
    let shape = logits.shape();
    assert!(
        shape.len() == 2,
        "predictions: expected logits [B, C], got shape {shape:?}"
    );
    logits.argmax(1)
}

/// How many rows of `logits: [B, C]` have their maximum at the label.
///
/// # Panics
/// When `logits` is not 2-D or `labels.len()` is not `B`.
pub fn correct_count(logits: &Tensor, labels: &[usize]) -> usize {
    let preds = predictions(logits);
    assert!(
        preds.len() == labels.len(),
        "accuracy: logits shape {:?} does not fit {} labels",
        logits.shape(),
        labels.len()
    );
    preds.iter().zip(labels).filter(|(p, l)| p == l).count()
}

/// The fraction (0 to 1) of rows of `logits: [B, C]` whose arg-max is the label; 0 for an
/// empty batch.
///
/// # Panics
/// When `logits` is not 2-D or `labels.len()` is not `B`.
pub fn accuracy(logits: &Tensor, labels: &[usize]) -> f32 {
    let n = labels.len();
    let correct = correct_count(logits, labels);
    if n == 0 {
        0.0
    } else {
        correct as f32 / n as f32
    }
}

/// Counts of (true class, predicted class) pairs, accumulated over batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `[true][predicted]`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> ConfusionMatrix {
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Adds one batch: the arg-max of each row of `logits: [B, C]` against `labels`.
    ///
    /// # Panics
    /// When the shapes do not fit or a class is out of range.
    pub fn update(&mut self, logits: &Tensor, labels: &[usize]) {
        let preds = predictions(logits);
        self.add_predictions(&preds, labels);
    }

    /// Adds predicted classes against true labels.
    ///
    /// # Panics
    /// When the lengths differ or a class is `>= classes`.
    pub fn add_predictions(&mut self, predicted: &[usize], labels: &[usize]) {
        assert!(
            predicted.len() == labels.len(),
            "ConfusionMatrix: {} predictions for {} labels",
            predicted.len(),
            labels.len()
        );
        for (&p, &t) in predicted.iter().zip(labels) {
            assert!(
                p < self.classes && t < self.classes,
                "ConfusionMatrix: class out of range (label {t}, prediction {p}, {} classes)",
                self.classes
            );
            self.counts[t * self.classes + p] += 1;
        }
    }

    /// Examples of class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth * self.classes + predicted]
    }

    /// All examples seen.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Correct predictions (the diagonal).
    pub fn correct(&self) -> u64 {
        (0..self.classes).map(|i| self.count(i, i)).sum()
    }

    /// Overall accuracy (0 to 1); 0 when empty.
    pub fn accuracy(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            0.0
        } else {
            self.correct() as f64 / total as f64
        }
    }

    /// Per true class, the fraction predicted correctly (recall); `None` for a class with no
    /// examples.
    pub fn per_class_accuracy(&self) -> Vec<Option<f64>> {
        (0..self.classes)
            .map(|t| {
                let row: u64 = (0..self.classes).map(|p| self.count(t, p)).sum();
                (row > 0).then(|| self.count(t, t) as f64 / row as f64)
            })
            .collect()
    }

    /// The counts as rows of true classes.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts.chunks(self.classes.max(1)).map(<[u64]>::to_vec).collect()
    }

    /// Clears all counts.
    pub fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
    }
}

impl fmt::Display for ConfusionMatrix {
    /// A text table: one row per true class, one column per predicted class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(self.classes.to_string().len());
        write!(f, "{:>w$} |", "t\\p", w = width.max(3))?;
        for p in 0..self.classes {
            write!(f, " {p:>width$}")?;
        }
        writeln!(f)?;
        for t in 0..self.classes {
            write!(f, "{t:>w$} |", w = width.max(3))?;
            for p in 0..self.classes {
                write!(f, " {:>width$}", self.count(t, p))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
