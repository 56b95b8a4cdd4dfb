//! # neurite-tensor
//!
//! N-dimensional f32 tensors on [`ndarray`] storage, with NumPy broadcasting, a strided
//! matmul (our own packed AVX-512F and AVX2+FMA sgemm, [`matrixmultiply`] on other CPUs), rayon
//! parallelism for large element-wise work, and reverse-mode automatic differentiation. It is the bottom layer of neurite: the `neurite-nn` layers,
//! losses and optimizers are written from these ops.
//!
//! ```
//! use neurite_tensor::{seeded_rng, Tensor};
//!
//! // A trainable weight and a constant input.
//! let mut rng = seeded_rng(0);
//! let w = Tensor::uniform(&[3, 2], -1.0, 1.0, &mut rng).requires_grad_();
//! let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
//!
//! // Forward: a matmul, a ReLU and a mean; backward fills w.grad().
//! let loss = x.matmul(&w).relu().mean();
//! loss.backward();
//! assert_eq!(w.grad().unwrap().shape(), vec![3, 2]);
//! ```
//!
//! ## Design
//! * A [`Tensor`] is a cheap handle (`Arc`) to copy-on-write storage. Permutes, transposes
//!   and narrows are zero-copy views.
//! * Each op computes its value and, right beside it, registers a closure mapping the output
//!   gradient to its inputs' gradients ([`Tensor::from_op`], also the hook for fused ops).
//!   [`Tensor::backward`] sorts the graph topologically and runs each closure once.
//!   Trainable leaves are made with [`Tensor::requires_grad_`]; their gradients accumulate
//!   until [`Tensor::zero_grad`]. Inside [`no_grad`] nothing is recorded.
//!
//! ## Error convention
//! * Building a tensor from user data ([`Tensor::from_vec`], [`Tensor::try_reshape`]) returns a
//!   typed [`TensorError`].
//! * Misusing an op (shapes that do not broadcast, an axis out of range, matmul of shapes that
//!   do not chain) is a programmer error and panics, with a message that names the op and the
//!   shapes involved, e.g. `add: shapes [2, 3] and [4] cannot be broadcast together`.
//!
//! ## Threads and determinism
//! Large element-wise ops, reductions and matmuls run on rayon's pool, whose size follows
//! `RAYON_NUM_THREADS`. Work is split so that every output element is computed the same way
//! on any thread: the same seed and inputs give bit-identical results with 1 or many threads.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod alloc;
pub mod atomic_file;
mod autograd;
mod error;
pub mod gemm;
pub mod gradcheck;
pub mod ops;
pub mod parallel;
mod rng;
pub mod shape;
pub mod simd;
mod tensor;

pub use autograd::{is_grad_enabled, no_grad, NoGradGuard};
pub use error::{Result, TensorError};
pub use rng::{seeded_rng, TensorRng};
pub use tensor::{Tensor, TensorData};

pub use ndarray;

/// The crate README's examples, compiled and run as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
