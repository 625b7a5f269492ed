//! Bogacz's tutorial model (Bogacz 2017, "A tutorial on the free-energy framework for modelling
//! perception and learning", J. Math. Psych. 76: 198-211): a scalar cause `v` with a Gaussian
//! prior and a sensation `u` that depends on it through `g(v) = v^2`.
//!
//! ```text
//! p(v) = N(v; v_p, Σ_p)      p(u | v) = N(u; g(v), Σ_u)      g(v) = v^2      (Σ are variances)
//! F(φ) = ln p(φ) + ln p(u | φ)          (the negative free energy at a point estimate φ)
//! exercise 1: p(v | u) = p(v) p(u | v) / ∫ p(v') p(u | v') dv'        on a grid
//! exercise 2: dφ/dt = ∂F/∂φ = (v_p - φ) / Σ_p + (u - g(φ)) g'(φ) / Σ_u
//! exercise 3: dφ/dt = ε_u g'(φ) - ε_p,  dε_p/dt = φ - v_p - Σ_p ε_p,  dε_u/dt = u - g(φ) - Σ_u ε_u
//! exercise 5: dε/dt = φ - g - e,  de/dt = Σ ε - e,  after each trial  ΔΣ = α (ε e - 1)
//! ```
//!
//! At the fixed point of exercise 3 the error nodes hold the precision-weighted prediction
//! errors `ε_p = (φ - v_p) / Σ_p`, `ε_u = (u - g(φ)) / Σ_u`, so both dynamics stop at the same
//! `φ`: the root of `∂F/∂φ = 0`, the posterior mode. In exercise 5 the fixed point is
//! `e = φ - g`, `ε = (φ - g) / Σ`, so `E[ε e] = 1` exactly when `Σ` is the variance of `φ`.

use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::rng::rng_for;

/// The model of the tutorial's exercises 1-3.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Perception {
    /// The sensation `u`.
    pub u: f64,
    /// The prior mean `v_p`.
    pub v_prior: f64,
    /// The prior variance `Σ_p`.
    pub sigma_p: f64,
    /// The sensory noise variance `Σ_u`.
    pub sigma_u: f64,
}

impl Default for Perception {
    /// The tutorial's values: `u = 2`, `v_p = 3`, `Σ_p = Σ_u = 1`.
    fn default() -> Self {
        Self {
            u: 2.0,
            v_prior: 3.0,
            sigma_p: 1.0,
            sigma_u: 1.0,
        }
    }
}

/// A simulated trajectory: time and the variables at each step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// Times `0, dt, 2 dt, ...`.
    pub t: Vec<f64>,
    /// `φ(t)`.
    pub phi: Vec<f64>,
    /// `ε_p(t)` (exercise 3 only).
    pub eps_p: Vec<f64>,
    /// `ε_u(t)` (exercise 3 only).
    pub eps_u: Vec<f64>,
}

/// `g(v) = v^2`.
pub fn g(v: f64) -> f64 {
    v * v
}

/// `g'(v) = 2 v`.
pub fn g_prime(v: f64) -> f64 {
    2.0 * v
}

fn check_step(dt: f64, duration: f64) -> Result<usize> {
    check::positive("dt", dt)?;
    check::positive("duration", duration)?;
    let steps = (duration / dt).round();
    if steps > 1e9 {
        return Err(Error::param(
            "duration",
            format!("{duration} / dt = {steps:.0} steps; at most 1e9"),
        ));
    }
    Ok(steps as usize)
}

impl Perception {
    /// Check that the variances are positive and the values finite.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("u", self.u), ("v-prior", self.v_prior)] {
            if !v.is_finite() {
                return Err(Error::param(name, "must be a finite number"));
            }
        }
        check::positive("sigma-p", self.sigma_p)?;
        check::positive("sigma-u", self.sigma_u)
    }

    /// `ln p(v) + ln p(u | v)`, normalised densities (nats).
    pub fn log_joint(&self, v: f64) -> f64 {
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let prior = -0.5 * ((v - self.v_prior).powi(2) / self.sigma_p + self.sigma_p.ln() + ln2pi);
        let lik = -0.5 * ((self.u - g(v)).powi(2) / self.sigma_u + self.sigma_u.ln() + ln2pi);
        prior + lik
    }

    /// `∂F/∂φ = (v_p - φ) / Σ_p + (u - g(φ)) g'(φ) / Σ_u`: zero at the posterior mode.
    pub fn stationarity(&self, phi: f64) -> f64 {
        (self.v_prior - phi) / self.sigma_p + (self.u - g(phi)) * g_prime(phi) / self.sigma_u
    }

    /// Exercise 1: the posterior density `p(v | u)` on the grid `lo, lo + step, ..., hi`,
    /// normalised by the trapezoidal rule (the tutorial's grid is `0.01..=5` by `0.01`).
    pub fn posterior(&self, lo: f64, hi: f64, step: f64) -> Result<Vec<(f64, f64)>> {
        self.validate()?;
        check::positive("step", step)?;
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || ((hi - lo) / step) > 1e8 {
            return Err(Error::param(
                "grid",
                format!("[{lo}, {hi}] by {step} is not a grid of at most 1e8 points"),
            ));
        }
        let n = ((hi - lo) / step).round() as usize + 1;
        let logs: Vec<f64> = (0..n)
            .map(|i| self.log_joint(lo + i as f64 * step))
            .collect();
        let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let dens: Vec<f64> = logs.iter().map(|l| (l - max).exp()).collect();
        let area: f64 = dens.windows(2).map(|w| 0.5 * (w[0] + w[1]) * step).sum();
        Ok(dens
            .iter()
            .enumerate()
            .map(|(i, d)| (lo + i as f64 * step, d / area))
            .collect())
    }

    /// The posterior mode: the root of [`Perception::stationarity`] found by bisection around
    /// the largest joint density on a fine grid over `v_p ± 10 sqrt(Σ_p)` (independent of the
    /// dynamics, which the tests compare with it).
    pub fn mode(&self) -> Result<f64> {
        self.validate()?;
        let half = 10.0 * self.sigma_p.sqrt();
        let (lo, n) = (self.v_prior - half, 200_000usize);
        let h = 2.0 * half / n as f64;
        let best = (0..=n)
            .map(|i| lo + i as f64 * h)
            .max_by(|a, b| self.log_joint(*a).total_cmp(&self.log_joint(*b)))
            .unwrap_or(self.v_prior);
        // ∂F/∂φ is positive below the mode and negative above it.
        let (mut a, mut b) = (best - h, best + h);
        if self.stationarity(a) < 0.0 || self.stationarity(b) > 0.0 {
            return Ok(best);
        }
        for _ in 0..200 {
            let m = 0.5 * (a + b);
            if self.stationarity(m) > 0.0 {
                a = m;
            } else {
                b = m;
            }
        }
        Ok(0.5 * (a + b))
    }

    /// Exercise 2: Euler steps of `dφ/dt = ∂F/∂φ` from `φ = v_p` for `duration` time units.
    pub fn gradient_dynamics(&self, dt: f64, duration: f64) -> Result<Trajectory> {
        self.validate()?;
        let steps = check_step(dt, duration)?;
        let mut phi = self.v_prior;
        let mut tr = Trajectory {
            t: vec![0.0],
            phi: vec![phi],
            eps_p: Vec::new(),
            eps_u: Vec::new(),
        };
        for s in 1..=steps {
            phi += dt * self.stationarity(phi);
            tr.t.push(s as f64 * dt);
            tr.phi.push(phi);
        }
        Ok(tr)
    }

    /// Exercise 3: Euler steps of the network with prediction-error nodes, from `φ = v_p`,
    /// `ε_p = ε_u = 0`.
    pub fn error_network(&self, dt: f64, duration: f64) -> Result<Trajectory> {
        self.validate()?;
        let steps = check_step(dt, duration)?;
        let (mut phi, mut ep, mut eu) = (self.v_prior, 0.0, 0.0);
        let mut tr = Trajectory {
            t: vec![0.0],
            phi: vec![phi],
            eps_p: vec![ep],
            eps_u: vec![eu],
        };
        for s in 1..=steps {
            let d_phi = eu * g_prime(phi) - ep;
            let d_ep = phi - self.v_prior - self.sigma_p * ep;
            let d_eu = self.u - g(phi) - self.sigma_u * eu;
            phi += dt * d_phi;
            ep += dt * d_ep;
            eu += dt * d_eu;
            tr.t.push(s as f64 * dt);
            tr.phi.push(phi);
            tr.eps_p.push(ep);
            tr.eps_u.push(eu);
        }
        Ok(tr)
    }
}

/// Exercise 5: learning the variance of a prediction error with an inhibitory interneuron.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VarianceLearning {
    /// The mean `g` that predicts `φ` (fixed).
    pub mean: f64,
    /// The variance `φ` is drawn with (what `Σ` should learn).
    pub variance: f64,
    /// `Σ` before the first trial.
    pub initial: f64,
    /// The learning rate `α`.
    pub learning_rate: f64,
    /// Trials (one `φ` each).
    pub trials: usize,
    /// Euler step of the node dynamics.
    pub dt: f64,
    /// Time units simulated per trial (from `ε = e = 0`).
    pub duration: f64,
    /// Seed of the draws of `φ`.
    pub seed: u64,
}

impl Default for VarianceLearning {
    /// The tutorial's values (`φ ~ N(5, 2)`, `Σ` from 1, `α = 0.01`, 20 time units by 0.01),
    /// with 10,000 trials so that the average over the second half is within a few percent.
    fn default() -> Self {
        Self {
            mean: 5.0,
            variance: 2.0,
            initial: 1.0,
            learning_rate: 0.01,
            trials: 10_000,
            dt: 0.01,
            duration: 20.0,
            seed: 0,
        }
    }
}

impl VarianceLearning {
    /// `Σ` after every trial (`trials + 1` values, the initial one first).
    pub fn run(&self) -> Result<Vec<f64>> {
        if !self.mean.is_finite() {
            return Err(Error::param("true-mean", "must be a finite number"));
        }
        check::positive("true-variance", self.variance)?;
        check::positive("initial-variance", self.initial)?;
        check::positive("learning-rate", self.learning_rate)?;
        check::positive_count("trials", self.trials)?;
        let steps = check_step(self.dt, self.duration)?;
        if (self.trials as f64) * (steps as f64) > 1e10 {
            return Err(Error::param(
                "trials",
                "trials x duration / dt exceeds 1e10 steps",
            ));
        }
        let normal = Normal::new(self.mean, self.variance.sqrt())
            .map_err(|e| Error::param("true-variance", e.to_string()))?;
        let mut rng = rng_for(self.seed, &[0x5043_5635]);
        let mut sigma = self.initial;
        let mut out = Vec::with_capacity(self.trials + 1);
        out.push(sigma);
        for _ in 0..self.trials {
            let phi = normal.sample(&mut rng);
            let (mut eps, mut e) = (0.0f64, 0.0f64);
            for _ in 0..steps {
                let d_eps = phi - self.mean - e;
                let d_e = sigma * eps - e;
                eps += self.dt * d_eps;
                e += self.dt * d_e;
            }
            sigma += self.learning_rate * (eps * e - 1.0);
            if !(sigma.is_finite() && sigma > 0.0) {
                return Err(Error::param(
                    "learning-rate",
                    format!("Σ left (0, ∞) ({sigma}); use a smaller learning rate"),
                ));
            }
            out.push(sigma);
        }
        Ok(out)
    }
}

/// The estimate of `Σ` from a learning curve: the mean over the second half of the trials
/// (the last value alone fluctuates by about `sqrt(α Σ)` around it).
pub fn learned_variance(curve: &[f64]) -> f64 {
    let tail = &curve[curve.len() / 2..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stationarity_is_the_derivative_of_the_log_joint() {
        let m = Perception {
            u: 1.3,
            v_prior: 0.4,
            sigma_p: 0.7,
            sigma_u: 1.9,
        };
        for v in [-1.5, 0.2, 0.9, 2.4] {
            let h = 1e-5;
            let fd = (m.log_joint(v + h) - m.log_joint(v - h)) / (2.0 * h);
            assert!((fd - m.stationarity(v)).abs() < 1e-6, "{v}: {fd}");
        }
    }

    #[test]
    fn the_mode_of_the_tutorial_model_solves_the_cubic() {
        // u = 2, v_p = 3, Σ = 1:  (3 - φ) + 2 φ (2 - φ^2) = 0  <=>  2 φ^3 - 3 φ - 3 = 0.
        let phi = Perception::default().mode().expect("mode");
        assert!((2.0 * phi.powi(3) - 3.0 * phi - 3.0).abs() < 1e-10, "{phi}");
        assert!((phi - 1.567_468_374_852_422).abs() < 1e-10, "{phi}");
    }
}
