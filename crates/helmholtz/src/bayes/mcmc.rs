//! Stochastic-gradient MCMC on the unconstrained parameters `u` (`θ = T(u)`), with mini-batch
//! gradients scaled to the full data set (`N/|B|`, [`super::model::LogJoint`]).
//!
//! - SGLD (Welling & Teh 2011): `u ← u + (ε_t/2) ∇ ln p̂(u) + η`, `η ~ N(0, ε_t I)`,
//!   `ε_t = a (b + t)^(-γ)`.
//! - SGHMC (Chen, Fox & Guestrin 2014, eq. 15 with `β̂ = 0`): `v ← (1 - α) v + η ∇ ln p̂(u) +
//!   N(0, 2 α η)`, `u ← u + v`, with learning rate `η` and friction (momentum decay) `α`.
//!
//! Both keep every `thin`-th state after `burn_in` steps.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::model::{LogJoint, Samples, check_model, constrain, log_density_unconstrained};
use super::svi::next_batch;
use crate::error::{Error, Result, check};

/// The chain's length, burn-in, thinning and mini-batches.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChainConfig {
    /// Total steps.
    pub steps: usize,
    /// Steps discarded at the start.
    pub burn_in: usize,
    /// Keep every `thin`-th state after the burn-in.
    pub thin: usize,
    /// Mini-batch size (all observations when `None`).
    pub batch_size: Option<usize>,
}

impl ChainConfig {
    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("steps", self.steps)?;
        check::positive_count("thin", self.thin)?;
        if self.burn_in >= self.steps {
            return Err(Error::param(
                "burn-in",
                format!(
                    "must be below the number of steps ({} >= {})",
                    self.burn_in, self.steps
                ),
            ));
        }
        if self.batch_size == Some(0) {
            return Err(Error::param("batch-size", "must be at least 1 (got 0)"));
        }
        Ok(())
    }
}

/// SGLD's step-size schedule `ε_t = a (b + t)^(-γ)`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepSchedule {
    /// `a > 0`.
    pub a: f64,
    /// `b ≥ 0`.
    pub b: f64,
    /// `γ ∈ [0, 1]` (Welling & Teh use `(0.5, 1]`; 0 gives a constant step).
    pub gamma: f64,
}

impl StepSchedule {
    /// `ε_t`.
    pub fn at(&self, t: usize) -> f64 {
        self.a * (self.b + t as f64).powf(-self.gamma)
    }

    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive("step-size", self.a)?;
        check::non_negative("step-offset", self.b)?;
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(Error::param(
                "step-decay",
                format!("must be in [0, 1] (got {})", self.gamma),
            ));
        }
        if self.b == 0.0 && self.gamma > 0.0 {
            return Err(Error::param(
                "step-offset",
                "must be positive when the step decays (ε_0 = a b^-γ)",
            ));
        }
        Ok(())
    }
}

/// SGHMC's learning rate and friction.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SghmcParams {
    /// Learning rate `η > 0`.
    pub lr: f64,
    /// Friction `α ∈ (0, 1]`.
    pub friction: f64,
}

impl SghmcParams {
    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive("step-size", self.lr)?;
        if !(self.friction > 0.0 && self.friction <= 1.0) {
            return Err(Error::param(
                "friction",
                format!("must be in (0, 1] (got {})", self.friction),
            ));
        }
        Ok(())
    }
}

/// Shared chain driver: `update(u, grad, t, rng)` moves the state one step.
fn run_chain(
    model: &dyn LogJoint,
    chain: &ChainConfig,
    rng: &mut impl Rng,
    mut update: impl FnMut(&mut [f64], &[f64], usize, &mut dyn FnMut() -> f64),
) -> Result<Samples> {
    chain.validate()?;
    let supports = check_model(model)?;
    let params = model.params();
    let mut u: Vec<f64> = params.iter().map(|q| q.support.inverse(q.init)).collect();
    let mut g = vec![0.0; u.len()];
    let mut values = Vec::new();
    let mut order = None;
    let n = model.len();
    for t in 0..chain.steps {
        let idx = next_batch(&mut order, n, chain.batch_size.map(|b| b.min(n)), t, rng);
        let lp = log_density_unconstrained(model, &supports, &u, idx.as_deref(), &mut g);
        if !lp.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(Error::Diverged {
                epoch: 1,
                batch: t + 1,
                what: "the log-density gradient (try a smaller --step-size)".into(),
                kept: None,
            });
        }
        let mut normal = || rng.sample::<f64, _>(StandardNormal);
        update(&mut u, &g, t, &mut normal);
        if t >= chain.burn_in && (t - chain.burn_in).is_multiple_of(chain.thin) {
            values.extend(constrain(&supports, &u));
        }
    }
    Ok(Samples {
        names: params.iter().map(|q| q.name.clone()).collect(),
        values,
    })
}

/// Stochastic-gradient Langevin dynamics.
pub fn sgld(
    model: &dyn LogJoint,
    schedule: StepSchedule,
    chain: &ChainConfig,
    rng: &mut impl Rng,
) -> Result<Samples> {
    schedule.validate()?;
    run_chain(model, chain, rng, |u, g, t, normal| {
        let eps = schedule.at(t);
        let sd = eps.sqrt();
        for (u, g) in u.iter_mut().zip(g) {
            *u += 0.5 * eps * g + sd * normal();
        }
    })
}

/// Stochastic-gradient Hamiltonian Monte Carlo with friction.
pub fn sghmc(
    model: &dyn LogJoint,
    params: SghmcParams,
    chain: &ChainConfig,
    rng: &mut impl Rng,
) -> Result<Samples> {
    params.validate()?;
    let dim = model.params().len();
    let mut v = vec![0.0; dim];
    let sd = (2.0 * params.friction * params.lr).sqrt();
    run_chain(model, chain, rng, |u, g, _t, normal| {
        for ((u, v), g) in u.iter_mut().zip(v.iter_mut()).zip(g) {
            *v = (1.0 - params.friction) * *v + params.lr * g + sd * normal();
            *u += *v;
        }
    })
}
