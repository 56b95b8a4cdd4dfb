//! Element-wise math: exp, ln, sqrt, powf, abs, relu, leaky_relu, sigmoid, tanh, gelu.
//!
//! Each op computes its output and records a gradient rule that needs only the input `x`,
//! the output `y`, or both.

use std::f32::consts::{FRAC_2_SQRT_PI, SQRT_2};

use crate::parallel::{map, zip3_map, zip_map};
use crate::tensor::{Tensor, TensorData};

/// What a unary gradient rule reads besides the incoming gradient.
enum Saved {
    Input(TensorData),
    Output(TensorData),
}

fn unary(
    x: &Tensor,
    forward: impl Fn(f32) -> f32 + Sync + Send,
    save_output: bool,
    derivative: impl Fn(f32) -> f32 + Sync + Send + 'static,
) -> Tensor {
    let xd = x.data();
    let value: TensorData = map(&xd.view(), forward).into_shared();
    let saved = if save_output {
        Saved::Output(value.clone())
    } else {
        Saved::Input(xd)
    };
    Tensor::from_op(value, &[x], move |g, _| {
        let s = match &saved {
            Saved::Input(a) | Saved::Output(a) => a,
        };
        vec![Some(zip_map(&g.view(), &s.view(), |g, v| g * derivative(v)))]
    })
}

/// Standard normal density.
fn normal_pdf(x: f32) -> f32 {
    0.5 * FRAC_2_SQRT_PI / SQRT_2 * (-0.5 * x * x).exp()
}

impl Tensor {
    /// Element-wise `e^x`.
    pub fn exp(&self) -> Tensor {
        unary(self, f32::exp, true, |y| y)
    }

    /// Element-wise natural logarithm.
    pub fn ln(&self) -> Tensor {
        unary(self, f32::ln, false, |x| 1.0 / x)
    }

    /// Element-wise square root.
    pub fn sqrt(&self) -> Tensor {
        unary(self, f32::sqrt, true, |y| 0.5 / y)
    }

    /// Element-wise `x^p`.
    pub fn powf(&self, p: f32) -> Tensor {
        unary(self, move |x| x.powf(p), false, move |x| p * x.powf(p - 1.0))
    }

    /// Element-wise absolute value (gradient 0 at 0, as PyTorch).
    pub fn abs(&self) -> Tensor {
        unary(self, f32::abs, false, |x| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        })
    }

    /// Element-wise `max(x, 0)` (gradient 0 at 0, as PyTorch).
    pub fn relu(&self) -> Tensor {
        unary(self, |x| x.max(0.0), true, |y| if y > 0.0 { 1.0 } else { 0.0 })
    }

    /// Element-wise `x` for positive inputs, `slope * x` otherwise.
    pub fn leaky_relu(&self, slope: f32) -> Tensor {
        unary(
            self,
            move |x| if x > 0.0 { x } else { slope * x },
            false,
            move |x| if x > 0.0 { 1.0 } else { slope },
        )
    }

    /// Element-wise logistic sigmoid `1 / (1 + e^-x)`, stable for large |x|.
    pub fn sigmoid(&self) -> Tensor {
        unary(self, sigmoid, true, |y| y * (1.0 - y))
    }

    /// Element-wise hyperbolic tangent.
    pub fn tanh(&self) -> Tensor {
        unary(self, f32::tanh, true, |y| 1.0 - y * y)
    }

    /// Element-wise GELU with the exact erf form, PyTorch's default:
    /// `x * Φ(x)` where Φ is the standard normal CDF.
    pub fn gelu(&self) -> Tensor {
        unary(
            self,
            |x| x * normal_cdf(x),
            false,
            |x| normal_cdf(x) + x * normal_pdf(x),
        )
    }

    /// Element-wise square.
    pub fn square(&self) -> Tensor {
        unary(self, |x| x * x, false, |x| 2.0 * x)
    }

    /// Clamps every element to `[min, max]`; the gradient passes only where unclamped.
    pub fn clamp(&self, min: f32, max: f32) -> Tensor {
        let xd = self.data();
        let value = map(&xd.view(), |x| x.clamp(min, max));
        Tensor::from_op(value, &[self], move |g, _| {
            let pass = |g: f32, x: f32, _: f32| if x >= min && x <= max { g } else { 0.0 };
            vec![Some(zip3_map(&g.view(), &xd.view(), &xd.view(), pass))]
        })
    }
}

/// The logistic sigmoid of one value, computed without overflow.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The standard normal CDF Φ(x).
fn normal_cdf(x: f32) -> f32 {
    0.5 * (1.0 + libm::erff(x / SQRT_2))
}
