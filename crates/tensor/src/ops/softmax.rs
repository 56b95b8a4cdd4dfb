//! softmax and log_softmax along an axis, stable for large logits (the lane maximum is
//! subtracted before exponentiating).

use ndarray::{ArrayD, ArrayView1, ArrayViewMut1, Axis, Zip};

use crate::parallel::PAR_MIN_ELEMS;
use crate::shape::check_axis;
use crate::tensor::Tensor;

/// Runs `f(out_lane, in_lane)` for every lane along `axis`, in parallel for large arrays.
/// Each lane is computed the same way on any thread, so results do not depend on thread count.
fn for_each_lane(
    out: &mut ArrayD<f32>,
    input: &ArrayD<f32>,
    axis: usize,
    f: impl Fn(ArrayViewMut1<'_, f32>, ArrayView1<'_, f32>) + Sync + Send,
) {
    let zip = Zip::from(out.lanes_mut(Axis(axis))).and(input.lanes(Axis(axis)));
    if input.len() >= PAR_MIN_ELEMS {
        zip.par_for_each(f);
    } else {
        zip.for_each(f);
    }
}

fn softmax_lane(mut out: ArrayViewMut1<'_, f32>, x: ArrayView1<'_, f32>) {
    let max = x.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for (o, &v) in out.iter_mut().zip(x.iter()) {
        *o = (v - max).exp();
        sum += *o;
    }
    out.mapv_inplace(|v| v / sum);
}

/// `x - max - ln(Σ e^(x - max))`, with the sum's leading `1` (the maximum's own term) kept
/// out of the rounding: `ln_1p` of the other terms. Adding `max` back first, or taking `ln`
/// of a sum near 1, costs every digit of a log-probability near 0.
fn log_softmax_lane(mut out: ArrayViewMut1<'_, f32>, x: ArrayView1<'_, f32>) {
    let (at, max) = x.iter().enumerate().fold(
        (0, f32::NEG_INFINITY),
        |(i, m), (j, &v)| if v > m { (j, v) } else { (i, m) },
    );
    let rest: f32 = x
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != at)
        .map(|(_, &v)| (v - max).exp())
        .sum();
    let log_sum = if max.is_finite() {
        rest.ln_1p()
    } else {
        (rest + 1.0).ln()
    };
    for (o, &v) in out.iter_mut().zip(x.iter()) {
        *o = (v - max) - log_sum;
    }
}

impl Tensor {
    /// `exp(x) / sum(exp(x))` along `axis`.
    ///
    /// ```
    /// use neurite_tensor::Tensor;
    /// let p = Tensor::from_vec(vec![1000.0, 1000.0], &[1, 2]).unwrap().softmax(1);
    /// assert_eq!(p.to_vec(), vec![0.5, 0.5]);
    /// ```
    pub fn softmax(&self, axis: usize) -> Tensor {
        // dx = y * (g - sum(g * y))
        self.lane_op("softmax", axis, softmax_lane, |g, y| {
            let dot: f32 = g.iter().zip(y.iter()).map(|(a, b)| a * b).sum();
            move |g, y| y * (g - dot)
        })
    }

    /// `x - log(sum(exp(x)))` along `axis`, computed without overflow.
    pub fn log_softmax(&self, axis: usize) -> Tensor {
        // dx = g - softmax * sum(g)
        self.lane_op("log_softmax", axis, log_softmax_lane, |g, _| {
            let total: f32 = g.sum();
            move |g, y: f32| g - y.exp() * total
        })
    }

    /// A per-lane op along `axis`: `forward` maps each input lane to an output lane; for the
    /// backward, `lane_grad(g_lane, y_lane)` returns the element rule `(g, y) -> dx` for that
    /// lane (after computing whatever lane-wide sum it needs).
    fn lane_op<R>(
        &self,
        op: &str,
        axis: usize,
        forward: fn(ArrayViewMut1<'_, f32>, ArrayView1<'_, f32>),
        lane_grad: fn(ArrayView1<'_, f32>, ArrayView1<'_, f32>) -> R,
    ) -> Tensor
    where
        R: Fn(f32, f32) -> f32 + 'static,
    {
        let x = self.data().into_owned();
        check_axis(op, axis, x.shape());
        let mut y = ArrayD::zeros(x.raw_dim());
        for_each_lane(&mut y, &x, axis, forward);
        let saved = y.clone();
        Tensor::from_op(y, &[self], move |g, _| {
            let mut dx = ArrayD::zeros(g.raw_dim());
            Zip::from(dx.lanes_mut(Axis(axis)))
                .and(g.lanes(Axis(axis)))
                .and(saved.lanes(Axis(axis)))
                .for_each(|mut d, g, y| {
                    let rule = lane_grad(g, y);
                    Zip::from(&mut d).and(&g).and(&y).for_each(|d, &g, &y| *d = rule(g, y));
                });
            vec![Some(dx)]
        })
    }
}
