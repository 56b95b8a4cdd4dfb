//! The element-wise function a fused op applies to its output before returning it: nothing,
//! or a ReLU. Fusing the ReLU saves the separate activation op's extra pass over the output,
//! its allocation, and the extra pass of its backward.

use std::borrow::Cow;

use ndarray::{ArrayD, Zip};
use neurite_tensor::simd::vectorized;
use neurite_tensor::TensorData;
use rayon::prelude::*;

use super::worth_parallel;

/// Values per parallel task of the forward epilogue.
const PAR_CHUNK: usize = 1 << 14;

/// What a fused op does to its output in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Epilogue {
    /// Returns the output as computed.
    Identity,
    /// `max(v, 0)` on every element, exactly as `Tensor::relu` (NaN stays NaN).
    Relu,
}

impl Epilogue {
    /// Applies the epilogue to the op's output values (over rayon's threads when large).
    pub(crate) fn forward(self, y: &mut [f32]) {
        if self == Epilogue::Relu {
            let relu = |part: &mut [f32]| {
                vectorized(
                    #[inline(always)]
                    || part.iter_mut().for_each(|v| *v = if *v <= 0.0 { 0.0 } else { *v }),
                )
            };
            if worth_parallel(y.len()) {
                y.par_chunks_mut(PAR_CHUNK).for_each(relu);
            } else {
                relu(y);
            }
        }
    }

    /// [`Epilogue::backward`] in place: `g` becomes the gradient before the epilogue, given
    /// the op's output `y` (the same values, without a new array).
    pub(crate) fn backward_in_place(self, g: &mut [f32], y: &[f32]) {
        if self == Epilogue::Relu {
            vectorized(
                #[inline(always)]
                || {
                    g.iter_mut()
                        .zip(y)
                        .for_each(|(g, &y)| *g = if y <= 0.0 { 0.0 } else { *g })
                },
            );
        }
    }

    /// Whether [`Epilogue::backward`] needs the op's output.
    pub(crate) fn keeps_output(self) -> bool {
        self == Epilogue::Relu
    }

    /// The gradient with respect to the value before the epilogue, from the gradient `g`
    /// with respect to the output `y` (kept when [`Epilogue::keeps_output`] says so):
    /// 0 where `y <= 0`, else `g` (a NaN passes it), as `Tensor::relu`'s backward.
    pub(crate) fn backward<'g>(self, g: &'g ArrayD<f32>, y: Option<&TensorData>) -> Cow<'g, ArrayD<f32>> {
        match (self, y) {
            (Epilogue::Relu, Some(y)) => {
                Cow::Owned(Zip::from(g).and(y).map_collect(|&g, &y| if y <= 0.0 { 0.0 } else { g }))
            }
            _ => Cow::Borrowed(g),
        }
    }
}
