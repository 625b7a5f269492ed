//! Acceptance rules of single-unit Markov-chain updates.

use crate::keywords::keywords;
use serde::{Deserialize, Serialize};

/// Which local update rule a sampler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Sampler {
    /// Propose a flip, accept with `min(1, exp(-beta dE))`.
    #[default]
    Metropolis,
    /// Draw the unit from its conditional distribution (Gibbs sampling).
    HeatBath,
}

keywords!(Sampler, "sampler", {
    Metropolis => "metropolis",
    HeatBath => "heat-bath" | "heatbath" | "gibbs",
});

/// Metropolis acceptance probability `min(1, exp(-beta dE))`.
pub fn metropolis_acceptance(delta_e: f64, beta: f64) -> f64 {
    if delta_e <= 0.0 {
        1.0
    } else {
        (-beta * delta_e).exp()
    }
}

/// Heat-bath probability of accepting a flip with energy change `dE`: `1 / (1 + exp(beta dE))`.
pub fn heat_bath_flip(delta_e: f64, beta: f64) -> f64 {
    let x = beta * delta_e;
    if x >= 0.0 {
        let e = (-x).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + x.exp())
    }
}

/// Heat-bath probability that a binary unit with input `field` is on at temperature `T`:
/// `sigmoid(field / T)`. At `T -> 0` this becomes the Hopfield step rule.
pub fn heat_bath_on(field: f64, temperature: f64) -> f64 {
    heat_bath_flip(-field, 1.0 / temperature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_rules_satisfy_detailed_balance() {
        // For two states with energies 0 and dE: p(0) P(0 -> 1) = p(1) P(1 -> 0).
        for &de in &[-3.0f64, -0.5, 0.0, 0.7, 4.0] {
            for &beta in &[0.1, 1.0, 2.5] {
                let (p0, p1) = (1.0, (-beta * de).exp());
                for rule in [metropolis_acceptance, heat_bath_flip] {
                    let lhs = p0 * rule(de, beta);
                    let rhs = p1 * rule(-de, beta);
                    assert!((lhs - rhs).abs() < 1e-12, "dE {de} beta {beta}");
                }
            }
        }
    }

    #[test]
    fn heat_bath_on_is_the_seed_sigmoid() {
        for &(i, t) in &[(1.0f64, 1.0f64), (-2.0, 0.5), (3.0, 4.0)] {
            let want = 1.0 / (1.0 + (-i / t).exp());
            assert!((heat_bath_on(i, t) - want).abs() < 1e-12);
        }
    }
}
