//! [`Summary`]: Keras' `model.summary()` table for a spec: one row per layer (name, kind,
//! output shape, parameter count), then the totals.
//!
//! Counts follow Keras: batch norm's running mean and variance are non-trainable parameters
//! (so a `BatchNormalization` over C channels counts 4·C, as in Keras); the step counter
//! `num_batches_tracked` that PyTorch also saves is not a parameter and is left out.

use std::fmt;

use crate::spec::shapes::numel;
use crate::spec::ModelSpec;

/// One layer's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// The `state_dict` prefix (`0`, `conv1`, `layer1.conv2`).
    pub name: String,
    /// The PyTorch class name.
    pub kind: String,
    /// How deep inside residual blocks (0 at the top).
    pub depth: usize,
    /// The output shape, batch axis first as `N`: `[N, 32, 26, 26]`.
    pub output_shape: String,
    /// Parameters of the layer (for a residual block: of everything inside it).
    pub params: u64,
}

/// A model's summary; `Display` prints Keras' table.
///
/// ```
/// use neurite_nn::spec::ModelSpec;
/// let s = ModelSpec::w3().summary();
/// assert_eq!(s.total(), 1_199_882);
/// assert_eq!(s.rows[0].output_shape, "[N, 32, 26, 26]");
/// assert!(s.to_string().contains("Total params: 1,199,882 (4.58 MB)"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The model's name.
    pub name: String,
    /// The input shape, `[N, ...]`.
    pub input_shape: String,
    /// One row per layer, nested layers after their block.
    pub rows: Vec<SummaryRow>,
    /// Trainable values.
    pub trainable: u64,
    /// Non-trainable values (batch norm's running statistics).
    pub non_trainable: u64,
}

fn shape_text(shape: &[usize]) -> String {
    let mut s = String::from("[N");
    for d in shape {
        s += &format!(", {d}");
    }
    s + "]"
}

/// Whether a buffer counts as a parameter in Keras' sense.
fn counts(name: &str) -> bool {
    !name.ends_with("num_batches_tracked")
}

impl Summary {
    /// The summary of `spec`.
    pub fn of(spec: &ModelSpec) -> Summary {
        let info = spec.layer_info();
        let own = |i: usize| -> u64 {
            let l = &info[i];
            l.parameters.iter().map(|(_, s)| numel(s)).sum::<u64>()
                + l.buffers
                    .iter()
                    .filter(|(n, _)| counts(n))
                    .map(|(_, s)| numel(s))
                    .sum::<u64>()
        };
        let rows = info
            .iter()
            .enumerate()
            .map(|(i, l)| {
                // A block's count is everything nested inside it: the rows after it that are deeper.
                let inner: u64 = info[i + 1..]
                    .iter()
                    .enumerate()
                    .take_while(|(_, m)| m.depth > l.depth)
                    .map(|(j, _)| own(i + 1 + j))
                    .sum();
                SummaryRow {
                    name: l.path.clone(),
                    kind: l.kind.to_string(),
                    depth: l.depth,
                    output_shape: shape_text(&l.output),
                    params: own(i) + inner,
                }
            })
            .collect();
        let trainable = spec.num_parameters();
        let non_trainable = spec
            .buffer_shapes()
            .iter()
            .filter(|(n, _)| counts(n))
            .map(|(_, s)| numel(s))
            .sum();
        Summary {
            name: spec.name().to_string(),
            input_shape: shape_text(spec.input_shape()),
            rows,
            trainable,
            non_trainable,
        }
    }

    /// All parameters, trainable or not (Keras' `count_params()`).
    pub fn total(&self) -> u64 {
        self.trainable + self.non_trainable
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keras' size text: f32 bytes in B, KB, MB, GB (powers of 1024) with two decimals.
fn bytes(values: u64) -> String {
    let mut size = values as f64 * 4.0;
    let mut unit = 0;
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.2} {}", UNITS[unit])
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cells: Vec<[String; 3]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    format!("{}{} ({})", "  ".repeat(r.depth), r.name, r.kind),
                    r.output_shape.clone(),
                    grouped(r.params),
                ]
            })
            .collect();
        let head = ["Layer (type)", "Output Shape", "Param #"];
        let width = |i: usize| {
            cells
                .iter()
                .map(|c| c[i].len())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2) = (width(0) + 2, width(1) + 2, width(2));
        let rule = |c: char| c.to_string().repeat(w0 + w1 + w2);
        writeln!(f, "Model: \"{}\" (input {})", self.name, self.input_shape)?;
        writeln!(f, "{}", rule('-'))?;
        writeln!(f, "{:<w0$}{:<w1$}{:>w2$}", head[0], head[1], head[2])?;
        writeln!(f, "{}", rule('='))?;
        for c in &cells {
            writeln!(f, "{:<w0$}{:<w1$}{:>w2$}", c[0], c[1], c[2])?;
        }
        writeln!(f, "{}", rule('='))?;
        writeln!(f, "Total params: {} ({})", grouped(self.total()), bytes(self.total()))?;
        writeln!(
            f,
            "Trainable params: {} ({})",
            grouped(self.trainable),
            bytes(self.trainable)
        )?;
        write!(
            f,
            "Non-trainable params: {} ({})",
            grouped(self.non_trainable),
            bytes(self.non_trainable)
        )
    }
}
