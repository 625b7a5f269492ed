//! Bayes by Backprop (Blundell et al. 2015) for multilayer perceptrons.
//!
//! Every weight and bias has a Gaussian posterior `q(w) = N(μ, σ²)` with `σ = softplus(ρ)`;
//! the prior is a Gaussian `N(0, s²)` or the scale mixture
//! `π N(0, σ₁²) + (1 - π) N(0, σ₂²)`. Training minimises the free energy per example
//!
//! `F = KL(q ‖ p) / N + (1/B) Σ_{i ∈ batch} -ln p(y_i | x_i, w)`,  `w = μ + σ ε`,
//!
//! by Adam on `(μ, ρ)`: the KL is closed-form for the Gaussian prior,
//! `Σ ln(s/σ) + (σ² + μ²)/(2s²) - ½`, and the one-draw estimate `ln q(w) - ln p(w)` for the
//! mixture. With local reparameterisation (Kingma, Salimans & Welling 2015) a layer samples its
//! pre-activations instead of its weights, `a = h μ_W + μ_b + sqrt(h² σ_W² + σ_b²) ⊙ ε` with one
//! `ε` per example and unit, which lowers the gradient variance.
//!
//! Regression learns the noise `σ_y = σ_max sigmoid(u)` — the prior `σ_y ~ Uniform(0, σ_max)`
//! as in the seed — with `q(u) = N(m, softplus(r)²)` and the Monte-Carlo KL
//! `ln q(u) - ln sigmoid(u) - ln sigmoid(-u)` (the uniform density cancels the Jacobian's
//! `σ_max`). Classification puts a softmax on the last layer.
//!
//! # Shapes
//! `μ_W, ρ_W`: `[in, out]`; `μ_b, ρ_b`: `[1, out]`; noise `m, r`: `[1, 1]`; inputs `[B, in]`;
//! outputs `[B, 1]` (regression) or `[B, classes]` (logits).
//!
//! # File layout
//! `model.safetensors` holds `layer.{l}.{weight_mu, weight_rho, bias_mu, bias_rho}` (weights
//! stored `[in, out]`, biases `[1, out]`) and, for regression, `noise.{mu, rho}`; the metadata
//! key `bbb` holds the [`BbbConfig`] and the [`Scaler`] as JSON.

use std::path::Path;

use burn::optim::{AdamConfig, AdamState, Optimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::{log_sigmoid, log_softmax, relu, softmax, softplus, tanh};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::distributions::HALF_LN_2PI;
use super::model::Samples;
use super::predictive::RegressionDraws;
use crate::error::{Error, Result, check};
use crate::io::{Blob, TensorFile};
use crate::kernels::ops::{self, to_f32_vec};
use crate::nn::Engine;
use crate::nn::adam_state::{get_adam_states, put_adam_states};
use crate::nn::bayes_dense::{
    self, BayesDense, BayesNet, NoiseUse, Sampling, ScalePrior, noise_key,
};
use crate::nn::dense::AdamSettings;
use crate::nn::mlp::Activation as HostActivation;

/// A prior over each weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Prior {
    /// `N(0, sigma²)`.
    Gaussian {
        /// Standard deviation.
        sigma: f64,
    },
    /// `π N(0, σ₁²) + (1 - π) N(0, σ₂²)`.
    ScaleMixture {
        /// Weight of the wide component.
        pi: f64,
        /// Standard deviation of the wide component.
        sigma1: f64,
        /// Standard deviation of the narrow component.
        sigma2: f64,
    },
}

impl Prior {
    /// Blundell et al.'s scale mixture: `π = ½`, `σ₁ = 1`, `σ₂ = e⁻⁶`.
    pub fn blundell() -> Self {
        Prior::ScaleMixture {
            pi: 0.5,
            sigma1: 1.0,
            sigma2: (-6.0f64).exp(),
        }
    }

    /// Check the values of the weights' prior.
    pub fn validate(&self) -> Result<()> {
        self.validate_as("prior")
    }

    /// Check the values; `name` is the parameter holding this prior (`prior`, `bias-prior`).
    pub fn validate_as(&self, name: &'static str) -> Result<()> {
        let bad = |what: &str, v: f64, range: &str| {
            Err(Error::param(
                name,
                format!("{what} must be {range} (got {v})"),
            ))
        };
        match *self {
            Prior::Gaussian { sigma } if !(sigma.is_finite() && sigma > 0.0) => {
                bad("sigma", sigma, "positive")
            }
            Prior::ScaleMixture { pi, .. } if !(pi.is_finite() && (0.0..1.0).contains(&pi)) => {
                bad("pi", pi, "in [0, 1)")
            }
            Prior::ScaleMixture { sigma1, .. } if !(sigma1.is_finite() && sigma1 > 0.0) => {
                bad("sigma1", sigma1, "positive")
            }
            Prior::ScaleMixture { sigma2, .. } if !(sigma2.is_finite() && sigma2 > 0.0) => {
                bad("sigma2", sigma2, "positive")
            }
            _ => Ok(()),
        }
    }

    /// `KL(N(μ, σ²) ‖ prior)` summed over the elements: closed-form for a Gaussian prior,
    /// `ln q(w) - ln p(w)` at the draw `w` (or a fresh one) for the mixture.
    fn kl(&self, mu: &Tensor<2>, sigma: &Tensor<2>, w: Option<Tensor<2>>, key: u64) -> Tensor<1> {
        match *self {
            Prior::Gaussian { sigma: s } => {
                let ratio =
                    (sigma.clone().powi_scalar(2) + mu.clone().powi_scalar(2)) / (2.0 * s * s);
                (ratio - sigma.clone().log() + (s.ln() - 0.5)).sum()
            }
            Prior::ScaleMixture { pi, sigma1, sigma2 } => {
                let w = w.unwrap_or_else(|| {
                    mu.clone() + sigma.clone() * normals(mu.dims(), key, &mu.device())
                });
                let z = (w.clone() - mu.clone()) / sigma.clone();
                let log_q = z.powi_scalar(2).mul_scalar(-0.5) - sigma.clone().log() - HALF_LN_2PI;
                let component = |weight: f64, s: f64| {
                    w.clone().powi_scalar(2).mul_scalar(-0.5 / (s * s))
                        + (weight.ln() - s.ln() - HALF_LN_2PI)
                };
                let (a1, a2) = (component(pi, sigma1), component(1.0 - pi, sigma2));
                let m = a1.clone().max_pair(a2.clone()).detach();
                let log_p = m.clone() + ((a1 - m.clone()).exp() + (a2 - m).exp()).log();
                (log_q - log_p).sum()
            }
        }
    }
}

impl std::str::FromStr for Prior {
    type Err = Error;
    /// `gaussian`, `gaussian:S`, `mixture` (Blundell's) or `mixture:PI,S1,S2`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::param(
                "prior",
                format!(
                    "`{s}` is not gaussian, gaussian:SIGMA, mixture or mixture:PI,SIGMA1,SIGMA2"
                ),
            )
        };
        let (kind, args) = s.split_once(':').unwrap_or((s, ""));
        let nums: Vec<f64> = if args.is_empty() {
            Vec::new()
        } else {
            args.split(',')
                .map(|v| v.trim().parse::<f64>().map_err(|_| bad()))
                .collect::<Result<_>>()?
        };
        let prior = match (kind, nums.as_slice()) {
            ("gaussian", []) => Prior::Gaussian { sigma: 1.0 },
            ("gaussian", [sigma]) => Prior::Gaussian { sigma: *sigma },
            ("mixture", []) => Prior::blundell(),
            ("mixture", [pi, sigma1, sigma2]) => Prior::ScaleMixture {
                pi: *pi,
                sigma1: *sigma1,
                sigma2: *sigma2,
            },
            _ => return Err(bad()),
        };
        prior.validate()?;
        Ok(prior)
    }
}

/// The non-linearity of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `max(a, 0)`.
    Relu,
    /// `tanh(a)`.
    Tanh,
}

impl std::str::FromStr for Activation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "relu" => Ok(Activation::Relu),
            "tanh" => Ok(Activation::Tanh),
            _ => Err(Error::param(
                "activation",
                format!("`{s}` is not relu or tanh"),
            )),
        }
    }
}

/// The observation model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Likelihood {
    /// `y ~ N(f(x), σ_y²)`, `σ_y ~ Uniform(0, noise_max)` in the model's (scaled) units.
    Gaussian {
        /// Upper end of the noise prior.
        noise_max: f64,
    },
    /// `y ~ Categorical(softmax(f(x)))`.
    Categorical {
        /// Number of classes.
        classes: usize,
    },
}

/// A Bayesian MLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BbbConfig {
    /// Input width.
    pub input: usize,
    /// Hidden widths (empty: a Bayesian linear model).
    pub hidden: Vec<usize>,
    /// Hidden non-linearity.
    pub activation: Activation,
    /// Regression or classification.
    pub likelihood: Likelihood,
    /// Prior of every weight.
    pub weight_prior: Prior,
    /// Prior of every bias.
    pub bias_prior: Prior,
    /// Sample pre-activations instead of weights during training.
    pub local_reparam: bool,
    /// Initial posterior standard deviation `σ = softplus(ρ)` of every weight.
    pub init_std: f64,
    /// Standardise inputs and (regression) the target with the training data's means and
    /// standard deviations; the priors then refer to standardised units.
    pub standardize: bool,
}

impl BbbConfig {
    /// A regression MLP with `hidden` ReLU layers, `N(0, 1)` priors, local reparameterisation.
    pub fn regression(input: usize, hidden: Vec<usize>) -> Self {
        Self {
            input,
            hidden,
            activation: Activation::Relu,
            likelihood: Likelihood::Gaussian { noise_max: 10.0 },
            weight_prior: Prior::Gaussian { sigma: 1.0 },
            bias_prior: Prior::Gaussian { sigma: 1.0 },
            local_reparam: true,
            init_std: 1e-2,
            standardize: true,
        }
    }

    /// A classifier with `hidden` ReLU layers and Blundell's scale-mixture prior.
    pub fn classifier(input: usize, hidden: Vec<usize>, classes: usize) -> Self {
        Self {
            likelihood: Likelihood::Categorical { classes },
            weight_prior: Prior::blundell(),
            bias_prior: Prior::blundell(),
            standardize: false,
            ..Self::regression(input, hidden)
        }
    }

    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("input", self.input)?;
        if self.hidden.contains(&0) {
            return Err(Error::param(
                "hidden",
                "every hidden width must be at least 1",
            ));
        }
        match self.likelihood {
            Likelihood::Gaussian { noise_max } => check::positive("noise-max", noise_max)?,
            Likelihood::Categorical { classes } if classes < 2 => {
                return Err(Error::param(
                    "classes",
                    format!("need at least 2 classes (got {classes})"),
                ));
            }
            Likelihood::Categorical { .. } => {}
        }
        self.weight_prior.validate_as("prior")?;
        self.bias_prior.validate_as("bias-prior")?;
        check::positive("init-std", self.init_std)
    }

    /// Output width.
    pub fn output(&self) -> usize {
        match self.likelihood {
            Likelihood::Gaussian { .. } => 1,
            Likelihood::Categorical { classes } => classes,
        }
    }

    /// `(in, out)` of every layer.
    pub fn layer_shapes(&self) -> Vec<(usize, usize)> {
        let mut widths = vec![self.input];
        widths.extend(&self.hidden);
        widths.push(self.output());
        widths.windows(2).map(|w| (w[0], w[1])).collect()
    }
}

/// Affine scaling of inputs and target: `x' = (x - mean) / std`, `y' = (y - mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Input means, `[in]`.
    pub x_mean: Vec<f64>,
    /// Input standard deviations, `[in]` (1 where a column is constant).
    pub x_std: Vec<f64>,
    /// Target mean.
    pub y_mean: f64,
    /// Target standard deviation.
    pub y_std: f64,
}

impl Scaler {
    /// No scaling for `d` inputs.
    pub fn identity(d: usize) -> Self {
        Self {
            x_mean: vec![0.0; d],
            x_std: vec![1.0; d],
            y_mean: 0.0,
            y_std: 1.0,
        }
    }

    /// Means and standard deviations of `x` (`[n, d]`) and `y` (`[n]`, may be empty).
    pub fn fit(x: &[f32], d: usize, y: &[f64]) -> Self {
        let n = (x.len() / d).max(1) as f64;
        let (mut x_mean, mut x_std) = (vec![0.0; d], vec![0.0; d]);
        for row in x.chunks(d) {
            for (m, &v) in x_mean.iter_mut().zip(row) {
                *m += f64::from(v) / n;
            }
        }
        for row in x.chunks(d) {
            for ((s, &v), m) in x_std.iter_mut().zip(row).zip(&x_mean) {
                *s += (f64::from(v) - m).powi(2) / n;
            }
        }
        let x_std = x_std
            .into_iter()
            .map(|v| if v > 1e-12 { v.sqrt() } else { 1.0 })
            .collect();
        let (y_mean, y_std) = if y.is_empty() {
            (0.0, 1.0)
        } else {
            let m = y.iter().sum::<f64>() / y.len() as f64;
            let v = y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / y.len() as f64;
            (m, if v > 1e-24 { v.sqrt() } else { 1.0 })
        };
        Self {
            x_mean,
            x_std,
            y_mean,
            y_std,
        }
    }

    /// Scaled copy of the f64 rows of `x`.
    pub fn inputs_f64(&self, x: &[f64]) -> Vec<f64> {
        let d = self.x_mean.len();
        x.chunks(d)
            .flat_map(|row| {
                row.iter()
                    .zip(self.x_mean.iter().zip(&self.x_std))
                    .map(|(v, (m, s))| (v - m) / s)
            })
            .collect()
    }

    /// Scaled copy of the rows of `x`.
    pub fn inputs(&self, x: &[f32]) -> Vec<f32> {
        let d = self.x_mean.len();
        x.chunks(d)
            .flat_map(|row| {
                row.iter()
                    .zip(self.x_mean.iter().zip(&self.x_std))
                    .map(|(&v, (m, s))| ((f64::from(v) - m) / s) as f32)
            })
            .collect()
    }
}

/// Training targets.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Real responses, `[n]`.
    Real(Vec<f64>),
    /// Class labels, `[n]`.
    Classes(Vec<u32>),
}

impl Targets {
    /// Number of targets.
    pub fn len(&self) -> usize {
        match self {
            Targets::Real(y) => y.len(),
            Targets::Classes(y) => y.len(),
        }
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The loss of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochLoss {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean free energy per example (`KL/N + NLL`), nats: the negative ELBO per example.
    pub loss: f64,
    /// Mean negative log-likelihood per example under the sampled weights, nats.
    pub nll: f64,
    /// `KL(q ‖ p) / N`, nats per example.
    pub kl: f64,
}

/// A Bayes-by-Backprop MLP: the variational parameters and the input scaling.
#[derive(Debug, Clone)]
pub struct BayesMlp {
    config: BbbConfig,
    /// Per layer `μ_W, ρ_W, μ_b, ρ_b`, then (regression) the noise's `m, r`.
    params: Vec<Tensor<2>>,
    scaler: Scaler,
}

/// `ρ` with `softplus(ρ) = s`.
fn inverse_softplus(s: f64) -> f64 {
    s + (-(-s).exp_m1()).ln()
}

/// Standard normal draws of `shape` from the keyed stream `key` (the host engine's, so both
/// paths see the same noise), on `device`.
fn normals(shape: [usize; 2], key: u64, device: &Device) -> Tensor<2> {
    tensor(
        bayes_dense::normals(key, shape[0] * shape[1]),
        shape[0],
        shape[1],
        device,
    )
}

/// A host `[rows, cols]` buffer on `device`.
fn tensor(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

impl BayesMlp {
    /// Fresh parameters: `μ_W ~ N(0, 1/in)`, `μ_b = 0`, `σ = init_std`; noise `σ_y` starts at
    /// the middle of its prior, `σ_max / 2` (as Pyro's guides start at the prior's median).
    pub fn new(
        config: BbbConfig,
        scaler: Scaler,
        device: &Device,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        config.validate()?;
        let rho = inverse_softplus(config.init_std) as f32;
        let mut params = Vec::new();
        for (i, o) in config.layer_shapes() {
            let sd = (1.0 / i as f64).sqrt();
            let mu: Vec<f32> = (0..i * o)
                .map(|_| (sd * rng.sample::<f64, _>(StandardNormal)) as f32)
                .collect();
            params.push(tensor(mu, i, o, device));
            params.push(Tensor::full([i, o], rho, device));
            params.push(Tensor::zeros([1, o], device));
            params.push(Tensor::full([1, o], rho, device));
        }
        if let Likelihood::Gaussian { .. } = config.likelihood {
            params.push(Tensor::zeros([1, 1], device));
            params.push(Tensor::full([1, 1], rho, device));
        }
        Ok(Self {
            config,
            params,
            scaler,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &BbbConfig {
        &self.config
    }

    /// The input / target scaling.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }

    /// Number of variational parameters (means and scales).
    pub fn num_parameters(&self) -> usize {
        self.params.iter().map(|p| p.shape().num_elements()).sum()
    }

    fn device(&self) -> Device {
        self.params[0].device()
    }

    fn layers(&self) -> usize {
        self.config.layer_shapes().len()
    }

    fn activate(&self, a: Tensor<2>) -> Tensor<2> {
        match self.config.activation {
            Activation::Relu => relu(a),
            Activation::Tanh => tanh(a),
        }
    }

    /// The network under one weight draw (prediction: whole weights sampled, so one draw is
    /// one function) or, for training, the sampled output and the KL of the weights.
    fn forward(
        &self,
        p: &[Tensor<2>],
        x: Tensor<2>,
        train: bool,
        key: u64,
    ) -> (Tensor<2>, Option<Tensor<1>>) {
        let device = x.device();
        let mut h = x;
        let mut kl: Option<Tensor<1>> = None;
        let layers = self.layers();
        for l in 0..layers {
            let [wm, wr, bm, br] = [&p[4 * l], &p[4 * l + 1], &p[4 * l + 2], &p[4 * l + 3]];
            let (ws, bs) = (softplus(wr.clone(), 1.0), softplus(br.clone(), 1.0));
            let (a, w, b) = if train && self.config.local_reparam {
                let mean = h.clone().matmul(wm.clone()) + bm.clone();
                let var = h.clone().powi_scalar(2).matmul(ws.clone().powi_scalar(2))
                    + bs.clone().powi_scalar(2);
                let eps = normals(
                    mean.dims(),
                    noise_key(key, l, NoiseUse::PreActivation),
                    &device,
                );
                (mean + var.sqrt() * eps, None, None)
            } else {
                let w = wm.clone()
                    + ws.clone() * normals(wm.dims(), noise_key(key, l, NoiseUse::Weight), &device);
                let b = bm.clone()
                    + bs.clone() * normals(bm.dims(), noise_key(key, l, NoiseUse::Bias), &device);
                (h.matmul(w.clone()) + b.clone(), Some(w), Some(b))
            };
            if train {
                let term =
                    self.config
                        .weight_prior
                        .kl(wm, &ws, w, noise_key(key, l, NoiseUse::KlWeight))
                        + self.config.bias_prior.kl(
                            bm,
                            &bs,
                            b,
                            noise_key(key, l, NoiseUse::KlBias),
                        );
                kl = Some(match kl {
                    Some(k) => k + term,
                    None => term,
                });
            }
            h = if l + 1 < layers { self.activate(a) } else { a };
        }
        (h, kl)
    }

    /// Negative log-likelihood per example `[B, 1]` and the noise KL for regression targets
    /// `y` (`[B, 1]`, scaled units).
    fn gaussian_nll(
        &self,
        p: &[Tensor<2>],
        f: Tensor<2>,
        y: Tensor<2>,
        noise_max: f64,
        key: u64,
    ) -> (Tensor<2>, Tensor<1>) {
        let k = 4 * self.layers();
        let s = softplus(p[k + 1].clone(), 1.0);
        let eps = normals(
            [1, 1],
            noise_key(key, self.layers(), NoiseUse::Noise),
            &f.device(),
        );
        let u = p[k].clone() + s.clone() * eps.clone();
        let kl = (eps.powi_scalar(2).mul_scalar(-0.5)
            - s.log()
            - HALF_LN_2PI
            - log_sigmoid(u.clone())
            - log_sigmoid(u.clone().neg()))
        .sum();
        let ln_sigma = log_sigmoid(u) + noise_max.ln();
        let inv_var = ln_sigma.clone().mul_scalar(-2.0).exp();
        let nll = (y - f).powi_scalar(2) * inv_var.mul_scalar(0.5) + ln_sigma + HALF_LN_2PI;
        (nll, kl)
    }

    /// One free-energy evaluation on a batch: `(loss, nll per example, KL / N)`.
    fn free_energy(
        &self,
        p: &[Tensor<2>],
        x: Tensor<2>,
        batch: &BatchTargets,
        n: usize,
        key: u64,
    ) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
        let (out, kl) = self.forward(p, x, true, key);
        let mut kl = kl.unwrap_or_else(|| Tensor::zeros([1], &out.device()));
        let nll = match (batch, self.config.likelihood) {
            (BatchTargets::Real(y), Likelihood::Gaussian { noise_max }) => {
                let (nll, noise_kl) = self.gaussian_nll(p, out, y.clone(), noise_max, key);
                kl = kl + noise_kl;
                nll.mean()
            }
            (BatchTargets::OneHot(y), _) => {
                (log_softmax(out, 1) * y.clone()).sum_dim(1).mean().neg()
            }
            (BatchTargets::Real(_), Likelihood::Categorical { .. }) => {
                unreachable!("fit checks that the targets match the likelihood")
            }
        };
        let kl = kl.div_scalar(n as f64);
        (nll.clone() + kl.clone(), nll, kl)
    }

    /// Draws of the regression function and noise at the rows of `x` (`[n, in]`, original
    /// units), in original units.
    pub fn regression_draws(
        &self,
        x: &[f32],
        draws: usize,
        rng: &mut impl Rng,
    ) -> Result<RegressionDraws> {
        let Likelihood::Gaussian { noise_max } = self.config.likelihood else {
            return Err(Error::param("model", "is a classifier, not a regression"));
        };
        let d = self.config.input;
        let n = x.len() / d;
        let xt = tensor(self.scaler.inputs(x), n, d, &self.device());
        let k = 4 * self.layers();
        let m = f64::from(self.params[k].clone().into_scalar::<f32>());
        let s = crate::bayes::distributions::softplus(f64::from(
            self.params[k + 1].clone().into_scalar::<f32>(),
        ));
        let (mut f, mut sigma) = (Vec::with_capacity(draws * n), Vec::with_capacity(draws));
        for _ in 0..draws {
            let (out, _) = self.forward(&self.params, xt.clone(), false, rng.next_u64());
            f.extend(
                ops::to_f64_vec(out)
                    .into_iter()
                    .map(|v| v * self.scaler.y_std + self.scaler.y_mean),
            );
            let u = m + s * rng.sample::<f64, _>(StandardNormal);
            sigma.push(noise_max / (1.0 + (-u).exp()) * self.scaler.y_std);
        }
        Ok(RegressionDraws { n, f, sigma })
    }

    /// Predictive class probabilities `[n, classes]`: the mean over `draws` weight draws (from
    /// `rng`) of the softmax, for the rows of `x` (`[n, in]`).
    pub fn class_probabilities(
        &self,
        x: &[f32],
        draws: usize,
        rng: &mut impl Rng,
    ) -> Result<Vec<f64>> {
        let Likelihood::Categorical { classes } = self.config.likelihood else {
            return Err(Error::param("model", "is a regression, not a classifier"));
        };
        let d = self.config.input;
        let xs = self.scaler.inputs(x);
        let mut probs = Vec::with_capacity(xs.len() / d * classes);
        // The same weight draws for every chunk of rows: a row's probabilities do not depend
        // on the other rows.
        let keys: Vec<u64> = (0..draws).map(|_| rng.next_u64()).collect();
        for chunk in xs.chunks(1000 * d) {
            let xt = tensor(chunk.to_vec(), chunk.len() / d, d, &self.device());
            let mut sum: Option<Tensor<2>> = None;
            for &key in &keys {
                let p = softmax(self.forward(&self.params, xt.clone(), false, key).0, 1);
                sum = Some(match sum {
                    Some(s) => s + p,
                    None => p,
                });
            }
            if let Some(s) = sum {
                probs.extend(ops::to_f64_vec(s.div_scalar(draws as f64)));
            }
        }
        Ok(probs)
    }

    /// For a one-layer regression (no hidden layers): draws of `(w, b, σ)` in original units,
    /// named as [`super::linear::BayesLinear`] names them (`slope` / `w.j`, `intercept`,
    /// `sigma`).
    pub fn linear_samples(&self, draws: usize, rng: &mut impl Rng) -> Option<Samples> {
        if !self.config.hidden.is_empty() || self.config.output() != 1 {
            return None;
        }
        let host = |i: usize| ops::to_f64_vec(self.params[i].clone());
        let (wm, wr, bm, br) = (host(0), host(1), host(2), host(3));
        let d = self.config.input;
        let (m, r) = (host(4)[0], host(5)[0]);
        let Likelihood::Gaussian { noise_max } = self.config.likelihood else {
            return None;
        };
        let sp = crate::bayes::distributions::softplus;
        let sc = &self.scaler;
        let mut names: Vec<String> = if d == 1 {
            vec!["slope".into()]
        } else {
            (0..d).map(|j| format!("w.{j}")).collect()
        };
        names.extend(["intercept".into(), "sigma".into()]);
        let mut values = Vec::with_capacity(draws * (d + 2));
        for _ in 0..draws {
            let mut eps = || rng.sample::<f64, _>(StandardNormal);
            // f(x) = y_std (Σ_j w_j (x_j - m_j)/s_j + b) + y_mean
            let w: Vec<f64> = (0..d)
                .map(|j| (wm[j] + sp(wr[j]) * eps()) * sc.y_std / sc.x_std[j])
                .collect();
            let b0 = bm[0] + sp(br[0]) * eps();
            let shift: f64 = w.iter().zip(&sc.x_mean).map(|(w, m)| w * m).sum();
            let b = b0 * sc.y_std + sc.y_mean - shift;
            let u = m + sp(r) * eps();
            values.extend(w);
            values.push(b);
            values.push(noise_max / (1.0 + (-u).exp()) * sc.y_std);
        }
        Some(Samples { names, values })
    }

    /// The parameters, config and scaler as a [`TensorFile`].
    pub fn to_file(&self) -> Result<TensorFile> {
        let mut file = TensorFile::default();
        for (name, p) in self.param_names().iter().zip(&self.params) {
            file.put(name, p);
        }
        let meta = serde_json::json!({ "config": self.config, "scaler": self.scaler });
        file.metadata.insert("bbb".into(), meta.to_string());
        Ok(file)
    }

    /// Save to `path` (safetensors, atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.to_file()?.save(path)
    }

    /// Load what [`BayesMlp::save`] wrote.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        Self::from_file(&TensorFile::load(path)?, device, path)
    }

    /// The model in `file` (what [`BayesMlp::to_file`] made); `path` names it in errors.
    pub fn from_file(file: &TensorFile, device: &Device, path: &Path) -> Result<Self> {
        let meta = file.metadata.get("bbb").ok_or_else(|| {
            Error::bad_file(path, "no `bbb` metadata: not a Bayes-by-Backprop model")
        })?;
        #[derive(Deserialize)]
        struct Meta {
            config: BbbConfig,
            scaler: Scaler,
        }
        let meta: Meta = serde_json::from_str(meta)
            .map_err(|e| Error::bad_file(path, format!("bad `bbb` metadata ({e})")))?;
        meta.config.validate()?;
        let mut shapes = Vec::new();
        for (i, o) in meta.config.layer_shapes() {
            shapes.extend([[i, o], [i, o], [1, o], [1, o]]);
        }
        if matches!(meta.config.likelihood, Likelihood::Gaussian { .. }) {
            shapes.extend([[1, 1], [1, 1]]);
        }
        let mut model = Self {
            config: meta.config,
            params: Vec::new(),
            scaler: meta.scaler,
        };
        let names = model.param_names();
        model.params = names
            .iter()
            .zip(shapes)
            .map(|(name, shape)| file.get(name, shape, device, path))
            .collect::<Result<_>>()?;
        Ok(model)
    }

    fn param_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for l in 0..self.layers() {
            for part in ["weight_mu", "weight_rho", "bias_mu", "bias_rho"] {
                names.push(format!("layer.{l}.{part}"));
            }
        }
        if matches!(self.config.likelihood, Likelihood::Gaussian { .. }) {
            names.extend(["noise.mu".into(), "noise.rho".into()]);
        }
        names
    }
}

/// A batch's targets on the device.
enum BatchTargets {
    Real(Tensor<2>),
    OneHot(Tensor<2>),
}

fn batch_targets(
    targets: &Targets,
    idx: &[usize],
    scaler: &Scaler,
    classes: usize,
    device: &Device,
) -> BatchTargets {
    match targets {
        Targets::Real(y) => {
            let v = idx
                .iter()
                .map(|&i| ((y[i] - scaler.y_mean) / scaler.y_std) as f32)
                .collect();
            BatchTargets::Real(tensor(v, idx.len(), 1, device))
        }
        Targets::Classes(y) => {
            let mut onehot = vec![0f32; idx.len() * classes];
            for (r, &i) in idx.iter().enumerate() {
                onehot[r * classes + y[i] as usize] = 1.0;
            }
            BatchTargets::OneHot(tensor(onehot, idx.len(), classes, device))
        }
    }
}

/// Check that `targets` suit `config` and the `n` rows of `x`.
fn check_targets(config: &BbbConfig, x: &[f32], targets: &Targets) -> Result<usize> {
    let d = config.input;
    if !x.len().is_multiple_of(d) || x.len() / d != targets.len() {
        return Err(Error::data(
            "training data",
            format!(
                "{} values are not {} rows of width {d}",
                x.len(),
                targets.len()
            ),
        ));
    }
    match (targets, config.likelihood) {
        (Targets::Real(y), Likelihood::Gaussian { .. }) if y.iter().all(|v| v.is_finite()) => {}
        (Targets::Classes(y), Likelihood::Categorical { classes }) => {
            if let Some(bad) = y.iter().find(|&&c| c as usize >= classes) {
                return Err(Error::data(
                    "labels",
                    format!("label {bad} is not below {classes} classes"),
                ));
            }
        }
        (Targets::Real(_), Likelihood::Gaussian { .. }) => {
            return Err(Error::data("targets", "values must be finite"));
        }
        _ => {
            return Err(Error::data(
                "targets",
                "do not match the likelihood (real vs. class labels)",
            ));
        }
    }
    if targets.len() < 2 {
        return Err(Error::data(
            "training data",
            format!("need at least 2 rows (n_samples = {})", targets.len()),
        ));
    }
    Ok(targets.len())
}

/// Bayes by Backprop in progress: the model, Adam's state (ε = 1e-8) and the training rows,
/// one [`BbbTrainer::step`] (a mini-batch) at a time, its `ε`s drawn from keyed streams of the
/// step's generator. A classifier on the CPU trains on the host engine
/// ([`bayes_dense::BayesNet`]) unless [`Engine::Tensor`] asks for burn's autodiff; the two draw
/// the same noise and take the same steps (to float rounding).
#[derive(Clone)]
pub struct BbbTrainer {
    model: BayesMlp,
    states: Vec<Option<AdamState<2>>>,
    /// The host engine, when it trains (then it holds the current parameters and moments).
    host: Option<BayesNet>,
    /// Scaled inputs `[n, in]`.
    xs: Vec<f32>,
    targets: Targets,
}

impl BbbTrainer {
    /// A fresh model of `config` for rows `x` (`[n, input]`, original units) and `targets`:
    /// the scaler is fitted to them (when `config.standardize`) and the means drawn from `seed`.
    pub fn new(
        config: BbbConfig,
        x: &[f32],
        targets: Targets,
        device: &Device,
        seed: u64,
        engine: Engine,
    ) -> Result<Self> {
        config.validate()?;
        check_targets(&config, x, &targets)?;
        let scaler = if config.standardize {
            let y: &[f64] = match &targets {
                Targets::Real(y) => y,
                Targets::Classes(_) => &[],
            };
            Scaler::fit(x, config.input, y)
        } else {
            Scaler::identity(config.input)
        };
        let xs = scaler.inputs(x);
        let mut rng = crate::rng::rng_for(seed, &[0x4242_4249]);
        let model = BayesMlp::new(config, scaler, device, &mut rng)?;
        let host = (engine == Engine::Auto
            && crate::kernels::ops::is_host(device)
            && matches!(model.config.likelihood, Likelihood::Categorical { .. }))
        .then(|| model.to_host());
        Ok(Self {
            states: vec![None; model.params.len()],
            model,
            host,
            xs,
            targets,
        })
    }

    /// Training rows.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True without training rows (never, once built).
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Whether the host engine trains.
    pub fn on_host(&self) -> bool {
        self.host.is_some()
    }

    /// The model as it stands.
    pub fn model(&self) -> BayesMlp {
        match &self.host {
            Some(h) => self.model.with_host(h),
            None => self.model.clone(),
        }
    }

    /// One Adam step of rate `lr` on the free energy of the rows `idx`, its noise drawn from
    /// streams keyed by `rng`: `[loss, nll, kl]` (nats per example, before the step).
    pub fn step(&mut self, idx: &[usize], lr: f64, rng: &mut impl Rng) -> Result<[f64; 3]> {
        let key = rng.next_u64();
        let d = self.model.config.input;
        let n = self.len();
        let rows: Vec<f32> = idx
            .iter()
            .flat_map(|&i| self.xs[i * d..(i + 1) * d].iter().copied())
            .collect();
        if let (Some(host), Targets::Classes(y)) = (&mut self.host, &self.targets) {
            let labels: Vec<u32> = idx.iter().map(|&i| y[i]).collect();
            let adam = AdamSettings {
                lr: lr as f32,
                ..AdamSettings::default()
            };
            let s = host.train_step(&rows, &labels, n, key, adam);
            return Ok([s.loss, s.nll, s.kl]);
        }
        let device = self.model.device();
        let xt = tensor(rows, idx.len(), d, &device);
        let classes = self.model.config.output();
        let yt = batch_targets(&self.targets, idx, &self.model.scaler, classes, &device);
        let tracked: Vec<Tensor<2>> = self
            .model
            .params
            .iter()
            .map(|p| p.clone().autodiff().require_grad())
            .collect();
        let (loss, nll, kl) = self.model.free_energy(&tracked, xt, &yt, n, key);
        let grads = loss.clone().backward();
        let adam = AdamConfig::new().with_epsilon(1e-8).build();
        for ((p, t), s) in self
            .model
            .params
            .iter_mut()
            .zip(&tracked)
            .zip(self.states.iter_mut())
        {
            let g = t
                .grad(&grads)
                .ok_or_else(|| Error::Internal("a BBB parameter got no gradient".into()))?;
            let (next, st) = adam.step(lr, p.clone(), g, s.take());
            *p = next;
            *s = st;
        }
        let scalar = |t: Tensor<1>| f64::from(t.without_autodiff().into_scalar::<f32>());
        Ok([scalar(loss), scalar(nll), scalar(kl)])
    }

    /// Adam's state as a checkpoint (`adam.moment_{1,2}.<parameter>`, `adam.time`), the same
    /// from either engine.
    pub fn optimizer_file(&self) -> TensorFile {
        let mut file = TensorFile::default();
        let names = self.model.param_names();
        match &self.host {
            Some(h) => {
                let shapes = self.model.param_shapes();
                let mut put = |name: &str, shape: [usize; 2], (m, v): (Vec<f32>, Vec<f32>)| {
                    for (k, data) in [("moment_1", m), ("moment_2", v)] {
                        file.put_blob(
                            &format!("adam.{k}.{name}"),
                            Blob {
                                shape: shape.to_vec(),
                                data,
                            },
                        );
                    }
                };
                if h.steps > 0 {
                    let flat = h.moments().into_iter().flatten();
                    for ((name, &shape), mv) in names.iter().zip(&shapes).zip(flat) {
                        put(name, shape, mv);
                    }
                }
                file.metadata
                    .insert("adam.time".into(), h.steps.to_string());
            }
            None => put_adam_states(&mut file, &names, &self.states, "adam.time", |_| false),
        }
        file
    }

    /// Restore the model (`model`) and Adam's state (`optimizer`) of a checkpoint; the paths
    /// name the files in errors.
    pub fn load(
        &mut self,
        model: &TensorFile,
        optimizer: &TensorFile,
        paths: (&Path, &Path),
    ) -> Result<()> {
        let device = self.model.device();
        let loaded = BayesMlp::from_file(model, &device, paths.0)?;
        if loaded.config != self.model.config {
            return Err(Error::bad_file(
                paths.0,
                "the checkpoint's network differs from the run's configuration",
            ));
        }
        let names = loaded.param_names();
        let shapes = loaded.param_shapes();
        let states = get_adam_states(
            optimizer,
            &names,
            &shapes,
            "adam.time",
            |_| false,
            &device,
            paths.1,
        )?;
        if let Some(host) = &mut self.host {
            let mut fresh = loaded.to_host();
            let steps = optimizer.meta::<u64>("adam.time").unwrap_or(0);
            if states.iter().all(Option::is_some) && steps > 0 {
                let mut pairs = states.into_iter().flatten().map(|s| {
                    let m = s.momentum;
                    (to_f32_vec(m.moment_1), to_f32_vec(m.moment_2))
                });
                let mut per_layer = Vec::new();
                while let (Some(a), Some(b), Some(c), Some(d)) =
                    (pairs.next(), pairs.next(), pairs.next(), pairs.next())
                {
                    per_layer.push([a, b, c, d]);
                }
                fresh.set_moments(per_layer, steps);
            }
            *host = fresh;
        } else {
            self.states = states;
        }
        self.model = loaded;
        Ok(())
    }

    /// Name of the first parameter holding a NaN or infinity, if any.
    pub fn non_finite_parameter(&self) -> Option<String> {
        match &self.host {
            Some(h) => h.non_finite_layer(),
            None => self.model.non_finite_parameter(),
        }
    }

    /// The trained model.
    pub fn into_model(self) -> BayesMlp {
        self.model()
    }
}

impl BayesMlp {
    /// Name of the first parameter holding a NaN or infinity, if any (checked on a host copy).
    pub fn non_finite_parameter(&self) -> Option<String> {
        self.params
            .iter()
            .zip(self.param_names())
            .find(|(p, _)| to_f32_vec((*p).clone()).iter().any(|v| !v.is_finite()))
            .map(|(_, name)| name)
    }

    /// Every parameter's `[rows, cols]`, in [`BayesMlp::param_names`] order.
    fn param_shapes(&self) -> Vec<[usize; 2]> {
        self.params.iter().map(Tensor::dims).collect()
    }

    /// The host engine's copy of a classifier (fresh Adam state).
    fn to_host(&self) -> BayesNet {
        let host = |t: &Tensor<2>| to_f32_vec(t.clone());
        let layers = self
            .config
            .layer_shapes()
            .into_iter()
            .enumerate()
            .map(|(l, (inp, out))| BayesDense {
                inp,
                out,
                w_mu: host(&self.params[4 * l]),
                w_rho: host(&self.params[4 * l + 1]),
                b_mu: host(&self.params[4 * l + 2]),
                b_rho: host(&self.params[4 * l + 3]),
            })
            .collect();
        let prior = |p: Prior| match p {
            Prior::Gaussian { sigma } => ScalePrior::Gaussian {
                sigma: sigma as f32,
            },
            Prior::ScaleMixture { pi, sigma1, sigma2 } => ScalePrior::Mixture {
                pi: pi as f32,
                sigma1: sigma1 as f32,
                sigma2: sigma2 as f32,
            },
        };
        BayesNet::new(
            layers,
            match self.config.activation {
                Activation::Relu => HostActivation::Relu,
                Activation::Tanh => HostActivation::Tanh,
            },
            if self.config.local_reparam {
                Sampling::LocalReparam
            } else {
                Sampling::Weights
            },
            prior(self.config.weight_prior),
            prior(self.config.bias_prior),
        )
    }

    /// This model with the host engine's parameters.
    fn with_host(&self, h: &BayesNet) -> BayesMlp {
        let device = self.device();
        let mut params = Vec::with_capacity(self.params.len());
        for layer in &h.layers {
            let (i, o) = (layer.inp, layer.out);
            params.push(tensor(layer.w_mu.clone(), i, o, &device));
            params.push(tensor(layer.w_rho.clone(), i, o, &device));
            params.push(tensor(layer.b_mu.clone(), 1, o, &device));
            params.push(tensor(layer.b_rho.clone(), 1, o, &device));
        }
        BayesMlp {
            config: self.config.clone(),
            params,
            scaler: self.scaler.clone(),
        }
    }
}
