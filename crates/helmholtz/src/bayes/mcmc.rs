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

use super::model::{LogJoint, Samples, Support, check_model, constrain, log_density_unconstrained};
use super::svi::Batches;
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

/// How a chain moves: SGLD or SGHMC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dynamics {
    /// Stochastic-gradient Langevin dynamics with this step schedule.
    Sgld(StepSchedule),
    /// Stochastic-gradient HMC with these settings.
    Sghmc(SghmcParams),
}

impl Dynamics {
    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        match self {
            Dynamics::Sgld(s) => s.validate(),
            Dynamics::Sghmc(p) => p.validate(),
        }
    }
}

/// A chain in progress: the unconstrained state `u`, SGHMC's momentum `v`, and the states kept
/// so far (rounded to f32, as they are saved), one [`Chain::step`] at a time.
#[derive(Debug, Clone)]
pub struct Chain {
    supports: Vec<Support>,
    names: Vec<String>,
    /// The state, unconstrained.
    pub(crate) u: Vec<f64>,
    /// SGHMC's momentum (zeros for SGLD).
    pub(crate) v: Vec<f64>,
    /// Kept states, constrained, `[kept, P]` row-major.
    pub(crate) draws: Vec<f64>,
    g: Vec<f64>,
}

impl Chain {
    /// A chain at the model's initial values.
    pub fn new(model: &dyn LogJoint) -> Result<Self> {
        let supports = check_model(model)?;
        let params = model.params();
        let u: Vec<f64> = params.iter().map(|q| q.support.inverse(q.init)).collect();
        Ok(Self {
            supports,
            names: params.iter().map(|q| q.name.clone()).collect(),
            v: vec![0.0; u.len()],
            g: vec![0.0; u.len()],
            draws: Vec::new(),
            u,
        })
    }

    /// Step `t` (0-based) on the observations `idx` (all when `None`); keeps the new state when
    /// `t` is past the burn-in and on the thinning grid. Returns the log density (scaled to
    /// the whole data set) at the state the step started from.
    pub fn step(
        &mut self,
        model: &dyn LogJoint,
        dynamics: &Dynamics,
        chain: &ChainConfig,
        t: usize,
        idx: Option<&[usize]>,
        rng: &mut impl Rng,
    ) -> Result<f64> {
        let lp = log_density_unconstrained(model, &self.supports, &self.u, idx, &mut self.g);
        if !lp.is_finite() || self.g.iter().any(|v| !v.is_finite()) {
            return Err(Error::Diverged {
                epoch: 1,
                batch: t + 1,
                what: "the log-density gradient (try a smaller step size)".into(),
                kept: None,
            });
        }
        match *dynamics {
            Dynamics::Sgld(schedule) => {
                let eps = schedule.at(t);
                let sd = eps.sqrt();
                for (u, g) in self.u.iter_mut().zip(&self.g) {
                    *u += 0.5 * eps * g + sd * rng.sample::<f64, _>(StandardNormal);
                }
            }
            Dynamics::Sghmc(p) => {
                let sd = (2.0 * p.friction * p.lr).sqrt();
                for ((u, v), g) in self.u.iter_mut().zip(self.v.iter_mut()).zip(&self.g) {
                    *v = (1.0 - p.friction) * *v
                        + p.lr * g
                        + sd * rng.sample::<f64, _>(StandardNormal);
                    *u += *v;
                }
            }
        }
        if t >= chain.burn_in && (t - chain.burn_in).is_multiple_of(chain.thin) {
            let kept = constrain(&self.supports, &self.u);
            self.draws
                .extend(kept.into_iter().map(|v| f64::from(v as f32)));
        }
        Ok(lp)
    }

    /// The states kept so far.
    pub fn samples(&self) -> Samples {
        Samples {
            names: self.names.clone(),
            values: self.draws.clone(),
        }
    }
}

/// Run a whole chain of `dynamics` on `model`.
pub fn run_chain(
    model: &dyn LogJoint,
    dynamics: Dynamics,
    chain: &ChainConfig,
    rng: &mut impl Rng,
) -> Result<Samples> {
    chain.validate()?;
    dynamics.validate()?;
    let mut state = Chain::new(model)?;
    let mut batches = Batches::new(model.len(), chain.batch_size, rng.next_u64());
    for t in 0..chain.steps {
        let idx = batches.at(t);
        state.step(model, &dynamics, chain, t, idx, rng)?;
    }
    Ok(state.samples())
}

/// Stochastic-gradient Langevin dynamics.
pub fn sgld(
    model: &dyn LogJoint,
    schedule: StepSchedule,
    chain: &ChainConfig,
    rng: &mut impl Rng,
) -> Result<Samples> {
    run_chain(model, Dynamics::Sgld(schedule), chain, rng)
}

/// Stochastic-gradient Hamiltonian Monte Carlo with friction.
pub fn sghmc(
    model: &dyn LogJoint,
    params: SghmcParams,
    chain: &ChainConfig,
    rng: &mut impl Rng,
) -> Result<Samples> {
    run_chain(model, Dynamics::Sghmc(params), chain, rng)
}
