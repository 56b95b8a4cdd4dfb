//! [`Dropout`]: zeroes inputs at random in training mode, with inverted scaling.

use neurite_tensor::{seeded_rng, Tensor, TensorRng};
use rand::Rng;

use crate::module::Module;

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
    rng: TensorRng,
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
            rng: seeded_rng(seed),
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
        let mask: Vec<f32> = (0..n)
            .map(|_| if self.rng.random::<f32>() < keep { scale } else { 0.0 })
            .collect();
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
