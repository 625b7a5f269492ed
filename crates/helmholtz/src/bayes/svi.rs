//! Stochastic variational inference with a mean-field Gaussian guide (Pyro's
//! `AutoDiagonalNormal`): `q(u) = Π_j N(u_j; m_j, s_j²)` over the unconstrained parameters
//! `u`, `θ = T(u)` ([`super::model::Support`]).
//!
//! `ELBO = E_q[ln p(T(u), y) + ln |dT/du|] + H[q]`, with `H[q] = Σ_j (ln s_j + ½ ln 2πe)`
//! exact and the expectation estimated with `M` reparameterised draws `u = m + s ε`:
//! `∂/∂m = ∇_u`, `∂/∂ln s = ∇_u ε s + 1`. Adam on `(m, ln s)`; the loss is `-ELBO`.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::model::{LogJoint, Samples, Support, check_model, log_density_unconstrained};
use crate::data::BatchOrder;
use crate::error::{Error, Result, check};

/// Settings of [`svi`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SviConfig {
    /// Optimisation steps.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Learning rate at the last step, reached geometrically from `lr` (`None`: constant).
    #[serde(default)]
    pub lr_final: Option<f64>,
    /// Reparameterised draws per ELBO estimate (`M`).
    pub particles: usize,
    /// Initial guide scale `s`.
    pub init_scale: f64,
    /// Mini-batch size (all observations when `None`).
    pub batch_size: Option<usize>,
}

impl Default for SviConfig {
    /// The seed's settings: 1000 steps of Adam(0.01), one particle, initial scale 0.1.
    fn default() -> Self {
        Self {
            steps: 1000,
            lr: 0.01,
            lr_final: None,
            particles: 1,
            init_scale: 0.1,
            batch_size: None,
        }
    }
}

impl SviConfig {
    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("steps", self.steps)?;
        check::positive("lr", self.lr)?;
        if let Some(f) = self.lr_final {
            check::positive("lr-final", f)?;
        }
        check::positive_count("particles", self.particles)?;
        check::positive("init-scale", self.init_scale)?;
        if self.batch_size == Some(0) {
            return Err(Error::param("batch-size", "must be at least 1 (got 0)"));
        }
        Ok(())
    }
}

/// A mean-field Gaussian over the unconstrained parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeanFieldGuide {
    /// Parameter names.
    pub names: Vec<String>,
    /// Location `m` per parameter (unconstrained).
    pub loc: Vec<f64>,
    /// `ln s` per parameter.
    pub log_scale: Vec<f64>,
    #[serde(skip)]
    supports: Vec<Support>,
}

impl MeanFieldGuide {
    /// The guide of `model` with locations `loc` and log-scales `log_scale` (unconstrained).
    pub fn new(model: &dyn LogJoint, loc: Vec<f64>, log_scale: Vec<f64>) -> Result<Self> {
        let supports = check_model(model)?;
        if loc.len() != supports.len() || log_scale.len() != supports.len() {
            return Err(Error::data(
                "guide",
                format!(
                    "{} locations and {} scales for {} parameters",
                    loc.len(),
                    log_scale.len(),
                    supports.len()
                ),
            ));
        }
        Ok(Self {
            names: model.params().iter().map(|q| q.name.clone()).collect(),
            loc,
            log_scale,
            supports,
        })
    }

    /// Draw `n` constrained parameter vectors.
    pub fn sample(&self, n: usize, rng: &mut impl Rng) -> Samples {
        let mut values = Vec::with_capacity(n * self.loc.len());
        for _ in 0..n {
            for ((m, ls), s) in self.loc.iter().zip(&self.log_scale).zip(&self.supports) {
                let u = m + ls.exp() * rng.sample::<f64, _>(StandardNormal);
                values.push(s.forward(u).0);
            }
        }
        Samples {
            names: self.names.clone(),
            values,
        }
    }
}

/// What [`svi`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SviFit {
    /// The fitted guide.
    pub guide: MeanFieldGuide,
    /// `-ELBO` estimate at every step (nats, for the whole data set).
    pub losses: Vec<f64>,
}

/// Adam state for a flat parameter vector (f64; ε = 1e-8).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Adam {
    pub(crate) m: Vec<f64>,
    pub(crate) v: Vec<f64>,
    pub(crate) t: i32,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// Descend along `grad`.
    fn step(&mut self, params: &mut [f64], grad: &[f64], lr: f64) {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for i in 0..params.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * grad[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * grad[i] * grad[i];
            params[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + eps);
        }
    }
}

/// SVI in progress: the guide's parameters and Adam's state, one [`SviState::step`] at a time.
#[derive(Debug, Clone)]
pub struct SviState {
    supports: Vec<Support>,
    names: Vec<String>,
    /// Locations, then log-scales (`2P`).
    pub(crate) x: Vec<f64>,
    pub(crate) adam: Adam,
}

impl SviState {
    /// The guide at its start: locations at the model's initial values, scales `init_scale`.
    pub fn new(model: &dyn LogJoint, cfg: &SviConfig) -> Result<Self> {
        cfg.validate()?;
        let supports = check_model(model)?;
        let params = model.params();
        let mut x: Vec<f64> = params.iter().map(|q| q.support.inverse(q.init)).collect();
        x.extend(std::iter::repeat_n(cfg.init_scale.ln(), params.len()));
        Ok(Self {
            supports,
            names: params.iter().map(|q| q.name.clone()).collect(),
            adam: Adam::new(x.len()),
            x,
        })
    }

    /// The learning rate of step `t` (0-based).
    pub fn lr(cfg: &SviConfig, t: usize) -> f64 {
        match cfg.lr_final {
            Some(f) if cfg.steps > 1 => {
                cfg.lr * (f / cfg.lr).powf(t as f64 / (cfg.steps - 1) as f64)
            }
            _ => cfg.lr,
        }
    }

    /// One Adam step on `-ELBO` estimated on the observations `idx` (all when `None`) with
    /// `cfg.particles` draws; returns the estimate (nats, scaled to the whole data set).
    pub fn step(
        &mut self,
        model: &dyn LogJoint,
        cfg: &SviConfig,
        t: usize,
        idx: Option<&[usize]>,
        rng: &mut impl Rng,
    ) -> Result<f64> {
        let p = self.names.len();
        let x = &mut self.x;
        let (mut u, mut g, mut grad) = (vec![0.0; p], vec![0.0; p], vec![0.0; 2 * p]);
        let mut expected = 0.0;
        let m = cfg.particles as f64;
        for _ in 0..cfg.particles {
            let eps: Vec<f64> = (0..p).map(|_| rng.sample(StandardNormal)).collect();
            for j in 0..p {
                u[j] = x[j] + x[p + j].exp() * eps[j];
            }
            expected += log_density_unconstrained(model, &self.supports, &u, idx, &mut g);
            for j in 0..p {
                // Gradients of -ELBO.
                grad[j] -= g[j] / m;
                grad[p + j] -= g[j] * eps[j] * x[p + j].exp() / m;
            }
        }
        let entropy: f64 = x[p..].iter().sum::<f64>() + p as f64 * (0.5 + 0.918_938_533_204_672_8);
        grad[p..].iter_mut().for_each(|v| *v -= 1.0);
        let loss = -(expected / m + entropy);
        if !loss.is_finite() {
            return Err(Error::Diverged {
                epoch: 1,
                batch: t + 1,
                what: "the SVI loss".into(),
                kept: None,
            });
        }
        self.adam.step(x, &grad, Self::lr(cfg, t));
        Ok(loss)
    }

    /// The guide as it stands.
    pub fn guide(&self) -> MeanFieldGuide {
        let p = self.names.len();
        MeanFieldGuide {
            names: self.names.clone(),
            loc: self.x[..p].to_vec(),
            log_scale: self.x[p..].to_vec(),
            supports: self.supports.clone(),
        }
    }
}

/// Fit a mean-field guide to `model` by maximising the ELBO; `on_step(step, loss)` is called
/// after every step.
pub fn svi(
    model: &dyn LogJoint,
    cfg: &SviConfig,
    rng: &mut impl Rng,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<SviFit> {
    let mut state = SviState::new(model, cfg)?;
    let seed = rng.next_u64();
    let mut batches = Batches::new(model.len(), cfg.batch_size, seed);
    let mut losses = Vec::with_capacity(cfg.steps);
    for t in 0..cfg.steps {
        let idx = batches.at(t);
        let loss = state.step(model, cfg, t, idx, rng)?;
        losses.push(loss);
        on_step(t, loss);
    }
    Ok(SviFit {
        guide: state.guide(),
        losses,
    })
}

/// Mini-batches of observations for step `t`: epochs of shuffled batches (the order of data
/// epoch `e` is that of `(seed, e)`), or all observations.
#[derive(Debug, Clone)]
pub struct Batches {
    n: usize,
    batch: Option<usize>,
    seed: u64,
    order: Option<(usize, BatchOrder)>,
}

impl Batches {
    /// Batches of `batch` out of `n` (all when `None` or at least `n`).
    pub fn new(n: usize, batch: Option<usize>, seed: u64) -> Self {
        Self {
            n,
            batch: batch.filter(|&b| b < n),
            seed,
            order: None,
        }
    }

    /// The observations of step `t` (0-based); `None` for all.
    pub fn at(&mut self, t: usize) -> Option<&[usize]> {
        let b = self.batch?;
        let per_epoch = self.n.div_ceil(b);
        let (epoch, k) = (t / per_epoch, t % per_epoch);
        if self.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.order = Some((epoch, BatchOrder::new(self.n, b, self.seed, epoch + 1)));
        }
        self.order.as_ref().map(|(_, o)| o.batch(k))
    }
}
