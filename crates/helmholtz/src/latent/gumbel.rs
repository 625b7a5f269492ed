//! The Gumbel-Softmax (Concrete) distribution: a differentiable relaxation of categorical samples
//! (Jang, Gu & Poole 2017; Maddison, Mnih & Teh 2017).
//!
//! With class probabilities `pi = softmax(logits)` and i.i.d. standard Gumbel noise
//! `g_i = -log(-log u_i)`, `u_i ~ U(0, 1)`:
//!
//! - Gumbel-max trick: `argmax_i (log pi_i + g_i) ~ Categorical(pi)`, exactly;
//! - Gumbel-Softmax sample: `y_i = exp((log pi_i + g_i) / tau) / sum_j exp((log pi_j + g_j) / tau)`,
//!   a point of the simplex that tends to the one-hot Gumbel-max sample as the temperature
//!   `tau -> 0` and to the uniform vector as `tau -> inf`; it is a differentiable function of
//!   the logits, so `d y / d logits` carries gradient through the sample;
//! - straight-through (ST) estimator: the forward value is the one-hot `argmax y`, the backward
//!   pass uses the gradient of the relaxed `y`; written `y_hard + (y - stop_gradient(y))`, whose
//!   forward value is exactly one-hot because `y - y = 0` in floating point.
//!
//! Temperature annealing as in Jang et al.: `tau(t) = max(tau_min, tau_0 exp(-r t))` at update `t`
//! ([`TauSchedule`]).
//!
//! The noise is drawn on the CPU from an explicit generator ([`gumbel_noise`]), so a seed fixes
//! every sample on every device.
//!
//! # Shapes
//! `logits`, `noise` and samples: `[n, groups, classes]` (`n` examples, each with `groups`
//! independent categorical variables of `classes` categories); softmax runs over the last axis.
//! Per-example quantities ([`kl_to_uniform`], [`log_prob_one_hot`]): `[n]`.
//!
//! # Example
//! ```
//! use burn::prelude::*;
//! use helmholtz::latent::gumbel::{gumbel_noise, gumbel_softmax, straight_through};
//! use rand::SeedableRng;
//! let device = Device::flex();
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let logits = Tensor::<3>::from_data([[[2.0f32, 0.0, -1.0]]], &device);
//! let noise = gumbel_noise([1, 1, 3], &device, &mut rng);
//! let soft = gumbel_softmax(logits, noise, 0.5);
//! let hard = straight_through(soft.clone());
//! let v = hard.into_data().to_vec::<f32>().unwrap();
//! assert_eq!(v.iter().filter(|&&x| x == 1.0).count(), 1); // exactly one-hot
//! assert_eq!(v.iter().filter(|&&x| x == 0.0).count(), 2);
//! ```

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::{log_softmax, softmax};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::kernels::argmax;

/// Standard Gumbel noise `-log(-log u)`, `u ~ U(0, 1)`, drawn on the CPU from `rng`.
pub fn gumbel_noise(dims: [usize; 3], device: &Device, rng: &mut impl Rng) -> Tensor<3> {
    let n = dims.iter().product();
    let values: Vec<f32> = (0..n).map(|_| gumbel(rng) as f32).collect();
    Tensor::from_data(TensorData::new(values, dims), device)
}

/// One standard Gumbel draw; `u` lies strictly inside (0, 1), so the result is finite.
pub fn gumbel(rng: &mut impl Rng) -> f64 {
    // 53 random bits plus one half: u in [2^-54, 1 - 2^-54].
    let u = ((rng.random::<u64>() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    -(-u.ln()).ln()
}

/// A Gumbel-Softmax sample `softmax((logits + noise) / tau)` over the last axis.
///
/// `logits` may be unnormalised: adding a per-group constant (the log-normaliser that turns
/// them into `log pi`) does not change the softmax.
pub fn gumbel_softmax(logits: Tensor<3>, noise: Tensor<3>, tau: f64) -> Tensor<3> {
    softmax((logits + noise).div_scalar(tau), 2)
}

/// The one-hot vectors of the largest entry of each group (a constant: no gradient flows).
pub fn one_hot_argmax(y: &Tensor<3>) -> Tensor<3> {
    let dims = y.dims();
    let classes = dims[2];
    let values = crate::kernels::ops::to_f32_vec(y.clone().inner());
    let mut hard = vec![0f32; values.len()];
    for (src, dst) in values
        .chunks_exact(classes)
        .zip(hard.chunks_exact_mut(classes))
    {
        dst[argmax(src)] = 1.0;
    }
    Tensor::from_data(TensorData::new(hard, dims), &y.device())
}

/// Straight-through sample: forward value `one_hot(argmax y)` exactly, gradient that of `y`.
pub fn straight_through(y_soft: Tensor<3>) -> Tensor<3> {
    let hard = one_hot_argmax(&y_soft);
    hard + (y_soft.clone() - y_soft.detach())
}

/// `KL(q || Uniform(classes))` summed over groups: `sum_{g,k} q_gk log(q_gk * classes)`, `[n]`.
pub fn kl_to_uniform(logits: Tensor<3>) -> Tensor<1> {
    let [n, _, classes] = logits.dims();
    let log_q = log_softmax(logits, 2);
    let q = log_q.clone().exp();
    (q * log_q.add_scalar((classes as f64).ln()))
        .sum_dims_squeeze::<1, _>(&[1, 2])
        .reshape([n])
}

/// `log q(z)` of one-hot `z` under `softmax(logits)`, summed over groups, `[n]`.
pub fn log_prob_one_hot(logits: Tensor<3>, z: Tensor<3>) -> Tensor<1> {
    let n = logits.dims()[0];
    (log_softmax(logits, 2) * z)
        .sum_dims_squeeze::<1, _>(&[1, 2])
        .reshape([n])
}

/// Temperature annealing `tau(t) = max(tau_min, tau0 * exp(-rate * t))` over updates `t`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TauSchedule {
    /// Initial temperature (Jang et al.: 1.0).
    pub tau0: f64,
    /// Floor of the temperature (Jang et al.: 0.5).
    pub tau_min: f64,
    /// Decay rate per update.
    pub rate: f64,
}

impl Default for TauSchedule {
    fn default() -> Self {
        Self {
            tau0: 1.0,
            tau_min: 0.5,
            rate: 3e-5,
        }
    }
}

impl TauSchedule {
    /// Check the values; names in errors are the CLI flags.
    pub fn validate(&self) -> Result<()> {
        check::positive("tau", self.tau0)?;
        check::positive("tau-min", self.tau_min)?;
        check::non_negative("anneal-rate", self.rate)?;
        if self.tau_min > self.tau0 {
            return Err(Error::param(
                "tau-min",
                format!(
                    "the floor of the annealed temperature must not exceed its start tau {} (got {})",
                    self.tau0, self.tau_min
                ),
            ));
        }
        Ok(())
    }

    /// The temperature at update `step` (0-based).
    pub fn at(&self, step: u64) -> f64 {
        (self.tau0 * (-self.rate * step as f64).exp()).max(self.tau_min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_decays_to_its_floor() {
        let s = TauSchedule {
            tau0: 1.0,
            tau_min: 0.5,
            rate: 1e-3,
        };
        assert_eq!(s.at(0), 1.0);
        // exp(-1e-3 * 100) = 0.904837...
        assert!((s.at(100) - (-0.1f64).exp()).abs() < 1e-12);
        assert_eq!(s.at(1_000_000), 0.5);
    }

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[3.0]), 0);
    }
}
