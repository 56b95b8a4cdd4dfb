//! Loss functions with PyTorch's semantics: [`cross_entropy`] from logits and class indices
//! (fused and numerically stable, with label smoothing), [`mse_loss`] and
//! [`binary_cross_entropy_with_logits`].
//!
//! ```
//! use neurite_nn::loss::cross_entropy;
//! use neurite_tensor::Tensor;
//! let logits = Tensor::from_vec(vec![2.0, 0.0, 0.0, 0.0, 3.0, 0.0], &[2, 3]).unwrap().requires_grad_();
//! let loss = cross_entropy(&logits, &[0, 1]);
//! loss.backward();
//! assert!(loss.item() < 0.2);
//! assert_eq!(logits.grad().unwrap().shape(), vec![2, 3]);
//! ```

use ndarray::{ArrayD, IxDyn};
use neurite_tensor::Tensor;

use crate::functional::conv::standard;

/// How per-example losses are combined, PyTorch's `reduction=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The mean over examples (PyTorch's default).
    #[default]
    Mean,
    /// The sum over examples.
    Sum,
    /// No reduction: one loss per example.
    None,
}

/// Cross-entropy of `logits: [B, C]` against class indices, averaged over the batch:
/// PyTorch's `F.cross_entropy(logits, targets)`. See [`cross_entropy_with`].
///
/// # Panics
/// When `logits` is not 2-D, `targets.len()` is not `B`, or a target is `>= C`.
pub fn cross_entropy(logits: &Tensor, targets: &[usize]) -> Tensor {
    cross_entropy_with(logits, targets, Reduction::Mean, 0.0)
}

/// Cross-entropy of `logits: [B, C]` against class indices `targets` (length `B`), fused
/// log-softmax and negative log-likelihood in one stable op (the row maximum is subtracted
/// before exponentiating), with PyTorch's label smoothing: the target distribution is
/// `(1 - ε)·onehot + ε / C`. The gradient with respect to the logits is
/// `softmax - target distribution`, divided by `B` for [`Reduction::Mean`]. The result is a
/// scalar for `Mean` and `Sum` and `[B]` for `None`.
///
/// ```
/// use neurite_nn::loss::{cross_entropy_with, Reduction};
/// use neurite_tensor::Tensor;
/// let logits = Tensor::zeros(&[4, 10]);
/// let loss = cross_entropy_with(&logits, &[0, 1, 2, 3], Reduction::Sum, 0.1);
/// assert!((loss.item() - 4.0 * 10f32.ln()).abs() < 1e-5);
/// ```
///
/// # Panics
/// When `logits` is not 2-D, `targets.len()` is not `B`, a target is `>= C`, or the smoothing
/// is outside `[0, 1]`.
pub fn cross_entropy_with(logits: &Tensor, targets: &[usize], reduction: Reduction, label_smoothing: f32) -> Tensor {
    let ld = standard(logits.data());
    let shape = ld.shape().to_vec();
    assert!(
        shape.len() == 2 && shape[0] == targets.len(),
        "cross_entropy: logits shape {shape:?} does not fit {} targets (expected logits [B, C] with B = {})",
        targets.len(),
        targets.len()
    );
    assert!(
        (0.0..=1.0).contains(&label_smoothing),
        "cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}"
    );
    let (b, c) = (shape[0], shape[1]);
    if let Some((i, &t)) = targets.iter().enumerate().find(|(_, &t)| t >= c) {
        panic!("cross_entropy: target {t} at position {i} is out of range for {c} classes (logits shape {shape:?})");
    }
    let l_sl = ld.as_slice().expect("standard layout");
    let mut probs = vec![0.0f32; b * c];
    let mut losses = vec![0.0f32; b];
    softmax_cross_entropy_rows(l_sl, c, targets, label_smoothing, &mut probs, &mut losses);
    let eps = label_smoothing;
    let value = match reduction {
        Reduction::Mean => ArrayD::from_elem(IxDyn(&[]), losses.iter().sum::<f32>() / b.max(1) as f32),
        Reduction::Sum => ArrayD::from_elem(IxDyn(&[]), losses.iter().sum::<f32>()),
        Reduction::None => ArrayD::from_shape_vec(IxDyn(&[b]), losses).expect("[B]"),
    };
    let targets = targets.to_vec();
    Tensor::from_op(value, &[logits], move |g, _needs| {
        let per_row: Vec<f32> = match reduction {
            Reduction::Mean => vec![g.iter().next().copied().unwrap_or(0.0) / b.max(1) as f32; b],
            Reduction::Sum => vec![g.iter().next().copied().unwrap_or(0.0); b],
            Reduction::None => g.iter().copied().collect(),
        };
        let mut grad = probs.clone();
        cross_entropy_grad_rows(&mut grad, c, &targets, eps, &per_row);
        vec![Some(
            ArrayD::from_shape_vec(IxDyn(&[b, c]), grad).expect("logits shape"),
        )]
    })
}

/// The row-wise part of [`cross_entropy_with`]: for logits `[B, C]` (row-major `logits`),
/// writes each row's softmax into `probs` and its loss (label-smoothed by `eps`) into
/// `losses`. Shared with the graph-free MLP training step, so both compute the same values.
pub(crate) fn softmax_cross_entropy_rows(
    logits: &[f32],
    c: usize,
    targets: &[usize],
    eps: f32,
    probs: &mut [f32],
    losses: &mut [f32],
) {
    for (i, loss) in losses.iter_mut().enumerate() {
        let row = &logits[i * c..(i + 1) * c];
        // The first maximum's term of Σ e^(x - max) is exactly 1: keep it out of the rounding
        // (ln_1p of the rest), and subtract logits before adding the log-sum, so the loss of
        // a confidently right row (near 0) keeps its digits.
        let (at, max) = row.iter().enumerate().fold(
            (0, f32::NEG_INFINITY),
            |(a, m), (j, &x)| if x > m { (j, x) } else { (a, m) },
        );
        let mut rest = 0.0f32;
        let p = &mut probs[i * c..(i + 1) * c];
        for (j, (pj, &x)) in p.iter_mut().zip(row).enumerate() {
            *pj = (x - max).exp();
            if j != at {
                rest += *pj;
            }
        }
        let log_sum = if max.is_finite() {
            rest.ln_1p()
        } else {
            (rest + 1.0).ln()
        };
        let inv = 1.0 / (1.0 + rest);
        p.iter_mut().for_each(|v| *v *= inv);
        let nll = (max - row[targets[i]]) + log_sum;
        *loss = if eps > 0.0 {
            let smooth = (max - row.iter().sum::<f32>() / c as f32) + log_sum;
            (1.0 - eps) * nll + eps * smooth
        } else {
            nll
        };
    }
}

/// Turns the softmax rows `probs` (`[B, C]`, from [`softmax_cross_entropy_rows`]) in place
/// into the gradient of the loss with respect to the logits: `(p - onehot·(1-eps) - eps/C)`
/// times each row's scale `per_row[i]` (`1/B` for a mean).
pub(crate) fn cross_entropy_grad_rows(probs: &mut [f32], c: usize, targets: &[usize], eps: f32, per_row: &[f32]) {
    let off = eps / c as f32;
    for (i, (row, &s)) in probs.chunks_mut(c).zip(per_row).enumerate() {
        row[targets[i]] -= 1.0 - eps;
        row.iter_mut().for_each(|v| *v = (*v - off) * s);
    }
}

/// Mean squared error, PyTorch's `F.mse_loss(pred, target)`: the mean of `(pred - target)²`.
///
/// # Panics
/// When the shapes differ (naming `mse_loss` and both shapes).
pub fn mse_loss(pred: &Tensor, target: &Tensor) -> Tensor {
    mse_loss_with(pred, target, Reduction::Mean)
}

/// Squared error `(pred - target)²` with a [`Reduction`]; gradients flow to both inputs.
///
/// # Panics
/// When the shapes differ (naming `mse_loss` and both shapes).
pub fn mse_loss_with(pred: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    let (ps, ts) = (pred.shape(), target.shape());
    assert!(
        ps == ts,
        "mse_loss: prediction shape {ps:?} differs from target shape {ts:?}"
    );
    let sq = (pred - target).square();
    match reduction {
        Reduction::Mean => sq.mean(),
        Reduction::Sum => sq.sum(),
        Reduction::None => sq,
    }
}

/// Binary cross-entropy from logits, PyTorch's `F.binary_cross_entropy_with_logits`, averaged.
/// See [`binary_cross_entropy_with_logits_with`].
///
/// # Panics
/// When the shapes differ.
pub fn binary_cross_entropy_with_logits(logits: &Tensor, targets: &Tensor) -> Tensor {
    binary_cross_entropy_with_logits_with(logits, targets, Reduction::Mean)
}

/// Binary cross-entropy from logits `x` and targets `t` in `[0, 1]` (same shape), in the stable
/// form `max(x, 0) - x·t + ln(1 + e^{-|x|})`, fused with its backward: `σ(x) - t` for the
/// logits and `-x` for the targets (scaled by the reduction).
///
/// ```
/// use neurite_nn::loss::{binary_cross_entropy_with_logits_with, Reduction};
/// use neurite_tensor::Tensor;
/// let x = Tensor::from_vec(vec![0.0, 100.0], &[2]).unwrap();
/// let t = Tensor::from_vec(vec![1.0, 1.0], &[2]).unwrap();
/// let l = binary_cross_entropy_with_logits_with(&x, &t, Reduction::None).to_vec();
/// assert!((l[0] - 2f32.ln()).abs() < 1e-6 && l[1] < 1e-30); // no overflow at x = 100
/// ```
///
/// # Panics
/// When the shapes differ (naming the op and both shapes).
pub fn binary_cross_entropy_with_logits_with(logits: &Tensor, targets: &Tensor, reduction: Reduction) -> Tensor {
    let (xd, td) = (standard(logits.data()), standard(targets.data()));
    assert!(
        xd.shape() == td.shape(),
        "binary_cross_entropy_with_logits: logits shape {:?} differs from target shape {:?}",
        xd.shape(),
        td.shape()
    );
    let shape = xd.shape().to_vec();
    let n = xd.len();
    let x_sl = xd.as_slice().expect("standard layout");
    let t_sl = td.as_slice().expect("standard layout");
    let losses: Vec<f32> = x_sl
        .iter()
        .zip(t_sl)
        // max(x, 0) - x·t, as x·(1 - t) or -x·t: no cancellation between the two terms.
        .map(|(&x, &t)| if x > 0.0 { x * (1.0 - t) } else { -x * t } + (-x.abs()).exp().ln_1p())
        .collect();
    let value = match reduction {
        Reduction::Mean => ArrayD::from_elem(IxDyn(&[]), losses.iter().sum::<f32>() / n.max(1) as f32),
        Reduction::Sum => ArrayD::from_elem(IxDyn(&[]), losses.iter().sum::<f32>()),
        Reduction::None => ArrayD::from_shape_vec(IxDyn(&shape), losses).expect("shape"),
    };
    Tensor::from_op(value, &[logits, targets], move |g, needs| {
        let x_sl = xd.as_slice().expect("standard layout");
        let first = || g.iter().next().copied().unwrap_or(0.0);
        let scales: Vec<f32> = match reduction {
            Reduction::Mean => vec![first() / n.max(1) as f32; n],
            Reduction::Sum => vec![first(); n],
            Reduction::None => g.iter().copied().collect(),
        };
        let sc = |i: usize| scales[i];
        let gx = needs[0].then(|| {
            let t_sl = td.as_slice().expect("standard layout");
            let v: Vec<f32> = (0..n)
                .map(|i| (1.0 / (1.0 + (-x_sl[i]).exp()) - t_sl[i]) * sc(i))
                .collect();
            ArrayD::from_shape_vec(IxDyn(&shape), v).expect("shape")
        });
        let gt = needs[1].then(|| {
            let v: Vec<f32> = (0..n).map(|i| -x_sl[i] * sc(i)).collect();
            ArrayD::from_shape_vec(IxDyn(&shape), v).expect("shape")
        });
        vec![gx, gt]
    })
}

/// The loss a training run minimises ([`crate::train::FitOptions::loss`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loss {
    /// [`cross_entropy`] of logits `[B, C]` against the class labels (classification).
    #[default]
    CrossEntropy,
    /// [`mse_loss`] of outputs `[B, k]` against float targets (regression), or against the
    /// one-hot labels when a batch has no targets.
    Mse,
    /// [`binary_cross_entropy_with_logits`] of logits `[B, k]` against targets in `[0, 1]`
    /// (multi-label), or against the one-hot labels when a batch has no targets.
    BceWithLogits,
}

impl Loss {
    /// A mean loss `value` computed on targets standardised by `target_std`, in the targets'
    /// own units: [`Loss::Mse`] times `target_std²` (the mean squared error); the other
    /// losses, and a `None` scale, leave it as it is.
    pub fn in_target_units(&self, value: f32, target_std: Option<f32>) -> f32 {
        match (self, target_std) {
            (Loss::Mse, Some(s)) => value * (s * s),
            _ => value,
        }
    }

    /// The mean loss of `output` for a batch with class `labels` and optional float `targets`
    /// `[B, k]` (used by `Mse` and `BceWithLogits`; `CrossEntropy` always uses the labels).
    ///
    /// # Panics
    /// When the shapes do not fit (naming the loss and both shapes).
    pub fn compute(&self, output: &Tensor, labels: &[usize], targets: Option<&Tensor>) -> Tensor {
        match self {
            Loss::CrossEntropy => cross_entropy(output, labels),
            Loss::Mse => mse_loss(output, &self.target(output, labels, targets)),
            Loss::BceWithLogits => binary_cross_entropy_with_logits(output, &self.target(output, labels, targets)),
        }
    }

    /// Whether the outputs are class scores, so that accuracy means something: true for
    /// cross-entropy and BCE, false for MSE (regression).
    pub fn is_classification(&self) -> bool {
        !matches!(self, Loss::Mse)
    }

    /// The name used on the command line and in files (`cross-entropy`, `mse`, `bce`).
    pub fn name(&self) -> &'static str {
        match self {
            Loss::CrossEntropy => "cross-entropy",
            Loss::Mse => "mse",
            Loss::BceWithLogits => "bce",
        }
    }

    fn target(&self, output: &Tensor, labels: &[usize], targets: Option<&Tensor>) -> Tensor {
        match targets {
            Some(t) => t.clone(),
            None => one_hot_like(output, labels, self.name()),
        }
    }
}

/// One-hot targets shaped like `output` `[B, C]` for class `labels`: what the float losses
/// compare against when a batch has no targets of its own.
///
/// # Panics
/// When `output` is not `[labels.len(), C]` or a label is `>= C` (naming `op` and the shape).
pub(crate) fn one_hot_like(output: &Tensor, labels: &[usize], op: &str) -> Tensor {
    let shape = output.shape();
    assert!(
        shape.len() == 2 && shape[0] == labels.len(),
        "{op}: output shape {shape:?} does not fit {} labels (expected [batch, classes])",
        labels.len()
    );
    let mut one_hot = vec![0f32; labels.len() * shape[1]];
    for (row, &l) in labels.iter().enumerate() {
        assert!(l < shape[1], "{op}: label {l} out of range for output shape {shape:?}");
        one_hot[row * shape[1] + l] = 1.0;
    }
    Tensor::from_vec(one_hot, &shape).expect("B*C values")
}
