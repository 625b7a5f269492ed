//! Planning: the expected free energy of policies and the posterior over them.
//!
//! A policy `pi` is a sequence of `policy_len` joint actions (one control per factor). Its
//! predicted beliefs are `q(s_{tau} | pi) = B_{u_tau} q(s_{tau-1} | pi)` and outcomes
//! `q(o_tau | pi) = A q(s_tau | pi)`. pymdp's sign convention is kept: `G` here is the
//! *negative* expected free energy, larger is better,
//!
//! ```text
//! G(pi) = sum_tau  E_q(o|pi)[ln softmax(C)]                     utility (pragmatic value)
//!                + sum_m I(o_m; s | pi)                           state information gain
//!                + E[novelty of pA] + E[novelty of pB]             parameter information gain
//! I(o_m; s) = H[A_m q(s)] - E_q(s)[H[A_m(. | s)]]
//! q(pi) = softmax(gamma G(pi) + ln E)
//! ```
//!
//! Policies are listed as pymdp's `construct_policies` lists them: the Cartesian product of the
//! controls of every factor at every step, time-major, the last entry varying fastest. Every
//! term of `G` at step `tau` depends only on the policy's first `tau` actions, so the terms are
//! computed once per node of the tree of policy prefixes (`5 + 25 + 125` nodes for 125
//! policies of length 3 instead of `3 x 125`).

use serde::{Deserialize, Serialize};

use super::tables::{EXP_M16, Matrix, Tables, dot, joint, ln_eps, matvec, softmax_in_place};

/// Every policy of a given length, in `construct_policies` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Policies {
    /// Steps per policy.
    pub len: usize,
    /// Controls per factor (1 for an uncontrolled factor).
    pub num_controls: Vec<usize>,
    /// The joint actions of one step, in product order (first factor slowest).
    pub joint_actions: Vec<Vec<usize>>,
}

impl Policies {
    /// The policies of `len` steps over factors with `num_controls` controls each.
    pub fn new(num_controls: &[usize], len: usize) -> Self {
        let mut joint_actions = vec![Vec::new()];
        for &n in num_controls {
            joint_actions = joint_actions
                .into_iter()
                .flat_map(|prefix| {
                    (0..n).map(move |u| {
                        let mut a = prefix.clone();
                        a.push(u);
                        a
                    })
                })
                .collect();
        }
        Self {
            len,
            num_controls: num_controls.to_vec(),
            joint_actions,
        }
    }

    /// Number of policies.
    pub fn count(&self) -> usize {
        self.joint_actions.len().pow(self.len as u32)
    }

    /// Policy `k` as `[step][factor]` actions.
    pub fn policy(&self, mut k: usize) -> Vec<Vec<usize>> {
        let n = self.joint_actions.len();
        let mut steps = vec![Vec::new(); self.len];
        for t in (0..self.len).rev() {
            steps[t] = self.joint_actions[k % n].clone();
            k /= n;
        }
        steps
    }

    /// Every policy, `[policy][step][factor]`.
    pub fn all(&self) -> Vec<Vec<Vec<usize>>> {
        (0..self.count()).map(|k| self.policy(k)).collect()
    }
}

/// The negative expected free energy of every policy, its parts and the posterior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyPosterior {
    /// `G(pi)`, the negative expected free energy (larger is better).
    pub neg_efe: Vec<f64>,
    /// Its utility part.
    pub utility: Vec<f64>,
    /// Its state information gain part.
    pub info_gain: Vec<f64>,
    /// Its parameter information gain part (0 without `pA`/`pB`).
    pub novelty: Vec<f64>,
    /// `q(pi)`.
    pub q_pi: Vec<f64>,
}

/// Which terms of the expected free energy to include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EfeTerms {
    /// The utility (pragmatic value).
    pub utility: bool,
    /// The state information gain (epistemic value).
    pub info_gain: bool,
    /// The parameter information gain (novelty), when `pA`/`pB` are given.
    pub novelty: bool,
}

impl Default for EfeTerms {
    fn default() -> Self {
        Self {
            utility: true,
            info_gain: true,
            novelty: true,
        }
    }
}

/// The three terms of `G` at one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepTerms {
    /// Utility.
    pub utility: f64,
    /// State information gain.
    pub info_gain: f64,
    /// Parameter information gain.
    pub novelty: f64,
}

impl StepTerms {
    fn add(self, o: Self) -> Self {
        Self {
            utility: self.utility + o.utility,
            info_gain: self.info_gain + o.info_gain,
            novelty: self.novelty + o.novelty,
        }
    }

    /// `utility + info_gain + novelty`.
    pub fn total(&self) -> f64 {
        self.utility + self.info_gain + self.novelty
    }
}

/// Work buffers of the step terms.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    qx: Vec<f64>,
    qx_cut: Vec<f64>,
    qo: Vec<f64>,
    wq: Vec<f64>,
    bq: Vec<f64>,
}

/// The terms of `G` at a step with predicted beliefs `qs` (per factor); `previous` and
/// `action` (the beliefs before the step and the step's joint action) for `pB`'s novelty.
pub fn step_terms(
    t: &Tables,
    terms: EfeTerms,
    qs: &[Vec<f64>],
    previous: &[Vec<f64>],
    action: &[usize],
    scratch: &mut Scratch,
) -> StepTerms {
    let Scratch {
        qx,
        qx_cut,
        qo,
        wq,
        bq,
    } = scratch;
    joint(qs, qx);
    let w_a = t.w_a.as_deref().filter(|_| terms.novelty);
    let rows = Rows {
        a: &t.a,
        neg_entropy: &t.neg_entropy,
    };
    let mut out = if qx.iter().any(|&p| p <= EXP_M16) {
        // pymdp's spm_MDP_G: states with q(s) <= e^-16 are left out of both terms of the
        // information gain (not of the utility or the novelty).
        qx_cut.clear();
        qx_cut.extend(qx.iter().map(|&p| if p > EXP_M16 { p } else { 0.0 }));
        let rest = EfeTerms {
            info_gain: false,
            ..terms
        };
        let info = EfeTerms {
            utility: false,
            info_gain: terms.info_gain,
            novelty: false,
        };
        outcome_terms(t, rest, rows, w_a, qx, qo, wq)
            .add(outcome_terms(t, info, rows, None, qx_cut, qo, wq))
    } else {
        outcome_terms(t, terms, rows, w_a, qx, qo, wq)
    };
    if terms.novelty {
        out.novelty += novelty_b(t, qs, previous, action, bq);
    }
    out
}

/// Likelihood rows `[obs_m, S]` and `sum_o A ln A` per state, of `A` or of a [`Partial`].
#[derive(Clone, Copy)]
struct Rows<'a> {
    a: &'a [Matrix],
    neg_entropy: &'a [Vec<f64>],
}

/// Utility, state information gain and (with `w_a`) `pA`'s novelty of beliefs `qx` over the
/// states `rows` are written for: `q(o_m) = rows_m qx` per modality.
fn outcome_terms(
    t: &Tables,
    terms: EfeTerms,
    rows: Rows<'_>,
    w_a: Option<&[Vec<f64>]>,
    qx: &[f64],
    qo: &mut Vec<f64>,
    wq: &mut Vec<f64>,
) -> StepTerms {
    let mut out = StepTerms::default();
    for m in 0..t.num_obs.len() {
        qo.resize(t.num_obs[m], 0.0);
        rows.a[m].apply(qx, qo);
        if terms.utility {
            out.utility += dot(qo, &t.ln_c[m]);
        }
        if terms.info_gain {
            // Outcomes of probability 0 add 0 (and need no logarithm).
            let neg_entropy_qo: f64 = qo
                .iter()
                .filter(|&&p| p != 0.0)
                .map(|&p| p * ln_eps(p))
                .sum();
            out.info_gain += dot(&rows.neg_entropy[m], qx) - neg_entropy_qo;
        }
        if let Some(w) = w_a {
            wq.resize(t.num_obs[m], 0.0);
            matvec(&w[m], qx, wq);
            out.novelty -= dot(qo, wq);
        }
    }
    out
}

/// Minus the expected novelty of `pB` for the step `previous -> qs` under `action`.
fn novelty_b(
    t: &Tables,
    qs: &[Vec<f64>],
    previous: &[Vec<f64>],
    action: &[usize],
    bq: &mut Vec<f64>,
) -> f64 {
    let Some(w) = &t.w_b else {
        return 0.0;
    };
    let mut out = 0.0;
    for (f, q) in qs.iter().enumerate() {
        bq.resize(q.len(), 0.0);
        matvec(&w[f][action[f]], &previous[f], bq);
        out -= dot(q, bq);
    }
    out
}

/// `A_m` and `sum_o A_m ln A_m` contracted with the last factor's belief: `[obs_m, S']` and
/// `[S']` with `S' = S / s_F`. Siblings in the policy tree that share the last factor's control
/// share these, so each child's outcome prediction is a product of size `obs_m x S'`.
#[derive(Debug, Default, Clone)]
struct Partial {
    a: Vec<Matrix>,
    neg_entropy: Vec<Vec<f64>>,
}

impl Partial {
    fn contract(&mut self, t: &Tables, q_last: &[f64]) {
        let sl = q_last.len();
        let rest = t.joint / sl;
        self.a.resize(t.num_obs.len(), Matrix::default());
        self.neg_entropy.resize(t.num_obs.len(), Vec::new());
        for m in 0..t.num_obs.len() {
            let full = &t.a[m].dense;
            let a = self.a[m].refill(t.num_obs[m] * rest, rest);
            for (k, v) in a.iter_mut().enumerate() {
                *v = dot(&full[k * sl..(k + 1) * sl], q_last);
            }
            let h = &mut self.neg_entropy[m];
            h.resize(rest, 0.0);
            for (i, v) in h.iter_mut().enumerate() {
                *v = dot(&t.neg_entropy[m][i * sl..(i + 1) * sl], q_last);
            }
        }
    }
}

/// [`step_terms`] through a [`Partial`] of the child's last-factor belief; `None` when some
/// joint state falls under pymdp's `e^-16` cut (the plain path handles it) .
fn step_terms_partial(
    t: &Tables,
    terms: EfeTerms,
    qs: &[Vec<f64>],
    previous: &[Vec<f64>],
    action: &[usize],
    partial: &Partial,
    scratch: &mut Scratch,
) -> Option<StepTerms> {
    let (last, rest) = qs.split_last()?;
    let min = |q: &[f64]| q.iter().copied().fold(f64::INFINITY, f64::min);
    let Scratch { qx, qo, wq, bq, .. } = scratch;
    joint(rest, qx);
    if min(qx) * min(last) <= EXP_M16 {
        return None;
    }
    let rows = Rows {
        a: &partial.a,
        neg_entropy: &partial.neg_entropy,
    };
    let mut out = outcome_terms(t, terms, rows, None, qx, qo, wq);
    if terms.novelty {
        out.novelty += novelty_b(t, qs, previous, action, bq);
    }
    Some(out)
}

/// `G` of every policy from the current beliefs `qs` (pymdp's
/// `update_posterior_policies_factorized`), and `q(pi) = softmax(gamma G + ln E)`.
pub fn evaluate(
    t: &Tables,
    policies: &Policies,
    terms: EfeTerms,
    qs: &[Vec<f64>],
    gamma: f64,
    ln_e: &[f64],
) -> PolicyPosterior {
    let n = policies.count();
    let mut out = PolicyPosterior {
        neg_efe: Vec::with_capacity(n),
        utility: Vec::with_capacity(n),
        info_gain: Vec::with_capacity(n),
        novelty: Vec::with_capacity(n),
        q_pi: Vec::new(),
    };
    let mut levels: Vec<Vec<Vec<f64>>> = (0..=policies.len)
        .map(|_| t.num_states.iter().map(|&s| vec![0.0; s]).collect())
        .collect();
    levels[0] = qs.to_vec();
    let mut scratch = Scratch::default();
    let mut partials = vec![Vec::new(); policies.len];
    walk(
        t,
        policies,
        terms,
        &mut levels,
        &mut partials,
        0,
        StepTerms::default(),
        &mut scratch,
        &mut out,
    );
    out.q_pi = posterior(&out.neg_efe, gamma, ln_e);
    out
}

/// Depth-first over the tree of policy prefixes: `levels[k]` holds the beliefs after `k` steps,
/// `partials[0]` the contractions of the children of the node being expanded (one entry per
/// depth from here down).
#[allow(clippy::too_many_arguments)]
fn walk(
    t: &Tables,
    policies: &Policies,
    terms: EfeTerms,
    levels: &mut [Vec<Vec<f64>>],
    partials: &mut [Vec<Partial>],
    depth: usize,
    acc: StepTerms,
    scratch: &mut Scratch,
    out: &mut PolicyPosterior,
) {
    if depth == policies.len {
        out.neg_efe.push(acc.total());
        out.utility.push(acc.utility);
        out.info_gain.push(acc.info_gain);
        out.novelty.push(acc.novelty);
        return;
    }
    let factors = t.num_states.len();
    // Several factors and no pA: contract A with each control of the last factor once.
    let factored = factors >= 2 && !(terms.novelty && t.w_a.is_some());
    let Some((here, deeper)) = partials.split_first_mut() else {
        return;
    };
    if factored {
        let last = factors - 1;
        let n = t.num_controls[last];
        here.resize(n, Partial::default());
        let mut q_last = vec![0.0; t.num_states[last]];
        for (u, p) in here.iter_mut().enumerate() {
            t.transition(last, u, &levels[depth][last], &mut q_last);
            p.contract(t, &q_last);
        }
    }
    for action in &policies.joint_actions {
        let step = {
            let (before, after) = levels.split_at_mut(depth + 1);
            let (previous, next) = (&before[depth], &mut after[0]);
            for (f, q) in next.iter_mut().enumerate() {
                t.transition(f, action[f], &previous[f], q);
            }
            let partial = factored.then(|| &here[action[factors - 1]]);
            partial
                .and_then(|p| step_terms_partial(t, terms, next, previous, action, p, scratch))
                .unwrap_or_else(|| step_terms(t, terms, next, previous, action, scratch))
        };
        walk(
            t,
            policies,
            terms,
            levels,
            deeper,
            depth + 1,
            acc.add(step),
            scratch,
            out,
        );
    }
}

/// `softmax(gamma G + ln(E + 1e-16))`; `ln_e` empty for a uniform habit.
pub fn posterior(neg_efe: &[f64], gamma: f64, ln_e: &[f64]) -> Vec<f64> {
    let uniform = ln_eps(1.0 / neg_efe.len() as f64);
    let mut q: Vec<f64> = neg_efe
        .iter()
        .enumerate()
        .map(|(k, g)| g * gamma + ln_e.get(k).copied().unwrap_or(uniform))
        .collect();
    softmax_in_place(&mut q);
    q
}

/// `p(u_f)` summed over the policies whose first action for factor `f` is `u`, normalised
/// (pymdp's action marginals).
pub fn action_marginals(policies: &Policies, q_pi: &[f64]) -> Vec<Vec<f64>> {
    let mut marg: Vec<Vec<f64>> = policies
        .num_controls
        .iter()
        .map(|&n| vec![0.0; n])
        .collect();
    let per_first = q_pi.len() / policies.joint_actions.len().max(1);
    for (k, q) in q_pi.iter().enumerate() {
        let first = &policies.joint_actions[k / per_first.max(1)];
        for (f, &u) in first.iter().enumerate() {
            marg[f][u] += q;
        }
    }
    for m in &mut marg {
        let s: f64 = m.iter().sum();
        m.iter_mut().for_each(|x| *x /= s);
    }
    marg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_the_time_major_cartesian_product() {
        let p = Policies::new(&[3, 1, 2], 2);
        assert_eq!(p.count(), 36);
        let all = p.all();
        // itertools.product(range(3), range(1), range(2), range(3), range(1), range(2)).
        let mut want = Vec::new();
        for a in 0..3 {
            for b in 0..2 {
                for c in 0..3 {
                    for d in 0..2 {
                        want.push(vec![vec![a, 0, b], vec![c, 0, d]]);
                    }
                }
            }
        }
        assert_eq!(all, want);
    }

    #[test]
    fn habit_prior_and_a_constant_shift_of_g() {
        let g = [-1.0, -2.5, 0.3];
        let q = posterior(&g, 2.0, &[]);
        let shifted: Vec<f64> = g.iter().map(|x| x + 7.0).collect();
        let q2 = posterior(&shifted, 2.0, &[]);
        for k in 0..3 {
            assert!((q[k] - q2[k]).abs() < 1e-12);
        }
        let ln_e: Vec<f64> = [0.2, 0.3, 0.5].iter().map(|&e| ln_eps(e)).collect();
        let q3 = posterior(&[0.0; 3], 1.0, &ln_e);
        assert!((q3[2] - 0.5).abs() < 1e-12);
    }
}
