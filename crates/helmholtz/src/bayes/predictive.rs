//! Posterior predictive summaries and held-out metrics.
//!
//! Regression: `S` posterior draws give, at each input `x_i`, function values `f_s(x_i)` and
//! noise scales `σ_s`; the predictive of a new `y` is the mixture
//! `p(y | x) = (1/S) Σ_s N(y; f_s(x), σ_s²)`. Reported: the mean of `f`, its 2.5% / 97.5%
//! quantiles (the seed's band), the mixture's 2.5% / 97.5% quantiles (noise included, found by
//! bisection on the mixture CDF), and on held-out data the RMSE of the mean, the
//! log-likelihood `ln p(y | x)` in nats per example (log-sum-exp in f64) and the fraction of
//! points inside the mixture's central 95% interval.
//!
//! Classification: the predictive class probabilities are the mean over draws of the softmax;
//! accuracy, `ln p(y | x)` per example and the expected calibration error
//! `ECE = Σ_b |B_b|/n · |acc(B_b) - conf(B_b)|` over 10 equal-width confidence bins
//! (Guo et al. 2017).
//!
//! # Shapes
//! [`RegressionDraws::f`]: `[S, n]` row-major; [`RegressionDraws::sigma`]: `[S]`; class
//! probabilities `[n, classes]`.

use serde::{Deserialize, Serialize};

use super::distributions::{HALF_LN_2PI, log_sum_exp, standard_normal_cdf};
use super::linear::{BayesLinear, Noise};
use super::model::{Samples, quantile};
use crate::eval::calibration::expected_calibration_error;
use crate::kernels::argmax;

/// The predictive distribution at one input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BandPoint {
    /// Input.
    pub x: f64,
    /// Posterior mean of `f(x)`.
    pub mean: f64,
    /// 2.5% quantile of `f(x)`.
    pub lower: f64,
    /// 97.5% quantile of `f(x)`.
    pub upper: f64,
    /// 2.5% quantile of a new `y` at `x`.
    pub y_lower: f64,
    /// 97.5% quantile of a new `y` at `x`.
    pub y_upper: f64,
}

/// Posterior draws of a regression's function values at `n` inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionDraws {
    /// Number of inputs.
    pub n: usize,
    /// `f_s(x_i)`, `[S, n]`.
    pub f: Vec<f64>,
    /// `σ_s`, `[S]`.
    pub sigma: Vec<f64>,
}

/// Held-out metrics of a regression.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Root mean squared error of the predictive mean.
    pub rmse: f64,
    /// `(1/n) Σ ln p(y_i | x_i)`, nats per example (Monte-Carlo mixture over the draws).
    pub test_log_likelihood: f64,
    /// Fraction of `y_i` inside the predictive central 95% interval.
    pub coverage_95: f64,
    /// Held-out examples.
    pub examples: usize,
}

/// Held-out metrics of a classifier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Fraction classified correctly (argmax of the predictive probabilities).
    pub accuracy: f64,
    /// Expected calibration error over 10 confidence bins.
    pub ece: f64,
    /// `(1/n) Σ ln p(y_i | x_i)`, nats per example.
    pub test_log_likelihood: f64,
    /// Held-out examples.
    pub examples: usize,
}

impl RegressionDraws {
    /// Draws of a [`BayesLinear`] model at the rows of `x` (`[n, model.d]`) from posterior
    /// `samples` (rows `(w, b[, σ])`).
    pub fn from_linear(model: &BayesLinear, samples: &Samples, x: &[f64]) -> Self {
        let n = x.len() / model.d.max(1);
        let mut f = Vec::with_capacity(samples.len() * n);
        let mut sigma = Vec::with_capacity(samples.len());
        for s in 0..samples.len() {
            let theta = samples.row(s);
            f.extend(x.chunks(model.d).map(|row| model.mean_at(theta, row)));
            sigma.push(match model.noise {
                Noise::Known(v) => v,
                Noise::Uniform(_) => theta[model.d + 1],
            });
        }
        Self { n, f, sigma }
    }

    /// Number of draws `S`.
    pub fn draws(&self) -> usize {
        self.sigma.len()
    }

    /// `f_s(x_i)` for every draw `s`.
    fn at(&self, i: usize) -> impl Iterator<Item = f64> + '_ {
        (0..self.draws()).map(move |s| self.f[s * self.n + i])
    }

    /// Posterior mean of `f(x_i)`.
    pub fn mean(&self, i: usize) -> f64 {
        self.at(i).sum::<f64>() / self.draws() as f64
    }

    /// The `q` quantile of `f(x_i)` over the draws.
    pub fn f_quantile(&self, i: usize, q: f64) -> f64 {
        quantile(&self.at(i).collect::<Vec<_>>(), q)
    }

    /// `P(y <= t | x_i)` under the mixture.
    fn cdf(&self, i: usize, t: f64) -> f64 {
        self.at(i)
            .zip(&self.sigma)
            .map(|(f, s)| standard_normal_cdf((t - f) / s))
            .sum::<f64>()
            / self.draws() as f64
    }

    /// The `q` quantile of a new `y` at `x_i` (bisection on the mixture CDF to 1e-9 of the
    /// bracket).
    pub fn y_quantile(&self, i: usize, q: f64) -> f64 {
        let (mut lo, mut hi) = self
            .at(i)
            .zip(&self.sigma)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (f, s)| {
                (lo.min(f - 10.0 * s), hi.max(f + 10.0 * s))
            });
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if self.cdf(i, mid) < q {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// `ln p(y | x_i) = ln (1/S) Σ_s N(y; f_s, σ_s²)`.
    pub fn log_likelihood(&self, i: usize, y: f64) -> f64 {
        let terms: Vec<f64> = self
            .at(i)
            .zip(&self.sigma)
            .map(|(f, s)| {
                let z = (y - f) / s;
                -0.5 * z * z - s.ln() - HALF_LN_2PI
            })
            .collect();
        log_sum_exp(&terms) - (self.draws() as f64).ln()
    }

    /// The band over one-feature inputs `xs` (`xs.len() == n`).
    pub fn band(&self, xs: &[f64]) -> Vec<BandPoint> {
        xs.iter()
            .enumerate()
            .map(|(i, &x)| BandPoint {
                x,
                mean: self.mean(i),
                lower: self.f_quantile(i, 0.025),
                upper: self.f_quantile(i, 0.975),
                y_lower: self.y_quantile(i, 0.025),
                y_upper: self.y_quantile(i, 0.975),
            })
            .collect()
    }

    /// RMSE, log-likelihood and 95% coverage against held-out targets `y` (`[n]`).
    pub fn metrics(&self, y: &[f64]) -> RegressionMetrics {
        let n = y.len().min(self.n);
        let (mut se, mut ll, mut inside) = (0.0, 0.0, 0usize);
        for (i, &yi) in y.iter().enumerate().take(n) {
            se += (self.mean(i) - yi).powi(2);
            ll += self.log_likelihood(i, yi);
            if (self.y_quantile(i, 0.025)..=self.y_quantile(i, 0.975)).contains(&yi) {
                inside += 1;
            }
        }
        let m = n.max(1) as f64;
        RegressionMetrics {
            rmse: (se / m).sqrt(),
            test_log_likelihood: ll / m,
            coverage_95: inside as f64 / m,
            examples: n,
        }
    }
}

/// Accuracy, log-likelihood and calibration of predictive `probs` (`[n, classes]`) against
/// `labels` (`[n]`).
pub fn class_metrics(probs: &[f64], classes: usize, labels: &[u32]) -> ClassMetrics {
    let n = labels.len().min(probs.len() / classes.max(1));
    let (mut right, mut ll) = (0usize, 0.0);
    for (row, &label) in probs.chunks(classes).zip(labels) {
        if argmax(row) == label as usize {
            right += 1;
        }
        ll += row[label as usize].max(f64::MIN_POSITIVE).ln();
    }
    let m = n.max(1) as f64;
    ClassMetrics {
        accuracy: right as f64 / m,
        ece: expected_calibration_error(probs, classes, labels, 10),
        test_log_likelihood: ll / m,
        examples: n,
    }
}

/// The band as CSV (`x,mean,lower,upper,y_lower,y_upper`).
pub fn band_csv(band: &[BandPoint]) -> String {
    let mut s = String::from("x,mean,lower,upper,y_lower,y_upper\n");
    for p in band {
        s.push_str(&format!(
            "{},{},{},{},{},{}\n",
            p.x, p.mean, p.lower, p.upper, p.y_lower, p.y_upper
        ));
    }
    s
}
