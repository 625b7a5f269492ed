//! The agent: perceive (state inference), plan (policy inference), act, learn.
//!
//! One step is pymdp's `infer_states(o)`, `infer_policies()`, `sample_action()`, with the
//! same defaults (`policy_len` 1, `gamma = alpha = 16`, deterministic actions from the
//! marginal over first actions, fixed-point iteration). Beyond pymdp's NumPy agent:
//! sophisticated inference ([`super::sophisticated`]), precision updating, and forgetting in
//! the Dirichlet updates.
//!
//! **Precision updating** (`update_gamma`): after each outcome, the prior over the previous
//! step's policies `q(pi)` is compared with its posterior given the outcome,
//! `q(pi | o) ∝ q(pi) p(o | pi)` with `p(o | pi) = sum_s A(o | s) [B_{u_pi} q_prev](s)`, and
//! the inverse precision `beta = 1 / gamma` takes one step down its free-energy gradient
//! (Parr, Pezzulo & Friston 2022, Smith et al. 2022):
//! `beta <- beta - (beta - beta_0 + (q(pi | o) - q(pi)) . G) / psi` with `G = -EFE` (pymdp's
//! negative expected free energy) and `psi = 2`.
//! Outcomes that favour the policies with low expected free energy raise the precision.
//!
//! **Learning** (Dirichlet; pymdp's `update_A`, `update_B`, `update_D`, plus forgetting
//! `omega` towards the initial concentrations `p_0`):
//! `pA_m <- p_0 + (1 - omega)(pA_m - p_0) + lr_pA  o_m (x) q(s)`, masked where `A_m = 0`;
//! `pB_f[:, :, u] <- ... + lr_pB  q(s_f) (x) q(s_f, previous)`; `pD_f <- ... + lr_pD q_1(s_f)`.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::model::{Array, Pomdp};
use super::perception::{MmpConfig, StateBeliefs, fpi, mmp};
use super::planning::{
    EfeTerms, Policies, PolicyPosterior, Scratch, action_marginals, evaluate, posterior, step_terms,
};
use super::sophisticated::{SophisticatedConfig, search};
use super::tables::{Tables, draw, joint, ln_eps, softmax};
use crate::error::{Error, Result, check};

/// How an action is chosen from the posterior over policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionSelection {
    /// The most probable action (ties within 1e-8 broken at random).
    Deterministic,
    /// Drawn from `softmax(alpha ln p)`.
    Stochastic,
}

/// Whether actions come from the marginal over first actions or from whole policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// Per factor, from `sum_pi q(pi) [pi_1 = u]` (pymdp's `"marginal"`).
    Marginal,
    /// A policy from `q(pi)`, then its first action (pymdp's `"full"`).
    Full,
}

/// The state-inference algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Inference {
    /// Fixed-point iteration on the current step (pymdp's `VANILLA`).
    Fpi,
    /// Marginal message passing over a window (pymdp's `MMP`).
    Mmp,
}

/// Learning rates and forgetting of the Dirichlet updates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Learning {
    /// Rate of `pA`'s update.
    pub lr_pa: f64,
    /// Rate of `pB`'s update.
    pub lr_pb: f64,
    /// Rate of `pD`'s update.
    pub lr_pd: f64,
    /// Forgetting `omega` in `[0, 1]`: the share of learned counts lost at each update.
    pub forgetting: f64,
}

impl Default for Learning {
    fn default() -> Self {
        Self {
            lr_pa: 1.0,
            lr_pb: 1.0,
            lr_pd: 1.0,
            forgetting: 0.0,
        }
    }
}

/// Settings of an agent; `Default` is pymdp's `Agent` defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentParams {
    /// Steps per policy.
    pub policy_len: usize,
    /// Precision of the policy posterior.
    pub gamma: f64,
    /// Precision of stochastic action selection.
    pub alpha: f64,
    /// Deterministic or stochastic actions.
    pub action_selection: ActionSelection,
    /// From the action marginal or from whole policies.
    pub sampling: Sampling,
    /// State inference.
    pub inference: Inference,
    /// Most fixed-point iterations.
    pub fpi_iterations: usize,
    /// Free-energy change that stops fixed-point iteration.
    pub fpi_tolerance: f64,
    /// Marginal message passing.
    pub mmp: MmpConfig,
    /// Terms of the expected free energy (novelty only matters with `pA`/`pB`).
    pub terms: EfeTerms,
    /// Sophisticated inference instead of policies of fixed actions.
    pub sophisticated: Option<SophisticatedConfig>,
    /// Update the precision `gamma` after every outcome.
    pub update_gamma: bool,
    /// Dirichlet learning.
    pub learning: Learning,
}

impl Default for AgentParams {
    fn default() -> Self {
        Self {
            policy_len: 1,
            gamma: 16.0,
            alpha: 16.0,
            action_selection: ActionSelection::Deterministic,
            sampling: Sampling::Marginal,
            inference: Inference::Fpi,
            fpi_iterations: 10,
            fpi_tolerance: 1e-3,
            mmp: MmpConfig::default(),
            terms: EfeTerms::default(),
            sophisticated: None,
            update_gamma: false,
            learning: Learning::default(),
        }
    }
}

impl AgentParams {
    /// Check the settings against each other.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("policy-len", self.policy_len)?;
        check::positive("gamma", self.gamma)?;
        check::positive("alpha", self.alpha)?;
        check::positive_count("fpi-iterations", self.fpi_iterations)?;
        check::non_negative("fpi-tolerance", self.fpi_tolerance)?;
        check::non_negative("lr-pa", self.learning.lr_pa)?;
        check::non_negative("lr-pb", self.learning.lr_pb)?;
        check::non_negative("lr-pd", self.learning.lr_pd)?;
        if !(0.0..=1.0).contains(&self.learning.forgetting) {
            return Err(Error::param("forgetting", "must be in [0, 1]"));
        }
        if self.inference == Inference::Mmp {
            check::positive_count("mmp-horizon", self.mmp.horizon)?;
            check::positive("mmp-tau", self.mmp.tau)?;
            if self.sophisticated.is_some() {
                return Err(Error::param(
                    "sophisticated",
                    "runs on fixed-point state inference; drop --inference mmp",
                ));
            }
        }
        if let Some(si) = &self.sophisticated {
            si.validate()?;
            if self.policy_len != 1 {
                return Err(Error::param(
                    "policy-len",
                    "sophisticated inference plans one action at a time (its horizon is --depth); drop --policy-len",
                ));
            }
        }
        Ok(())
    }
}

/// Marginal message passing's memory between steps.
#[derive(Debug, Clone, Default)]
struct MmpState {
    obs: Vec<Vec<usize>>,
    actions: Vec<Vec<usize>>,
    latest_belief: Vec<Vec<f64>>,
    /// `[policy][time][factor][state]` of the last inference.
    qs_pi: Vec<Vec<Vec<Vec<f64>>>>,
    /// Free energy of each policy at the last inference.
    free_energy: Vec<f64>,
    /// Index of the current time in `qs_pi[p]`.
    now: usize,
}

/// An active-inference agent over a [`Pomdp`].
#[derive(Debug, Clone)]
pub struct Agent {
    params: AgentParams,
    model: Pomdp,
    initial: Pomdp,
    tables: Tables,
    policies: Policies,
    ln_e: Vec<f64>,
    gamma: f64,
    qs: Vec<Vec<f64>>,
    qs_prev: Option<Vec<Vec<f64>>>,
    qs_first: Option<Vec<Vec<f64>>>,
    action: Option<Vec<usize>>,
    beliefs: Option<StateBeliefs>,
    policy_posterior: Option<PolicyPosterior>,
    mmp: MmpState,
}

impl Agent {
    /// An agent with the generative model `model`. With `pA` (`pB`), `A` (`B`) is the
    /// expectation of the Dirichlet, as pymdp's agent sets it.
    pub fn new(model: &Pomdp, params: AgentParams) -> Result<Self> {
        params.validate()?;
        let mut model = model.clone();
        if let Some(pa) = &model.pa {
            model.a = pa.iter().map(Array::normalised_columns).collect();
        }
        if let Some(pb) = &model.pb {
            model.b = pb.iter().map(Array::normalised_columns).collect();
        }
        let policies = Policies::new(&model.num_controls(), params.policy_len);
        let per_step = policies.joint_actions.len();
        let count = per_step
            .checked_pow(params.policy_len as u32)
            .filter(|&n| n <= 1 << 26)
            .ok_or_else(|| {
                Error::param(
                    "policy-len",
                    format!(
                        "{per_step} joint actions per step over {} steps are too many policies to enumerate",
                        params.policy_len
                    ),
                )
            })?;
        crate::budget::check("policy-len", count as u128 * 64)?;
        if params.inference == Inference::Mmp && model.pb.is_some() && params.terms.novelty {
            return Err(Error::param(
                "inference",
                "pB's novelty is defined for fixed-point inference (pymdp's MMP agent fails on it); use --inference fpi",
            ));
        }
        let ln_e = match &model.e {
            Some(e) if e.len() != count => {
                return Err(Error::param(
                    "policy-len",
                    format!(
                        "the model's E has {} entries, one per policy, but policies of length {} number {count}",
                        e.len(),
                        params.policy_len
                    ),
                ));
            }
            Some(e) => e.iter().map(|&x| ln_eps(x)).collect(),
            None => Vec::new(),
        };
        let tables = Tables::new(&model, params.terms.novelty);
        let gamma = params.gamma;
        let mut agent = Self {
            initial: model.clone(),
            qs: Vec::new(),
            model,
            tables,
            policies,
            ln_e,
            gamma,
            params,
            qs_prev: None,
            qs_first: None,
            action: None,
            beliefs: None,
            policy_posterior: None,
            mmp: MmpState::default(),
        };
        agent.reset();
        Ok(agent)
    }

    /// Start a new episode: beliefs back to the prior, no action yet, the precision back to
    /// its prior; learned parameters are kept.
    pub fn reset(&mut self) {
        self.qs = self
            .tables
            .num_states
            .iter()
            .map(|&n| vec![1.0 / n as f64; n])
            .collect();
        self.qs_prev = None;
        self.qs_first = None;
        self.action = None;
        self.beliefs = None;
        self.policy_posterior = None;
        self.gamma = self.params.gamma;
        self.mmp = MmpState {
            latest_belief: self.model.d.clone(),
            ..Default::default()
        };
    }

    /// The settings.
    pub fn params(&self) -> &AgentParams {
        &self.params
    }

    /// The current generative model (learned parameters included).
    pub fn model(&self) -> &Pomdp {
        &self.model
    }

    /// Every policy, in pymdp's order.
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The current precision of the policy posterior.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The posterior over states of the current step (per factor).
    pub fn qs(&self) -> &[Vec<f64>] {
        &self.qs
    }

    /// The last state inference.
    pub fn beliefs(&self) -> Option<&StateBeliefs> {
        self.beliefs.as_ref()
    }

    /// The last policy inference.
    pub fn policy_posterior(&self) -> Option<&PolicyPosterior> {
        self.policy_posterior.as_ref()
    }

    /// Under marginal message passing, the free energy of each policy at the last inference.
    pub fn policy_free_energy(&self) -> Option<&[f64]> {
        (self.params.inference == Inference::Mmp).then_some(&self.mmp.free_energy[..])
    }

    /// Check one outcome index per modality.
    pub fn check_obs(&self, obs: &[usize]) -> Result<()> {
        check_indices(obs, &self.tables.num_obs, &INDICES_OBS)
    }

    /// Infer the hidden states from one outcome per modality.
    pub fn infer_states(&mut self, obs: &[usize]) -> Result<&StateBeliefs> {
        self.check_obs(obs)?;
        match self.params.inference {
            Inference::Fpi => {
                let prior = self.empirical_prior();
                if self.params.update_gamma {
                    self.update_precision(obs);
                }
                let b = fpi(
                    &self.tables,
                    obs,
                    &prior,
                    self.params.fpi_iterations,
                    self.params.fpi_tolerance,
                );
                let old = std::mem::replace(&mut self.qs, b.qs.clone());
                if self.action.is_some() {
                    self.qs_prev = Some(old);
                } else {
                    self.qs_first = Some(b.qs.clone());
                }
                self.beliefs = Some(b);
            }
            Inference::Mmp => self.infer_states_mmp(obs),
        }
        Ok(self.beliefs.as_ref().expect("set above"))
    }

    /// `D` at the first step, then `B_u q` for the action taken.
    pub fn empirical_prior(&self) -> Vec<Vec<f64>> {
        match &self.action {
            None => self.model.d.clone(),
            Some(u) => self.tables.predict(&self.qs, u),
        }
    }

    fn infer_states_mmp(&mut self, obs: &[usize]) {
        let h = self.params.mmp.horizon;
        let st = &mut self.mmp;
        st.obs.push(obs.to_vec());
        let (window_obs, window_actions): (&[Vec<usize>], &[Vec<usize>]) = if st.obs.len() > h {
            (
                &st.obs[st.obs.len() - h..],
                &st.actions[st.actions.len() - (h - 1)..],
            )
        } else {
            (&st.obs, &st.actions)
        };
        let count = self.policies.count();
        let mut qs_pi = Vec::with_capacity(count);
        let mut free = Vec::with_capacity(count);
        for k in 0..count {
            let mut rows = window_actions.to_vec();
            rows.extend(self.policies.policy(k));
            let (q, f) = mmp(
                &self.tables,
                window_obs,
                &rows,
                self.params.policy_len,
                &st.latest_belief,
                self.params.mmp,
            );
            qs_pi.push(q);
            free.push(f);
        }
        st.now = window_obs.len() - 1;
        st.qs_pi = qs_pi;
        st.free_energy = free;
        // Until this step's policy inference, the beliefs are averaged by the last q(pi)
        // (uniform before the first).
        let weights = self
            .policy_posterior
            .as_ref()
            .map(|p| p.q_pi.clone())
            .unwrap_or_else(|| vec![1.0 / count as f64; count]);
        self.set_mmp_beliefs(&weights);
    }

    /// `qs` and the free energy under marginal message passing: the current-time beliefs and
    /// the policies' free energies averaged by `weights` (q(pi)).
    fn set_mmp_beliefs(&mut self, weights: &[f64]) {
        self.qs = self.average_over_policies(self.mmp.now, weights);
        let vfe = weights
            .iter()
            .zip(&self.mmp.free_energy)
            .map(|(w, f)| w * f)
            .sum();
        self.beliefs = Some(StateBeliefs {
            qs: self.qs.clone(),
            vfe,
            parts: None,
            iterations: self.params.mmp.iterations,
        });
    }

    fn average_over_policies(&self, time: usize, weights: &[f64]) -> Vec<Vec<f64>> {
        let mut out: Vec<Vec<f64>> = self
            .tables
            .num_states
            .iter()
            .map(|&n| vec![0.0; n])
            .collect();
        for (p, w) in weights.iter().enumerate() {
            for (f, q) in self.mmp.qs_pi[p][time].iter().enumerate() {
                for (o, v) in out[f].iter_mut().zip(q) {
                    *o += v * w;
                }
            }
        }
        out
    }

    /// Evaluate every policy (or search, under sophisticated inference) and set `q(pi)`.
    pub fn infer_policies(&mut self) -> &PolicyPosterior {
        let post = match (self.params.inference, &self.params.sophisticated) {
            (Inference::Fpi, None) => evaluate(
                &self.tables,
                &self.policies,
                self.params.terms,
                &self.qs,
                self.gamma,
                &self.ln_e,
            ),
            (Inference::Fpi, Some(si)) => search(
                &self.tables,
                &self.policies,
                self.params.terms,
                &self.qs,
                self.gamma,
                si,
                (self.params.fpi_iterations, self.params.fpi_tolerance),
            ),
            (Inference::Mmp, _) => self.evaluate_mmp(),
        };
        if self.params.inference == Inference::Mmp {
            self.set_mmp_beliefs(&post.q_pi);
        }
        self.policy_posterior = Some(post);
        self.policy_posterior.as_ref().expect("set above")
    }

    /// pymdp's `update_posterior_policies_full_factorized`: `G` over the current and future
    /// beliefs under each policy, `q(pi) = softmax(gamma G - F + ln E)`.
    fn evaluate_mmp(&self) -> PolicyPosterior {
        let count = self.policies.count();
        let mut out = PolicyPosterior {
            neg_efe: Vec::with_capacity(count),
            utility: Vec::with_capacity(count),
            info_gain: Vec::with_capacity(count),
            novelty: Vec::with_capacity(count),
            q_pi: Vec::new(),
        };
        let mut scratch = Scratch::default();
        let now = self.mmp.now;
        for k in 0..count {
            let seq = &self.mmp.qs_pi[k];
            let (mut u, mut i, mut n) = (0.0, 0.0, 0.0);
            let first = self.policies.policy(k)[0].clone();
            for qs in &seq[now..] {
                let s = step_terms(
                    &self.tables,
                    self.params.terms,
                    qs,
                    qs,
                    &first,
                    &mut scratch,
                );
                u += s.utility;
                i += s.info_gain;
                n += s.novelty;
            }
            out.neg_efe.push(u + i + n);
            out.utility.push(u);
            out.info_gain.push(i);
            out.novelty.push(n);
        }
        let shifted: Vec<f64> = out
            .neg_efe
            .iter()
            .zip(&self.mmp.free_energy)
            .map(|(g, f)| g - f / self.gamma)
            .collect();
        out.q_pi = posterior(&shifted, self.gamma, &self.ln_e);
        out
    }

    /// The probability of each joint action (one control per factor) the agent may take now,
    /// in the order of [`Policies::joint_actions`]; deterministic ties are split evenly.
    pub fn action_distribution(&self) -> Vec<f64> {
        let post = self
            .policy_posterior
            .as_ref()
            .expect("infer_policies before choosing an action");
        let joint_actions = &self.policies.joint_actions;
        match self.params.sampling {
            Sampling::Marginal => {
                let per_factor: Vec<Vec<f64>> = action_marginals(&self.policies, &post.q_pi)
                    .into_iter()
                    .map(|m| self.choice_probabilities(&m))
                    .collect();
                joint_actions
                    .iter()
                    .map(|a| {
                        a.iter()
                            .enumerate()
                            .map(|(f, &u)| per_factor[f][u])
                            .product()
                    })
                    .collect()
            }
            Sampling::Full => {
                let p = self.choice_probabilities(&post.q_pi);
                let per_first = p.len() / joint_actions.len();
                (0..joint_actions.len())
                    .map(|j| p[j * per_first..(j + 1) * per_first].iter().sum())
                    .collect()
            }
        }
    }

    /// Deterministic: the maxima within 1e-8, evenly; stochastic: `softmax(alpha ln p)`.
    fn choice_probabilities(&self, p: &[f64]) -> Vec<f64> {
        match self.params.action_selection {
            ActionSelection::Deterministic => {
                let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let ties = p.iter().filter(|&&x| (x - max).abs() <= 1e-8).count();
                p.iter()
                    .map(|&x| {
                        if (x - max).abs() <= 1e-8 {
                            1.0 / ties as f64
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
            ActionSelection::Stochastic => {
                let logits: Vec<f64> = p.iter().map(|&x| self.params.alpha * ln_eps(x)).collect();
                softmax(&logits)
            }
        }
    }

    /// Draw an action from [`Agent::action_distribution`] and take it.
    pub fn sample_action(&mut self, rng: &mut impl Rng) -> Vec<usize> {
        let pick = draw(&self.action_distribution(), rng);
        let action = self.policies.joint_actions[pick].clone();
        self.take_action(action.clone());
        action
    }

    /// Take `action` (one control per factor; 0 for an uncontrolled factor).
    pub fn set_action(&mut self, action: &[usize]) -> Result<()> {
        check_indices(action, &self.tables.num_controls, &INDICES_ACTION)?;
        self.take_action(action.to_vec());
        Ok(())
    }

    fn take_action(&mut self, action: Vec<usize>) {
        if self.params.inference == Inference::Mmp {
            let st = &mut self.mmp;
            st.actions.push(action.clone());
            let t = st.actions.len();
            if t >= self.params.mmp.horizon {
                // pymdp's set_latest_beliefs: the first belief of the last window, averaged over
                // policies by the last q(pi).
                let q_pi = self
                    .policy_posterior
                    .as_ref()
                    .map(|p| p.q_pi.clone())
                    .unwrap_or_default();
                self.mmp.latest_belief = self.average_over_policies(0, &q_pi);
            }
        }
        self.action = Some(action);
    }

    /// The precision update after outcome `obs` (see the module docs).
    fn update_precision(&mut self, obs: &[usize]) {
        let (Some(post), Some(_)) = (&self.policy_posterior, &self.action) else {
            return;
        };
        let t = &self.tables;
        let mut lik = vec![1.0; t.joint];
        for (m, &o) in obs.iter().enumerate() {
            for (l, a) in lik.iter_mut().zip(t.likelihood(m, o)) {
                *l *= a;
            }
        }
        let per_first = post.q_pi.len() / self.policies.joint_actions.len();
        let evidence: Vec<f64> = self
            .policies
            .joint_actions
            .iter()
            .map(|u| {
                let predicted = t.predict(&self.qs, u);
                let mut qx = Vec::new();
                joint(&predicted, &mut qx);
                super::tables::dot(&lik, &qx)
            })
            .collect();
        let mut post_pi: Vec<f64> = post
            .q_pi
            .iter()
            .enumerate()
            .map(|(k, q)| q * evidence[k / per_first])
            .collect();
        let z: f64 = post_pi.iter().sum();
        if z <= 0.0 || !z.is_finite() {
            return;
        }
        post_pi.iter_mut().for_each(|p| *p /= z);
        let efe_error: f64 = post_pi
            .iter()
            .zip(&post.q_pi)
            .zip(&post.neg_efe)
            .map(|((a, b), g)| (a - b) * g)
            .sum();
        let beta0 = 1.0 / self.params.gamma;
        let beta = 1.0 / self.gamma;
        let next = (beta - (beta - beta0 + efe_error) / 2.0).max(1e-3);
        self.gamma = 1.0 / next;
    }

    /// Dirichlet updates of `pA` (from this step's outcome) and `pB` (from the last
    /// transition), when the model has them.
    pub fn learn(&mut self, obs: &[usize]) -> Result<()> {
        self.check_obs(obs)?;
        if self.params.inference == Inference::Mmp {
            return Err(Error::param(
                "learn",
                "learning runs on fixed-point state inference; drop --inference mmp",
            ));
        }
        let keep = 1.0 - self.params.learning.forgetting;
        let mut qx = Vec::new();
        joint(&self.qs, &mut qx);
        if let (Some(pa), Some(pa0)) = (&mut self.model.pa, &self.initial.pa) {
            let lr = self.params.learning.lr_pa;
            for (m, (p, p0)) in pa.iter_mut().zip(pa0).enumerate() {
                if keep < 1.0 {
                    for (v, v0) in p.data.iter_mut().zip(&p0.data) {
                        *v = v0 + keep * (*v - v0);
                    }
                }
                // The outcome's row: o (x) q(s), where A is not 0.
                let s = qx.len();
                let row = obs[m] * s..(obs[m] + 1) * s;
                let a = &self.model.a[m].data[row.clone()];
                for ((v, &am), &q) in p.data[row].iter_mut().zip(a).zip(&qx) {
                    if am > 0.0 {
                        *v += lr * q;
                    }
                }
            }
            self.model.a = pa.iter().map(Array::normalised_columns).collect();
        }
        if let (Some(pb), Some(pb0), Some(prev), Some(u)) = (
            &mut self.model.pb,
            &self.initial.pb,
            &self.qs_prev,
            &self.action,
        ) {
            let lr = self.params.learning.lr_pb;
            for (f, (p, p0)) in pb.iter_mut().zip(pb0).enumerate() {
                let b = &self.model.b[f];
                let (n, nu) = (b.shape[0], b.shape[2]);
                for v in 0..p.data.len() {
                    p.data[v] = p0.data[v] + keep * (p.data[v] - p0.data[v]);
                }
                for i in 0..n {
                    for (j, pj) in prev[f].iter().enumerate() {
                        let k = (i * n + j) * nu + u[f];
                        if b.data[k] > 0.0 {
                            p.data[k] += lr * self.qs[f][i] * pj;
                        }
                    }
                }
            }
            self.model.b = pb.iter().map(Array::normalised_columns).collect();
        }
        self.tables = Tables::new(&self.model, self.params.terms.novelty);
        Ok(())
    }

    /// Dirichlet update of `pD` from the first step's posterior of this episode.
    pub fn learn_initial_state(&mut self) {
        let keep = 1.0 - self.params.learning.forgetting;
        let lr = self.params.learning.lr_pd;
        if let (Some(pd), Some(pd0), Some(q0)) =
            (&mut self.model.pd, &self.initial.pd, &self.qs_first)
        {
            for (f, (p, p0)) in pd.iter_mut().zip(pd0).enumerate() {
                for (k, v) in p.iter_mut().enumerate() {
                    let positive = *v > 0.0;
                    *v = p0[k] + keep * (*v - p0[k]);
                    if positive {
                        *v += lr * q0[f][k];
                    }
                }
            }
            self.model.d = pd
                .iter()
                .map(|p| {
                    let s: f64 = p.iter().sum();
                    p.iter().map(|x| x / s).collect()
                })
                .collect();
        }
    }
}

/// How [`check_indices`] words its errors: the flag, the kind of index, the array and its
/// dimension's name.
struct IndexWords {
    flag: &'static str,
    index: &'static str,
    indices: &'static str,
    per: &'static str,
    array: char,
    unit: &'static str,
    hint: &'static str,
}

const INDICES_OBS: IndexWords = IndexWords {
    flag: "obs",
    index: "index",
    indices: "indices",
    per: "modality",
    array: 'A',
    unit: "outcome",
    hint: "modalities (one index each)",
};

const INDICES_ACTION: IndexWords = IndexWords {
    flag: "action",
    index: "control",
    indices: "controls",
    per: "factor",
    array: 'B',
    unit: "control",
    hint: "factors (one control each, 0 for an uncontrolled factor)",
};

/// One index per modality (or factor), each below its size; the error names the flag and the
/// array.
fn check_indices(given: &[usize], sizes: &[usize], w: &IndexWords) -> Result<()> {
    if given.len() != sizes.len() {
        return Err(Error::param(
            w.flag,
            format!(
                "{} {} given; the model has {} {}",
                given.len(),
                w.indices,
                sizes.len(),
                w.hint
            ),
        ));
    }
    for (k, (&i, &n)) in given.iter().zip(sizes).enumerate() {
        if i >= n {
            let plural = match (w.array, n) {
                ('B', 1) => " (uncontrolled: give 0)",
                (_, 1) => "",
                _ => "s",
            };
            return Err(Error::param(
                w.flag,
                format!(
                    "{} {i} for {} {k} ({}[{k}]) is out of range: it has {n} {}{plural}",
                    w.index, w.per, w.array, w.unit
                ),
            ));
        }
    }
    Ok(())
}
