//! [`Dropout`] and [`Dropout2d`]: zero inputs (whole channels) at random in training mode,
//! with inverted scaling.

use std::cell::Cell;

use neurite_tensor::{seeded_rng, Tensor, TensorRng};
use rand::Rng;

use crate::module::Module;

thread_local! {
    /// The optimizer step the forward pass on this thread belongs to, while `fit` runs one.
    static TRAINING_STEP: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Runs `f` (one training step's forward and backward) with dropout masks keyed to `step`:
/// inside, every [`Dropout`] and [`Dropout2d`] draws its masks from a generator seeded by its
/// own seed, the step and how many times it ran in this step, not from its running generator.
/// The masks then depend only on the step, so a run resumed from a checkpoint at step `k`
/// draws exactly the masks of an uninterrupted run ([`crate::train::fit_with`] does this for
/// every step). Outside, the layers use their own generator.
pub fn with_training_step<R>(step: u64, f: impl FnOnce() -> R) -> R {
    let before = TRAINING_STEP.with(|s| s.replace(Some(step)));
    let out = f();
    TRAINING_STEP.with(|s| s.set(before));
    out
}

/// Where a dropout layer draws this forward's mask from.
struct MaskSource {
    seed: u64,
    rng: TensorRng,
    /// The step of the last keyed draw and how many draws it had.
    step_calls: Option<(u64, u64)>,
}

impl MaskSource {
    fn new(seed: u64) -> MaskSource {
        MaskSource {
            seed,
            rng: seeded_rng(seed),
            step_calls: None,
        }
    }

    /// Runs `draw` with the generator for this forward pass.
    fn with<R>(&mut self, draw: impl FnOnce(&mut TensorRng) -> R) -> R {
        match TRAINING_STEP.with(Cell::get) {
            Some(step) => {
                let calls = match self.step_calls {
                    Some((s, n)) if s == step => n,
                    _ => 0,
                };
                self.step_calls = Some((step, calls + 1));
                // SplitMix-style mixing of (seed, step, call) into one seed.
                let key = self.seed
                    ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    ^ calls.wrapping_mul(0xBF58_476D_1CE4_E5B9).rotate_left(31);
                draw(&mut seeded_rng(key))
            }
            None => draw(&mut self.rng),
        }
    }
}

/// `torch.nn.Dropout(p)`: in training mode each element is zeroed with probability `p` and the
/// survivors are scaled by `1/(1-p)`, so the expected value is unchanged; in evaluation mode
/// it is the identity. The mask comes from the layer's own seeded generator, so a run is
/// reproducible. Layers start in training mode, as in PyTorch.
///
/// ```
/// use neurite_nn::{Dropout, Module};
/// use neurite_tensor::Tensor;
/// let mut drop = Dropout::new(0.5, 7);
/// let y = drop.forward(&Tensor::ones(&[1000])).to_vec();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// drop.set_training(false);
/// assert_eq!(drop.forward(&Tensor::ones(&[3])).to_vec(), vec![1.0; 3]);
/// ```
pub struct Dropout {
    p: f32,
    training: bool,
    masks: MaskSource,
}

impl Dropout {
    /// Drops with probability `p`, drawing masks from a generator seeded with `seed`.
    ///
    /// # Panics
    /// When `p` is not in `[0, 1]`.
    pub fn new(p: f32, seed: u64) -> Dropout {
        assert!(
            (0.0..=1.0).contains(&p),
            "Dropout: probability must be in [0, 1], got {p}"
        );
        Dropout {
            p,
            training: true,
            masks: MaskSource::new(seed),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }
}

impl Module for Dropout {
    fn forward(&mut self, input: &Tensor) -> Tensor {
        if !self.training || self.p == 0.0 {
            return input.clone();
        }
        if self.p == 1.0 {
            return input.mul_scalar(0.0);
        }
        let shape = input.shape();
        let n: usize = shape.iter().product();
        let (keep, scale) = (1.0 - self.p, 1.0 / (1.0 - self.p));
        let mask: Vec<f32> = self.masks.with(|rng| {
            (0..n)
                .map(|_| if rng.random::<f32>() < keep { scale } else { 0.0 })
                .collect()
        });
        input * &Tensor::from_vec(mask, &shape).expect("mask shape")
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }
}

/// `torch.nn.Dropout2d(p)`: in training mode each whole channel of an `[N, C, H, W]` input
/// (every `(image, channel)` plane) is zeroed with probability `p` and the kept ones are scaled
/// by `1/(1-p)`; in evaluation mode it is the identity. One draw per plane from the layer's
/// own seeded generator, so a run is reproducible. Starts in training mode.
///
/// ```
/// use neurite_nn::{Dropout2d, Module};
/// use neurite_tensor::Tensor;
/// let mut drop = Dropout2d::new(0.5, 7);
/// let y = drop.forward(&Tensor::ones(&[4, 8, 3, 3])).to_vec();
/// for plane in y.chunks(9) {
///     assert!(plane.iter().all(|&v| v == 0.0) || plane.iter().all(|&v| v == 2.0));
/// }
/// drop.set_training(false);
/// assert_eq!(drop.forward(&Tensor::ones(&[1, 1, 2, 2])).to_vec(), vec![1.0; 4]);
/// ```
pub struct Dropout2d {
    p: f32,
    training: bool,
    masks: MaskSource,
}

impl Dropout2d {
    /// Drops channels with probability `p`, drawing from a generator seeded with `seed`.
    ///
    /// # Panics
    /// When `p` is not in `[0, 1]`.
    pub fn new(p: f32, seed: u64) -> Dropout2d {
        assert!(
            (0.0..=1.0).contains(&p),
            "Dropout2d: probability must be in [0, 1], got {p}"
        );
        Dropout2d {
            p,
            training: true,
            masks: MaskSource::new(seed),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }
}

impl Module for Dropout2d {
    /// # Panics
    /// When the input is not `[N, C, H, W]` (in training mode).
    fn forward(&mut self, input: &Tensor) -> Tensor {
        if !self.training || self.p == 0.0 {
            return input.clone();
        }
        let shape = input.shape();
        assert!(
            shape.len() == 4,
            "Dropout2d: expected an input of shape [N, C, H, W], got {shape:?}"
        );
        if self.p == 1.0 {
            return input.mul_scalar(0.0);
        }
        let (keep, scale) = (1.0 - self.p, 1.0 / (1.0 - self.p));
        let mask: Vec<f32> = self.masks.with(|rng| {
            (0..shape[0] * shape[1])
                .map(|_| if rng.random::<f32>() < keep { scale } else { 0.0 })
                .collect()
        });
        // [N, C, 1, 1] broadcasts over each plane.
        input * &Tensor::from_vec(mask, &[shape[0], shape[1], 1, 1]).expect("mask shape")
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn describe(&self) -> String {
        format!("Dropout2d(p={})", self.p)
    }
}
