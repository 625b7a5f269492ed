//! The Boltzmann machine of the seed: a fully connected symmetric network of stochastic binary
//! units, the first `V` visible and the rest hidden.
//!
//! `E(u) = -sum_{i<j} w_ij u_i u_j - sum_i b_i u_i`, `p(u) = exp(-E(u) / T) / Z`, and each unit is
//! on with the heat-bath probability `p(u_i = 1 | rest) = sigmoid(I_i / T)`, `I_i = sum_j w_ij u_j + b_i`
//! (the Hopfield network is the `T -> 0` limit).
//!
//! # Shapes
//! `w`: `[n, n]` row-major, symmetric, zero diagonal; `b`, states: `[n]`, `n = visible + hidden`.
//! A state index `s` has unit `i` on when bit `i` of `s` is set (visible units are the low bits).

use rand::{Rng, RngExt};
use rand_distr::{Distribution as _, Normal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::sampling::heat_bath_on;

/// Architecture of a Boltzmann machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoltzmannConfig {
    /// Visible units.
    pub visible: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Standard deviation of the initial weights.
    pub init_std: f64,
}

impl BoltzmannConfig {
    /// Units in total.
    pub fn units(&self) -> usize {
        self.visible.saturating_add(self.hidden)
    }

    /// Check the values (names are CLI flags).
    pub fn validate(&self) -> Result<()> {
        check::positive_count("visible", self.visible)?;
        check::non_negative("init-std", self.init_std)?;
        if self.units() > 63 {
            return Err(Error::param(
                "hidden",
                format!(
                    "{} units is more than the 63 this implementation indexes",
                    self.units()
                ),
            ));
        }
        Ok(())
    }
}

/// A Boltzmann machine.
#[derive(Debug, Clone, PartialEq)]
pub struct BoltzmannMachine {
    config: BoltzmannConfig,
    w: Vec<f64>,
    b: Vec<f64>,
}

impl BoltzmannMachine {
    /// Weights `~ N(0, init_std^2)` (symmetric, zero diagonal), biases zero.
    pub fn new(config: BoltzmannConfig, rng: &mut impl Rng) -> Result<Self> {
        config.validate()?;
        let n = config.units();
        let normal = Normal::new(0.0, config.init_std.max(1e-300))
            .map_err(|e| Error::param("init-std", e.to_string()))?;
        let mut w = vec![0f64; n * n];
        for i in 0..n {
            for j in 0..i {
                let v = if config.init_std > 0.0 {
                    normal.sample(rng)
                } else {
                    0.0
                };
                w[i * n + j] = v;
                w[j * n + i] = v;
            }
        }
        Ok(Self {
            config,
            w,
            b: vec![0.0; n],
        })
    }

    /// A machine from given weights and biases (checked: square, symmetric, zero diagonal).
    pub fn from_parts(config: BoltzmannConfig, w: Vec<f64>, b: Vec<f64>) -> Result<Self> {
        config.validate()?;
        let n = config.units();
        if w.len() != n * n || b.len() != n {
            return Err(Error::ShapeMismatch {
                what: "Boltzmann weights and biases".into(),
                expected: vec![n * n, n],
                got: vec![w.len(), b.len()],
            });
        }
        for i in 0..n {
            if w[i * n + i] != 0.0 || (0..i).any(|j| w[i * n + j] != w[j * n + i]) {
                return Err(Error::data(
                    "Boltzmann weights",
                    "must be symmetric with a zero diagonal",
                ));
            }
        }
        Ok(Self { config, w, b })
    }

    /// The architecture.
    pub fn config(&self) -> &BoltzmannConfig {
        &self.config
    }

    /// Units in total.
    pub fn units(&self) -> usize {
        self.config.units()
    }

    /// Weights `[n, n]`.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// Biases `[n]`.
    pub fn biases(&self) -> &[f64] {
        &self.b
    }

    /// Add `lr * (gw, gb)` to the parameters, keeping `w` symmetric with a zero diagonal.
    pub fn ascend(&mut self, gw: &[f64], gb: &[f64], lr: f64) {
        let n = self.units();
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    self.w[i * n + j] += lr * 0.5 * (gw[i * n + j] + gw[j * n + i]);
                }
            }
            self.b[i] += lr * gb[i];
        }
    }

    /// `E(u)` for a 0/1 state.
    pub fn energy(&self, u: &[u8]) -> f64 {
        let n = self.units();
        let mut e = 0.0;
        for i in 0..n {
            if u[i] == 0 {
                continue;
            }
            e -= self.b[i];
            e -= (i + 1..n)
                .filter(|&j| u[j] != 0)
                .map(|j| self.w[i * n + j])
                .sum::<f64>();
        }
        e
    }

    /// Input `I_i = sum_j w_ij u_j + b_i`.
    pub fn input(&self, u: &[u8], i: usize) -> f64 {
        let n = self.units();
        self.b[i]
            + (0..n)
                .filter(|&j| u[j] != 0)
                .map(|j| self.w[i * n + j])
                .sum::<f64>()
    }

    /// One systematic-scan Gibbs sweep at temperature `t` over units `from..n` (units before
    /// `from` are clamped, e.g. the visible units in the clamped phase).
    pub fn gibbs_sweep(&self, u: &mut [u8], t: f64, from: usize, rng: &mut impl Rng) {
        for i in from..self.units() {
            let p = heat_bath_on(self.input(u, i), t);
            u[i] = u8::from(rng.random::<f64>() < p);
        }
    }
}

/// The 0/1 units of state index `s` (bit `i` is unit `i`).
pub fn state_bits(s: u64, n: usize) -> Vec<u8> {
    (0..n).map(|i| ((s >> i) & 1) as u8).collect()
}

/// The state index of a 0/1 vector.
pub fn state_index(u: &[u8]) -> u64 {
    u.iter().enumerate().map(|(i, &x)| u64::from(x) << i).sum()
}
