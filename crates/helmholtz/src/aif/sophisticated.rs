//! Sophisticated inference: expected free energy over beliefs updated along each branch of
//! actions and outcomes (Friston, Da Costa, Hafner, Hesp & Parr 2021).
//!
//! ```text
//! G(u | q) = G_1(u | q) + sum_o p(o | u, q) sum_u' q(u' | q_{u,o}) G(u' | q_{u,o})   to depth D
//! q_{u,o} = the posterior after action u and outcome o (fixed-point iteration from B_u q)
//! q(u | q) = softmax(gamma G(u | q))
//! ```
//!
//! Plain expected free energy scores a policy of fixed actions with beliefs that never see the
//! outcomes along the way, so it cannot value information that only pays off through a later
//! choice; here each later action is chosen knowing the outcomes before it. Outcome
//! combinations with probability `< 1/16` are not expanded, as in pymdp's
//! `sophisticated_inference_search`. pymdp also prunes every action whose one-step `q(u)` is
//! below 1/16 (it loses 512 nats): that discards exactly the actions whose value lies further
//! ahead (the costly cue of `tmaze-absorbing`), so here `policy_prune` is 0 by default.

use serde::{Deserialize, Serialize};

use super::perception::fpi;
use super::planning::{EfeTerms, Policies, PolicyPosterior, Scratch, StepTerms, step_terms};
use super::tables::{Tables, joint, softmax};
use crate::error::{Error, Result, check};

/// Depth and pruning of the search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SophisticatedConfig {
    /// Actions looked ahead (pymdp's `si_horizon`).
    pub depth: usize,
    /// Actions whose one-step `q(u)` is below this are not expanded (pymdp: 1/16; default 0).
    pub policy_prune: f64,
    /// Outcome combinations with probability below this are not expanded.
    pub outcome_prune: f64,
    /// Subtracted from `G` of a pruned action.
    pub prune_penalty: f64,
}

impl Default for SophisticatedConfig {
    fn default() -> Self {
        Self {
            depth: 2,
            policy_prune: 0.0,
            outcome_prune: 1.0 / 16.0,
            prune_penalty: 512.0,
        }
    }
}

impl SophisticatedConfig {
    /// Check the settings.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("depth", self.depth)?;
        if self.depth > 8 {
            return Err(Error::param(
                "depth",
                "at most 8 (the tree grows as (actions x outcomes)^depth)",
            ));
        }
        check::non_negative("policy-prune", self.policy_prune)?;
        check::non_negative("outcome-prune", self.outcome_prune)?;
        Ok(())
    }
}

/// `G` of each first action by the recursive search, and `q(u) = softmax(gamma G)`;
/// `utility` and `info_gain` are the first step's terms.
pub fn search(
    t: &Tables,
    policies: &Policies,
    terms: EfeTerms,
    qs: &[Vec<f64>],
    gamma: f64,
    cfg: &SophisticatedConfig,
    fpi_settings: (usize, f64),
) -> PolicyPosterior {
    let search = Search {
        t,
        actions: &policies.joint_actions,
        terms,
        gamma,
        cfg,
        fpi_settings,
    };
    let (q_pi, neg_efe, first) = search.level(qs, 0, &mut Scratch::default());
    PolicyPosterior {
        utility: first.iter().map(|s| s.utility).collect(),
        info_gain: first.iter().map(|s| s.info_gain).collect(),
        novelty: first.iter().map(|s| s.novelty).collect(),
        neg_efe,
        q_pi,
    }
}

/// What stays fixed down the tree.
struct Search<'a> {
    t: &'a Tables,
    actions: &'a [Vec<usize>],
    terms: EfeTerms,
    gamma: f64,
    cfg: &'a SophisticatedConfig,
    fpi_settings: (usize, f64),
}

impl Search<'_> {
    /// `(q(u), G(u), first-step terms)` of every joint action from beliefs `qs` at depth `n`.
    fn level(
        &self,
        qs: &[Vec<f64>],
        n: usize,
        scratch: &mut Scratch,
    ) -> (Vec<f64>, Vec<f64>, Vec<StepTerms>) {
        let (t, cfg) = (self.t, self.cfg);
        let predicted: Vec<Vec<Vec<f64>>> = self.actions.iter().map(|u| t.predict(qs, u)).collect();
        let parts: Vec<StepTerms> = self
            .actions
            .iter()
            .zip(&predicted)
            .map(|(u, next)| step_terms(t, self.terms, next, qs, u, scratch))
            .collect();
        let mut g: Vec<f64> = parts.iter().map(StepTerms::total).collect();
        let scaled = |g: &[f64]| softmax(&g.iter().map(|x| x * self.gamma).collect::<Vec<_>>());
        let q = scaled(&g);
        if n + 1 < cfg.depth {
            for k in 0..self.actions.len() {
                if q[k] < cfg.policy_prune {
                    g[k] -= cfg.prune_penalty;
                    continue;
                }
                // Predicted outcomes per modality under action k.
                let mut qx = Vec::new();
                joint(&predicted[k], &mut qx);
                let qo: Vec<Vec<f64>> = (0..t.num_obs.len())
                    .map(|m| {
                        let mut o = vec![0.0; t.num_obs[m]];
                        t.a[m].apply(&qx, &mut o);
                        o
                    })
                    .collect();
                let mut combo = vec![0usize; qo.len()];
                loop {
                    let prob: f64 = combo.iter().enumerate().map(|(m, &o)| qo[m][o]).product();
                    if prob >= cfg.outcome_prune {
                        let (iters, tol) = self.fpi_settings;
                        let post = fpi(t, &combo, &predicted[k], iters, tol);
                        let (q_next, g_next, _) = self.level(&post.qs, n + 1, scratch);
                        let expected: f64 = q_next.iter().zip(&g_next).map(|(a, b)| a * b).sum();
                        g[k] += expected * prob;
                    }
                    if !next_combination(&mut combo, &t.num_obs) {
                        break;
                    }
                }
            }
        }
        (scaled(&g), g, parts)
    }
}

/// Step `combo` to the next combination (the last entry fastest); false after the last.
pub(crate) fn next_combination(combo: &mut [usize], sizes: &[usize]) -> bool {
    for m in (0..combo.len()).rev() {
        combo[m] += 1;
        if combo[m] < sizes[m] {
            return true;
        }
        combo[m] = 0;
    }
    false
}
