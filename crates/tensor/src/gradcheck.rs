//! Checking a differentiable function's gradients against central finite differences, like
//! `torch.autograd.gradcheck`; for testing ops, especially fused ones written with
//! [`Tensor::from_op`].

use std::fmt;

use crate::{seeded_rng, Tensor};

/// The first element whose autograd gradient disagrees with the finite difference.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckFailure {
    /// Which input (position in the slice given to [`gradcheck`]).
    pub input: usize,
    /// Row-major index of the element within that input.
    pub element: usize,
    /// The gradient autograd computed (`None` when the input got no gradient at all).
    pub autograd: Option<f32>,
    /// The central finite difference.
    pub numeric: f32,
}

impl fmt::Display for GradcheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.autograd {
            Some(a) => write!(
                f,
                "input {} element {}: autograd {a} vs finite difference {}",
                self.input, self.element, self.numeric
            ),
            None => write!(f, "input {} got no gradient", self.input),
        }
    }
}

/// Compares the gradients autograd gives for `f` at `inputs` (each made trainable) with
/// central differences of step `eps`, through `loss = sum(f(inputs) * r)` for a fixed random
/// `r` so that every output element matters. Differences are summed in f64. An element passes
/// when `|autograd - numeric| <= tol * (1 + max(|autograd|, |numeric|))`.
///
/// ```
/// use neurite_tensor::{gradcheck::gradcheck, Tensor};
/// let x = Tensor::from_vec(vec![0.3, -0.7, 1.2], &[3]).unwrap();
/// assert!(gradcheck(&[x], |t| t[0].tanh() * 2.0, 1e-2, 2e-2).is_ok());
/// ```
///
/// # Errors
/// The first [`GradcheckFailure`].
pub fn gradcheck(
    inputs: &[Tensor],
    f: impl Fn(&[Tensor]) -> Tensor,
    eps: f32,
    tol: f32,
) -> Result<(), GradcheckFailure> {
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.requires_grad_()).collect();
    let out = f(&leaves);
    let r = Tensor::uniform(&out.shape(), -1.0, 1.0, &mut seeded_rng(99));
    (&out * &r).sum().backward();
    let rv = r.to_vec();
    for (li, leaf) in leaves.iter().enumerate() {
        let Some(analytic) = leaf.grad().map(|g| g.to_vec()) else {
            return Err(GradcheckFailure {
                input: li,
                element: 0,
                autograd: None,
                numeric: 0.0,
            });
        };
        let base = leaf.to_vec();
        for i in 0..base.len() {
            let eval = |delta: f32| -> f64 {
                let mut v = base.clone();
                v[i] += delta;
                let mut xs: Vec<Tensor> = leaves.iter().map(Tensor::detach).collect();
                xs[li] = Tensor::from_vec(v, &leaf.shape()).expect("same shape");
                f(&xs)
                    .to_vec()
                    .iter()
                    .zip(&rv)
                    .map(|(&a, &b)| a as f64 * b as f64)
                    .sum()
            };
            let numeric = ((eval(eps) - eval(-eps)) / (2.0 * eps as f64)) as f32;
            let a = analytic[i];
            if (a - numeric).abs() > tol * (1.0 + numeric.abs().max(a.abs())) {
                return Err(GradcheckFailure {
                    input: li,
                    element: i,
                    autograd: Some(a),
                    numeric,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_a_wrong_backward() {
        // y = x², but the backward claims 3x.
        let square_wrong = |t: &[Tensor]| {
            let d = t[0].data();
            let value = d.mapv(|v| v * v);
            Tensor::from_op(value, &[&t[0]], move |g, _| vec![Some(g * &d.mapv(|v| 3.0 * v))])
        };
        let x = Tensor::from_vec(vec![0.5, -1.5], &[2]).unwrap();
        let err = gradcheck(std::slice::from_ref(&x), square_wrong, 1e-2, 2e-2).unwrap_err();
        assert_eq!((err.input, err.element), (0, 0));
        // The claimed 3x is 1.5 times the true 2x, whatever the random output weighting.
        let ratio = err.autograd.unwrap() / err.numeric;
        assert!((ratio - 1.5).abs() < 1e-2, "{err}");
        assert!(gradcheck(&[x], |t| t[0].square(), 1e-2, 2e-2).is_ok());
    }

    #[test]
    fn reports_an_input_without_gradient() {
        let x = Tensor::ones(&[2]);
        let err = gradcheck(&[x], |t| t[0].detach(), 1e-2, 2e-2).unwrap_err();
        assert_eq!(err.autograd, None);
    }
}
