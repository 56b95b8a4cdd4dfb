//! [`Sgd`]: stochastic gradient descent with momentum, dampening, Nesterov momentum and L2
//! weight decay, following `torch.optim.SGD` exactly.

use ndarray::{ArrayD, Zip};
use neurite_tensor::simd::vectorized;
use neurite_tensor::Tensor;

use super::state::buffers_by_param;
use super::{
    check_lr, check_params, state_buffer, with_param_and_grad, zip_update, Optimizer, OptimizerState, StateError,
};

/// Stochastic gradient descent, `torch.optim.SGD`.
///
/// For each parameter `p` with gradient `g`, one step computes (PyTorch's rules):
///
/// ```text
/// d = g + weight_decay * p
/// if momentum != 0:
///     buf = d                                         (first step: buffer initialised to d)
///     buf = momentum * buf + (1 - dampening) * d      (later steps)
///     d   = d + momentum * buf   if nesterov   else   buf
/// p = p - lr * d
/// ```
///
/// ```
/// use neurite_nn::optim::{Optimizer, Sgd};
/// use neurite_tensor::Tensor;
/// let w = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap().requires_grad_();
/// let mut opt = Sgd::new(vec![w.clone()], 0.1).with_momentum(0.9).with_nesterov(true);
/// (&w * &w).sum().backward(); // gradient 2w
/// opt.step();
/// // d = 2w, buf = d, nesterov: d + 0.9 * buf = 3.8w, so w becomes 0.62w
/// let w = w.to_vec();
/// assert!((w[0] - 0.62).abs() < 1e-6 && (w[1] - 1.24).abs() < 1e-6);
/// ```
pub struct Sgd {
    params: Vec<Tensor>,
    lr: f32,
    momentum: f32,
    dampening: f32,
    nesterov: bool,
    weight_decay: f32,
    /// One momentum buffer per parameter, allocated on its first update.
    buffers: Vec<Option<ArrayD<f32>>>,
    steps: u64,
}

impl Sgd {
    /// Plain SGD (no momentum, no weight decay) over `params` with learning rate `lr`.
    ///
    /// # Panics
    /// When `lr` is negative or not finite, or a parameter is not a leaf or appears twice.
    pub fn new(params: Vec<Tensor>, lr: f32) -> Sgd {
        check_lr("Sgd", lr);
        check_params("Sgd", &params);
        let buffers = vec![None; params.len()];
        Sgd {
            params,
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            buffers,
            steps: 0,
        }
    }

    /// Sets the momentum factor (PyTorch default 0).
    ///
    /// # Panics
    /// When `momentum` is negative or not finite.
    pub fn with_momentum(mut self, momentum: f32) -> Sgd {
        assert!(
            momentum.is_finite() && momentum >= 0.0,
            "Sgd: invalid momentum {momentum}"
        );
        self.momentum = momentum;
        self.check_nesterov();
        self
    }

    /// Sets the dampening applied to the gradient in the momentum update (default 0).
    pub fn with_dampening(mut self, dampening: f32) -> Sgd {
        assert!(dampening.is_finite(), "Sgd: invalid dampening {dampening}");
        self.dampening = dampening;
        self.check_nesterov();
        self
    }

    /// Enables Nesterov momentum (requires a momentum above 0 and zero dampening).
    ///
    /// # Panics
    /// When enabled and the momentum is 0 or the dampening is not 0.
    pub fn with_nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self.check_nesterov();
        self
    }

    /// Sets the L2 penalty added to the gradient (default 0).
    ///
    /// # Panics
    /// When `weight_decay` is negative or not finite.
    pub fn with_weight_decay(mut self, weight_decay: f32) -> Sgd {
        assert!(
            weight_decay.is_finite() && weight_decay >= 0.0,
            "Sgd: invalid weight_decay {weight_decay}"
        );
        self.weight_decay = weight_decay;
        self
    }

    fn check_nesterov(&self) {
        // Checked again on each builder call, so the order of the calls does not matter as
        // long as the final configuration is valid (momentum is usually set first).
        if self.nesterov {
            assert!(
                self.dampening == 0.0,
                "Sgd: Nesterov momentum requires zero dampening, got {}",
                self.dampening
            );
        }
    }

    /// The momentum factor.
    pub fn momentum(&self) -> f32 {
        self.momentum
    }

    /// The momentum buffer of parameter `index`, once it has been updated with momentum.
    pub fn momentum_buffer(&self, index: usize) -> Option<&ArrayD<f32>> {
        self.buffers.get(index).and_then(Option::as_ref)
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) {
        assert!(
            !self.nesterov || self.momentum > 0.0,
            "Sgd: Nesterov momentum requires a momentum above 0, got {}",
            self.momentum
        );
        let (lr, wd, m, damp, nesterov) = (self.lr, self.weight_decay, self.momentum, self.dampening, self.nesterov);
        for (param, slot) in self.params.iter().zip(self.buffers.iter_mut()) {
            with_param_and_grad("Sgd", param, |mut p, g| {
                let len = p.len();
                if m == 0.0 {
                    match (p.as_slice_mut(), g.as_slice()) {
                        (Some(p), Some(g)) => for_chunks2(p, g, |p, g| plain_chunk(p, g, lr, wd)),
                        _ => zip_update!(len, Zip::from(&mut p).and(&g), |p, &g| {
                            let d = if wd != 0.0 { g + wd * *p } else { g };
                            *p += -lr * d;
                        }),
                    }
                    return;
                }
                let first = slot.is_none();
                let buf = state_buffer(slot, p.shape());
                let k = Momentum {
                    lr,
                    wd,
                    m,
                    damp,
                    nesterov,
                    first,
                };
                match (p.as_slice_mut(), g.as_slice(), buf.as_slice_mut()) {
                    (Some(p), Some(g), Some(b)) => for_chunks3(p, g, b, |p, g, b| momentum_chunk(p, g, b, &k)),
                    _ => zip_update!(len, Zip::from(&mut p).and(&g).and(buf), |p, &g, b| {
                        let d = if wd != 0.0 { g + wd * *p } else { g };
                        *b = if first { d } else { *b * m + (1.0 - damp) * d };
                        let d = if nesterov { d + m * *b } else { *b };
                        *p += -lr * d;
                    }),
                }
            });
        }
        self.steps += 1;
    }

    fn learning_rate(&self) -> f32 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        check_lr("Sgd", lr);
        self.lr = lr;
    }

    fn parameters(&self) -> &[Tensor] {
        &self.params
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn state(&self) -> OptimizerState {
        OptimizerState {
            kind: "Sgd".to_string(),
            steps: self.steps,
            learning_rate: self.lr,
            param_steps: Vec::new(),
            buffers: self
                .buffers
                .iter()
                .enumerate()
                .filter_map(|(i, b)| Some((format!("momentum_buffer.{i}"), b.clone()?)))
                .collect(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<(), StateError> {
        let shapes: Vec<Vec<usize>> = self.params.iter().map(Tensor::shape).collect();
        let buffers = buffers_by_param(state, "Sgd", &shapes, &["momentum_buffer"])?;
        check_lr("Sgd", state.learning_rate);
        self.buffers = buffers.into_iter().map(|b| b.and_then(|mut v| v.pop())).collect();
        self.steps = state.steps;
        self.lr = state.learning_rate;
        Ok(())
    }
}

/// Elements per parallel task: fixed, so the split never depends on the thread count.
const CHUNK: usize = 1 << 14;

/// Runs `f` over matching chunks of two slices, in parallel for large ones.
fn for_chunks2(p: &mut [f32], g: &[f32], f: impl Fn(&mut [f32], &[f32]) + Sync + Send) {
    if super::parallel(p.len()) {
        use rayon::prelude::*;
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .for_each(|(p, g)| f(p, g));
    } else {
        f(p, g);
    }
}

/// Runs `f` over matching chunks of three slices, in parallel for large ones.
fn for_chunks3(p: &mut [f32], g: &[f32], b: &mut [f32], f: impl Fn(&mut [f32], &[f32], &mut [f32]) + Sync + Send) {
    if super::parallel(p.len()) {
        use rayon::prelude::*;
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(b.par_chunks_mut(CHUNK))
            .for_each(|((p, g), b)| f(p, g, b));
    } else {
        f(p, g, b);
    }
}

/// `p -= lr * (g + wd * p)`, with the weight-decay test outside the loop so it vectorises.
fn plain_chunk(p: &mut [f32], g: &[f32], lr: f32, wd: f32) {
    vectorized(
        #[inline(always)]
        || plain_chunk_loop(p, g, lr, wd),
    );
}

/// The loop of [`plain_chunk`], compiled into its vector-enabled versions.
#[inline(always)]
fn plain_chunk_loop(p: &mut [f32], g: &[f32], lr: f32, wd: f32) {
    let g = &g[..p.len()];
    if wd != 0.0 {
        p.iter_mut().zip(g).for_each(|(p, &g)| *p += -lr * (g + wd * *p));
    } else {
        p.iter_mut().zip(g).for_each(|(p, &g)| *p += -lr * g);
    }
}

/// The settings of one momentum step.
struct Momentum {
    lr: f32,
    wd: f32,
    m: f32,
    damp: f32,
    nesterov: bool,
    /// The first step sets the buffer to the gradient, as PyTorch does.
    first: bool,
}

/// The momentum update over one chunk, with PyTorch's rules; loop-invariant choices are made
/// once per chunk.
fn momentum_chunk(p: &mut [f32], g: &[f32], b: &mut [f32], k: &Momentum) {
    vectorized(
        #[inline(always)]
        || momentum_chunk_loop(p, g, b, k),
    );
}

/// The loop of [`momentum_chunk`], compiled into its vector-enabled versions.
#[inline(always)]
fn momentum_chunk_loop(p: &mut [f32], g: &[f32], b: &mut [f32], k: &Momentum) {
    let n = p.len();
    let (g, b) = (&g[..n], &mut b[..n]);
    let (lr, wd, m, damp) = (k.lr, k.wd, k.m, k.damp);
    for i in 0..n {
        let d = if wd != 0.0 { g[i] + wd * p[i] } else { g[i] };
        b[i] = if k.first { d } else { b[i] * m + (1.0 - damp) * d };
        let step = if k.nesterov { d + m * b[i] } else { b[i] };
        p[i] += -lr * step;
    }
}
