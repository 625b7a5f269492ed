//! `helmholtz aif infer|run|model`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::Error;
use helmholtz::aif::{
    self, ActionSelection, AgentParams, AifRunConfig, AifSummary, EfeTerms, EnvSpec, InferRequest,
    Inference, Learning, MmpConfig, Sampling, SophisticatedConfig,
};

use crate::common::{Global, emit, given, write_run};

/// Active inference on discrete POMDPs (pymdp's agent): perceive by minimising variational free
/// energy, plan by minimising expected free energy, act, learn Dirichlet parameters.
#[derive(Debug, Subcommand)]
pub enum AifCommand {
    /// Replay a history of outcomes and actions and print the last step's beliefs, free
    /// energy, expected free energy per policy and policy posterior.
    Infer(InferArgs),
    /// Run episodes of an agent in an environment into a run directory; print the T-maze's
    /// cue-first and reward-arm fractions and mean reward (or the grid's goal rate).
    Run(RunArgs),
    /// Write a built-in environment's generative model as a model file (pymdp's JSON layout).
    Model(ModelArgs),
}

/// The agent's settings.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Steps per policy (policies: every sequence of controls of the controllable factors).
    #[arg(long, default_value_t = 1, value_name = "N")]
    policy_len: usize,

    /// Precision of the policy posterior q(pi) = softmax(gamma G + ln E).
    #[arg(long, default_value_t = 16.0, value_name = "G")]
    gamma: f64,

    /// Precision of stochastic action selection, p(u) = softmax(alpha ln marginal(u)).
    #[arg(long, default_value_t = 16.0, value_name = "A")]
    alpha: f64,

    /// `deterministic` (the most probable action; ties broken at random) or `stochastic`.
    #[arg(long, default_value = "deterministic", value_parser = ["deterministic", "stochastic"])]
    action_selection: String,

    /// Choose actions from the `marginal` over first actions, or a `full` policy from q(pi).
    #[arg(long, default_value = "marginal", value_parser = ["marginal", "full"])]
    sampling: String,

    /// State inference: `fpi` (fixed-point iteration, 10 iterations or dF < 1e-3) or `mmp`
    /// (marginal message passing over 2 steps, 10 iterations, tau 0.25).
    #[arg(long, default_value = "fpi", value_parser = ["fpi", "mmp"])]
    inference: String,

    /// Leave the parameter information gain (novelty of pA, pB) out of G.
    #[arg(long)]
    no_novelty: bool,

    /// Update the precision gamma after every outcome (from how well the outcome fits the
    /// policies it favoured).
    #[arg(long)]
    update_gamma: bool,

    /// Learning rate of pA.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    lr_pa: f64,

    /// Learning rate of pB.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    lr_pb: f64,

    /// Learning rate of pD.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    lr_pd: f64,

    /// Forgetting in [0, 1]: the share of learned Dirichlet counts lost at each update.
    #[arg(long, default_value_t = 0.0, value_name = "X")]
    forgetting: f64,
}

/// Flags of `aif infer`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// The model: a JSON object with pymdp's keys A, B, C, D (optional E, pA, pB, pD) and index
    /// order: A[m] [obs, s_1..s_F], B[f] [s, s, u] (next state first).
    model: PathBuf,

    /// Outcome indices, one per modality, comma-separated (e.g. 0,0,0); repeat for each step,
    /// with an --action between consecutive ones.
    #[arg(long, value_name = "O0,O1,...", required = true)]
    obs: Vec<String>,

    /// The controls taken between two outcomes, one per factor (0 for an uncontrolled factor).
    #[arg(long, value_name = "U0,U1,...")]
    action: Vec<String>,

    /// Apply the Dirichlet updates after the last step and print pA, pB, pD.
    #[arg(long)]
    learn: bool,

    /// Time policy inference: repeat it N times and print the mean seconds per call.
    #[arg(long, default_value_t = 0, value_name = "N")]
    repeat: usize,

    #[command(flatten)]
    agent: AgentArgs,
}

/// Flags of `aif run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// `tmaze` (pymdp's T-maze), `tmaze-null` (its learning demo: null cue outcome, reward
    /// probabilities to learn), `tmaze-absorbing` (arms cannot be left, costly cue: needs
    /// --sophisticated), `grid` (5x5, noisy location), or a model file (the world = the model
    /// unless --process is given).
    #[arg(long, default_value = "tmaze", value_name = "ENV")]
    env: String,

    /// The world's own model file (A, B, D generate states and outcomes) for --env MODEL.json.
    #[arg(long, value_name = "FILE")]
    process: Option<PathBuf>,

    /// Trials (episodes).
    #[arg(long, default_value_t = 100, value_name = "N")]
    trials: usize,

    /// Actions per trial.
    #[arg(long, default_value_t = 5, value_name = "T")]
    steps: usize,

    /// Learn the model's Dirichlet parameters (pA, pB, pD) across trials.
    #[arg(long)]
    learn: bool,

    /// Instead of sampling trials, the exact expected figures over every branch of states,
    /// outcomes and actions (small --steps; ignores --trials).
    #[arg(long)]
    exact: bool,

    /// Sophisticated inference: expected free energy over beliefs updated along each branch
    /// of actions and outcomes, to --depth actions.
    #[arg(long)]
    sophisticated: bool,

    /// Depth of sophisticated inference.
    #[arg(long, default_value_t = 2, value_name = "D")]
    depth: usize,

    #[command(flatten)]
    agent: AgentArgs,
}

/// Flags of `aif model`.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// `tmaze`, `tmaze-null`, `tmaze-absorbing` or `grid`.
    #[arg(long, value_parser = EnvSpec::BUILT_IN)]
    env: String,

    /// Write the world's model (the generative process) instead of the agent's.
    #[arg(long)]
    process: bool,
}

/// Run an `aif` subcommand.
pub fn run(cmd: AifCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        AifCommand::Infer(a) => {
            let req = InferRequest {
                model: a.model,
                obs: a
                    .obs
                    .iter()
                    .map(|s| indices(s, "obs"))
                    .collect::<Result<_, _>>()?,
                actions: a
                    .action
                    .iter()
                    .map(|s| indices(s, "action"))
                    .collect::<Result<_, _>>()?,
                agent: agent_params(&a.agent, None)?,
                learn: a.learn,
                repeat: a.repeat,
            };
            let result = aif::infer(&req)?;
            let human = format!(
                "qs {:?}\nvfe {:.6} nats\nbest policy {:?} (q = {:.4})\naction marginals {:?}",
                result.qs,
                result.vfe,
                result
                    .q_pi
                    .iter()
                    .enumerate()
                    .max_by(|x, y| x.1.total_cmp(y.1))
                    .map(|(k, _)| &result.policies[k]),
                result.q_pi.iter().copied().fold(0.0, f64::max),
                result.action_marginals
            );
            emit(g.json, &human, &result)
        }
        AifCommand::Run(a) => {
            let si = a.sophisticated.then(|| SophisticatedConfig {
                depth: a.depth,
                ..Default::default()
            });
            if !a.sophisticated && given("depth") {
                return Err(Error::param("depth", "is used with --sophisticated; drop it").into());
            }
            if a.process.is_some() && EnvSpec::BUILT_IN.contains(&a.env.as_str()) {
                return Err(Error::param(
                    "process",
                    "is for --env MODEL.json; a built-in environment has its own world",
                )
                .into());
            }
            let mut cfg = AifRunConfig::new(
                EnvSpec::parse(&a.env, a.process.clone()),
                agent_params(&a.agent, si)?,
                a.trials,
                a.steps,
                g.seed(),
            );
            cfg.learn = a.learn;
            cfg.exact = a.exact;
            write_run(g, &cfg, |c, out, p| aif::run(c, out, p), summary_line)
        }
        AifCommand::Model(a) => {
            let out = g
                .out
                .clone()
                .ok_or_else(|| Error::param("out", "give the file to write: --out FILE.json"))?;
            aif::export(&EnvSpec::parse(&a.env, None), &out, a.process)?;
            emit(
                g.json,
                &format!("wrote {}", out.display()),
                &serde_json::json!({ "path": out }),
            )
        }
    }
}

fn agent_params(a: &AgentArgs, si: Option<SophisticatedConfig>) -> anyhow::Result<AgentParams> {
    Ok(AgentParams {
        policy_len: a.policy_len,
        gamma: a.gamma,
        alpha: a.alpha,
        action_selection: match a.action_selection.as_str() {
            "stochastic" => ActionSelection::Stochastic,
            _ => ActionSelection::Deterministic,
        },
        sampling: match a.sampling.as_str() {
            "full" => Sampling::Full,
            _ => Sampling::Marginal,
        },
        inference: match a.inference.as_str() {
            "mmp" => Inference::Mmp,
            _ => Inference::Fpi,
        },
        mmp: MmpConfig::default(),
        terms: EfeTerms {
            novelty: !a.no_novelty,
            ..Default::default()
        },
        sophisticated: si,
        update_gamma: a.update_gamma,
        learning: Learning {
            lr_pa: a.lr_pa,
            lr_pb: a.lr_pb,
            lr_pd: a.lr_pd,
            forgetting: a.forgetting,
        },
        ..Default::default()
    })
}

/// `0,3,1` as indices; `flag` names the flag in errors.
fn indices(s: &str, flag: &'static str) -> helmholtz::Result<Vec<usize>> {
    s.split(',')
        .map(|x| {
            x.trim().parse::<usize>().map_err(|_| {
                Error::param(
                    flag,
                    format!("`{s}` is not comma-separated non-negative indices (e.g. 0,2,1)"),
                )
            })
        })
        .collect()
}

fn summary_line(s: &AifSummary) -> String {
    let how = if s.exact {
        format!("exact over {} branches", s.branches.unwrap_or(0))
    } else {
        format!("{} trials", s.trials)
    };
    let pm = |x: Option<f64>| x.map(|e| format!(" ± {e:.3}")).unwrap_or_default();
    let mut parts = Vec::new();
    if let (Some(c), Some(r), Some(m)) = (s.cue_first, s.reward_arm, s.mean_reward) {
        parts.push(format!(
            "cue first {c:.4}{}, ends in the reward arm {r:.4}{}, mean reward {m:.4}{} per trial",
            pm(s.cue_first_se),
            pm(s.reward_arm_se),
            pm(s.mean_reward_se)
        ));
    }
    if let Some(g) = s.reached_goal {
        parts.push(format!("reaches the goal {g:.4}{}", pm(s.reached_goal_se)));
    }
    parts.push(format!("mean utility {:.4} nats per step", s.mean_utility));
    format!(
        "{} ({how} x {} steps, {} policies): {}; {:.2} s -> {}",
        s.env,
        s.steps,
        s.policies,
        parts.join("; "),
        s.seconds,
        s.run_dir.display()
    )
}
