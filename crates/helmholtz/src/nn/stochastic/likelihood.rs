//! Output likelihood rows of the host path: the loss of one example and its
//! gradient with respect to the decoder's output in one fused pass.

use crate::kernels::math::{exp, log1p};
use crate::kernels::multiversion;

multiversion! {
    /// One row of the Bernoulli decoder: `delta = sigmoid(a) - x` and the returned
    /// `sum_d softplus(a_d) - x_d a_d` (16 f32 lanes, then f64), with one `exp` and one
    /// `log1p` per element: `e = exp(-|a|)`, `softplus(a) = max(a, 0) + log1p(e)`,
    /// `sigmoid(a) = 1 / (1 + e)` or `e / (1 + e)`.
    pub(crate) fn bernoulli_row(a: &[f32], x: &[f32], delta: &mut [f32]) -> f64 {
        #[inline(always)]
        fn one(a: f32, x: f32, d: &mut f32) -> f32 {
            let e = exp(-a.abs());
            let inv = 1.0 / (1.0 + e);
            *d = if a >= 0.0 { inv } else { e * inv } - x;
            a.max(0.0) + log1p(e) - x * a
        }
        let mut acc = [0f32; 16];
        let full = a.len() / 16 * 16;
        for ((a, x), d) in a[..full].chunks_exact(16).zip(x[..full].chunks_exact(16)).zip(delta[..full].chunks_exact_mut(16)) {
            for l in 0..16 {
                acc[l] += one(a[l], x[l], &mut d[l]);
            }
        }
        let mut tail = 0f64;
        for ((a, x), d) in a[full..].iter().zip(&x[full..]).zip(&mut delta[full..]) {
            tail += f64::from(one(*a, *x, d));
        }
        acc.iter().map(|&v| f64::from(v)).sum::<f64>() + tail
    }
}

multiversion! {
    /// One row of the unit-variance Gaussian decoder: `delta = a - x`, returns
    /// `sum_d (x_d - a_d)^2 / 2` (without the constant).
    pub(crate) fn gaussian_row(a: &[f32], x: &[f32], delta: &mut [f32]) -> f64 {
        let mut acc = [0f32; 16];
        for (k, ((a, x), d)) in a.iter().zip(x).zip(delta.iter_mut()).enumerate() {
            *d = a - x;
            acc[k % 16] += 0.5 * (a - x) * (a - x);
        }
        acc.iter().map(|&v| f64::from(v)).sum()
    }
}
