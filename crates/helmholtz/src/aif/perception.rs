//! Perception: the posterior over hidden states that minimises the variational free energy.
//!
//! With a mean-field posterior `q(s) = prod_f q_f(s_f)`, a prior `p(s) = prod_f p_f(s_f)` (D at
//! the first step, then `B q` for the action taken) and outcomes `o_m`:
//!
//! ```text
//! F[q] = sum_f KL(q_f || p_f) - E_q[ sum_m ln A_m(o_m | s) ]      complexity - accuracy
//!      = -ln p(o) + KL(q || p(s | o))  >=  -ln p(o)
//! ```
//!
//! **Fixed-point iteration** (pymdp's `VANILLA`): with one factor the minimiser in closed form,
//! `q = softmax(ln p + sum_m ln A_m(o_m | .))`, Bayes' rule; with several, every factor at once
//! `q_f <- softmax(ln p_f + E_{q_{-f}}[sum_m ln A_m(o_m | s)])` until 10 iterations or a change
//! of `F` below `1e-3` (the first change measured from the uniform start's prior term, as
//! pymdp). **Marginal message passing** (pymdp's `MMP`): beliefs over a window of past and
//! future steps under each policy, each a gradient step of size `tau` on the log posterior
//! from forward (`B q_{t-1}`), backward (`B^T q_{t+1}`, halved) and likelihood messages.
//! All logarithms of probabilities are `ln(x + 1e-16)`, as pymdp's.

use serde::{Deserialize, Serialize};

use super::tables::{Tables, dot, joint, ln_eps, marginal_expectation, softmax_in_place};

/// The variational free energy of a posterior and its two parts, in nats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FreeEnergy {
    /// `F = complexity - accuracy`.
    pub vfe: f64,
    /// `sum_f KL(q_f || p_f)`.
    pub complexity: f64,
    /// `E_q[ln p(o | s)]`.
    pub accuracy: f64,
}

/// `sum_m ln(A_m(o_m | s) + 1e-16)` over joint states.
pub fn log_likelihood(t: &Tables, obs: &[usize]) -> Vec<f64> {
    let mut ll = vec![0.0; t.joint];
    for (m, &o) in obs.iter().enumerate() {
        for (l, &a) in ll.iter_mut().zip(t.likelihood(m, o)) {
            *l += ln_eps(a);
        }
    }
    ll
}

/// `F[q]` (pymdp's `calc_free_energy`) for `ln_prior = ln(p_f + 1e-16)` and the joint log
/// likelihood `ll` (none: the prior terms only).
pub fn free_energy(qs: &[Vec<f64>], ln_prior: &[Vec<f64>], ll: Option<&[f64]>) -> FreeEnergy {
    let complexity = qs
        .iter()
        .zip(ln_prior)
        .map(|(q, lp)| {
            q.iter()
                .zip(lp)
                .map(|(&qi, &l)| qi * (qi + 1e-16).ln() - qi * l)
                .sum::<f64>()
        })
        .sum();
    let accuracy = ll.map_or(0.0, |ll| {
        let mut qx = Vec::new();
        joint(qs, &mut qx);
        dot(ll, &qx)
    });
    FreeEnergy {
        vfe: complexity - accuracy,
        complexity,
        accuracy,
    }
}

/// The result of state inference at one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateBeliefs {
    /// `q(s_f)` per factor.
    pub qs: Vec<Vec<f64>>,
    /// Free energy at `qs`, relative to the empirical prior (under marginal message passing:
    /// pymdp's free energy of the window, averaged over policies by `q(pi)`).
    pub vfe: f64,
    /// Its complexity and accuracy (fixed-point iteration only).
    pub parts: Option<FreeEnergy>,
    /// Fixed-point iterations run (0 when one factor: the closed form).
    pub iterations: usize,
}

/// Fixed-point iteration: the posterior over states given `obs` (one index per modality) and
/// `prior` (one distribution per factor), stopping after `max_iter` iterations or when `F`
/// changes by less than `tol`.
pub fn fpi(
    t: &Tables,
    obs: &[usize],
    prior: &[Vec<f64>],
    max_iter: usize,
    tol: f64,
) -> StateBeliefs {
    let ll = log_likelihood(t, obs);
    let ln_prior: Vec<Vec<f64>> = prior
        .iter()
        .map(|p| p.iter().map(|&x| ln_eps(x)).collect())
        .collect();
    let uniform: Vec<Vec<f64>> = t
        .num_states
        .iter()
        .map(|&n| vec![1.0 / n as f64; n])
        .collect();
    if t.num_states.len() == 1 {
        let mut q: Vec<f64> = ll.iter().zip(&ln_prior[0]).map(|(l, p)| l + p).collect();
        softmax_in_place(&mut q);
        let qs = vec![q];
        let parts = free_energy(&qs, &ln_prior, Some(&ll));
        return StateBeliefs {
            qs,
            vfe: parts.vfe,
            parts: Some(parts),
            iterations: 0,
        };
    }
    let mut qs = uniform;
    let mut prev = free_energy(&qs, &ln_prior, None).vfe;
    let mut change = 1.0;
    let mut iterations = 0;
    let mut current = free_energy(&qs, &ln_prior, Some(&ll));
    while iterations < max_iter && change >= tol {
        let next: Vec<Vec<f64>> = (0..qs.len())
            .map(|f| {
                let mut q = marginal_expectation(&ll, &qs, &t.num_states, f);
                for (v, p) in q.iter_mut().zip(&ln_prior[f]) {
                    *v += p;
                }
                softmax_in_place(&mut q);
                q
            })
            .collect();
        qs = next;
        current = free_energy(&qs, &ln_prior, Some(&ll));
        change = (prev - current.vfe).abs();
        prev = current.vfe;
        iterations += 1;
    }
    StateBeliefs {
        qs,
        vfe: current.vfe,
        parts: Some(current),
        iterations,
    }
}

/// Settings of marginal message passing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MmpConfig {
    /// Past observations in the window (pymdp's `inference_horizon`).
    pub horizon: usize,
    /// Sweeps over the window.
    pub iterations: usize,
    /// Step size of the gradient descent on log beliefs.
    pub tau: f64,
}

impl Default for MmpConfig {
    fn default() -> Self {
        Self {
            horizon: 2,
            iterations: 10,
            tau: 0.25,
        }
    }
}

/// Marginal message passing under one policy (pymdp's `run_mmp_factorized` with every
/// modality depending on every factor): `obs` the window's observations, `actions` one row
/// per transition (the past actions, then the policy's), `prior` the beliefs before the
/// window. Returns beliefs `[time][factor][state]` over the window and the future, and the
/// free energy of the last sweep.
pub fn mmp(
    t: &Tables,
    obs: &[Vec<usize>],
    actions: &[Vec<usize>],
    future_len: usize,
    prior: &[Vec<f64>],
    cfg: MmpConfig,
) -> (Vec<Vec<Vec<f64>>>, f64) {
    let past_len = obs.len();
    let infer_len = past_len + future_len;
    let future_cutoff = (past_len + future_len).saturating_sub(2);
    let factors = t.num_states.len();
    let mut qs: Vec<Vec<Vec<f64>>> = (0..infer_len)
        .map(|_| {
            t.num_states
                .iter()
                .map(|&n| vec![1.0 / n as f64; n])
                .collect()
        })
        .collect();
    let mut free = 0.0;
    for _ in 0..cfg.iterations {
        free = 0.0;
        for tt in 0..infer_len {
            for f in 0..factors {
                let n = t.num_states[f];
                let mut ln_a = vec![0.0; n];
                if tt < past_len {
                    for (m, &o) in obs[tt].iter().enumerate() {
                        let e = marginal_expectation(t.likelihood(m, o), &qs[tt], &t.num_states, f);
                        for (l, v) in ln_a.iter_mut().zip(e) {
                            *l += ln_eps(v);
                        }
                    }
                }
                let ln_past: Vec<f64> = if tt == 0 {
                    prior[f].iter().map(|&x| ln_eps(x)).collect()
                } else {
                    let mut msg = vec![0.0; n];
                    t.transition(f, actions[tt - 1][f], &qs[tt - 1][f], &mut msg);
                    msg.into_iter().map(ln_eps).collect()
                };
                let ln_future: Vec<f64> = if tt >= future_cutoff {
                    vec![0.0; n]
                } else {
                    let m = &t.b_back[f][actions[tt][f]];
                    let next = &qs[tt + 1][f];
                    (0..n)
                        .map(|j| 0.5 * ln_eps(dot(&m[j * n..(j + 1) * n], next)))
                        .collect()
                };
                let sx = qs[tt][f].clone();
                let coeff = if tt >= future_cutoff { 1.0 } else { 2.0 };
                let mut lnq: Vec<f64> = sx.iter().map(|&x| ln_eps(x)).collect();
                let err: Vec<f64> = (0..n)
                    .map(|k| coeff * ln_a[k] + ln_past[k] + ln_future[k] - coeff * lnq[k])
                    .collect();
                let mean = err.iter().sum::<f64>() / n as f64;
                for (l, e) in lnq.iter_mut().zip(&err) {
                    *l += cfg.tau * (e - mean);
                }
                softmax_in_place(&mut lnq);
                qs[tt][f] = lnq;
                if tt == 0 || tt == infer_len - 1 {
                    free += sx.iter().zip(&err).map(|(s, e)| s * 0.5 * e).sum::<f64>();
                } else {
                    let k = (factors - 1) as f64 / factors as f64;
                    free += (0..n)
                        .map(|i| sx[i] * 0.5 * (err[i] - k * ln_a[i]))
                        .sum::<f64>();
                }
            }
        }
    }
    (qs, free)
}

#[cfg(test)]
mod tests {
    use super::super::model::Pomdp;
    use super::*;
    use serde_json::json;

    fn one_factor() -> Tables {
        let m = Pomdp::from_json(&json!({
            "A": [[[0.7, 0.1, 0.3], [0.2, 0.6, 0.3], [0.1, 0.3, 0.4]],
                  [[0.9, 0.5, 0.2], [0.1, 0.5, 0.8]]],
            "B": [[[[1.0], [0.0], [0.0]], [[0.0], [1.0], [0.0]], [[0.0], [0.0], [1.0]]]],
        }))
        .expect("valid");
        Tables::new(&m, false)
    }

    #[test]
    fn one_factor_posterior_is_bayes_rule_and_its_free_energy_is_the_surprise() {
        let t = one_factor();
        let prior = vec![vec![0.5, 0.3, 0.2]];
        let obs = [1, 0];
        let b = fpi(&t, &obs, &prior, 10, 1e-3);
        let joint: Vec<f64> = (0..3)
            .map(|s| prior[0][s] * t.likelihood(0, 1)[s] * t.likelihood(1, 0)[s])
            .collect();
        let evidence: f64 = joint.iter().sum();
        for (q, j) in b.qs[0].iter().zip(&joint) {
            assert!((q - j / evidence).abs() < 1e-12);
        }
        assert!((b.vfe + evidence.ln()).abs() < 1e-12);
        // Any other q has a larger free energy.
        let ln_prior = vec![prior[0].iter().map(|&x| ln_eps(x)).collect::<Vec<_>>()];
        let ll = log_likelihood(&t, &obs);
        for other in [[0.2, 0.5, 0.3], [0.34, 0.33, 0.33], [0.9, 0.05, 0.05]] {
            let f = free_energy(&[other.to_vec()], &ln_prior, Some(&ll)).vfe;
            assert!(f > b.vfe + 1e-6);
        }
        let parts = b.parts.expect("valid");
        assert!((parts.vfe - (parts.complexity - parts.accuracy)).abs() < 1e-12);
    }
}
