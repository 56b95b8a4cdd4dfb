//! Element-wise arithmetic with NumPy broadcasting: add, sub, mul, div, maximum, and their
//! scalar forms and operator overloads.

use std::ops::{Add, Div, Mul, Neg, Sub};

use ndarray::IxDyn;

use crate::parallel::{map, zip3_map, zip_map};
use crate::shape::{broadcast_shapes, reduce_to_shape};
use crate::tensor::Tensor;

#[derive(Clone, Copy)]
enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
        }
    }
}

fn binary(a: &Tensor, b: &Tensor, op: BinaryOp) -> Tensor {
    let (ad, bd) = (a.data(), b.data());
    let out_shape = broadcast_shapes(op.name(), ad.shape(), bd.shape());
    let av = ad.broadcast(IxDyn(&out_shape)).expect("shape checked");
    let bv = bd.broadcast(IxDyn(&out_shape)).expect("shape checked");
    let value = match op {
        BinaryOp::Add => zip_map(&av, &bv, |x, y| x + y),
        BinaryOp::Sub => zip_map(&av, &bv, |x, y| x - y),
        BinaryOp::Mul => zip_map(&av, &bv, |x, y| x * y),
        BinaryOp::Div => zip_map(&av, &bv, |x, y| x / y),
    };
    let (a_shape, b_shape) = (ad.shape().to_vec(), bd.shape().to_vec());
    Tensor::from_op(value, &[a, b], move |g, needs| {
        let bshape = IxDyn(g.shape());
        let ga = needs[0].then(|| {
            let ga = match op {
                BinaryOp::Add | BinaryOp::Sub => g.clone(),
                BinaryOp::Mul => zip_map(&g.view(), &bd.broadcast(bshape.clone()).unwrap(), |g, y| g * y),
                BinaryOp::Div => zip_map(&g.view(), &bd.broadcast(bshape.clone()).unwrap(), |g, y| g / y),
            };
            reduce_to_shape(ga, &a_shape)
        });
        let gb = needs[1].then(|| {
            let gb = match op {
                BinaryOp::Add => g.clone(),
                BinaryOp::Sub => map(&g.view(), |g| -g),
                BinaryOp::Mul => zip_map(&g.view(), &ad.broadcast(bshape.clone()).unwrap(), |g, x| g * x),
                BinaryOp::Div => zip3_map(
                    &g.view(),
                    &ad.broadcast(bshape.clone()).unwrap(),
                    &bd.broadcast(bshape.clone()).unwrap(),
                    |g, x, y| -g * x / (y * y),
                ),
            };
            reduce_to_shape(gb, &b_shape)
        });
        vec![ga, gb]
    })
}

impl Tensor {
    /// Element-wise `self + other` with broadcasting.
    ///
    /// # Panics
    /// When the shapes do not broadcast (the message names `add` and both shapes).
    pub fn add(&self, other: &Tensor) -> Tensor {
        binary(self, other, BinaryOp::Add)
    }

    /// Element-wise `self - other` with broadcasting.
    pub fn sub(&self, other: &Tensor) -> Tensor {
        binary(self, other, BinaryOp::Sub)
    }

    /// Element-wise `self * other` with broadcasting.
    pub fn mul(&self, other: &Tensor) -> Tensor {
        binary(self, other, BinaryOp::Mul)
    }

    /// Element-wise `self / other` with broadcasting.
    pub fn div(&self, other: &Tensor) -> Tensor {
        binary(self, other, BinaryOp::Div)
    }

    /// `self + c` for a scalar `c`.
    pub fn add_scalar(&self, c: f32) -> Tensor {
        let value = self.read(|d| map(&d.view(), |x| x + c));
        Tensor::from_op(value, &[self], |g, _| vec![Some(g.clone())])
    }

    /// `self * c` for a scalar `c`.
    pub fn mul_scalar(&self, c: f32) -> Tensor {
        let value = self.read(|d| map(&d.view(), |x| x * c));
        Tensor::from_op(value, &[self], move |g, _| vec![Some(map(&g.view(), |g| g * c))])
    }

    /// `-self`.
    pub fn neg(&self) -> Tensor {
        self.mul_scalar(-1.0)
    }

    /// Element-wise maximum with broadcasting, as `torch.maximum`: NaN if either input is NaN;
    /// the gradient goes to the larger input, half to each on ties (and all of it to both
    /// where a NaN makes them incomparable).
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        let (ad, bd) = (self.data(), other.data());
        let out_shape = broadcast_shapes("maximum", ad.shape(), bd.shape());
        let av = ad.broadcast(IxDyn(&out_shape)).expect("shape checked");
        let bv = bd.broadcast(IxDyn(&out_shape)).expect("shape checked");
        let value = zip_map(
            &av,
            &bv,
            |x, y| if x.is_nan() || y.is_nan() { f32::NAN } else { x.max(y) },
        );
        let (a_shape, b_shape) = (ad.shape().to_vec(), bd.shape().to_vec());
        // The share of the gradient that goes to `x` in `maximum(x, y)`.
        fn share(g: f32, x: f32, y: f32) -> f32 {
            if x == y {
                g * 0.5
            } else if x < y {
                0.0
            } else {
                g
            }
        }
        Tensor::from_op(value, &[self, other], move |g, needs| {
            let s = IxDyn(g.shape());
            let av = ad.broadcast(s.clone()).unwrap();
            let bv = bd.broadcast(s).unwrap();
            let ga = needs[0].then(|| reduce_to_shape(zip3_map(&g.view(), &av, &bv, share), &a_shape));
            let gb =
                needs[1].then(|| reduce_to_shape(zip3_map(&g.view(), &av, &bv, |g, x, y| share(g, y, x)), &b_shape));
            vec![ga, gb]
        })
    }
}

/// `t / c` for a scalar `c`: a true division, as PyTorch (a multiplication by `1 / c` can be
/// one rounding off).
fn div_scalar(t: &Tensor, c: f32) -> Tensor {
    let value = t.read(|d| map(&d.view(), |x| x / c));
    Tensor::from_op(value, &[t], move |g, _| vec![Some(map(&g.view(), |g| g / c))])
}

/// Implements `a op b` for every owned/borrowed combination and for f32 on the right.
macro_rules! impl_binary_operator {
    ($trait:ident, $method:ident, $tensor_fn:ident, $scalar:expr) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$tensor_fn(self, rhs)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$tensor_fn(&self, &rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$tensor_fn(&self, rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$tensor_fn(self, &rhs)
            }
        }
        impl $trait<f32> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f32) -> Tensor {
                let f: fn(&Tensor, f32) -> Tensor = $scalar;
                f(self, rhs)
            }
        }
        impl $trait<f32> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f32) -> Tensor {
                let f: fn(&Tensor, f32) -> Tensor = $scalar;
                f(&self, rhs)
            }
        }
    };
}

impl_binary_operator!(Add, add, add, |t, c| t.add_scalar(c));
impl_binary_operator!(Sub, sub, sub, |t, c| t.add_scalar(-c));
impl_binary_operator!(Mul, mul, mul, |t, c| t.mul_scalar(c));
impl_binary_operator!(Div, div, div, div_scalar);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
