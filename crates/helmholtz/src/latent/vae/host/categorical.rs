//! The categorical latent of the host engine: the Gumbel-Softmax sample, the KL of
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
//! # Shapes
//! `logits`, `noise`, `soft` (the relaxed `y`), `code` and `dcode`: `[B, N K]`, group-major
//! (`K` consecutive values per group).

use crate::kernels::math::{exp, ln};
use crate::latent::gumbel::argmax;

/// The relaxation of one training step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Relaxation {
    /// Temperature `tau`.
    pub tau: f32,
    /// One-hot samples forward (straight-through).
    pub straight_through: bool,
}

/// `log q` of one group into `log_q`; returns `KL(q || uniform)` (`ln_k = ln K`).
#[inline(always)]
fn log_softmax(l: &[f32], log_q: &mut [f32], ln_k: f32) -> f32 {
    let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let sum: f32 = l.iter().map(|&v| exp(v - m)).sum();
    let lse = m + ln(sum);
    let mut kl = 0f32;
    for (lq, &v) in log_q.iter_mut().zip(l) {
        *lq = v - lse;
        kl += exp(*lq) * (*lq + ln_k);
    }
    kl
}

/// Fill `soft` with the relaxed samples of `logits` and `noise` and `code` with what the
/// decoder reads; returns the batch's summed KL.
pub(super) fn sample(
    logits: &[f32],
    noise: &[f32],
    soft: &mut [f32],
    code: &mut [f32],
    classes: usize,
    relax: Relaxation,
) -> f64 {
    let ln_k = (classes as f32).ln();
    let inv_tau = 1.0 / relax.tau;
    let mut log_q = vec![0f32; classes];
    let mut kl = 0f64;
    for (((l, g), y), c) in logits
        .chunks_exact(classes)
        .zip(noise.chunks_exact(classes))
        .zip(soft.chunks_exact_mut(classes))
        .zip(code.chunks_exact_mut(classes))
    {
        kl += f64::from(log_softmax(l, &mut log_q, ln_k));
        for ((y, &l), &g) in y.iter_mut().zip(l).zip(g) {
            *y = (l + g) * inv_tau;
        }
        let m = y.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let mut sum = 0f32;
        for y in y.iter_mut() {
            *y = exp(*y - m);
            sum += *y;
        }
        y.iter_mut().for_each(|y| *y /= sum);
        if relax.straight_through {
            c.fill(0.0);
            c[argmax(y)] = 1.0;
        } else {
            c.copy_from_slice(y);
        }
    }
    kl
}

/// `d loss / d logits` from `dcode = d recon / d code`, the relaxed samples `soft` and the KL
/// weight `beta`.
pub(super) fn backward(
    logits: &[f32],
    soft: &[f32],
    dcode: &[f32],
    dlogits: &mut [f32],
    classes: usize,
    tau: f32,
    beta: f32,
) {
    let ln_k = (classes as f32).ln();
    let inv_tau = 1.0 / tau;
    let mut log_q = vec![0f32; classes];
    for (((l, y), dy), dl) in logits
        .chunks_exact(classes)
        .zip(soft.chunks_exact(classes))
        .zip(dcode.chunks_exact(classes))
        .zip(dlogits.chunks_exact_mut(classes))
    {
        let kl = log_softmax(l, &mut log_q, ln_k);
        let dot: f32 = y.iter().zip(dy).map(|(y, d)| y * d).sum();
        for (((dl, &y), &dy), &lq) in dl.iter_mut().zip(y).zip(dy).zip(&log_q) {
            *dl = y * (dy - dot) * inv_tau + beta * exp(lq) * (lq + ln_k - kl);
        }
    }
}
