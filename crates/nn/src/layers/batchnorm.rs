//! [`BatchNorm1d`] and [`BatchNorm2d`]: batch normalisation with running statistics, PyTorch
//! semantics (eps 1e-5, momentum 0.1, affine, running variance unbiased).

use neurite_tensor::Tensor;

use crate::functional::batch_norm;
use crate::module::Module;

/// The state shared by both batch-norm layers.
struct BatchNormCore {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Tensor,
    eps: f32,
    momentum: f32,
    training: bool,
}

impl BatchNormCore {
    fn new(num_features: usize) -> BatchNormCore {
        BatchNormCore {
            weight: Tensor::ones(&[num_features]).requires_grad_(),
            bias: Tensor::zeros(&[num_features]).requires_grad_(),
            running_mean: Tensor::zeros(&[num_features]),
            running_var: Tensor::ones(&[num_features]),
            num_batches_tracked: Tensor::zeros(&[]),
            eps: 1e-5,
            momentum: 0.1,
            training: true,
        }
    }

    fn forward(&mut self, op: &str, input: &Tensor, ranks: &[usize]) -> Tensor {
        let shape = input.shape();
        let c = self.weight.dim(0);
        assert!(
            ranks.contains(&shape.len()) && shape[1] == c,
            "{op}: input shape {shape:?} does not fit {c} features (expected rank {ranks:?} with dim 1 = {c})"
        );
        if self.training {
            self.num_batches_tracked
                .update(|mut v| v.iter_mut().for_each(|x| *x += 1.0));
        }
        batch_norm(
            input,
            Some(&self.running_mean),
            Some(&self.running_var),
            Some(&self.weight),
            Some(&self.bias),
            self.training,
            self.momentum,
            self.eps,
        )
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".to_string(), self.weight.clone()),
            ("bias".to_string(), self.bias.clone()),
        ]
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("running_mean".to_string(), self.running_mean.clone()),
            ("running_var".to_string(), self.running_var.clone()),
            ("num_batches_tracked".to_string(), self.num_batches_tracked.clone()),
        ]
    }
}

macro_rules! batch_norm_layer {
    ($(#[$doc:meta])* $name:ident, $ranks:expr) => {
        $(#[$doc])*
        pub struct $name {
            core: BatchNormCore,
        }

        impl $name {
            /// A layer over `num_features` channels: weight 1, bias 0, running mean 0, running
            /// variance 1, eps 1e-5, momentum 0.1, in training mode.
            pub fn new(num_features: usize) -> $name {
                $name { core: BatchNormCore::new(num_features) }
            }

            /// Sets `eps`, added to the variance (builder style).
            pub fn eps(mut self, eps: f32) -> $name {
                self.core.eps = eps;
                self
            }

            /// Sets the running-statistics momentum (builder style).
            pub fn momentum(mut self, momentum: f32) -> $name {
                self.core.momentum = momentum;
                self
            }

            /// The affine scale `[C]`.
            pub fn weight(&self) -> &Tensor {
                &self.core.weight
            }

            /// The affine shift `[C]`.
            pub fn bias(&self) -> &Tensor {
                &self.core.bias
            }

            /// The running mean `[C]` (a buffer).
            pub fn running_mean(&self) -> &Tensor {
                &self.core.running_mean
            }

            /// The running (unbiased) variance `[C]` (a buffer).
            pub fn running_var(&self) -> &Tensor {
                &self.core.running_var
            }

            /// Whether the layer is in training mode.
            pub fn is_training(&self) -> bool {
                self.core.training
            }
        }

        impl Module for $name {
            fn forward(&mut self, input: &Tensor) -> Tensor {
                self.core.forward(stringify!($name), input, &$ranks)
            }
            fn named_parameters(&self) -> Vec<(String, Tensor)> {
                self.core.named_parameters()
            }
            fn named_buffers(&self) -> Vec<(String, Tensor)> {
                self.core.named_buffers()
            }
            fn set_training(&mut self, training: bool) {
                self.core.training = training;
            }
            fn describe(&self) -> String {
                format!(
                    "{}({}, eps={}, momentum={}, affine=True, track_running_stats=True)",
                    stringify!($name),
                    self.core.weight.dim(0),
                    self.core.eps,
                    self.core.momentum
                )
            }
        }
    };
}

batch_norm_layer!(
    /// `torch.nn.BatchNorm1d(num_features)` over `[N, C]` or `[N, C, L]`.
    ///
    /// Training mode normalises with the batch statistics and updates the running ones;
    /// evaluation mode ([`Module::set_training`]`(false)`) uses the running ones. Parameters
    /// `weight`, `bias`; buffers `running_mean`, `running_var`, `num_batches_tracked`, as in
    /// PyTorch's `state_dict`.
    ///
    /// ```
    /// use neurite_nn::{BatchNorm1d, Module};
    /// use neurite_tensor::Tensor;
    /// let mut bn = BatchNorm1d::new(2);
    /// let x = Tensor::from_vec(vec![1.0, 10.0, 3.0, 30.0], &[2, 2]).unwrap();
    /// let y = bn.forward(&x).to_vec();
    /// assert!((y[0] + 1.0).abs() < 1e-4 && (y[3] - 1.0).abs() < 1e-4);
    /// assert!((bn.running_mean().to_vec()[0] - 0.2).abs() < 1e-6);
    /// ```
    BatchNorm1d,
    [2, 3]
);

batch_norm_layer!(
    /// `torch.nn.BatchNorm2d(num_features)` over `[N, C, H, W]`; see [`BatchNorm1d`].
    ///
    /// ```
    /// use neurite_nn::{BatchNorm2d, Module};
    /// use neurite_tensor::Tensor;
    /// let mut bn = BatchNorm2d::new(3);
    /// let y = bn.forward(&Tensor::ones(&[2, 3, 4, 4]));
    /// assert_eq!(y.shape(), vec![2, 3, 4, 4]);
    /// bn.set_training(false);
    /// // running mean 0.1, running variance 0.9 after one batch of ones
    /// let y = bn.forward(&Tensor::zeros(&[1, 3, 1, 1])).to_vec();
    /// assert!(y.iter().all(|v| (v + 0.1 / 0.9f32.sqrt()).abs() < 1e-5));
    /// ```
    BatchNorm2d,
    [4]
);
