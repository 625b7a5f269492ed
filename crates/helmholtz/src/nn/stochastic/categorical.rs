//! The categorical (Gumbel-Softmax) stochastic layer of the host path: the Gumbel-Softmax sample, the KL of
//! `q = softmax(logits)` to the uniform prior, and the gradient with respect to the logits.
//!
//! Per group of `K` logits `l` with Gumbel noise `g` and temperature `tau`:
//!
//! - `log q = l - logsumexp(l)`, `KL = sum_k q_k (log q_k + ln K)`;
//! - `y = softmax((l + g) / tau)`; the decoder gets `y`, or `one_hot(argmax y)` when
//!   straight-through (whose gradient is taken to be that of `y`);
//! - `dl_j = y_j (dy_j - sum_k dy_k y_k) / tau + beta q_j (log q_j + ln K - KL)`, the softmax
//!   Jacobian applied to `dy = d recon / d y` plus `beta dKL / dl`
//!   (`dKL / dl_j = q_j (log q_j - sum_k q_k log q_k)`).
//!
//! The KL gradient is computed in the forward pass (where `q` is at hand) and kept for the
//! backward pass.
//!
//! # Shapes
//! `logits`, `noise`, `soft` (the relaxed `y`), `code`, `dkl` and `dcode`: `[B, N K]`,
//! group-major (`K` consecutive values per group).

use rayon::prelude::*;

use crate::kernels::argmax;
use crate::kernels::math::{exp, ln};
use crate::kernels::multiversion;
use crate::kernels::rows::lane_sum;
use crate::kernels::split::ordered_sum;

/// The relaxation of one training step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Relaxation {
    /// Temperature `tau`.
    pub tau: f32,
    /// One-hot samples forward (straight-through).
    pub straight_through: bool,
}

/// Groups per parallel task (a few thousand values: big enough to amortise waking a thread).
const GROUPS_PER_TASK: usize = 256;

/// `out[i] = max` of `v` over the group of `i` (groups of `k` consecutive values).
#[inline(always)]
fn group_max(v: &[f32], k: usize, out: &mut [f32]) {
    for (v, o) in v.chunks_exact(k).zip(out.chunks_exact_mut(k)) {
        let m = v.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        o.iter_mut().for_each(|o| *o = m);
    }
}

/// `out[i] = sum` of `v` over the group of `i`.
#[inline(always)]
fn group_sum(v: &[f32], k: usize, out: &mut [f32]) {
    for (v, o) in v.chunks_exact(k).zip(out.chunks_exact_mut(k)) {
        let s: f32 = v.iter().sum();
        o.iter_mut().for_each(|o| *o = s);
    }
}

/// Fill `soft` with the relaxed samples of `logits` and `noise`, `code` with what the decoder
/// reads and `dkl` with `dKL / dlogits`; returns the batch's summed KL.
pub(crate) fn sample(
    logits: &[f32],
    noise: &[f32],
    soft: &mut [f32],
    code: &mut [f32],
    dkl: &mut [f32],
    classes: usize,
    relax: Relaxation,
) -> f64 {
    let task = classes * GROUPS_PER_TASK;
    // Added in task order: rayon's `sum` would add in an order that follows the thread count.
    ordered_sum(
        logits
            .par_chunks(task)
            .zip(noise.par_chunks(task))
            .zip(soft.par_chunks_mut(task))
            .zip(code.par_chunks_mut(task))
            .zip(dkl.par_chunks_mut(task))
            .map(|((((l, g), y), c), d)| sample_block(l, g, y, c, d, classes, relax)),
    )
}

multiversion! {
    /// [`sample`] on whole groups: per-group maxima and sums spread over their groups, so that
    /// every `exp` and `ln` runs in a vectorised pass over the block.
    fn sample_block(l: &[f32], g: &[f32], y: &mut [f32], code: &mut [f32], dkl: &mut [f32], k: usize, relax: Relaxation) -> f64 {
        let n = l.len();
        // Equal lengths, seen by the compiler: no bounds checks in the passes below.
        let (g, y, code, dkl) = (&g[..n], &mut y[..n], &mut code[..n], &mut dkl[..n]);
        let (mut a, mut b, mut c) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
        let ln_k = (k as f32).ln();
        let inv_tau = 1.0 / relax.tau;
        for i in 0..n {
            a[i] = l[i] + g[i];
        }
        group_max(l, k, &mut b);
        group_max(&a, k, &mut c);
        for i in 0..n {
            dkl[i] = l[i] - b[i];
            y[i] = exp((a[i] - c[i]) * inv_tau);
            b[i] = exp(dkl[i]);
        }
        // a: the sums of exp(l - max l); c: those of y.
        group_sum(&b, k, &mut a);
        group_sum(y, k, &mut c);
        for i in 0..n {
            let log_q = dkl[i] - ln(a[i]);
            let q = b[i] / a[i];
            y[i] /= c[i];
            a[i] = q;
            b[i] = q * (log_q + ln_k);
        }
        let kl = lane_sum(&b);
        // c: KL of each group; dKL / dl = q (log q + ln K - KL).
        group_sum(&b, k, &mut c);
        for i in 0..n {
            dkl[i] = b[i] - a[i] * c[i];
        }
        if relax.straight_through {
            for (y, c) in y.chunks_exact(k).zip(code.chunks_exact_mut(k)) {
                c.iter_mut().for_each(|c| *c = 0.0);
                c[argmax(y)] = 1.0;
            }
        } else {
            code.copy_from_slice(y);
        }
        kl
    }
}

/// `d loss / d logits` from `dcode = d recon / d code`, the relaxed samples `soft`, the KL
/// gradient `dkl` and the KL weight `beta`.
pub(crate) fn backward(
    soft: &[f32],
    dcode: &[f32],
    dkl: &[f32],
    dlogits: &mut [f32],
    classes: usize,
    tau: f32,
    beta: f32,
) {
    let task = classes * GROUPS_PER_TASK;
    soft.par_chunks(task)
        .zip(dcode.par_chunks(task))
        .zip(dkl.par_chunks(task))
        .zip(dlogits.par_chunks_mut(task))
        .for_each(|(((y, dy), dk), dl)| backward_block(y, dy, dk, dl, classes, [1.0 / tau, beta]));
}

multiversion! {
    /// [`backward`] on whole groups; `c = [1 / tau, beta]`.
    fn backward_block(y: &[f32], dy: &[f32], dkl: &[f32], dl: &mut [f32], k: usize, c: [f32; 2]) {
        let [inv_tau, beta] = c;
        let n = y.len();
        let (dy, dkl, dl) = (&dy[..n], &dkl[..n], &mut dl[..n]);
        let (mut a, mut dot) = (vec![0f32; n], vec![0f32; n]);
        for i in 0..n {
            a[i] = y[i] * dy[i];
        }
        group_sum(&a, k, &mut dot);
        for i in 0..n {
            dl[i] = y[i] * (dy[i] - dot[i]) * inv_tau + beta * dkl[i];
        }
    }
}
