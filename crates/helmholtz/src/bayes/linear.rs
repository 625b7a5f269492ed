//! Bayesian linear regression, the seed's model:
//!
//! `w_j ~ N(0, s_w²)`, `b ~ N(0, s_b²)`, `σ ~ Uniform(0, σ_max)` (or `σ` known),
//! `y_i ~ N(x_i · w + b, σ²)`.
//!
//! With `σ` known the posterior of `β = (w, b)` is Gaussian in closed form
//! ([`BayesLinear::exact_posterior`]): precision `Λ = Λ₀ + X̃ᵀX̃/σ²` with `X̃ = [X, 1]` and
//! `Λ₀ = diag(1/s_w², .., 1/s_b²)`, mean `Λ⁻¹ X̃ᵀ y / σ²`.
//!
//! # Shapes
//! `x`: `[n, d]` row-major; `y`: `[n]`; `θ = (w_1..w_d, b[, σ])`.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::distributions::Normal;
use super::model::{LogJoint, Param, Support, batch_and_scale};
use crate::error::{Error, Result};

/// The noise scale: known, or a parameter with a uniform prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// `σ` fixed.
    Known(f64),
    /// `σ ~ Uniform(0, max)` (the seed's prior, `max = 10`).
    Uniform(f64),
}

/// Bayesian linear regression on `d` features.
#[derive(Debug, Clone, PartialEq)]
pub struct BayesLinear {
    /// Features, `[n, d]`.
    pub x: Vec<f64>,
    /// Targets, `[n]`.
    pub y: Vec<f64>,
    /// Number of features.
    pub d: usize,
    /// Prior standard deviation of each weight.
    pub weight_scale: f64,
    /// Prior standard deviation of the bias.
    pub bias_scale: f64,
    /// The noise model.
    pub noise: Noise,
}

/// A Gaussian over `β = (w, b)`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianPosterior {
    /// Mean, `[d + 1]`.
    pub mean: Vec<f64>,
    /// Covariance, `[d + 1, d + 1]`.
    pub cov: Vec<f64>,
}

impl GaussianPosterior {
    /// Marginal standard deviations.
    pub fn std(&self) -> Vec<f64> {
        let k = self.mean.len();
        (0..k).map(|i| self.cov[i * k + i].sqrt()).collect()
    }
}

impl BayesLinear {
    /// The seed's priors (`w ~ N(0, 1)`, `b ~ N(0, 10²)`, `σ ~ U(0, 10)`) on the data.
    pub fn new(x: Vec<f64>, y: Vec<f64>, d: usize) -> Result<Self> {
        if d == 0 || x.len() != y.len() * d {
            return Err(Error::data(
                "regression data",
                format!(
                    "{} feature values for {} targets of width {d}",
                    x.len(),
                    y.len()
                ),
            ));
        }
        if y.len() < 2 {
            return Err(Error::data(
                "regression data",
                format!("need at least 2 rows (n_samples = {})", y.len()),
            ));
        }
        if x.iter().chain(&y).any(|v| !v.is_finite()) {
            return Err(Error::data("regression data", "values must be finite"));
        }
        Ok(Self {
            x,
            y,
            d,
            weight_scale: 1.0,
            bias_scale: 10.0,
            noise: Noise::Uniform(10.0),
        })
    }

    /// The seed's data: 100 points `x` evenly on `[-5, 5]`, `y = 3x + 2 + 0.5 ε`.
    pub fn seed_example(rng: &mut impl Rng) -> Self {
        let n = 100;
        let x: Vec<f64> = (0..n)
            .map(|i| -5.0 + 10.0 * i as f64 / (n - 1) as f64)
            .collect();
        let y = x
            .iter()
            .map(|&x| 3.0 * x + 2.0 + 0.5 * rng.sample::<f64, _>(StandardNormal))
            .collect();
        Self {
            x,
            y,
            d: 1,
            weight_scale: 1.0,
            bias_scale: 10.0,
            noise: Noise::Uniform(10.0),
        }
    }

    /// `x_i · w + b` for feature row `row`.
    pub fn mean_at(&self, theta: &[f64], row: &[f64]) -> f64 {
        row.iter().zip(theta).map(|(x, w)| x * w).sum::<f64>() + theta[self.d]
    }

    /// The exact posterior of `(w, b)` when the noise is known.
    pub fn exact_posterior(&self) -> Result<GaussianPosterior> {
        let Noise::Known(sigma) = self.noise else {
            return Err(Error::param(
                "noise",
                "the closed form needs a known noise scale",
            ));
        };
        let k = self.d + 1;
        let mut prec = vec![0.0; k * k];
        let mut rhs = vec![0.0; k];
        for j in 0..self.d {
            prec[j * k + j] = 1.0 / self.weight_scale.powi(2);
        }
        prec[k * k - 1] = 1.0 / self.bias_scale.powi(2);
        let s2 = sigma * sigma;
        for (row, &y) in self.x.chunks(self.d).zip(&self.y) {
            let xt: Vec<f64> = row.iter().copied().chain([1.0]).collect();
            for a in 0..k {
                rhs[a] += xt[a] * y / s2;
                for b in 0..k {
                    prec[a * k + b] += xt[a] * xt[b] / s2;
                }
            }
        }
        let cov = invert(&prec, k)?;
        let mean = (0..k)
            .map(|a| (0..k).map(|b| cov[a * k + b] * rhs[b]).sum())
            .collect();
        Ok(GaussianPosterior { mean, cov })
    }
}

/// Inverse of a small symmetric positive-definite matrix (Gauss-Jordan with pivoting).
pub fn invert(a: &[f64], k: usize) -> Result<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv: Vec<f64> = (0..k * k)
        .map(|i| f64::from(u8::from(i / k == i % k)))
        .collect();
    for c in 0..k {
        let p = (c..k)
            .max_by(|&i, &j| m[i * k + c].abs().total_cmp(&m[j * k + c].abs()))
            .unwrap_or(c);
        if m[p * k + c].abs() < 1e-300 {
            return Err(Error::data("matrix", "singular"));
        }
        for j in 0..k {
            m.swap(c * k + j, p * k + j);
            inv.swap(c * k + j, p * k + j);
        }
        let d = m[c * k + c];
        for j in 0..k {
            m[c * k + j] /= d;
            inv[c * k + j] /= d;
        }
        for r in (0..k).filter(|&r| r != c) {
            let f = m[r * k + c];
            for j in 0..k {
                m[r * k + j] -= f * m[c * k + j];
                inv[r * k + j] -= f * inv[c * k + j];
            }
        }
    }
    Ok(inv)
}

impl LogJoint for BayesLinear {
    fn params(&self) -> Vec<Param> {
        let mut p: Vec<Param> = if self.d == 1 {
            vec![Param::new("slope", Support::Real, 0.0)]
        } else {
            (0..self.d)
                .map(|j| Param::new(format!("w.{j}"), Support::Real, 0.0))
                .collect()
        };
        p.push(Param::new(
            if self.d == 1 { "intercept" } else { "bias" },
            Support::Real,
            0.0,
        ));
        if let Noise::Uniform(max) = self.noise {
            p.push(Param::new("sigma", Support::Interval(0.0, max), 0.5 * max));
        }
        p
    }

    fn len(&self) -> usize {
        self.y.len()
    }

    fn log_joint(&self, theta: &[f64], batch: Option<&[usize]>, grad: &mut [f64]) -> f64 {
        let d = self.d;
        let prior_w = Normal {
            loc: 0.0,
            scale: self.weight_scale,
        };
        let prior_b = Normal {
            loc: 0.0,
            scale: self.bias_scale,
        };
        let mut lp = 0.0;
        for j in 0..d {
            lp += prior_w.log_prob(theta[j]);
            grad[j] = prior_w.score(theta[j]);
        }
        lp += prior_b.log_prob(theta[d]);
        grad[d] = prior_b.score(theta[d]);
        let sigma = match self.noise {
            Noise::Known(s) => s,
            Noise::Uniform(max) => {
                // The uniform prior is constant inside its support.
                grad[d + 1] = 0.0;
                lp -= max.ln();
                theta[d + 1]
            }
        };
        let (idx, scale) = batch_and_scale(batch, self.len());
        let s2 = sigma * sigma;
        let (mut ll, mut g_sigma) = (0.0, 0.0);
        for &i in idx.iter() {
            let row = &self.x[i * d..(i + 1) * d];
            let r = self.y[i] - self.mean_at(theta, row);
            ll += -0.5 * r * r / s2 - sigma.ln() - 0.918_938_533_204_672_8;
            for j in 0..d {
                grad[j] += scale * r * row[j] / s2;
            }
            grad[d] += scale * r / s2;
            g_sigma += r * r / (s2 * sigma) - 1.0 / sigma;
        }
        if let Noise::Uniform(_) = self.noise {
            grad[d + 1] += scale * g_sigma;
        }
        lp + scale * ll
    }
}
