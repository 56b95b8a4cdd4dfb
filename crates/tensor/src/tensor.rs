//! The [`Tensor`] handle: shared, immutable-by-default f32 storage plus its autograd record.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use ndarray::{ArcArray, ArrayD, ArrayViewMutD, IxDyn};
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::autograd::{self, BackwardFn, Node};
use crate::error::{Result, TensorError};

/// The storage behind a tensor: a reference-counted n-d array, so views and clones are cheap.
pub type TensorData = ArcArray<f32, IxDyn>;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// An n-dimensional f32 tensor: a cheap, clonable handle to shared storage.
///
/// Cloning a `Tensor` clones the handle, not the data. Every op returns a new tensor and, when
/// gradients are being recorded, remembers how to push a gradient back to its inputs.
///
/// ```
/// use neurite_tensor::Tensor;
/// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let b = Tensor::ones(&[2]);
/// let c = &a + &b; // broadcasts [2] over [2, 2]
/// assert_eq!(c.to_vec(), vec![2.0, 3.0, 4.0, 5.0]);
/// ```
#[derive(Clone)]
pub struct Tensor {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    data: RwLock<TensorData>,
    requires_grad: bool,
    grad: Mutex<Option<ArrayD<f32>>>,
    node: Option<Node>,
}

impl Tensor {
    fn build(data: TensorData, requires_grad: bool, node: Option<Node>) -> Tensor {
        Tensor {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                data: RwLock::new(data),
                requires_grad,
                grad: Mutex::new(None),
                node,
            }),
        }
    }

    /// Wraps an n-d array as a constant tensor (no gradient).
    pub fn from_array(data: impl Into<TensorData>) -> Tensor {
        Tensor::build(data.into(), false, None)
    }

    /// Builds a tensor of `shape` from row-major `values`.
    ///
    /// # Errors
    /// [`TensorError::LengthMismatch`] when `values.len()` is not the product of `shape`.
    pub fn from_vec(values: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        let expected: usize = shape.iter().product();
        if expected != values.len() {
            return Err(TensorError::LengthMismatch {
                shape: shape.to_vec(),
                expected,
                actual: values.len(),
            });
        }
        let arr = ArrayD::from_shape_vec(IxDyn(shape), values).expect("length checked above");
        Ok(Tensor::from_array(arr))
    }

    /// A rank-0 tensor holding `value`.
    pub fn scalar(value: f32) -> Tensor {
        Tensor::from_array(ArrayD::from_elem(IxDyn(&[]), value))
    }

    /// A tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: f32) -> Tensor {
        Tensor::from_array(ArrayD::from_elem(IxDyn(shape), value))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// The 1-D tensor `start, start + step, ...` up to but excluding `end`, like `torch.arange`.
    ///
    /// # Panics
    /// When `step` is zero or not finite.
    pub fn arange(start: f32, end: f32, step: f32) -> Tensor {
        assert!(
            step != 0.0 && step.is_finite(),
            "arange: step must be finite and non-zero, got {step}"
        );
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        let values: Vec<f32> = (0..n).map(|i| start + i as f32 * step).collect();
        Tensor::from_array(ArrayD::from_shape_vec(IxDyn(&[n]), values).expect("1-D"))
    }

    /// Samples from U(`low`, `high`) with an explicit, seeded random generator.
    ///
    /// ```
    /// use neurite_tensor::{seeded_rng, Tensor};
    /// let t = Tensor::uniform(&[3, 4], -1.0, 1.0, &mut seeded_rng(7));
    /// assert!(t.to_vec().iter().all(|v| (-1.0..1.0).contains(v)));
    /// ```
    pub fn uniform(shape: &[usize], low: f32, high: f32, rng: &mut impl Rng) -> Tensor {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = if low == high {
            vec![low; n]
        } else {
            let dist = Uniform::new(low, high).expect("uniform: low must be below high");
            (0..n).map(|_| dist.sample(rng)).collect()
        };
        Tensor::from_vec(values, shape).expect("length matches shape")
    }

    /// Samples from N(`mean`, `std`²) with an explicit, seeded random generator.
    pub fn normal(shape: &[usize], mean: f32, std: f32, rng: &mut impl Rng) -> Tensor {
        let n: usize = shape.iter().product();
        let dist = Normal::new(mean, std).expect("normal: std must be finite and non-negative");
        let values: Vec<f32> = (0..n).map(|_| dist.sample(rng)).collect();
        Tensor::from_vec(values, shape).expect("length matches shape")
    }

    /// The tensor's shape.
    pub fn shape(&self) -> Vec<usize> {
        self.read(|d| d.shape().to_vec())
    }

    /// The size of one axis.
    pub fn dim(&self, axis: usize) -> usize {
        self.read(|d| {
            crate::shape::check_axis("dim", axis, d.shape());
            d.shape()[axis]
        })
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.read(|d| d.ndim())
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.read(|d| d.len())
    }

    /// A cheap handle to the current values (shares storage; copy-on-write).
    pub fn data(&self) -> TensorData {
        self.read(|d| d.clone())
    }

    /// Runs `f` on the current values without cloning the handle.
    pub fn read<R>(&self, f: impl FnOnce(&TensorData) -> R) -> R {
        let guard = self.inner.data.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// The values in row-major (logical) order.
    pub fn to_vec(&self) -> Vec<f32> {
        self.read(|d| d.iter().copied().collect())
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// When the tensor holds more or fewer than one element.
    pub fn item(&self) -> f32 {
        self.read(|d| {
            assert!(
                d.len() == 1,
                "item: tensor of shape {:?} does not hold exactly one value",
                d.shape()
            );
            *d.iter().next().expect("one element")
        })
    }

    /// Updates the values in place (used by optimizers); records nothing for autograd.
    ///
    /// The storage is copied first only if another tensor still shares it.
    pub fn update(&self, f: impl FnOnce(ArrayViewMutD<'_, f32>)) {
        let mut guard = self.inner.data.write().unwrap_or_else(|e| e.into_inner());
        f(guard.view_mut());
    }

    /// Replaces the values with `values`, which must have the same shape.
    ///
    /// # Panics
    /// When the shapes differ.
    pub fn set_data(&self, values: impl Into<TensorData>) {
        let values = values.into();
        let mut guard = self.inner.data.write().unwrap_or_else(|e| e.into_inner());
        assert!(
            guard.shape() == values.shape(),
            "set_data: new shape {:?} differs from {:?}",
            values.shape(),
            guard.shape()
        );
        *guard = values;
    }

    /// A unique id for this tensor handle's node in the autograd graph.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Whether gradients flow to or through this tensor.
    pub fn requires_grad(&self) -> bool {
        self.inner.requires_grad
    }

    /// Whether this tensor was produced by a recorded op (it is not a leaf).
    pub fn is_leaf(&self) -> bool {
        self.inner.node.is_none()
    }

    /// A trainable leaf sharing this tensor's values: its gradient is accumulated by
    /// [`Tensor::backward`] and read with [`Tensor::grad`].
    ///
    /// ```
    /// use neurite_tensor::Tensor;
    /// let w = Tensor::from_vec(vec![1.0, -2.0, 3.0], &[3]).unwrap().requires_grad_();
    /// let loss = (&w * &w).sum();
    /// loss.backward();
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, -4.0, 6.0]);
    /// ```
    pub fn requires_grad_(&self) -> Tensor {
        Tensor::build(self.data(), true, None)
    }

    /// A constant sharing this tensor's values, cut off from the autograd graph.
    pub fn detach(&self) -> Tensor {
        Tensor::build(self.data(), false, None)
    }

    /// The accumulated gradient of a trainable leaf, if any backward pass reached it.
    pub fn grad(&self) -> Option<Tensor> {
        self.grad_array().map(Tensor::from_array)
    }

    /// The accumulated gradient as a raw array.
    pub fn grad_array(&self) -> Option<ArrayD<f32>> {
        self.inner.grad.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `f` on the accumulated gradient without copying it.
    pub fn with_grad<R>(&self, f: impl FnOnce(Option<&ArrayD<f32>>) -> R) -> R {
        let guard = self.inner.grad.lock().unwrap_or_else(|e| e.into_inner());
        f(guard.as_ref())
    }

    /// Runs `f` on the gradient mutably (for clipping); does nothing without a gradient.
    pub fn with_grad_mut(&self, f: impl FnOnce(&mut ArrayD<f32>)) {
        let mut guard = self.inner.grad.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(g) = guard.as_mut() {
            f(g);
        }
    }

    /// Runs `f` on the gradient slot itself (`None` when no gradient is held), so that a
    /// fused op can write a gradient into storage kept from the last step instead of
    /// accumulating a fresh array; nothing is recorded for autograd.
    pub fn with_grad_slot<R>(&self, f: impl FnOnce(&mut Option<ArrayD<f32>>) -> R) -> R {
        let mut guard = self.inner.grad.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Clears the accumulated gradient, like `optimizer.zero_grad(set_to_none=True)`.
    pub fn zero_grad(&self) {
        *self.inner.grad.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Adds `g` to the accumulated gradient (PyTorch's accumulation semantics).
    pub(crate) fn accumulate_grad(&self, g: ArrayD<f32>) {
        let mut guard = self.inner.grad.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_mut() {
            Some(acc) => *acc += &g,
            None => *guard = Some(g),
        }
    }

    pub(crate) fn node(&self) -> Option<&Node> {
        self.inner.node.as_ref()
    }

    /// Builds the result of an op: `value`, computed from `inputs`, with `backward` mapping the
    /// output gradient to one optional gradient per input.
    ///
    /// This is the extension point for fused ops with their own backward (the nn crate's
    /// linear, convolution and cross-entropy). Nothing is recorded when gradients are disabled
    /// ([`crate::no_grad`]) or no input requires a gradient. `backward` receives the output
    /// gradient and, per input, whether that input needs a gradient; it returns gradients with
    /// the inputs' shapes (or `None` to skip one).
    pub fn from_op<F>(value: impl Into<TensorData>, inputs: &[&Tensor], backward: F) -> Tensor
    where
        F: Fn(&ArrayD<f32>, &[bool]) -> Vec<Option<ArrayD<f32>>> + Send + Sync + 'static,
    {
        let value = value.into();
        if autograd::is_grad_enabled() && inputs.iter().any(|t| t.requires_grad()) {
            let backward: BackwardFn = Box::new(backward);
            let node = Node {
                inputs: inputs.iter().map(|t| (*t).clone()).collect(),
                backward,
            };
            Tensor::build(value, true, Some(node))
        } else {
            Tensor::build(value, false, None)
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.read(|d| {
            write!(
                f,
                "Tensor(shape={:?}, requires_grad={}, ",
                d.shape(),
                self.requires_grad()
            )?;
            write!(f, "{d})")
        })
    }
}
