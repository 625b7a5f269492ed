//! Welling & Teh's (2011) toy posterior: `θ₁ ~ N(0, 10)`, `θ₂ ~ N(0, 1)` (variances),
//! `x_i ~ ½ N(θ₁, 2) + ½ N(θ₁ + θ₂, 2)`. With 100 points drawn at `θ = (0, 1)` the posterior
//! has two modes, near `(0, 1)` and `(1, -1)`.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::distributions::{Normal, log_sum_exp};
use super::model::{LogJoint, Param, Support, batch_and_scale};

/// The mixture model on its data.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyMixture {
    /// Observations.
    pub x: Vec<f64>,
}

impl ToyMixture {
    /// `n` points drawn at `θ = (0, 1)`.
    pub fn generate(n: usize, rng: &mut impl Rng) -> Self {
        let x = (0..n)
            .map(|_| {
                let mean = if rng.random::<bool>() { 0.0 } else { 1.0 };
                mean + 2f64.sqrt() * rng.sample::<f64, _>(StandardNormal)
            })
            .collect();
        Self { x }
    }
}

impl LogJoint for ToyMixture {
    fn params(&self) -> Vec<Param> {
        vec![
            Param::new("theta1", Support::Real, 0.0),
            Param::new("theta2", Support::Real, 0.0),
        ]
    }

    fn len(&self) -> usize {
        self.x.len()
    }

    fn log_joint(&self, theta: &[f64], batch: Option<&[usize]>, grad: &mut [f64]) -> f64 {
        let p1 = Normal {
            loc: 0.0,
            scale: 10f64.sqrt(),
        };
        let p2 = Normal {
            loc: 0.0,
            scale: 1.0,
        };
        let mut lp = p1.log_prob(theta[0]) + p2.log_prob(theta[1]);
        grad[0] = p1.score(theta[0]);
        grad[1] = p2.score(theta[1]);
        let (idx, scale) = batch_and_scale(batch, self.len());
        let s = 2f64.sqrt();
        let (a, b) = (
            Normal {
                loc: theta[0],
                scale: s,
            },
            Normal {
                loc: theta[0] + theta[1],
                scale: s,
            },
        );
        for &i in idx.iter() {
            let x = self.x[i];
            let (la, lb) = (a.log_prob(x), b.log_prob(x));
            let l = log_sum_exp(&[la, lb]) - std::f64::consts::LN_2;
            lp += scale * l;
            // Responsibilities weight each component's score.
            let (ra, rb) = ((la - l).exp() * 0.5, (lb - l).exp() * 0.5);
            let (sa, sb) = ((x - a.loc) / 2.0, (x - b.loc) / 2.0);
            grad[0] += scale * (ra * sa + rb * sb);
            grad[1] += scale * rb * sb;
        }
        lp
    }
}
