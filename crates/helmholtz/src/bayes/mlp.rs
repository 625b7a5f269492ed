//! A one-hidden-layer Bayesian neural network for regression, written as a log-joint so that
//! SVI, SGLD and SGHMC infer it exactly as they infer the linear model:
//!
//! `W₁_jk, b₁_k, w₂_k, b₂ ~ N(0, s²)`, `σ ~ Uniform(0, σ_max)`,
//! `f(x) = Σ_k w₂_k tanh(Σ_j x_j W₁_jk + b₁_k) + b₂`, `y_i ~ N(f(x_i), σ²)`,
//!
//! on standardised inputs and target (the [`Scaler`] of the training rows). The gradient is
//! the hand-written backward pass of the network.
//!
//! # Shapes
//! `θ = (W₁ [d, H] row-major, b₁ [H], w₂ [H], b₂, σ)`; `x`: `[n, d]`; `y`: `[n]`.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::bbb::Scaler;
use super::distributions::HALF_LN_2PI;
use super::model::{LogJoint, Param, Samples, Support, batch_and_scale};
use super::predictive::RegressionDraws;
use crate::error::{Error, Result};

/// A Bayesian `d-H-1` tanh network for regression.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpRegression {
    /// Standardised features, `[n, d]`.
    x: Vec<f64>,
    /// Standardised targets, `[n]`.
    y: Vec<f64>,
    /// Inputs.
    pub d: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Prior standard deviation of every weight and bias.
    pub prior_scale: f64,
    /// Upper end of the noise prior (standardised units).
    pub noise_max: f64,
    /// The scaling of inputs and target.
    pub scaler: Scaler,
    /// Starting values (`θ`), drawn from `N(0, 1/fan-in)` by [`MlpRegression::new`].
    init: Vec<f64>,
}

impl MlpRegression {
    /// The network on rows `x` (`[n, d]`) and targets `y`, with `N(0, 1)` priors and
    /// `σ ~ Uniform(0, 10)` in standardised units; `rng` draws the starting weights.
    pub fn new(x: &[f64], y: &[f64], d: usize, hidden: usize, rng: &mut impl Rng) -> Result<Self> {
        if d == 0 || hidden == 0 || x.len() != y.len() * d || y.len() < 2 {
            return Err(Error::data(
                "regression data",
                format!(
                    "{} values, {} targets, width {d}, {hidden} hidden units",
                    x.len(),
                    y.len()
                ),
            ));
        }
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err(Error::data("regression data", "values must be finite"));
        }
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let scaler = Scaler::fit(&xf, d, y);
        let xs = scaler.inputs_f64(x);
        let ys = y
            .iter()
            .map(|v| (v - scaler.y_mean) / scaler.y_std)
            .collect();
        let mut init: Vec<f64> = (0..d * hidden)
            .map(|_| rng.sample::<f64, _>(StandardNormal) / (d as f64).sqrt())
            .collect();
        init.extend(std::iter::repeat_n(0.0, hidden));
        init.extend(
            (0..hidden).map(|_| rng.sample::<f64, _>(StandardNormal) / (hidden as f64).sqrt()),
        );
        init.extend([0.0, 1.0]);
        Ok(Self {
            x: xs,
            y: ys,
            d,
            hidden,
            prior_scale: 1.0,
            noise_max: 10.0,
            scaler,
            init,
        })
    }

    /// Hidden activations and `f` (standardised) at one standardised row.
    fn forward(&self, theta: &[f64], row: &[f64], h: &mut [f64]) -> f64 {
        let (d, hn) = (self.d, self.hidden);
        let (w1, rest) = theta.split_at(d * hn);
        let (b1, rest) = rest.split_at(hn);
        let (w2, rest) = rest.split_at(hn);
        for k in 0..hn {
            let a: f64 = b1[k]
                + row
                    .iter()
                    .enumerate()
                    .map(|(j, x)| x * w1[j * hn + k])
                    .sum::<f64>();
            h[k] = a.tanh();
        }
        rest[0] + h.iter().zip(w2).map(|(h, w)| h * w).sum::<f64>()
    }

    /// Posterior predictive draws at rows `x` (`[n, d]`, original units) from `samples`.
    pub fn draws_at(&self, samples: &Samples, x: &[f64]) -> RegressionDraws {
        let xs = self.scaler.inputs_f64(x);
        let n = x.len() / self.d;
        let mut h = vec![0.0; self.hidden];
        let (mut f, mut sigma) = (Vec::with_capacity(n * samples.len()), Vec::new());
        for s in 0..samples.len() {
            let theta = samples.row(s);
            for row in xs.chunks(self.d) {
                let v = self.forward(theta, row, &mut h);
                f.push(v * self.scaler.y_std + self.scaler.y_mean);
            }
            sigma.push(theta[theta.len() - 1] * self.scaler.y_std);
        }
        RegressionDraws { n, f, sigma }
    }
}

impl LogJoint for MlpRegression {
    fn params(&self) -> Vec<Param> {
        let (d, hn) = (self.d, self.hidden);
        let mut names: Vec<String> = Vec::new();
        for j in 0..d {
            names.extend((0..hn).map(|k| format!("w1.{j}.{k}")));
        }
        names.extend((0..hn).map(|k| format!("b1.{k}")));
        names.extend((0..hn).map(|k| format!("w2.{k}")));
        names.push("b2".into());
        let mut p: Vec<Param> = names
            .into_iter()
            .zip(&self.init)
            .map(|(n, &v)| Param::new(n, Support::Real, v))
            .collect();
        p.push(Param::new(
            "sigma",
            Support::Interval(0.0, self.noise_max),
            1.0,
        ));
        p
    }

    fn len(&self) -> usize {
        self.y.len()
    }

    fn log_joint(&self, theta: &[f64], batch: Option<&[usize]>, grad: &mut [f64]) -> f64 {
        let (d, hn) = (self.d, self.hidden);
        let p = theta.len();
        let s2 = self.prior_scale * self.prior_scale;
        let mut lp = 0.0;
        for j in 0..p - 1 {
            lp += -0.5 * theta[j] * theta[j] / s2 - self.prior_scale.ln() - HALF_LN_2PI;
            grad[j] = -theta[j] / s2;
        }
        let sigma = theta[p - 1];
        lp -= self.noise_max.ln();
        grad[p - 1] = 0.0;
        let (idx, scale) = batch_and_scale(batch, self.y.len());
        let mut h = vec![0.0; hn];
        let (mut ll, mut g_sigma) = (0.0, 0.0);
        let mut g = vec![0.0; p];
        for &i in idx.iter() {
            let row = &self.x[i * d..(i + 1) * d];
            let f = self.forward(theta, row, &mut h);
            let r = self.y[i] - f;
            ll += -0.5 * (r / sigma).powi(2) - sigma.ln() - HALF_LN_2PI;
            g_sigma += r * r / sigma.powi(3) - 1.0 / sigma;
            let gf = r / (sigma * sigma);
            let (w2_at, b2_at) = (d * hn + hn, d * hn + 2 * hn);
            g[b2_at] += gf;
            for k in 0..hn {
                g[w2_at + k] += gf * h[k];
                let ga = gf * theta[w2_at + k] * (1.0 - h[k] * h[k]);
                g[d * hn + k] += ga;
                for (j, x) in row.iter().enumerate() {
                    g[j * hn + k] += ga * x;
                }
            }
        }
        for j in 0..p - 1 {
            grad[j] += scale * g[j];
        }
        grad[p - 1] = scale * g_sigma;
        lp + scale * ll
    }
}
