//! Learning rules: the weights that make given patterns fixed points.
//!
//! Patterns are 0/1 vectors `u`; with `x = 2u - 1` (±1), the seed's Hebbian increment
//! `dw_ij = 4 (u_i - 1/2)(u_j - 1/2)` is `x_i x_j`, so
//! - Hebbian: `W = sum_p x^p x^p^T` with zero diagonal (capacity about 0.138 N, Amit et al. 1985);
//! - pseudo-inverse (projection; Personnaz et al. 1985, Kanter & Sompolinsky 1987):
//!   `W = X^T (X X^T)^-1 X` for the `P x N` matrix `X` of patterns, diagonal zeroed; every stored
//!   pattern is an eigenvector, so correlated patterns (digits) are stored too;
//! - Storkey (1997): patterns added one at a time,
//!   `w_ij += (x_i x_j - x_i h_ji - h_ij x_j) / N` with `h_ij = sum_{k != i, j} w_ik x_k`.
//!
//! # Shapes
//! `patterns`: `[P, N]` row-major 0/1 values; weights `[N, N]` row-major, symmetric.

use crate::kernels::linalg::cholesky;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::gemm::{MatRef, matmul};

/// Which learning rule builds the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LearningRule {
    /// The seed's rule `dw_ij = 4 (u_i - 1/2)(u_j - 1/2)`.
    #[default]
    Hebbian,
    /// The projection rule `W = X^T (X X^T)^-1 X`.
    PseudoInverse,
    /// Storkey's incremental rule.
    Storkey,
}

impl LearningRule {
    /// Every rule, in the order reports list them.
    pub const ALL: [LearningRule; 3] = [
        LearningRule::Hebbian,
        LearningRule::PseudoInverse,
        LearningRule::Storkey,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LearningRule::Hebbian => "hebbian",
            LearningRule::PseudoInverse => "pseudo-inverse",
            LearningRule::Storkey => "storkey",
        }
    }
}

impl std::str::FromStr for LearningRule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LearningRule::ALL
            .into_iter()
            .find(|r| r.name() == s || (s == "pinv" && *r == LearningRule::PseudoInverse))
            .ok_or_else(|| {
                Error::param(
                    "rule",
                    format!("`{s}` is not one of hebbian, pseudo-inverse, storkey"),
                )
            })
    }
}

/// ±1 version of 0/1 patterns.
fn bipolar(patterns: &[f32]) -> Vec<f32> {
    patterns.iter().map(|&u| 2.0 * u - 1.0).collect()
}

/// Make `w` exactly symmetric (the rules are symmetric in exact arithmetic; rounding in the
/// products is not) and zero its diagonal.
fn symmetrize(w: &mut [f32], n: usize) {
    for i in 0..n {
        w[i * n + i] = 0.0;
        for j in 0..i {
            let m = 0.5 * (w[i * n + j] + w[j * n + i]);
            w[i * n + j] = m;
            w[j * n + i] = m;
        }
    }
}

/// An error unless `patterns` holds one or more whole patterns of `n` units.
pub(crate) fn check_patterns(patterns: &[f32], n: usize) -> Result<()> {
    if n == 0 || patterns.is_empty() || !patterns.len().is_multiple_of(n) {
        return Err(Error::data(
            "patterns",
            format!(
                "{} values do not form patterns of {n} units",
                patterns.len()
            ),
        ));
    }
    Ok(())
}

/// Bytes held while `rule` learns `p` patterns of `n` units: the patterns (0/1 and ±1),
/// the weights and their product, and for the pseudo-inverse the `p x p` Gram matrix and the
/// `f64` copies of the patterns.
pub fn memory(rule: LearningRule, n: usize, p: usize) -> u128 {
    use crate::budget::{bytes, total};
    let common = total(&[bytes(&[p, n, 8]), bytes(&[n, n, 8])]);
    match rule {
        LearningRule::PseudoInverse => total(&[common, bytes(&[p, p, 8]), bytes(&[p, n, 20])]),
        LearningRule::Hebbian | LearningRule::Storkey => common,
    }
}

/// Weights for `patterns` (`[p, n]`, 0/1) under `rule`.
pub fn learn(rule: LearningRule, patterns: &[f32], n: usize) -> Result<Vec<f32>> {
    check_patterns(patterns, n)?;
    let x = bipolar(patterns);
    let p = x.len() / n;
    let mut w = match rule {
        LearningRule::Hebbian => gram(&x, p, n),
        LearningRule::PseudoInverse => pseudo_inverse(&x, p, n)?,
        LearningRule::Storkey => storkey(&x, p, n),
    };
    symmetrize(&mut w, n);
    Ok(w)
}

/// `X^T X` for `X` `[p, n]`.
fn gram(x: &[f32], p: usize, n: usize) -> Vec<f32> {
    let xt = MatRef {
        data: x,
        offset: 0,
        rows: n,
        cols: p,
        row_stride: 1,
        col_stride: n,
    };
    let xm = MatRef {
        data: x,
        offset: 0,
        rows: p,
        cols: n,
        row_stride: n,
        col_stride: 1,
    };
    matmul(xt, xm)
}

/// `X^T (X X^T)^-1 X` computed as `Y^T Y` with `Y = L^-1 X` and `L L^T = X X^T` (Cholesky, f64).
fn pseudo_inverse(x: &[f32], p: usize, n: usize) -> Result<Vec<f32>> {
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let mut c = vec![0f64; p * p];
    c.par_chunks_mut(p).enumerate().for_each(|(a, row)| {
        for (b, v) in row.iter_mut().enumerate() {
            *v = x64[a * n..(a + 1) * n]
                .iter()
                .zip(&x64[b * n..(b + 1) * n])
                .map(|(s, t)| s * t)
                .sum();
        }
    });
    let l = cholesky(&mut c, p, 1e-9 * p as f64).ok_or_else(|| {
        Error::data(
            "patterns",
            "the patterns are linearly dependent (X X^T is singular): the pseudo-inverse rule needs distinct, independent patterns",
        )
    })?;
    // Forward substitution on whole rows: Y[i] = (X[i] - sum_{k<i} L[i,k] Y[k]) / L[i,i].
    let mut y = x64;
    for i in 0..p {
        let (done, rest) = y.split_at_mut(i * n);
        let row = &mut rest[..n];
        for k in 0..i {
            let f = l[i * p + k];
            row.iter_mut()
                .zip(&done[k * n..(k + 1) * n])
                .for_each(|(a, b)| *a -= f * b);
        }
        let d = l[i * p + i];
        row.iter_mut().for_each(|a| *a /= d);
    }
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    Ok(gram(&y32, p, n))
}

/// Storkey's rule, one pattern at a time. With `w` symmetric and `x_i^2 = 1`,
/// `h_ij = h_i - w_ij x_j` turns the update into
/// `w_ij <- w_ij (1 + 2/N) + (x_i x_j - x_i h_j - h_i x_j) / N`, done in place row by row.
fn storkey(x: &[f32], p: usize, n: usize) -> Vec<f32> {
    let mut w = vec![0f32; n * n];
    let inv_n = 1.0 / n as f32;
    let grow = 1.0 + 2.0 * inv_n;
    for xi in x.chunks_exact(n).take(p) {
        let h: Vec<f32> = w
            .par_chunks(n)
            .map(|row| row.iter().zip(xi).map(|(a, b)| a * b).sum())
            .collect();
        w.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
            let (xi_i, h_i) = (xi[i], h[i]);
            for ((wij, &xj), &hj) in row.iter_mut().zip(xi).zip(&h) {
                *wij = *wij * grow + inv_n * (xi_i * xj - xi_i * hj - h_i * xj);
            }
            row[i] = 0.0;
        });
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hebbian_is_the_seeds_rule() -> Result<()> {
        // Two 0/1 patterns; w_ij = sum_p 4 (u_i - 1/2)(u_j - 1/2), diagonal 0.
        let pats = [1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let w = learn(LearningRule::Hebbian, &pats, 3)?;
        let want = |i: usize, j: usize| -> f32 {
            (0..2)
                .map(|p| 4.0 * (pats[p * 3 + i] - 0.5) * (pats[p * 3 + j] - 0.5))
                .sum()
        };
        for i in 0..3 {
            for j in 0..3 {
                let expected = if i == j { 0.0 } else { want(i, j) };
                assert_eq!(w[i * 3 + j], expected);
            }
        }
        Ok(())
    }

    #[test]
    fn pseudo_inverse_projects_onto_the_pattern_span() -> Result<()> {
        // Before zeroing the diagonal, W = X^T (X X^T)^-1 X satisfies W x = x for each pattern;
        // with the diagonal zeroed, W x = x - diag(W) x, so x is still a fixed point of sign(W x)
        // when diag(W) < 1 (here p / n = 0.3).
        let n = 20;
        let mut rng = crate::rng::rng_for(1, &[]);
        let pats: Vec<f32> = (0..6 * n)
            .map(|_| f32::from(rand::RngExt::random::<bool>(&mut rng)))
            .collect();
        let w = learn(LearningRule::PseudoInverse, &pats, n)?;
        let x = bipolar(&pats);
        for xp in x.chunks(n) {
            for i in 0..n {
                let field: f32 = (0..n).map(|j| w[i * n + j] * xp[j]).sum();
                assert!(
                    field * xp[i] > 0.0,
                    "pattern unit {i} not stable: field {field}"
                );
            }
        }
        Ok(())
    }
}
