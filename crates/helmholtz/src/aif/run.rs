//! Whole commands: `aif run` (episodes into a run directory), `aif infer` (one history, one
//! answer), `aif model` (a built-in environment as a model file). The CLI calls these.
//!
//! ```text
//! config.json          family "aif", the environment, the agent's settings, trials, steps, seed
//! eval.json            the figures printed by the CLI
//! steps.jsonl          every step of the first 200 trials: state, outcome, q(s), F, G, q(pi), action
//! learned_model.json   (--learn) the agent's model after the last trial, pA/pB/pD included
//! beliefs.png          trial 0: q(s_f) per step, one block of rows per factor
//! policies.png         trial 0: q(pi) per step
//! path.png             where the agent was: per step over trials, or (grid) per cell
//! learning.png         (--learn) the learned likelihood against the true one, per trial
//! report.html          all of it on one page
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::agent::{Agent, AgentParams, Inference};
use super::envs::{EnvSpec, Environment, Task};
use super::episodes::{Estimate, StepRecord, Trial, exact, run_trial, sampled, summarise};
use super::model::{Array, Pomdp};
use super::planning::action_marginals;
use crate::error::{Error, Result, check};
use crate::io::{RunDir, write_atomic};
use crate::report::{Chart, GridSpec, Series, Shade, save_grid, save_panels, write_run_report};
use crate::rng::rng_for;
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "aif";
/// Trials whose every step goes to `steps.jsonl`.
pub const RECORDED_TRIALS: usize = 200;

/// Everything that defines an `aif run`; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AifRunConfig {
    /// Always `aif`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// The environment.
    pub env: EnvSpec,
    /// The agent.
    pub agent: AgentParams,
    /// Trials (ignored by `exact`).
    pub trials: usize,
    /// Actions per trial.
    pub steps: usize,
    /// Seed of the world's and the agent's draws.
    pub seed: u64,
    /// Dirichlet learning across trials.
    pub learn: bool,
    /// Expectations by enumerating every branch instead of sampling.
    pub exact: bool,
}

impl AifRunConfig {
    /// A run in `env` with `agent`.
    pub fn new(env: EnvSpec, agent: AgentParams, trials: usize, steps: usize, seed: u64) -> Self {
        Self {
            family: FAMILY.into(),
            helmholtz_version: env!("CARGO_PKG_VERSION").into(),
            env,
            agent,
            trials,
            steps,
            seed,
            learn: false,
            exact: false,
        }
    }
}

/// What a run found; the CLI prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AifSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The environment's name.
    pub env: String,
    /// Trials sampled (0 when exact).
    pub trials: usize,
    /// Actions per trial.
    pub steps: usize,
    /// Whether the figures are exact expectations.
    pub exact: bool,
    /// Branches enumerated (exact).
    pub branches: Option<u64>,
    /// Policies per step.
    pub policies: usize,
    /// T-maze: fraction of trials whose first move is to the cue.
    pub cue_first: Option<f64>,
    /// Its standard error.
    pub cue_first_se: Option<f64>,
    /// T-maze: fraction of trials ending in the rewarding arm.
    pub reward_arm: Option<f64>,
    /// Its standard error.
    pub reward_arm_se: Option<f64>,
    /// T-maze: mean number of reward outcomes per trial.
    pub mean_reward: Option<f64>,
    /// Its standard error.
    pub mean_reward_se: Option<f64>,
    /// Grid: fraction of trials ending at the goal.
    pub reached_goal: Option<f64>,
    /// Its standard error.
    pub reached_goal_se: Option<f64>,
    /// Mean `sum_m ln softmax(C_m)[o_m]` per step (nats).
    pub mean_utility: f64,
    /// Its standard error.
    pub mean_utility_se: f64,
    /// Wall-clock seconds of the trials (or the enumeration).
    pub seconds: f64,
    /// Seconds per agent step (infer states, infer policies, act; sampled runs).
    pub seconds_per_step: Option<f64>,
}

/// Build the environment and the agent, run the trials (or enumerate), write the run
/// directory `out` (or `runs/aif-<time>`). Bad input fails before the directory is created.
pub fn run(cfg: &AifRunConfig, out: Option<&Path>, progress: &dyn Progress) -> Result<AifSummary> {
    check::positive_count("steps", cfg.steps)?;
    if !cfg.exact {
        check::positive_count("trials", cfg.trials)?;
    }
    if cfg.exact && cfg.learn {
        return Err(Error::param(
            "exact",
            "enumerates trials that are all alike; with --learn each trial changes the agent: drop one",
        ));
    }
    if cfg.learn && cfg.agent.inference == Inference::Mmp {
        return Err(Error::param(
            "learn",
            "learning runs on fixed-point state inference; drop --inference mmp",
        ));
    }
    let env = Environment::new(&cfg.env)?;
    let agent = Agent::new(&env.model, cfg.agent.clone())?;
    if cfg.learn && env.model.pa.is_none() && env.model.pb.is_none() && env.model.pd.is_none() {
        return Err(Error::param(
            "learn",
            "the model has no Dirichlet parameters (pA, pB, pD) to learn",
        ));
    }
    RunDir::create_filled(out, FAMILY, |run| run_into(cfg, &env, agent, run, progress))
}

fn run_into(
    cfg: &AifRunConfig,
    env: &Environment,
    mut agent: Agent,
    run: &RunDir,
    progress: &dyn Progress,
) -> Result<AifSummary> {
    run.write_json("config.json", cfg)?;
    let policies = agent.policies().count();
    let mut records: Vec<StepRecord> = Vec::new();
    let mut learning: Vec<Vec<f64>> = Vec::new();
    let started = Instant::now();
    let (estimate, trials, branches, seconds, per_step) = if cfg.exact {
        let (estimate, branches) = exact(env, &agent, cfg.steps)?;
        let seconds = started.elapsed().as_secs_f64();
        // One sampled trial for the pictures.
        let mut rng = rng_for(cfg.seed, &[0]);
        let mut rec = |r: StepRecord| records.push(r);
        run_trial(
            env,
            &mut agent,
            cfg.steps,
            false,
            &mut rng,
            Some(&mut rec),
            0,
        )?;
        (estimate, 0, Some(branches), seconds, None)
    } else {
        progress.start("trials", cfg.trials as u64);
        let mut rec = |r: StepRecord| records.push(r);
        let mut after = |_: usize, a: &Agent, _: &Trial| {
            if cfg.learn {
                learning.push(learning_row(env, a));
            }
            progress.advance(1);
        };
        let per_trial = sampled(
            env,
            &mut agent,
            cfg.trials,
            cfg.steps,
            cfg.learn,
            cfg.seed,
            RECORDED_TRIALS,
            &mut rec,
            &mut after,
        )?;
        progress.finish();
        let seconds = started.elapsed().as_secs_f64();
        let per_step = seconds / (cfg.trials * cfg.steps) as f64;
        (
            summarise(&per_trial),
            cfg.trials,
            None,
            seconds,
            Some(per_step),
        )
    };
    let summary = summary(
        cfg, env, run, &estimate, trials, branches, policies, seconds, per_step,
    );
    crate::run::refuse_non_finite(run, &summary)?;
    let mut lines = String::new();
    for r in &records {
        lines.push_str(&serde_json::to_string(r).map_err(|e| Error::Internal(e.to_string()))?);
        lines.push('\n');
    }
    write_atomic(&run.file("steps.jsonl"), lines.as_bytes())?;
    if cfg.learn {
        let text = serde_json::to_string(&agent.model().to_json())
            .map_err(|e| Error::Internal(e.to_string()))?;
        write_atomic(&run.file("learned_model.json"), text.as_bytes())?;
    }
    run.write_json("eval.json", &summary)?;
    pictures(run, env, &records, &learning, cfg)?;
    write_run_report(run)?;
    Ok(summary)
}

#[allow(clippy::too_many_arguments)]
fn summary(
    cfg: &AifRunConfig,
    env: &Environment,
    run: &RunDir,
    e: &Estimate,
    trials: usize,
    branches: Option<u64>,
    policies: usize,
    seconds: f64,
    per_step: Option<f64>,
) -> AifSummary {
    let tmaze = env.task == Task::TMaze;
    let grid = matches!(env.task, Task::Grid { .. });
    let se = |x: f64| (!cfg.exact).then_some(x);
    AifSummary {
        run_dir: run.path().to_path_buf(),
        env: cfg.env.name(),
        trials,
        steps: cfg.steps,
        exact: cfg.exact,
        branches,
        policies,
        cue_first: tmaze.then_some(e.mean.cue_first),
        cue_first_se: se(e.se.cue_first).filter(|_| tmaze),
        reward_arm: tmaze.then_some(e.mean.reward_arm),
        reward_arm_se: se(e.se.reward_arm).filter(|_| tmaze),
        mean_reward: tmaze.then_some(e.mean.rewards),
        mean_reward_se: se(e.se.rewards).filter(|_| tmaze),
        reached_goal: grid.then_some(e.mean.reached_goal),
        reached_goal_se: se(e.se.reached_goal).filter(|_| grid),
        mean_utility: e.mean.utility,
        mean_utility_se: e.se.utility,
        seconds,
        seconds_per_step: per_step,
    }
}

/// After a trial of learning: per modality with `pA`, the mean absolute difference between
/// the agent's `A` and the world's; for the T-maze, then `p(reward | arm, condition)` of the
/// four arm columns (arm 1 / condition 0, arm 2 / condition 1, arm 1 / condition 1, arm 2 /
/// condition 0).
fn learning_row(env: &Environment, agent: &Agent) -> Vec<f64> {
    let a = &agent.model().a;
    let mut row: Vec<f64> = a
        .iter()
        .zip(&env.process.a)
        .map(|(x, y)| {
            x.data
                .iter()
                .zip(&y.data)
                .map(|(p, q)| (p - q).abs())
                .sum::<f64>()
                / x.data.len() as f64
        })
        .collect();
    if env.task == Task::TMaze {
        for (l, c) in [(1, 0), (2, 1), (1, 1), (2, 0)] {
            row.push(a[1].data[(4 + l) * 2 + c]);
        }
    }
    row
}

/// A `rows x cols` heat map (values in [0, 1]) scaled to about 480 pixels.
fn heat(
    run: &RunDir,
    file: &str,
    values: &[f64],
    rows: usize,
    cols: usize,
    caption: &str,
) -> Result<()> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    let scale = (480 / rows.max(cols).max(1)).clamp(1, 48);
    let spec = GridSpec {
        tile: [rows, cols],
        cols: 1,
        scale,
        border: 128,
    };
    save_grid(&run.file(file), &v, spec, Shade::Unit)?;
    run.add_figure(file, caption)
}

fn pictures(
    run: &RunDir,
    env: &Environment,
    records: &[StepRecord],
    learning: &[Vec<f64>],
    cfg: &AifRunConfig,
) -> Result<()> {
    let first: Vec<&StepRecord> = records.iter().filter(|r| r.trial == 0).collect();
    let steps = first.len();
    if steps > 0 {
        // Beliefs: factors stacked, a grey row between them.
        let num_states = env.model.num_states();
        let rows = num_states.iter().sum::<usize>() + num_states.len() - 1;
        let mut v = vec![0.5; rows * steps];
        let mut row = 0;
        for (f, &n) in num_states.iter().enumerate() {
            for s in 0..n {
                for (t, r) in first.iter().enumerate() {
                    v[(row + s) * steps + t] = r.qs[f][s];
                }
            }
            row += n + 1;
        }
        heat(
            run,
            "beliefs.png",
            &v,
            rows,
            steps,
            &format!(
                "Trial 0: beliefs q(s) after each outcome (columns: steps; rows: states of factors {:?}, stacked, white = 1)",
                num_states
            ),
        )?;
        let n_pi = first[0].q_pi.len();
        if n_pi <= 1024 {
            let mut v = vec![0.0; n_pi * steps];
            for (t, r) in first.iter().enumerate() {
                for (k, q) in r.q_pi.iter().enumerate() {
                    v[k * steps + t] = *q;
                }
            }
            heat(
                run,
                "policies.png",
                &v,
                n_pi,
                steps,
                "Trial 0: posterior over policies q(pi) at each step (rows: policies in pymdp's order; white = 1)",
            )?;
        }
    }
    path_picture(run, env, records)?;
    if cfg.learn && !learning.is_empty() {
        learning_picture(run, env, learning)?;
    }
    Ok(())
}

fn path_picture(run: &RunDir, env: &Environment, records: &[StepRecord]) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let n = env.process.num_states()[0];
    if let Task::Grid { side, .. } = env.task {
        let mut visits = vec![0.0; n];
        for r in records {
            visits[r.state[0]] += 1.0;
        }
        let max = visits.iter().copied().fold(0.0, f64::max).max(1.0);
        visits.iter_mut().for_each(|v| *v /= max);
        return heat(
            run,
            "path.png",
            &visits,
            side,
            side,
            "Visits per cell over the recorded trials (white = most; start top-left, goal bottom-right)",
        );
    }
    let steps = records.iter().map(|r| r.t + 1).max().unwrap_or(0);
    let mut v = vec![0.0; n * steps];
    let mut counts = vec![0.0f64; steps];
    for r in records {
        v[r.state[0] * steps + r.t] += 1.0;
        counts[r.t] += 1.0;
    }
    for s in 0..n {
        for t in 0..steps {
            v[s * steps + t] /= counts[t].max(1.0);
        }
    }
    heat(
        run,
        "path.png",
        &v,
        n,
        steps,
        "Where the agent is at each step (rows: states of the first factor, e.g. T-maze centre, left, right, cue; white = every recorded trial)",
    )
}

fn learning_picture(run: &RunDir, env: &Environment, learning: &[Vec<f64>]) -> Result<()> {
    let modalities = env.process.a.len();
    let x = |k: usize| (k + 1) as f64;
    let mut charts = vec![Chart {
        title: "learned A against the world's".into(),
        x_label: "trial".into(),
        y_label: "mean |A - A_true|".into(),
        series: (0..modalities)
            .map(|m| {
                Series::line(
                    format!("modality {m}"),
                    learning
                        .iter()
                        .enumerate()
                        .map(|(k, r)| (x(k), r[m]))
                        .collect(),
                )
            })
            .collect(),
        integer_x: true,
        ..Default::default()
    }];
    if env.task == Task::TMaze {
        let names = [
            "left arm, left rewarding",
            "right arm, right rewarding",
            "left arm, right rewarding",
            "right arm, left rewarding",
        ];
        charts.push(Chart {
            title: "p(reward | arm, condition), learned".into(),
            x_label: "trial".into(),
            y_label: "probability".into(),
            series: names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    Series::line(
                        *name,
                        learning
                            .iter()
                            .enumerate()
                            .map(|(k, r)| (x(k), r[modalities + j]))
                            .collect(),
                    )
                })
                .collect(),
            hlines: vec![(0.98, "true 0.98".into()), (0.02, "true 0.02".into())],
            integer_x: true,
            ..Default::default()
        });
    }
    save_panels(&run.file("learning.png"), &charts)?;
    run.add_figure(
        "learning.png",
        "Dirichlet learning: the agent's likelihood approaching the world's, trial by trial",
    )
}

/// One history for `aif infer`: outcomes, with the action taken between consecutive ones.
#[derive(Debug, Clone, PartialEq)]
pub struct InferRequest {
    /// The model file.
    pub model: PathBuf,
    /// One outcome index per modality, per step.
    pub obs: Vec<Vec<usize>>,
    /// One control per factor, between consecutive outcomes (`obs.len() - 1` of them).
    pub actions: Vec<Vec<usize>>,
    /// The agent.
    pub agent: AgentParams,
    /// Apply the Dirichlet updates after the last step.
    pub learn: bool,
    /// Time policy inference over this many repetitions (0: not timed).
    pub repeat: usize,
}

/// The answer of `aif infer`: the last step's beliefs and plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferResult {
    /// `q(s_f)` per factor.
    pub qs: Vec<Vec<f64>>,
    /// Variational free energy of `qs` (nats).
    pub vfe: f64,
    /// Its complexity (fixed-point iteration).
    pub complexity: Option<f64>,
    /// Its accuracy (fixed-point iteration).
    pub accuracy: Option<f64>,
    /// Every policy, `[policy_len][factors]` actions.
    pub policies: Vec<Vec<Vec<usize>>>,
    /// Negative expected free energy per policy.
    pub neg_efe: Vec<f64>,
    /// Its utility part.
    pub neg_efe_utility: Vec<f64>,
    /// Its state information gain part.
    pub neg_efe_info_gain: Vec<f64>,
    /// Its parameter information gain part (with pA/pB).
    pub neg_efe_novelty: Option<Vec<f64>>,
    /// `q(pi)`.
    pub q_pi: Vec<f64>,
    /// Per factor, `q(pi)` summed by first action.
    pub action_marginals: Vec<Vec<f64>>,
    /// Per joint action (first factor slowest), the probability of taking it now.
    pub action_probabilities: Vec<f64>,
    /// The precision used.
    pub gamma: f64,
    /// (--learn) the updated concentrations.
    #[serde(rename = "pA", skip_serializing_if = "Option::is_none")]
    pub pa: Option<Value>,
    /// (--learn) the updated concentrations.
    #[serde(rename = "pB", skip_serializing_if = "Option::is_none")]
    pub pb: Option<Value>,
    /// (--learn) the updated concentrations.
    #[serde(rename = "pD", skip_serializing_if = "Option::is_none")]
    pub pd: Option<Value>,
    /// Mean seconds per policy inference over `repeat` calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_infer_policies: Option<f64>,
}

/// Replay the history and answer for its last step.
pub fn infer(req: &InferRequest) -> Result<InferResult> {
    let model = Pomdp::read(&req.model)?;
    if req.obs.is_empty() {
        return Err(Error::param("obs", "give at least one outcome"));
    }
    if req.actions.len() + 1 != req.obs.len() {
        return Err(Error::param(
            "action",
            format!(
                "{} outcomes need {} actions between them, one --action between consecutive --obs; {} given",
                req.obs.len(),
                req.obs.len() - 1,
                req.actions.len()
            ),
        ));
    }
    if req.learn && model.pa.is_none() && model.pb.is_none() && model.pd.is_none() {
        return Err(Error::param(
            "learn",
            "the model has no Dirichlet parameters (pA, pB, pD) to learn",
        ));
    }
    let mut agent = Agent::new(&model, req.agent.clone())?;
    for o in &req.obs {
        agent.check_obs(o)?;
    }
    for (t, o) in req.obs.iter().enumerate() {
        agent.infer_states(o)?;
        agent.infer_policies();
        if let Some(u) = req.actions.get(t) {
            agent.set_action(u)?;
        }
    }
    let seconds_infer_policies = (req.repeat > 0).then(|| {
        let start = Instant::now();
        for _ in 0..req.repeat {
            std::hint::black_box(agent.infer_policies());
        }
        start.elapsed().as_secs_f64() / req.repeat as f64
    });
    let beliefs = agent.beliefs().expect("inferred").clone();
    let post = agent.policy_posterior().expect("inferred").clone();
    let novelty = model.pa.is_some() || model.pb.is_some();
    let mut out = InferResult {
        qs: agent.qs().to_vec(),
        vfe: beliefs.vfe,
        complexity: beliefs.parts.map(|p| p.complexity),
        accuracy: beliefs.parts.map(|p| p.accuracy),
        policies: agent.policies().all(),
        action_marginals: action_marginals(agent.policies(), &post.q_pi),
        action_probabilities: agent.action_distribution(),
        neg_efe: post.neg_efe,
        neg_efe_utility: post.utility,
        neg_efe_info_gain: post.info_gain,
        neg_efe_novelty: (novelty && req.agent.terms.novelty).then_some(post.novelty),
        q_pi: post.q_pi,
        gamma: agent.gamma(),
        pa: None,
        pb: None,
        pd: None,
        seconds_infer_policies,
    };
    if req.learn {
        let last = req.obs.last().expect("checked");
        agent.learn(last)?;
        agent.learn_initial_state();
        let list = |a: &[Array]| Value::Array(a.iter().map(Array::to_json).collect());
        let m = agent.model();
        out.pa = m.pa.as_deref().map(list);
        out.pb = m.pb.as_deref().map(list);
        out.pd = m.pd.as_ref().map(|d| json!(d));
    }
    if let Some(what) = crate::run::first_non_finite(&out) {
        return Err(Error::NonFiniteResult {
            what,
            run: req.model.clone(),
        });
    }
    Ok(out)
}

/// Write a built-in environment's model (and, with `process`, the world's) as a model file.
pub fn export(spec: &EnvSpec, out: &Path, process: bool) -> Result<()> {
    if out.exists() {
        return Err(Error::param(
            "out",
            format!(
                "{} exists; choose a new file (nothing is overwritten)",
                out.display()
            ),
        ));
    }
    let env = Environment::new(spec)?;
    let model = if process { &env.process } else { &env.model };
    let text =
        serde_json::to_string(&model.to_json()).map_err(|e| Error::Internal(e.to_string()))?;
    write_atomic(out, text.as_bytes())
}
