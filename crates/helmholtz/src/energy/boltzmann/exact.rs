//! Exact quantities of a small Boltzmann machine by enumerating all `2^n` states.
//!
//! The learning rule of the seed is `dw_ij = lambda (<u_i u_j>_data - <u_i u_j>_model)`, the
//! gradient of `-KL(p_data || q) / T`... up to the factor `1/T`: with `q(v) = sum_h q(v, h)`,
//! `d KL / d w_ij = -(1/T) (<u_i u_j>_data - <u_i u_j>_model)`, where the data expectation puts
//! the visible units on the data and the hidden units on their exact posterior `q(h | v)`.

use rayon::prelude::*;

use super::model::BoltzmannMachine;
use crate::error::{Error, Result};

/// Largest machine that is enumerated.
pub const MAX_EXACT_UNITS: usize = 20;

/// A distribution over visible states: `(state index, probability)` pairs.
pub type VisibleDistribution = Vec<(u64, f64)>;

fn check_size(bm: &BoltzmannMachine) -> Result<()> {
    if bm.units() > MAX_EXACT_UNITS {
        return Err(Error::param(
            "hidden",
            format!(
                "exact enumeration needs at most {MAX_EXACT_UNITS} units (have {})",
                bm.units()
            ),
        ));
    }
    Ok(())
}

/// `E(s)` for every state `s` in `0..2^n`, by the recurrence
/// `E(s) = E(s - 2^k) - b_k - sum_{j < k, j in s} w_kj` on the highest unit `k` of `s`.
pub fn state_energies(bm: &BoltzmannMachine) -> Result<Vec<f64>> {
    check_size(bm)?;
    let n = bm.units();
    let (w, b) = (bm.weights(), bm.biases());
    let mut e = vec![0f64; 1 << n];
    for k in 0..n {
        let half = 1usize << k;
        let (lo, hi) = e.split_at_mut(half);
        hi[..half]
            .par_iter_mut()
            .enumerate()
            .for_each(|(rest, out)| {
                let mut s = lo[rest] - b[k];
                let mut bits = rest;
                while bits != 0 {
                    let j = bits.trailing_zeros() as usize;
                    s -= w[k * n + j];
                    bits &= bits - 1;
                }
                *out = s;
            });
    }
    Ok(e)
}

/// `q(s) = exp(-E(s)/T) / Z` for every state, and `log Z`.
pub fn distribution(bm: &BoltzmannMachine, t: f64) -> Result<(Vec<f64>, f64)> {
    let e = state_energies(bm)?;
    let m = e.iter().map(|&x| -x / t).fold(f64::NEG_INFINITY, f64::max);
    let mut q: Vec<f64> = e.iter().map(|&x| (-x / t - m).exp()).collect();
    let z: f64 = q.iter().sum();
    q.iter_mut().for_each(|p| *p /= z);
    Ok((q, m + z.ln()))
}

/// The visible marginal `q(v) = sum_h q(v, h)` over the `2^V` visible states.
pub fn visible_marginal(bm: &BoltzmannMachine, t: f64) -> Result<Vec<f64>> {
    let (q, _) = distribution(bm, t)?;
    let v = bm.config().visible;
    let mask = (1usize << v) - 1;
    let mut out = vec![0f64; 1 << v];
    for (s, p) in q.iter().enumerate() {
        out[s & mask] += p;
    }
    Ok(out)
}

/// `KL(p_data || q) = sum_v p(v) ln(p(v) / q(v))` in nats.
pub fn kl_divergence(p_data: &VisibleDistribution, q_visible: &[f64]) -> f64 {
    p_data
        .iter()
        .filter(|(_, p)| *p > 0.0)
        .map(|&(s, p)| p * (p / q_visible[s as usize].max(f64::MIN_POSITIVE)).ln())
        .sum()
}

/// Second moments `<u_i u_j>` (`[n, n]`, the diagonal holds `<u_i>`) under `weights(s)`.
fn moments(n: usize, weights: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    (0..1usize << n)
        .into_par_iter()
        .fold(
            || vec![0f64; n * n],
            |mut acc, s| {
                let p = weights(s);
                if p == 0.0 {
                    return acc;
                }
                let mut bits = s;
                let on: Vec<usize> = std::iter::from_fn(|| {
                    (bits != 0).then(|| {
                        let j = bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        j
                    })
                })
                .collect();
                for &i in &on {
                    for &j in &on {
                        acc[i * n + j] += p;
                    }
                }
                acc
            },
        )
        .reduce(
            || vec![0f64; n * n],
            |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect(),
        )
}

/// `<u_i u_j>_model` at temperature `t`.
pub fn model_moments(bm: &BoltzmannMachine, t: f64) -> Result<Vec<f64>> {
    let (q, _) = distribution(bm, t)?;
    Ok(moments(bm.units(), |s| q[s]))
}

/// `<u_i u_j>_data`: visible units from `p_data`, hidden units from the exact `q(h | v)`.
pub fn data_moments(
    bm: &BoltzmannMachine,
    p_data: &VisibleDistribution,
    t: f64,
) -> Result<Vec<f64>> {
    let (q, _) = distribution(bm, t)?;
    let v = bm.config().visible;
    let mask = (1usize << v) - 1;
    let q_v = {
        let mut m = vec![0f64; 1 << v];
        for (s, p) in q.iter().enumerate() {
            m[s & mask] += p;
        }
        m
    };
    let mut p_v = vec![0f64; 1 << v];
    for &(s, p) in p_data {
        p_v[s as usize] += p;
    }
    // Weight of a full state (v, h): p_data(v) q(h | v) = p_data(v) q(v, h) / q(v).
    Ok(moments(bm.units(), |s| {
        let vs = s & mask;
        if p_v[vs] == 0.0 {
            0.0
        } else {
            p_v[vs] * q[s] / q_v[vs]
        }
    }))
}

/// The exact gradient of `-KL(p_data || q)` in `(w, b)`: `((<uu>_data - <uu>_model) / T, ...)`.
pub fn exact_gradient(
    bm: &BoltzmannMachine,
    p_data: &VisibleDistribution,
    t: f64,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = bm.units();
    let d = data_moments(bm, p_data, t)?;
    let m = model_moments(bm, t)?;
    let gw: Vec<f64> = d.iter().zip(&m).map(|(a, b)| (a - b) / t).collect();
    let gb: Vec<f64> = (0..n).map(|i| gw[i * n + i]).collect();
    Ok((gw, gb))
}
