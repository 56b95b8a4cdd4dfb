//! [`Adam`]: adaptive moment estimation with L2 weight decay, following `torch.optim.Adam`;
//! also the shared update that [`super::AdamW`] runs with decoupled weight decay.

use ndarray::{ArrayD, Zip};
use neurite_tensor::simd::vectorized;
use neurite_tensor::Tensor;

use super::state::buffers_by_param;
use super::{check_lr, check_params, with_param_and_grad, zip_update, OptimizerState, StateError};

/// Adam, `torch.optim.Adam` (without `amsgrad`).
///
/// For each parameter `p` with gradient `g`, at step `t` (from 1), PyTorch's rules:
///
/// ```text
/// g = g + weight_decay * p                       (L2 penalty, when weight_decay != 0)
/// m = m + (1 - beta1) * (g - m)                  (lerp towards g)
/// v = beta2 * v + (1 - beta2) * g * g
/// denom = sqrt(v) / sqrt(1 - beta2^t) + eps
/// p = p - lr / (1 - beta1^t) * m / denom
/// ```
///
/// The bias corrections are computed in f64, as PyTorch computes them in Python floats.
///
/// ```
/// use neurite_nn::optim::{Adam, Optimizer};
/// use neurite_tensor::Tensor;
/// let w = Tensor::from_vec(vec![1.0, -1.0], &[2]).unwrap().requires_grad_();
/// let mut opt = Adam::new(vec![w.clone()], 0.1);
/// (&w * &w).sum().backward();
/// opt.step();
/// // The first Adam step moves every coordinate by about lr, against the gradient's sign.
/// let w = w.to_vec();
/// assert!((w[0] - 0.9).abs() < 1e-5 && (w[1] + 0.9).abs() < 1e-5);
/// ```
pub struct Adam {
    core: AdamCore,
}

/// State and hyper-parameters shared by [`Adam`] and [`super::AdamW`].
pub(super) struct AdamCore {
    pub(super) name: &'static str,
    pub(super) params: Vec<Tensor>,
    pub(super) lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    /// `true`: AdamW's decoupled decay `p *= 1 - lr * wd`; `false`: Adam's L2 term.
    decoupled: bool,
    /// First and second moment buffers per parameter, allocated on its first update.
    moments: Vec<Option<(ArrayD<f32>, ArrayD<f32>)>>,
    /// Per-parameter step counts (PyTorch keeps one per parameter: a parameter without a
    /// gradient at some step does not advance its bias correction).
    param_steps: Vec<u64>,
    pub(super) steps: u64,
}

impl AdamCore {
    pub(super) fn new(
        name: &'static str,
        params: Vec<Tensor>,
        lr: f32,
        weight_decay: f32,
        decoupled: bool,
    ) -> AdamCore {
        check_lr(name, lr);
        check_params(name, &params);
        let n = params.len();
        AdamCore {
            name,
            params,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            decoupled,
            moments: vec![None; n],
            param_steps: vec![0; n],
            steps: 0,
        }
    }

    pub(super) fn state(&self) -> OptimizerState {
        let mut buffers = Vec::new();
        for (i, m) in self.moments.iter().enumerate() {
            if let Some((m, v)) = m {
                buffers.push((format!("exp_avg.{i}"), m.clone()));
                buffers.push((format!("exp_avg_sq.{i}"), v.clone()));
            }
        }
        OptimizerState {
            kind: self.name.to_string(),
            steps: self.steps,
            learning_rate: self.lr,
            param_steps: self.param_steps.clone(),
            buffers,
        }
    }

    pub(super) fn load_state(&mut self, state: &OptimizerState) -> Result<(), StateError> {
        let shapes: Vec<Vec<usize>> = self.params.iter().map(Tensor::shape).collect();
        let moments = buffers_by_param(state, self.name, &shapes, &["exp_avg", "exp_avg_sq"])?;
        if state.param_steps.len() != self.params.len() {
            return Err(StateError::ParamSteps {
                expected: self.params.len(),
                found: state.param_steps.len(),
            });
        }
        check_lr(self.name, state.learning_rate);
        self.moments = moments
            .into_iter()
            .map(|b| {
                b.map(|mut mv| {
                    let v = mv.pop().expect("two slots");
                    (mv.pop().expect("two slots"), v)
                })
            })
            .collect();
        self.param_steps = state.param_steps.clone();
        self.steps = state.steps;
        self.lr = state.learning_rate;
        Ok(())
    }

    pub(super) fn set_betas(&mut self, beta1: f32, beta2: f32) {
        let name = self.name;
        assert!(
            (0.0..1.0).contains(&beta1),
            "{name}: invalid beta1 {beta1}, must be in [0, 1)"
        );
        assert!(
            (0.0..1.0).contains(&beta2),
            "{name}: invalid beta2 {beta2}, must be in [0, 1)"
        );
        self.beta1 = beta1;
        self.beta2 = beta2;
    }

    pub(super) fn set_eps(&mut self, eps: f32) {
        assert!(eps.is_finite() && eps >= 0.0, "{}: invalid eps {eps}", self.name);
        self.eps = eps;
    }

    pub(super) fn set_weight_decay(&mut self, weight_decay: f32) {
        assert!(
            weight_decay.is_finite() && weight_decay >= 0.0,
            "{}: invalid weight_decay {weight_decay}",
            self.name
        );
        self.weight_decay = weight_decay;
    }

    pub(super) fn step(&mut self) {
        let (lr, b1, b2, eps, wd, decoupled) = (
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
            self.decoupled,
        );
        let name = self.name;
        // The lerp weight and PyTorch's lerp formula, chosen by the weight as ATen does.
        let w1 = 1.0 - b1;
        let one_minus_b2 = 1.0 - b2;
        let decay = (1.0 - f64::from(lr) * f64::from(wd)) as f32;
        for ((param, slot), t) in self
            .params
            .iter()
            .zip(self.moments.iter_mut())
            .zip(self.param_steps.iter_mut())
        {
            with_param_and_grad(name, param, |mut p, g| {
                *t += 1;
                let bias1 = 1.0 - f64::from(b1).powf(*t as f64);
                let bias2 = 1.0 - f64::from(b2).powf(*t as f64);
                let step_size = (f64::from(lr) / bias1) as f32;
                let bias2_sqrt = bias2.sqrt() as f32;
                let (m, v) = slot.get_or_insert_with(|| (ArrayD::zeros(p.shape()), ArrayD::zeros(p.shape())));
                let k = AdamScalars {
                    b2,
                    one_minus_b2,
                    eps,
                    w1,
                    step_size,
                    bias2_sqrt,
                };
                let mode = match (wd != 0.0, decoupled) {
                    (false, _) => Decay::None,
                    (true, true) => Decay::Decoupled(decay),
                    (true, false) => Decay::L2(wd),
                };
                let len = p.len();
                match (p.as_slice_mut(), g.as_slice(), m.as_slice_mut(), v.as_slice_mut()) {
                    (Some(p), Some(g), Some(m), Some(v)) => update_slices(p, g, m, v, &k, mode),
                    _ => zip_update!(len, Zip::from(&mut p).and(&g).and(m).and(v), |p, &g, m, v| {
                        adam_element(p, g, m, v, &k, mode)
                    }),
                }
            });
        }
        self.steps += 1;
    }
}

/// The per-step constants of one parameter's update.
struct AdamScalars {
    b2: f32,
    one_minus_b2: f32,
    eps: f32,
    /// `1 - beta1`, the lerp weight of the first moment.
    w1: f32,
    step_size: f32,
    bias2_sqrt: f32,
}

/// How weight decay enters the update.
#[derive(Clone, Copy)]
enum Decay {
    /// No weight decay.
    None,
    /// Adam: `g += wd * p` (L2 penalty).
    L2(f32),
    /// AdamW: `p *= 1 - lr * wd` before the update.
    Decoupled(f32),
}

/// Elements per parallel task: fixed, so the split never depends on the thread count (each
/// element's update is independent anyway).
const CHUNK: usize = 1 << 14;

/// Updates contiguous slices, in parallel chunks for large parameters. The decay mode and the
/// lerp form are matched outside the element loop so that each loop is branch-free and
/// vectorises.
fn update_slices(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: &AdamScalars, mode: Decay) {
    let run = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
        vectorized(
            #[inline(always)]
            || match (mode, k.w1 < 0.5) {
                (Decay::None, true) => update_chunk::<0, true>(p, g, m, v, k, 0.0),
                (Decay::None, false) => update_chunk::<0, false>(p, g, m, v, k, 0.0),
                (Decay::L2(wd), true) => update_chunk::<1, true>(p, g, m, v, k, wd),
                (Decay::L2(wd), false) => update_chunk::<1, false>(p, g, m, v, k, wd),
                (Decay::Decoupled(d), true) => update_chunk::<2, true>(p, g, m, v, k, d),
                (Decay::Decoupled(d), false) => update_chunk::<2, false>(p, g, m, v, k, d),
            },
        )
    };
    if super::parallel(p.len()) {
        use rayon::prelude::*;
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| run(p, g, m, v));
    } else {
        run(p, g, m, v);
    }
}

/// The element loop for one decay mode (`DECAY`: 0 none, 1 L2, 2 decoupled) and lerp form.
#[inline(always)]
fn update_chunk<const DECAY: u8, const SMALL_W1: bool>(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    k: &AdamScalars,
    wd: f32,
) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let mut gi = g[i];
        if DECAY == 1 {
            gi += wd * p[i];
        } else if DECAY == 2 {
            p[i] *= wd;
        }
        m[i] = if SMALL_W1 {
            m[i] + k.w1 * (gi - m[i])
        } else {
            gi - (gi - m[i]) * (1.0 - k.w1)
        };
        v[i] = v[i] * k.b2 + k.one_minus_b2 * gi * gi;
        let denom = v[i].sqrt() / k.bias2_sqrt + k.eps;
        p[i] += -k.step_size * m[i] / denom;
    }
}

/// The same update for one element (non-contiguous arrays).
#[inline(always)]
fn adam_element(p: &mut f32, g: f32, m: &mut f32, v: &mut f32, k: &AdamScalars, mode: Decay) {
    let mut g = g;
    match mode {
        Decay::None => {}
        Decay::L2(wd) => g += wd * *p,
        Decay::Decoupled(d) => *p *= d,
    }
    *m = if k.w1 < 0.5 {
        *m + k.w1 * (g - *m)
    } else {
        g - (g - *m) * (1.0 - k.w1)
    };
    *v = *v * k.b2 + k.one_minus_b2 * g * g;
    let denom = v.sqrt() / k.bias2_sqrt + k.eps;
    *p += -k.step_size * *m / denom;
}

impl Adam {
    /// Adam over `params` with learning rate `lr` and PyTorch's defaults: betas (0.9, 0.999),
    /// eps 1e-8, no weight decay.
    ///
    /// # Panics
    /// When `lr` is negative or not finite, or a parameter is not a leaf or appears twice.
    pub fn new(params: Vec<Tensor>, lr: f32) -> Adam {
        Adam {
            core: AdamCore::new("Adam", params, lr, 0.0, false),
        }
    }

    /// Sets the L2 penalty added to the gradient (default 0); see [`super::AdamW`] for the
    /// decoupled form.
    pub fn with_weight_decay(mut self, weight_decay: f32) -> Adam {
        self.core.set_weight_decay(weight_decay);
        self
    }
}

/// The builder methods and [`Optimizer`](super::Optimizer) impl shared by [`Adam`] and [`super::AdamW`], which
/// differ only in how their [`AdamCore`] applies weight decay.
macro_rules! adam_family {
    ($name:ident) => {
        impl $name {
            /// Sets the moment decay rates (default 0.9 and 0.999).
            ///
            /// # Panics
            /// When a beta is outside `[0, 1)`.
            pub fn with_betas(mut self, beta1: f32, beta2: f32) -> $name {
                self.core.set_betas(beta1, beta2);
                self
            }

            /// Sets the term added to the denominator (default 1e-8).
            pub fn with_eps(mut self, eps: f32) -> $name {
                self.core.set_eps(eps);
                self
            }
        }

        impl $crate::optim::Optimizer for $name {
            fn step(&mut self) {
                self.core.step();
            }

            fn learning_rate(&self) -> f32 {
                self.core.lr
            }

            fn set_learning_rate(&mut self, lr: f32) {
                $crate::optim::check_lr(self.core.name, lr);
                self.core.lr = lr;
            }

            fn parameters(&self) -> &[neurite_tensor::Tensor] {
                &self.core.params
            }

            fn steps(&self) -> u64 {
                self.core.steps
            }

            fn state(&self) -> $crate::optim::OptimizerState {
                self.core.state()
            }

            fn load_state(&mut self, state: &$crate::optim::OptimizerState) -> Result<(), $crate::optim::StateError> {
                self.core.load_state(state)
            }
        }
    };
}
pub(crate) use adam_family;

adam_family!(Adam);
