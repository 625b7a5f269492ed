//! Episodes of an agent in an environment: sampled trials, or the exact expectation over every
//! branch of actions, states and outcomes.
//!
//! A trial: the world draws its initial state from its `D` and an outcome from its `A`; then
//! `steps` times the agent infers states and policies and acts, the world moves by its `B` and
//! emits an outcome. The figures of a trial (T-maze): whether the first location other than the
//! centre is the cue, whether the last location is the rewarding arm, and the number of reward
//! outcomes; (grid) whether the last location is the goal; (any) the mean of
//! `sum_m ln softmax(C_m)[o_m]` over the outcomes after each action.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::agent::Agent;
use super::envs::{Environment, Task};
use super::sophisticated::next_combination;
use super::tables::{draw, ln_eps, softmax};
use crate::error::{Error, Result};
use crate::rng::rng_for;

/// One step of one trial, as written to `steps.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Trial index.
    pub trial: usize,
    /// Step within the trial.
    pub t: usize,
    /// The world's hidden state (one index per factor).
    pub state: Vec<usize>,
    /// The outcome (one index per modality).
    pub obs: Vec<usize>,
    /// `q(s_f)` per factor after the outcome.
    pub qs: Vec<Vec<f64>>,
    /// Variational free energy of `qs`.
    pub vfe: f64,
    /// Negative expected free energy per policy.
    pub neg_efe: Vec<f64>,
    /// `q(pi)`.
    pub q_pi: Vec<f64>,
    /// The precision used for `q(pi)`.
    pub gamma: f64,
    /// The action taken.
    pub action: Vec<usize>,
}

/// What one trial did.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Hidden states, `steps + 1` of them.
    pub states: Vec<Vec<usize>>,
    /// Outcomes, `steps + 1` of them.
    pub obs: Vec<Vec<usize>>,
}

/// The figures of one trial (or their expectation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// T-maze: the first location left for is the cue.
    pub cue_first: f64,
    /// T-maze: the last location is the rewarding arm.
    pub reward_arm: f64,
    /// T-maze: reward outcomes.
    pub rewards: f64,
    /// Grid: the last location is the goal.
    pub reached_goal: f64,
    /// Mean `sum_m ln softmax(C_m)[o_m]` over the outcomes after each action.
    pub utility: f64,
}

impl Figures {
    fn scaled(self, w: f64) -> Self {
        Self {
            cue_first: self.cue_first * w,
            reward_arm: self.reward_arm * w,
            rewards: self.rewards * w,
            reached_goal: self.reached_goal * w,
            utility: self.utility * w,
        }
    }

    fn add(self, o: Self) -> Self {
        Self {
            cue_first: self.cue_first + o.cue_first,
            reward_arm: self.reward_arm + o.reward_arm,
            rewards: self.rewards + o.rewards,
            reached_goal: self.reached_goal + o.reached_goal,
            utility: self.utility + o.utility,
        }
    }

    fn square(self) -> Self {
        Self {
            cue_first: self.cue_first.powi(2),
            reward_arm: self.reward_arm.powi(2),
            rewards: self.rewards.powi(2),
            reached_goal: self.reached_goal.powi(2),
            utility: self.utility.powi(2),
        }
    }
}

/// The figures of a trial of `task`; `ln_c` the preferences' log-probabilities.
pub fn figures(task: Task, ln_c: &[Vec<f64>], trial: &Trial) -> Figures {
    let steps = trial.states.len() - 1;
    let utility = if steps == 0 {
        0.0
    } else {
        trial.obs[1..]
            .iter()
            .map(|o| o.iter().enumerate().map(|(m, &k)| ln_c[m][k]).sum::<f64>())
            .sum::<f64>()
            / steps as f64
    };
    let mut f = Figures {
        utility,
        ..Default::default()
    };
    match task {
        Task::TMaze => {
            let first = trial.states[1..].iter().map(|s| s[0]).find(|&l| l != 0);
            f.cue_first = f64::from(first == Some(3));
            let last = trial.states[steps][0];
            f.reward_arm = f64::from(last == trial.states[0][1] + 1);
            f.rewards = trial.obs[1..].iter().filter(|o| o[1] == 1).count() as f64;
        }
        Task::Grid { goal, .. } => {
            f.reached_goal = f64::from(trial.states[steps][0] == goal);
        }
        Task::Model => {}
    }
    f
}

/// `ln softmax(C_m)` of the agent's initial preferences.
pub fn log_preferences(env: &Environment) -> Vec<Vec<f64>> {
    env.model
        .c
        .iter()
        .map(|c| softmax(c).into_iter().map(ln_eps).collect())
        .collect()
}

/// Column `s` (joint index) of `A[m]`.
fn outcome_probs(env: &Environment, m: usize, state: &[usize]) -> Vec<f64> {
    let a = &env.process.a[m];
    let joint = joint_index(state, &env.process.num_states());
    let cols = a.data.len() / a.shape[0];
    (0..a.shape[0]).map(|o| a.data[o * cols + joint]).collect()
}

fn joint_index(state: &[usize], num_states: &[usize]) -> usize {
    state
        .iter()
        .zip(num_states)
        .fold(0, |acc, (&s, &n)| acc * n + s)
}

/// `B[f][:, s, u]`.
fn next_state_probs(env: &Environment, f: usize, s: usize, u: usize) -> Vec<f64> {
    let b = &env.process.b[f];
    let (n, nu) = (b.shape[0], b.shape[2]);
    (0..n).map(|i| b.data[(i * n + s) * nu + u]).collect()
}

/// An outcome per modality drawn at `state`.
fn emit(env: &Environment, state: &[usize], rng: &mut impl Rng) -> Vec<usize> {
    (0..env.process.a.len())
        .map(|m| draw(&outcome_probs(env, m, state), rng))
        .collect()
}

/// Run one sampled trial of `steps` steps; `record` receives every step.
pub fn run_trial(
    env: &Environment,
    agent: &mut Agent,
    steps: usize,
    learn: bool,
    rng: &mut impl Rng,
    record: Option<&mut dyn FnMut(StepRecord)>,
    trial: usize,
) -> Result<Trial> {
    let mut record = record;
    agent.reset();
    let factors = env.process.b.len();
    let mut state: Vec<usize> = (0..factors).map(|f| draw(&env.process.d[f], rng)).collect();
    let mut obs = emit(env, &state, rng);
    let mut out = Trial {
        states: vec![state.clone()],
        obs: vec![obs.clone()],
    };
    for t in 0..steps {
        let vfe = agent.infer_states(&obs)?.vfe;
        if learn {
            agent.learn(&obs)?;
        }
        let gamma = agent.gamma();
        agent.infer_policies();
        let action = agent.sample_action(rng);
        if let Some(record) = record.as_mut() {
            let post = agent.policy_posterior().expect("inferred above");
            record(StepRecord {
                trial,
                t,
                state: state.clone(),
                obs: obs.clone(),
                qs: agent.qs().to_vec(),
                vfe,
                neg_efe: post.neg_efe.clone(),
                q_pi: post.q_pi.clone(),
                gamma,
                action: action.clone(),
            });
        }
        state = (0..factors)
            .map(|f| draw(&next_state_probs(env, f, state[f], action[f]), rng))
            .collect();
        obs = emit(env, &state, rng);
        out.states.push(state.clone());
        out.obs.push(obs.clone());
    }
    if learn {
        agent.learn_initial_state();
    }
    Ok(out)
}

/// Mean and standard error of the figures over sampled trials.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Means (or exact expectations).
    pub mean: Figures,
    /// Standard errors of the means (0 when exact).
    pub se: Figures,
}

/// Mean and standard error of per-trial figures.
pub fn summarise(per_trial: &[Figures]) -> Estimate {
    let n = per_trial.len() as f64;
    let sum = per_trial.iter().fold(Figures::default(), |a, &f| a.add(f));
    let mean = sum.scaled(1.0 / n);
    let sq = per_trial
        .iter()
        .fold(Figures::default(), |a, &f| a.add(f.square()));
    let var = |s: f64, m: f64| ((s / n - m * m) * n / (n - 1.0).max(1.0)).max(0.0);
    let se = |s: f64, m: f64| (var(s, m) / n).sqrt();
    Estimate {
        mean,
        se: Figures {
            cue_first: se(sq.cue_first, mean.cue_first),
            reward_arm: se(sq.reward_arm, mean.reward_arm),
            rewards: se(sq.rewards, mean.rewards),
            reached_goal: se(sq.reached_goal, mean.reached_goal),
            utility: se(sq.utility, mean.utility),
        },
    }
}

/// Most agent steps `--exact` takes (about a minute).
const MAX_NODES: f64 = 2e7;

/// The exact expectation of the figures over every branch of initial states, outcomes,
/// actions (deterministic ties split evenly) and transitions. No learning.
pub fn exact(env: &Environment, agent: &Agent, steps: usize) -> Result<(Estimate, u64)> {
    let ln_c = log_preferences(env);
    let mut total = Figures::default();
    let mut branches = 0u64;
    let factors = env.process.b.len();
    let num_states = env.process.num_states();
    let mut combo = vec![0usize; factors];
    loop {
        let p: f64 = combo
            .iter()
            .enumerate()
            .map(|(f, &s)| env.process.d[f][s])
            .product();
        if p > 0.0 {
            let trial = Trial {
                states: vec![combo.clone()],
                obs: Vec::new(),
            };
            let mut ctx = Exact {
                env,
                ln_c: &ln_c,
                steps,
                total: Figures::default(),
                branches: 0,
                nodes: 0,
            };
            ctx.outcomes(agent.clone(), trial, p)?;
            total = total.add(ctx.total);
            branches += ctx.branches;
        }
        if !next_combination(&mut combo, &num_states) {
            break;
        }
    }
    Ok((
        Estimate {
            mean: total,
            se: Figures::default(),
        },
        branches,
    ))
}

struct Exact<'a> {
    env: &'a Environment,
    ln_c: &'a [Vec<f64>],
    steps: usize,
    total: Figures,
    branches: u64,
    nodes: u64,
}

impl Exact<'_> {
    /// Every outcome of the last state of `trial`, then the agent's step.
    fn outcomes(&mut self, agent: Agent, trial: Trial, p: f64) -> Result<()> {
        let state = trial.states.last().expect("a state").clone();
        let probs: Vec<Vec<f64>> = (0..self.env.process.a.len())
            .map(|m| outcome_probs(self.env, m, &state))
            .collect();
        let sizes: Vec<usize> = probs.iter().map(Vec::len).collect();
        let mut combo = vec![0usize; sizes.len()];
        loop {
            let q: f64 = combo
                .iter()
                .enumerate()
                .map(|(m, &o)| probs[m][o])
                .product();
            if q > 0.0 {
                let mut t = trial.clone();
                t.obs.push(combo.clone());
                self.act(agent.clone(), t, p * q)?;
            }
            if !next_combination(&mut combo, &sizes) {
                break;
            }
        }
        Ok(())
    }

    /// The agent's step after the last outcome, every action and every next state.
    fn act(&mut self, mut agent: Agent, trial: Trial, p: f64) -> Result<()> {
        if trial.states.len() == self.steps + 1 {
            self.branches += 1;
            self.total = self
                .total
                .add(figures(self.env.task, self.ln_c, &trial).scaled(p));
            return Ok(());
        }
        self.nodes += 1;
        if self.nodes as f64 > MAX_NODES {
            return Err(Error::param(
                "exact",
                format!(
                    "more than {MAX_NODES:.0e} agent steps to enumerate over {} steps; use fewer --steps or sample with --trials",
                    self.steps
                ),
            ));
        }
        let obs = trial.obs.last().expect("an outcome").clone();
        agent.infer_states(&obs)?;
        agent.infer_policies();
        let dist = agent.action_distribution();
        let state = trial.states.last().expect("a state").clone();
        let num_states = self.env.process.num_states();
        for (k, &pu) in dist.iter().enumerate() {
            if pu <= 0.0 {
                continue;
            }
            let action = agent.policies().joint_actions[k].clone();
            let mut next_agent = agent.clone();
            next_agent.set_action(&action)?;
            let next: Vec<Vec<f64>> = (0..state.len())
                .map(|f| next_state_probs(self.env, f, state[f], action[f]))
                .collect();
            let mut combo = vec![0usize; state.len()];
            loop {
                let q: f64 = combo.iter().enumerate().map(|(f, &s)| next[f][s]).product();
                if q > 0.0 {
                    let mut t = trial.clone();
                    t.states.push(combo.clone());
                    self.outcomes(next_agent.clone(), t, p * pu * q)?;
                }
                if !next_combination(&mut combo, &num_states) {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Sampled trials: per-trial figures; `record` receives every step of the first `recorded`
/// trials, `after_trial` the agent after each trial.
#[allow(clippy::too_many_arguments)]
pub fn sampled(
    env: &Environment,
    agent: &mut Agent,
    trials: usize,
    steps: usize,
    learn: bool,
    seed: u64,
    recorded: usize,
    record: &mut dyn FnMut(StepRecord),
    after_trial: &mut dyn FnMut(usize, &Agent, &Trial),
) -> Result<Vec<Figures>> {
    let ln_c = log_preferences(env);
    let mut out = Vec::with_capacity(trials);
    for k in 0..trials {
        let mut rng = rng_for(seed, &[k as u64]);
        let trial = if k < recorded {
            run_trial(env, agent, steps, learn, &mut rng, Some(&mut *record), k)?
        } else {
            run_trial(env, agent, steps, learn, &mut rng, None, k)?
        };
        out.push(figures(env.task, &ln_c, &trial));
        after_trial(k, agent, &trial);
    }
    Ok(out)
}
