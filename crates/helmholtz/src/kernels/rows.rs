//! Fused element-wise passes over row-major `[rows, cols]` buffers, parallel over row blocks.
//!
//! Each kernel reads a pre-activation `x` (a matrix product) and applies, in one pass, the
//! affine map `alpha * x + shift[col]` followed by a nonlinearity and, where asked, a draw.

use rayon::prelude::*;

use super::math::{sigmoid, softplus, softplus_step};
use super::multiversion;
use super::noise::{normal, uniform};

/// Where a block's random numbers come from: stream `key`, read from element `first` on
/// (the index of the block's first element in the whole matrix).
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    /// The stream.
    pub key: u64,
    /// Stream index of the block's first element.
    pub first: u64,
}

impl Stream {
    /// The stream `key` from its start.
    pub fn new(key: u64) -> Self {
        Self { key, first: 0 }
    }

    /// The same stream from element `first`.
    pub fn at(self, first: usize) -> Self {
        Self {
            key: self.key,
            first: first as u64,
        }
    }
}

/// Elements per rayon task: big enough to amortise waking a worker (several microseconds),
/// small enough to balance two to a few dozen cores.
const TASK_ELEMS: usize = 32 * 1024;

fn rows_per_task(cols: usize) -> usize {
    (TASK_ELEMS / cols.max(1)).max(1)
}

multiversion! {
    pub(crate) fn sigmoid_bernoulli_block(x: &mut [f32], s: &mut [f32], shift: &[f32], alpha: f32, stream: Stream) {
        let (cols, key) = (shift.len(), stream.key);
        for (r, (xr, sr)) in x.chunks_exact_mut(cols).zip(s.chunks_exact_mut(cols)).enumerate() {
            let base = stream.first + (r * cols) as u64;
            for (j, ((xv, sv), &c)) in xr.iter_mut().zip(sr.iter_mut()).zip(shift).enumerate() {
                let p = sigmoid(alpha * *xv + c);
                *xv = p;
                *sv = if uniform(key, base + j as u64) < p { 1.0 } else { 0.0 };
            }
        }
    }
}

/// `x <- sigmoid(alpha * x + shift)` and `sample <- [u < x]`, `u ~ U[0, 1)` from stream `key`.
pub fn sigmoid_bernoulli(x: &mut [f32], sample: &mut [f32], shift: &[f32], alpha: f32, key: u64) {
    draw_rows(x, sample, shift, alpha, key, sigmoid_bernoulli_block);
}

/// `block` over tasks of whole rows of `x` and `sample` in parallel, each task reading stream
/// `key` from its first element on (so the split does not change the draws).
fn draw_rows(
    x: &mut [f32],
    sample: &mut [f32],
    shift: &[f32],
    alpha: f32,
    key: u64,
    block: impl Fn(&mut [f32], &mut [f32], &[f32], f32, Stream) + Sync,
) {
    let cols = shift.len();
    let chunk = rows_per_task(cols) * cols;
    x.par_chunks_mut(chunk)
        .zip(sample.par_chunks_mut(chunk))
        .enumerate()
        .for_each(|(t, (xb, sb))| block(xb, sb, shift, alpha, Stream::new(key).at(t * chunk)));
}

multiversion! {
    pub(crate) fn sigmoid_block(x: &mut [f32], shift: &[f32], alpha: f32) {
        let cols = shift.len();
        for xr in x.chunks_exact_mut(cols) {
            for (xv, &c) in xr.iter_mut().zip(shift) {
                *xv = sigmoid(alpha * *xv + c);
            }
        }
    }
}

/// `x <- sigmoid(alpha * x + shift)`.
pub fn sigmoid_affine(x: &mut [f32], shift: &[f32], alpha: f32) {
    let cols = shift.len();
    x.par_chunks_mut(rows_per_task(cols) * cols)
        .for_each(|xb| sigmoid_block(xb, shift, alpha));
}

/// One block of [`gaussian`].
pub(crate) fn gaussian_block(
    x: &mut [f32],
    s: &mut [f32],
    shift: &[f32],
    alpha: f32,
    stream: Stream,
) {
    let cols = shift.len();
    for (i, (xv, sv)) in x.iter_mut().zip(s.iter_mut()).enumerate() {
        let mean = alpha * *xv + shift[i % cols];
        *xv = mean;
        *sv = mean + normal(stream.key, stream.first + i as u64);
    }
}

/// `x <- alpha * x + shift` (the mean) and `sample <- x + N(0, 1)` from stream `key`.
pub fn gaussian(x: &mut [f32], sample: &mut [f32], shift: &[f32], alpha: f32, key: u64) {
    draw_rows(x, sample, shift, alpha, key, gaussian_block);
}

multiversion! {
    pub(crate) fn softplus_sum_row(xr: &[f32], shift: &[f32]) -> f64 {
        // Pairwise-ish: f32 partial sums over 16 lanes, then f64.
        let mut acc = [0f32; 16];
        let mut chunks = xr.chunks_exact(16).zip(shift.chunks_exact(16));
        for (xs, cs) in &mut chunks {
            for l in 0..16 {
                acc[l] += softplus(xs[l] + cs[l]);
            }
        }
        let tail: f64 = xr.chunks_exact(16).remainder().iter()
            .zip(shift.chunks_exact(16).remainder())
            .map(|(&x, &c)| softplus(x + c) as f64)
            .sum();
        acc.iter().map(|&a| a as f64).sum::<f64>() + tail
    }
}

/// `out[r] = sum_j softplus(x[r, j] + shift[j])`, accumulated in f64 per row.
pub fn softplus_row_sums(x: &[f32], shift: &[f32]) -> Vec<f64> {
    let cols = shift.len();
    x.par_chunks(cols)
        .map(|xr| softplus_sum_row(xr, shift))
        .collect()
}

/// Lanes of the f64 row accumulators: independent partial sums let the loops vectorise
/// (a single running f64 sum is a serial dependency the compiler must not reorder).
const LANES: usize = 16;

multiversion! {
    pub(crate) fn ais_hidden_block(x: &mut [f32], s: &mut [f32], delta: &mut [f64], shift: &[f32], betas: (f32, f32), stream: Stream) {
        let (cols, key, (beta_prev, beta)) = (shift.len(), stream.key, betas);
        let mut steps = vec![0f32; cols];
        for (r, ((xr, sr), d)) in x.chunks_exact_mut(cols).zip(s.chunks_exact_mut(cols)).zip(delta.iter_mut()).enumerate() {
            let base = stream.first + (r * cols) as u64;
            for (j, (((xv, sv), &c), st)) in xr.iter_mut().zip(sr.iter_mut()).zip(shift).zip(steps.iter_mut()).enumerate() {
                let a = *xv + c;
                *st = softplus_step(a, beta_prev, beta);
                let p = sigmoid(beta * a);
                *xv = p;
                *sv = if uniform(key, base + j as u64) < p { 1.0 } else { 0.0 };
            }
            *d = lane_sum(&steps);
        }
    }
}

/// `sum_i x_i` accumulated in f64 over independent lanes.
#[inline(always)]
pub(crate) fn lane_sum(x: &[f32]) -> f64 {
    let mut acc = [0f64; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            acc[l] += c[l] as f64;
        }
    }
    acc.iter().sum::<f64>() + chunks.remainder().iter().map(|&v| v as f64).sum::<f64>()
}

multiversion! {
    /// `sum_i x_i y_i` accumulated in f64 over independent lanes.
    pub(crate) fn lane_dot(x: &[f32], y: &[f32]) -> f64 {
        let mut acc = [0f64; LANES];
        let mut xc = x.chunks_exact(LANES);
        let mut yc = y.chunks_exact(LANES);
        for (a, b) in (&mut xc).zip(&mut yc) {
            for l in 0..LANES {
                acc[l] += a[l] as f64 * b[l] as f64;
            }
        }
        let tail: f64 = xc.remainder().iter().zip(yc.remainder()).map(|(a, b)| *a as f64 * *b as f64).sum();
        acc.iter().sum::<f64>() + tail
    }
}

/// One hidden half-step of annealed importance sampling at inverse temperature `beta`, with
/// `betas = (beta_prev, beta)`.
///
/// With `a = x + shift` (hidden pre-activations): returns per row
/// `sum_j softplus(beta a_j) - softplus(beta_prev a_j)` (the hidden part of
/// `log p*_k(v) - log p*_{k-1}(v)`), sets `x <- sigmoid(beta a)` and draws `sample`.
pub fn ais_hidden(
    x: &mut [f32],
    sample: &mut [f32],
    shift: &[f32],
    betas: (f32, f32),
    key: u64,
) -> Vec<f64> {
    let cols = shift.len();
    let rows = x.len() / cols;
    let per = rows_per_task(cols);
    let mut delta = vec![0f64; rows];
    x.par_chunks_mut(per * cols)
        .zip(sample.par_chunks_mut(per * cols))
        .zip(delta.par_chunks_mut(per))
        .enumerate()
        .for_each(|(t, ((xb, sb), db))| {
            ais_hidden_block(
                xb,
                sb,
                db,
                shift,
                betas,
                Stream::new(key).at(t * per * cols),
            )
        });
    delta
}

multiversion! {
    fn momentum_block(p: &mut [f32], v: &mut [f32], g: &[f32], lr: f32, momentum: f32, decay: f32, scale: f32) {
        for ((pv, vv), &gv) in p.iter_mut().zip(v.iter_mut()).zip(g) {
            let step = momentum * *vv + lr * (scale * gv - decay * *pv);
            *vv = step;
            *pv += step;
        }
    }
}

multiversion! {
    pub(crate) fn decay_block(p: &mut [f32], v: &mut [f32], decay: f32) {
        for (pv, vv) in p.iter_mut().zip(v.iter_mut()) {
            let step = *vv - decay * *pv;
            *vv = step;
            *pv += step;
        }
    }
}

/// `v <- v - decay p`, `p <- p + v`, in place.
pub fn decay_step(p: &mut [f32], v: &mut [f32], decay: f32) {
    const CHUNK: usize = 64 * 1024;
    p.par_chunks_mut(CHUNK)
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|(pb, vb)| decay_block(pb, vb, decay));
}

/// Gradient ascent with classical momentum and L2 weight decay, in place:
/// `v <- momentum * v + lr * (scale * g - decay * p)`, `p <- p + v`.
pub fn momentum_ascent(
    p: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    lr: f32,
    momentum: f32,
    decay: f32,
    scale: f32,
) {
    const CHUNK: usize = 64 * 1024;
    p.par_chunks_mut(CHUNK)
        .zip(v.par_chunks_mut(CHUNK))
        .zip(g.par_chunks(CHUNK))
        .for_each(|((pb, vb), gb)| momentum_block(pb, vb, gb, lr, momentum, decay, scale));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_bernoulli_is_split_independent_and_correct() {
        let (rows, cols) = (37, 300);
        let x0: Vec<f32> = (0..rows * cols)
            .map(|i| ((i % 23) as f32 - 11.0) / 3.0)
            .collect();
        let shift: Vec<f32> = (0..cols).map(|j| (j % 5) as f32 * 0.1).collect();
        let (mut x, mut s) = (x0.clone(), vec![0f32; rows * cols]);
        sigmoid_bernoulli(&mut x, &mut s, &shift, 0.7, 42);
        // Reference: the same formula element by element on one thread.
        for i in 0..rows * cols {
            let p = 1.0 / (1.0 + (-(0.7 * x0[i] as f64 + shift[i % cols] as f64)).exp());
            assert!((x[i] as f64 - p).abs() < 1e-6);
            let u = uniform(42, i as u64);
            assert_eq!(s[i], if u < x[i] { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn ais_hidden_delta_matches_f64() {
        let (rows, cols) = (5, 40);
        let x0: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 41) as f32 - 20.0) / 4.0)
            .collect();
        let shift = vec![0.3f32; cols];
        let (mut x, mut s) = (x0.clone(), vec![0f32; rows * cols]);
        let d = ais_hidden(&mut x, &mut s, &shift, (0.5, 0.5001), 3);
        let sp = |v: f64| v.max(0.0) + (-v.abs()).exp().ln_1p();
        for r in 0..rows {
            let want: f64 = (0..cols)
                .map(|j| {
                    let a = (x0[r * cols + j] + 0.3) as f64;
                    sp(0.5001f32 as f64 * a) - sp(0.5 * a)
                })
                .sum();
            assert!(
                (d[r] - want).abs() < 1e-6 * want.abs().max(1e-3),
                "{} vs {want}",
                d[r]
            );
        }
    }

    #[test]
    fn momentum_matches_formula() {
        let mut p = vec![1.0f32, -2.0, 0.5];
        let mut v = vec![0.1f32, 0.0, -0.2];
        let g = [0.3f32, 0.6, -0.9];
        momentum_ascent(&mut p, &mut v, &g, 0.1, 0.9, 0.01, 0.5);
        for i in 0..3 {
            let v0 = [0.1f32, 0.0, -0.2][i];
            let p0 = [1.0f32, -2.0, 0.5][i];
            let step = 0.9 * v0 + 0.1 * (0.5 * g[i] - 0.01 * p0);
            assert!((v[i] - step).abs() < 1e-7 && (p[i] - (p0 + step)).abs() < 1e-7);
        }
    }
}
