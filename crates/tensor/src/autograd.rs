//! Reverse-mode automatic differentiation: the graph record, `backward`, and no-grad mode.
//!
//! Every op stores, next to its forward computation, a closure that maps the gradient of its
//! output to the gradients of its inputs. `backward` sorts the recorded graph topologically and
//! runs those closures once each, in reverse order, accumulating into the trainable leaves.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use ndarray::{ArrayD, IxDyn};

use crate::tensor::Tensor;

/// Maps an output gradient (and which inputs need one) to per-input gradients.
pub(crate) type BackwardFn = Box<dyn Fn(&ArrayD<f32>, &[bool]) -> Vec<Option<ArrayD<f32>>> + Send + Sync>;

/// How a non-leaf tensor was made: its inputs and its gradient rule.
pub(crate) struct Node {
    pub(crate) inputs: Vec<Tensor>,
    pub(crate) backward: BackwardFn,
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops on this thread currently record the autograd graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` with gradient recording disabled on this thread (inference mode): ops then record
/// nothing and keep no references to their inputs.
///
/// ```
/// use neurite_tensor::{no_grad, Tensor};
/// let w = Tensor::ones(&[2]).requires_grad_();
/// let y = no_grad(|| &w * 3.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Disables gradient recording on this thread until dropped.
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Disables recording; the previous state comes back on drop.
    pub fn new() -> NoGradGuard {
        let previous = GRAD_ENABLED.with(|g| g.replace(false));
        NoGradGuard { previous }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        NoGradGuard::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

impl Tensor {
    /// Back-propagates from this one-element tensor (usually a loss), accumulating gradients
    /// into every trainable leaf it depends on.
    ///
    /// # Panics
    /// When the tensor holds more than one element (use [`Tensor::backward_with`]).
    pub fn backward(&self) {
        let shape = self.shape();
        assert!(
            shape.iter().product::<usize>() == 1,
            "backward: needs a one-element tensor, got shape {shape:?}; use backward_with for others"
        );
        self.backward_with(ArrayD::ones(IxDyn(&shape)));
    }

    /// Back-propagates an explicit output gradient of this tensor's shape.
    ///
    /// # Panics
    /// When `grad`'s shape differs from the tensor's.
    pub fn backward_with(&self, grad: ArrayD<f32>) {
        let shape = self.shape();
        assert!(
            grad.shape() == shape.as_slice(),
            "backward_with: gradient shape {:?} differs from tensor shape {:?}",
            grad.shape(),
            shape
        );
        if !self.requires_grad() {
            return;
        }
        let order = topological_order(self);
        let mut grads: HashMap<u64, ArrayD<f32>> = HashMap::new();
        grads.insert(self.id(), grad);
        for tensor in order.iter().rev() {
            let Some(g) = grads.remove(&tensor.id()) else {
                continue;
            };
            let Some(node) = tensor.node() else {
                tensor.accumulate_grad(g);
                continue;
            };
            let needs: Vec<bool> = node.inputs.iter().map(Tensor::requires_grad).collect();
            let input_grads = (node.backward)(&g, &needs);
            drop(g);
            for ((input, need), ig) in node.inputs.iter().zip(&needs).zip(input_grads) {
                let (true, Some(ig)) = (*need, ig) else {
                    continue;
                };
                debug_assert_eq!(ig.shape(), input.shape().as_slice(), "gradient shape");
                match grads.get_mut(&input.id()) {
                    Some(acc) => *acc += &ig,
                    None => {
                        grads.insert(input.id(), ig);
                    }
                }
            }
        }
    }
}

/// Tensors reachable from `root` through recorded ops, inputs before the ops that use them.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited = HashSet::new();
    // Iterative post-order DFS: (tensor, children already pushed).
    let mut stack = vec![(root.clone(), false)];
    while let Some((tensor, expanded)) = stack.pop() {
        if expanded {
            order.push(tensor);
            continue;
        }
        if !visited.insert(tensor.id()) {
            continue;
        }
        stack.push((tensor.clone(), true));
        if let Some(node) = tensor.node() {
            for input in &node.inputs {
                if input.requires_grad() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    order
}
