//! Element-wise math: exp, ln, sqrt, powf, abs, relu, leaky_relu, sigmoid, tanh, gelu.
//!
//! Each op computes its output and records a gradient rule that needs only the input `x`,
//! the output `y`, or both.

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

use crate::parallel::{map, zip_map};
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

/// Standard normal density φ(x), in f64 (see [`normal_cdf`]).
fn normal_pdf(x: f64) -> f64 {
    0.5 * FRAC_2_SQRT_PI * FRAC_1_SQRT_2 * (-0.5 * x * x).exp()
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

    /// Element-wise `x^p`. For `p = 0` the gradient is 0 everywhere (as PyTorch), also at
    /// `x = 0` where `p * x^(p-1)` would be `0 * inf`.
    pub fn powf(&self, p: f32) -> Tensor {
        let derivative = move |x: f32| if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) };
        unary(self, move |x| x.powf(p), false, derivative)
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

    /// Element-wise `max(x, 0)`, as PyTorch: NaN stays NaN (and passes the gradient), the
    /// gradient is 0 at 0.
    pub fn relu(&self) -> Tensor {
        unary(self, relu, true, |y| if y <= 0.0 { 0.0 } else { 1.0 })
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

    /// Element-wise logistic sigmoid `1 / (1 + e^-x)`, stable for large |x|. The derivative
    /// `σ(x)·σ(-x) = e^-|x| / (1 + e^-|x|)²` is computed from `x`: `y·(1 - y)` from the
    /// output would lose every digit of `1 - y` once `y` rounds to 1.
    pub fn sigmoid(&self) -> Tensor {
        unary(self, sigmoid, false, |x| {
            let e = (-x.abs()).exp();
            e / ((1.0 + e) * (1.0 + e))
        })
    }

    /// Element-wise hyperbolic tangent. The derivative `1 - tanh² = 4e / (1 + e)²` with
    /// `e = e^-2|x|` is computed from `x`, accurate where `tanh(x)` rounds to ±1.
    pub fn tanh(&self) -> Tensor {
        unary(self, f32::tanh, false, |x| {
            let e = (-2.0 * x.abs()).exp();
            4.0 * e / ((1.0 + e) * (1.0 + e))
        })
    }

    /// Element-wise GELU with the exact erf form, PyTorch's default:
    /// `x * Φ(x)` where Φ is the standard normal CDF.
    pub fn gelu(&self) -> Tensor {
        unary(
            self,
            |x| (f64::from(x) * normal_cdf(x.into())) as f32,
            false,
            |x| {
                let x = f64::from(x);
                (normal_cdf(x) + x * normal_pdf(x)) as f32
            },
        )
    }

    /// Element-wise square.
    pub fn square(&self) -> Tensor {
        unary(self, |x| x * x, false, |x| 2.0 * x)
    }

    /// Clamps every element to `[min, max]` (NaN stays NaN). As PyTorch, the gradient passes
    /// only strictly inside `(min, max)`: it is 0 at the bounds themselves.
    pub fn clamp(&self, min: f32, max: f32) -> Tensor {
        let xd = self.data();
        let value = map(&xd.view(), |x| x.clamp(min, max));
        Tensor::from_op(value, &[self], move |g, _| {
            let pass = |g: f32, x: f32| if x > min && x < max { g } else { 0.0 };
            vec![Some(zip_map(&g.view(), &xd.view(), pass))]
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

/// `max(x, 0)` with NaN kept (`f32::max` would return 0 for NaN, PyTorch returns NaN).
fn relu(x: f32) -> f32 {
    if x <= 0.0 {
        0.0
    } else {
        x
    }
}

/// The standard normal CDF Φ(x) = erfc(-x/√2) / 2, in f64. The `erfc` form keeps the digits
/// that `1 + erf(x/√2)` loses for negative x (4% off at x = -5 in f32, 0 instead of 1e-12
/// below -7); f64 keeps those that erfc's steep tail would lose to the rounding of `x/√2`
/// (3e-6 at x = -7 in f32).
fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}
