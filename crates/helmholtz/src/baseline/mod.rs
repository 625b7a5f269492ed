//! Maximum-likelihood baselines for binary data (seed 004): fit `P(x | θ)` by minimising the KL
//! divergence from the empirical distribution, which is maximising the likelihood.
//!
//! ```text
//! D_KL(θ) = Σ_x Q̂(x) ln (Q̂(x) / P(x | θ)) = -(1/N) Σ_n ln P(x_n | θ) + const
//! independent Bernoulli:  P(x | p) = Π_i p_i^x_i (1 - p_i)^(1 - x_i)
//!   closed form (additive smoothing A):  p_i = (count_i + A) / (N + 2A)
//!   gradient descent on the logits θ_i (p = sigmoid(θ)):  θ <- θ - ε ∂/∂θ [D_KL + smoothing]
//!     ∂/∂θ_i = ((N + 2A) p_i - count_i - A) / N
//! mixture of Bernoullis:  P(x) = Σ_k π_k Π_i μ_ki^x_i (1 - μ_ki)^(1 - x_i), fitted by EM:
//!   r_nk ∝ π_k P(x_n | μ_k);  π_k = N_k / N;  μ_ki = (Σ_n r_nk x_ni + A) / (N_k + 2A)
//! ```
//!
//! The log-likelihood of a mixture is exact (a log-sum-exp over the components, in f64).
//! Probabilities are kept within `[1e-12, 1 - 1e-12]`, so that a pixel never seen on (with no
//! smoothing) costs a finite 27.6 nats instead of minus infinity.
//!
//! # Shapes
//! `x`: `[n, D]` row-major in {0, 1}; `p`: `[D]`; `means` (μ): `[K, D]`; `weights` (π): `[K]`.

pub mod run;

use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::rng::rng_for;

/// Lowest (and one minus the highest) probability a model keeps.
pub const FLOOR: f64 = 1e-12;

fn clamp(p: f64) -> f64 {
    p.clamp(FLOOR, 1.0 - FLOOR)
}

/// Pixel counts `Σ_n x_ni` of binary rows.
fn counts(x: &[f32], dim: usize) -> Vec<f64> {
    let mut c = vec![0.0; dim];
    for row in x.chunks_exact(dim) {
        for (c, &v) in c.iter_mut().zip(row) {
            *c += f64::from(v);
        }
    }
    c
}

/// Independent Bernoulli pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bernoulli {
    /// `p_i`, `[D]`.
    pub p: Vec<f64>,
}

/// How gradient descent on the KL divergence went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descent {
    /// The model it reached.
    pub model: Bernoulli,
    /// Steps taken.
    pub steps: usize,
    /// `max_i |∂D/∂θ_i|` at the end.
    pub gradient: f64,
}

impl Bernoulli {
    /// The closed form: `p_i = (count_i + A) / (N + 2A)`.
    pub fn closed_form(x: &[f32], dim: usize, smoothing: f64) -> Result<Self> {
        check::non_negative("smoothing", smoothing)?;
        let n = (x.len() / dim.max(1)) as f64;
        let p = counts(x, dim)
            .iter()
            .map(|c| clamp((c + smoothing) / (n + 2.0 * smoothing)))
            .collect();
        Ok(Self { p })
    }

    /// Gradient descent on the logits from `θ = 0` (`p = 1/2`) with step `rate`, until every
    /// component of the gradient is below `tol` or `max_steps` steps.
    pub fn gradient_descent(
        x: &[f32],
        dim: usize,
        smoothing: f64,
        rate: f64,
        tol: f64,
        max_steps: usize,
    ) -> Result<Descent> {
        check::non_negative("smoothing", smoothing)?;
        check::positive("lr", rate)?;
        let n = (x.len() / dim.max(1)) as f64;
        let c = counts(x, dim);
        let mut theta = vec![0.0f64; dim];
        let mut steps = 0;
        let mut worst = f64::INFINITY;
        while steps < max_steps {
            worst = 0.0;
            for (t, c) in theta.iter_mut().zip(&c) {
                let p = 1.0 / (1.0 + (-*t).exp());
                let g = ((n + 2.0 * smoothing) * p - c - smoothing) / n;
                worst = f64::max(worst, g.abs());
                *t -= rate * g;
            }
            steps += 1;
            if worst < tol {
                break;
            }
        }
        let p = theta
            .iter()
            .map(|t| clamp(1.0 / (1.0 + (-t).exp())))
            .collect();
        Ok(Descent {
            model: Self { p },
            steps,
            gradient: worst,
        })
    }

    /// `ln P(x_n)` per row (nats).
    pub fn log_likelihood(&self, x: &[f32]) -> Vec<f64> {
        let (a, c) = log_odds(&self.p);
        x.chunks_exact(self.p.len())
            .map(|row| c + dot_f32(row, &a))
            .collect()
    }
}

/// `a_i = ln p_i - ln (1 - p_i)` and `c = Σ_i ln (1 - p_i)`: `ln P(x) = x·a + c`.
fn log_odds(p: &[f64]) -> (Vec<f64>, f64) {
    let a = p.iter().map(|p| p.ln() - (1.0 - p).ln()).collect();
    let c = p.iter().map(|p| (1.0 - p).ln()).sum();
    (a, c)
}

fn dot_f32(x: &[f32], a: &[f64]) -> f64 {
    x.iter().zip(a).map(|(x, a)| f64::from(*x) * a).sum()
}

/// A mixture of independent Bernoullis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BernoulliMixture {
    /// π, `[K]`.
    pub weights: Vec<f64>,
    /// μ, `[K, D]`.
    pub means: Vec<f64>,
}

/// An EM fit: the model and the objective after each iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmFit {
    /// The best restart's model.
    pub model: BernoulliMixture,
    /// Its objective (mean log-likelihood per example plus the smoothing's log prior, nats)
    /// after the first M-step and after each iteration; with no smoothing, the log-likelihood.
    pub objective: Vec<f64>,
    /// Restart the model comes from (0-based).
    pub restart: usize,
}

/// EM's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmParams {
    /// K.
    pub components: usize,
    /// A (pseudo-counts on and off per pixel).
    pub smoothing: f64,
    /// Independent starts (random responsibilities); the best training objective is kept.
    pub restarts: usize,
    /// Iterations per start at most.
    pub max_iter: usize,
    /// Stop when the objective rises by less (nats per example).
    pub tol: f64,
    /// Seed of the starts.
    pub seed: u64,
}

impl Default for EmParams {
    fn default() -> Self {
        Self {
            components: 10,
            smoothing: 1.0,
            restarts: 3,
            max_iter: 100,
            tol: 1e-6,
            seed: 0,
        }
    }
}

impl BernoulliMixture {
    /// `K` = number of components.
    pub fn components(&self) -> usize {
        self.weights.len()
    }

    /// `ln π_k + ln P(x_n | μ_k)`, `[n, K]`.
    fn joint(&self, x: &[f32]) -> Vec<f64> {
        let k = self.components();
        let dim = self.means.len() / k.max(1);
        let parts: Vec<(Vec<f64>, f64)> = self.means.chunks_exact(dim).map(log_odds).collect();
        let mut out = vec![0.0; x.len() / dim * k];
        out.par_chunks_mut(k)
            .zip(x.par_chunks_exact(dim))
            .for_each(|(o, row)| {
                for (j, (a, c)) in parts.iter().enumerate() {
                    o[j] = self.weights[j].ln() + c + dot_f32(row, a);
                }
            });
        out
    }

    /// `ln P(x_n) = ln Σ_k π_k P(x_n | μ_k)` per row (exact, nats).
    pub fn log_likelihood(&self, x: &[f32]) -> Vec<f64> {
        self.joint(x)
            .chunks_exact(self.components())
            .map(crate::kernels::special::log_sum_exp)
            .collect()
    }

    /// `ln p(k | x_n)`, the log responsibilities, `[n, K]`.
    pub fn log_resp(&self, x: &[f32]) -> Vec<f64> {
        let mut joint = self.joint(x);
        for row in joint.chunks_exact_mut(self.components()) {
            let lse = crate::kernels::special::log_sum_exp(row);
            row.iter_mut().for_each(|v| *v -= lse);
        }
        joint
    }

    /// The M-step from responsibilities `r` (`[n, K]`).
    fn from_resp(x: &[f32], dim: usize, r: &[f64], k: usize, smoothing: f64) -> Self {
        let n = x.len() / dim;
        // Partial sums over blocks of 256 rows (fixed by the data, not the threads), added in
        // block order: the same bits on any number of threads.
        let partials: Vec<(Vec<f64>, Vec<f64>)> = x
            .par_chunks(256 * dim)
            .zip(r.par_chunks(256 * k))
            .map(|(xb, rb)| {
                let mut nk = vec![0.0; k];
                let mut s = vec![0.0; k * dim];
                for (row, rr) in xb.chunks_exact(dim).zip(rb.chunks_exact(k)) {
                    for j in 0..k {
                        nk[j] += rr[j];
                        for (s, &v) in s[j * dim..(j + 1) * dim].iter_mut().zip(row) {
                            *s += rr[j] * f64::from(v);
                        }
                    }
                }
                (nk, s)
            })
            .collect();
        let mut nk = vec![0.0; k];
        let mut s = vec![0.0; k * dim];
        for (pn, ps) in &partials {
            nk.iter_mut().zip(pn).for_each(|(a, b)| *a += b);
            s.iter_mut().zip(ps).for_each(|(a, b)| *a += b);
        }
        let means = (0..k * dim)
            .map(|i| clamp((s[i] + smoothing) / (nk[i / dim] + 2.0 * smoothing)))
            .collect();
        let weights = nk.iter().map(|v| (v / n as f64).max(FLOOR)).collect();
        Self { weights, means }
    }

    /// The objective EM increases: mean log-likelihood plus `A/N Σ_ki [ln μ_ki + ln (1-μ_ki)]`
    /// (the Beta(A+1, A+1) log prior of the smoothing, up to a constant).
    fn objective(&self, x: &[f32], dim: usize, smoothing: f64) -> f64 {
        let n = (x.len() / dim) as f64;
        let ll: f64 = self.log_likelihood(x).iter().sum();
        let prior: f64 = self
            .means
            .iter()
            .map(|m| m.ln() + (1.0 - m).ln())
            .sum::<f64>();
        (ll + smoothing * prior) / n
    }

    /// Fit by EM (see [`EmParams`]).
    pub fn fit(x: &[f32], dim: usize, p: &EmParams) -> Result<EmFit> {
        check::positive_count("components", p.components)?;
        check::positive_count("restarts", p.restarts)?;
        check::non_negative("smoothing", p.smoothing)?;
        check::non_negative("tol", p.tol)?;
        let (n, k) = (x.len() / dim.max(1), p.components);
        if n == 0 {
            return Err(Error::data("data", "no training rows"));
        }
        let mut best: Option<EmFit> = None;
        for restart in 0..p.restarts {
            let mut rng = rng_for(p.seed, &[0x454d, restart as u64]);
            let mut r: Vec<f64> = (0..n * k).map(|_| rng.random::<f64>()).collect();
            for row in r.chunks_exact_mut(k) {
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
            }
            let mut model = Self::from_resp(x, dim, &r, k, p.smoothing);
            let mut objective = vec![model.objective(x, dim, p.smoothing)];
            for _ in 0..p.max_iter {
                for (out, v) in r.iter_mut().zip(model.log_resp(x)) {
                    *out = v.exp();
                }
                model = Self::from_resp(x, dim, &r, k, p.smoothing);
                let f = model.objective(x, dim, p.smoothing);
                let last = objective[objective.len() - 1];
                objective.push(f);
                if f - last < p.tol {
                    break;
                }
            }
            let better = best.as_ref().is_none_or(|b| {
                objective.last().copied().unwrap_or(f64::NEG_INFINITY)
                    > b.objective.last().copied().unwrap_or(f64::NEG_INFINITY)
            });
            if better {
                best = Some(EmFit {
                    model,
                    objective,
                    restart,
                });
            }
        }
        best.ok_or_else(|| Error::param("restarts", "at least one"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = rng_for(seed, &[1]);
        // Two prototypes with flips, so a mixture has something to find.
        (0..n)
            .flat_map(|r| {
                let proto = r % 2;
                (0..dim)
                    .map(|i| {
                        let on = (i % 2 == proto) ^ (rng.random::<f64>() < 0.1);
                        f32::from(u8::from(on))
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn gradient_descent_on_the_kl_reaches_the_closed_form() {
        let x = data(300, 12, 1);
        for a in [0.0, 1.0, 3.5] {
            let exact = Bernoulli::closed_form(&x, 12, a).expect("closed form");
            let gd = Bernoulli::gradient_descent(&x, 12, a, 4.0, 1e-12, 1_000_000).expect("gd");
            let (l1, l2) = (exact.log_likelihood(&x), gd.model.log_likelihood(&x));
            let diff = (l1.iter().sum::<f64>() - l2.iter().sum::<f64>()).abs() / 300.0;
            assert!(diff < 1e-9, "A = {a}: {diff}");
        }
    }

    #[test]
    fn one_component_is_the_independent_model_and_em_never_lowers_its_objective() {
        let x = data(200, 10, 2);
        for a in [0.0, 1.0] {
            let one = BernoulliMixture::fit(
                &x,
                10,
                &EmParams {
                    components: 1,
                    smoothing: a,
                    ..EmParams::default()
                },
            )
            .expect("K = 1");
            let ind = Bernoulli::closed_form(&x, 10, a).expect("independent");
            assert_eq!(one.model.means, ind.p);
            assert_eq!(one.model.log_likelihood(&x), ind.log_likelihood(&x));
            let fit = BernoulliMixture::fit(
                &x,
                10,
                &EmParams {
                    components: 4,
                    smoothing: a,
                    tol: 0.0,
                    max_iter: 60,
                    restarts: 3,
                    seed: 5,
                },
            )
            .expect("K = 4");
            for w in fit.objective.windows(2) {
                assert!(w[1] >= w[0] - 1e-12, "A = {a}: {} -> {}", w[0], w[1]);
            }
            // Two prototypes: the mixture explains the data far better than one component.
            let gain = fit.model.log_likelihood(&x).iter().sum::<f64>() / 200.0
                - ind.log_likelihood(&x).iter().sum::<f64>() / 200.0;
            assert!(gain > 2.0, "{gain}");
        }
    }

    #[test]
    fn the_mixture_likelihood_sums_to_one_over_every_binary_vector() {
        let x = data(50, 6, 3);
        let fit = BernoulliMixture::fit(
            &x,
            6,
            &EmParams {
                components: 3,
                ..EmParams::default()
            },
        )
        .expect("fit");
        let all: Vec<f32> = (0..64u32)
            .flat_map(|s| (0..6).map(move |i| f32::from(u8::from(s >> i & 1 == 1))))
            .collect();
        let total: f64 = fit.model.log_likelihood(&all).iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }
}
