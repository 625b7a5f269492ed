//! The Gaussian Parzen-window log-likelihood estimate of Goodfellow et al. (2014), after
//! Breuleux et al. (2011): fit an isotropic Gaussian kernel density on `N` model samples `s_i`,
//!
//! `log p(x) = log (1/N) sum_i N(x; s_i, sigma^2 I)
//!           = logsumexp_i(-|x - s_i|^2 / (2 sigma^2)) - log N - (d/2) log(2 pi sigma^2)`,
//!
//! choose `sigma` by the mean log-likelihood of validation examples, report the mean over test
//! examples with its standard error. Squared distances come from one matrix product per
//! chunk (`|x|^2 + |s|^2 - 2 x s^T`); the log-sum-exp runs in f64.
//!
//! # Shapes
//! `samples`: `[n, d]`, `x`: `[m, d]`, both row-major `f32`; results: `[m]`.

use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::ops;

/// Rows of `x` per distance matrix.
const CHUNK: usize = 250;

/// Squared Euclidean distances between the rows of `a` (`[n, d]`) and `b` (`[m, d]`), `[n, m]`.
pub fn squared_distances(a: &[f32], b: &[f32], d: usize) -> Vec<f32> {
    let (n, m) = (a.len() / d.max(1), b.len() / d.max(1));
    let device = Device::flex();
    let ta = Tensor::<2>::from_data(TensorData::new(a.to_vec(), [n, d]), &device);
    let tb = Tensor::<2>::from_data(TensorData::new(b.to_vec(), [m, d]), &device);
    let dots = ops::to_f32_vec(ops::matmul(&ta, &tb.transpose()));
    let norms = |v: &[f32]| -> Vec<f32> {
        v.chunks(d.max(1))
            .map(|r| r.iter().map(|x| x * x).sum())
            .collect()
    };
    let (na, nb) = (norms(a), norms(b));
    let mut out = dots;
    for i in 0..n {
        for j in 0..m {
            let v = &mut out[i * m + j];
            *v = (na[i] + nb[j] - 2.0 * *v).max(0.0);
        }
    }
    out
}

fn check_shapes(samples: &[f32], x: &[f32], d: usize) -> Result<()> {
    if d == 0
        || samples.is_empty()
        || !samples.len().is_multiple_of(d)
        || !x.len().is_multiple_of(d)
    {
        return Err(Error::ShapeMismatch {
            what: "Parzen window: samples and examples must be non-empty rows of width d".into(),
            expected: vec![d],
            got: vec![samples.len(), x.len()],
        });
    }
    Ok(())
}

/// Per-example Parzen log-likelihoods of `x` under the kernel density on `samples`, for each
/// of `sigmas`: `result[s][i]` is `log p_sigma_s(x_i)`.
pub fn parzen_log_likelihoods(
    samples: &[f32],
    x: &[f32],
    d: usize,
    sigmas: &[f64],
) -> Result<Vec<Vec<f64>>> {
    check_shapes(samples, x, d)?;
    if let Some(&s) = sigmas.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(Error::param("sigma", format!("must be positive (got {s})")));
    }
    let n = samples.len() / d;
    let m = x.len() / d;
    let mut out = vec![Vec::with_capacity(m); sigmas.len()];
    let log_n = (n as f64).ln();
    for chunk in x.chunks(CHUNK * d) {
        let rows = chunk.len() / d;
        let dist = squared_distances(chunk, samples, d);
        for (k, &sigma) in sigmas.iter().enumerate() {
            let scale = -0.5 / (sigma * sigma);
            let norm = 0.5 * d as f64 * (2.0 * std::f64::consts::PI * sigma * sigma).ln();
            for r in 0..rows {
                let row = &dist[r * n..(r + 1) * n];
                let min = row.iter().fold(f32::INFINITY, |a, &b| a.min(b)) as f64;
                let sum: f64 = row.iter().map(|&v| ((v as f64 - min) * scale).exp()).sum();
                out[k].push(min * scale + sum.ln() - log_n - norm);
            }
        }
    }
    Ok(out)
}

/// Per-example Parzen log-likelihoods `log p_sigma(x_i)` of the rows of `x` (`[m, d]`) under
/// the Gaussian kernel density with bandwidth `sigma` on `samples` (`[n, d]`).
pub fn parzen_log_likelihood(samples: &[f32], x: &[f32], d: usize, sigma: f64) -> Result<Vec<f64>> {
    Ok(parzen_log_likelihoods(samples, x, d, &[sigma])?
        .pop()
        .unwrap_or_default())
}

/// The default bandwidth grid: `10^(-1.5), 10^(-1.4), ..., 10^0`.
pub fn default_sigmas() -> Vec<f64> {
    (0..=15)
        .map(|i| 10f64.powf(-1.5 + 0.1 * i as f64))
        .collect()
}

/// A Parzen-window estimate with its bandwidth selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParzenEstimate {
    /// Mean test log-likelihood (nats per example).
    pub mean: f64,
    /// Its standard error over test examples.
    pub se: f64,
    /// The bandwidth chosen on the validation examples.
    pub sigma: f64,
    /// `(sigma, mean validation log-likelihood)` over the grid.
    pub validation: Vec<(f64, f64)>,
}

/// Choose `sigma` from `sigmas` by the mean log-likelihood of `validation`, then estimate the
/// mean log-likelihood of `test` with its standard error.
pub fn parzen_estimate(
    samples: &[f32],
    validation: &[f32],
    test: &[f32],
    d: usize,
    sigmas: &[f64],
) -> Result<ParzenEstimate> {
    let lls = parzen_log_likelihoods(samples, validation, d, sigmas)?;
    let curve: Vec<(f64, f64)> = sigmas
        .iter()
        .zip(&lls)
        .map(|(&s, ll)| (s, mean_se(ll).0))
        .collect();
    let sigma = curve
        .iter()
        .fold((f64::NAN, f64::NEG_INFINITY), |best, &(s, m)| {
            if m > best.1 { (s, m) } else { best }
        })
        .0;
    if !sigma.is_finite() {
        return Err(Error::Internal(
            "no bandwidth gave a finite log-likelihood".into(),
        ));
    }
    let (mean, se) = mean_se(&parzen_log_likelihood(samples, test, d, sigma)?);
    Ok(ParzenEstimate {
        mean,
        se,
        sigma,
        validation: curve,
    })
}

/// Mean and standard error of the mean.
pub fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}
