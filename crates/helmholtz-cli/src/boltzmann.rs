//! `helmholtz boltzmann train|sample`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::api::Trainable;
use helmholtz::energy::boltzmann::{
    self, BoltzmannConfig, BoltzmannEval, BoltzmannMachine, BoltzmannParams, BoltzmannRunConfig,
    LearnConfig, SampleRequest, StateRow, Target, TrainingSource,
};
use helmholtz::sampling::Schedule;

use crate::commands::{self, print_summary};
use crate::common::{Global, binary_data, emit, progress_bar, refuse_unused};

/// Sweeps per chain of `boltzmann sample --anneal` when --sweeps is not given.
const ANNEAL_SWEEPS: usize = 1000;

/// Boltzmann machines: fully connected stochastic binary networks with hidden units.
#[derive(Debug, Subcommand)]
pub enum BoltzmannCommand {
    /// Learn a target distribution (the reference article's AND system, XOR/parity, or binary data),
    /// logging the exact KL(p_data || q) per step.
    Train(TrainArgs),
    /// Sample a trained machine at a temperature or along an annealing schedule and compare the
    /// state frequencies with the exact model probabilities.
    Sample(SampleArgs),
}

/// Flags of `boltzmann train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Built-in target: `and` (x1, x2, x1 AND x2), `xor` (x1, x2, x1 XOR x2, needs hidden units),
    /// or `parity:K` (even-parity K-bit vectors).
    #[arg(
        long,
        default_value = "and",
        value_name = "and|xor|parity:K",
        conflicts_with = "data"
    )]
    target: String,

    /// Learn binary data instead (a .csv/.npy of 0/1 columns, or an IDX folder, binarised).
    #[arg(long, value_name = "PATH")]
    data: Option<String>,

    /// Hidden units [default: 0 for and, 3 for xor, K for parity:K, 0 for data].
    #[arg(long, value_name = "N")]
    hidden: Option<usize>,

    /// Gradient steps in total (a multiple of --log-every) [default: 2000; with --resume, the
    /// run's own total].
    #[arg(long, value_name = "N")]
    steps: Option<usize>,

    /// Learning rate lambda of dw_ij = lambda (<u_i u_j>_data - <u_i u_j>_model).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    lr: f64,

    /// Momentum of the updates.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    momentum: f64,

    /// Temperature T of the model (p(u_i = 1) = sigmoid(I_i / T)).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    temperature: f64,

    /// Expectations: `auto` (exact up to 20 units), `exact` or `sampled`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "exact", "sampled"])]
    expectations: String,

    /// Persistent chains for sampled expectations.
    #[arg(long, default_value_t = 100, value_name = "N")]
    chains: usize,

    /// Gibbs sweeps per step for sampled expectations.
    #[arg(long, default_value_t = 5, value_name = "N")]
    sweeps: usize,

    /// Standard deviation of the initial weights.
    #[arg(long, default_value_t = 0.1, value_name = "X")]
    init_std: f64,

    /// Gradient steps per epoch: the KL is recorded and a checkpoint saved every N steps.
    #[arg(long, default_value_t = 20, value_name = "N")]
    log_every: usize,

    /// Examples per step in the clamped phase of sampled expectations.
    #[arg(long, default_value_t = 100, value_name = "N")]
    batch_size: usize,

    /// Continue the run in DIR from its last checkpoint (other flags are ignored; --steps may
    /// raise the total).
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
}

/// Flags of `boltzmann sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The run directory of a trained machine.
    run: PathBuf,

    /// Samples: independent chains, one sample each.
    #[arg(long = "n", default_value_t = 10_000, value_name = "N")]
    n: usize,

    /// Gibbs sweeps per chain [default: 10 autocorrelation times, measured on 32 pilot chains
    /// at the temperature run until they agree (Gelman-Rubin R-hat < 1.05); 1000 with --anneal].
    #[arg(long, value_name = "N")]
    sweeps: Option<usize>,

    /// Sample at temperature T (not with --anneal).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    temperature: f64,

    /// Simulated annealing over the sweeps: `linear:T0:T1`, `geometric:T0:T1` or `log:T0`.
    #[arg(long, value_name = "SCHEDULE")]
    anneal: Option<String>,
}

/// Run a `boltzmann` subcommand.
pub fn run(cmd: BoltzmannCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        BoltzmannCommand::Train(a) => train(a, g),
        BoltzmannCommand::Sample(a) => sample(a, g),
    }
}

fn train(a: TrainArgs, g: &Global) -> anyhow::Result<()> {
    let log_every = a.log_every.max(1);
    let epochs = match a.steps {
        Some(s) if s % log_every != 0 || s == 0 => {
            return Err(helmholtz::Error::param(
                "steps",
                format!("must be a positive multiple of --log-every {log_every} (got {s})"),
            )
            .into());
        }
        Some(s) => Some(s / log_every),
        None => None,
    };
    let summary =
        commands::train::<BoltzmannMachine>(g, a.resume.as_deref(), epochs, false, || {
            config(&a, epochs.unwrap_or(2000 / log_every), g)
        })?;
    let table = summary.eval.as_ref().map_or(String::new(), |e| {
        if e.table.is_empty() {
            String::new()
        } else {
            format!("{}\n", table_lines(&e.table, false))
        }
    });
    print!("{}", if g.json { "" } else { &table });
    print_summary(g.json, &summary, eval_line)
}

fn config(a: &TrainArgs, epochs: usize, g: &Global) -> anyhow::Result<BoltzmannRunConfig> {
    if a.expectations == "exact" {
        refuse_unused(
            &["chains", "sweeps", "batch-size"],
            "is only used by sampled expectations, not --expectations exact",
        )?;
    }
    let (source, default_hidden) = match &a.data {
        Some(d) => (TrainingSource::Data(binary_data(d)?), 0),
        None => {
            let t: Target = a.target.parse()?;
            (TrainingSource::Target(t), t.default_hidden())
        }
    };
    let params = BoltzmannParams {
        model: BoltzmannConfig {
            visible: 0,
            hidden: a.hidden.unwrap_or(default_hidden),
            init_std: a.init_std,
        },
        learn: LearnConfig {
            lr: a.lr,
            steps_per_epoch: a.log_every,
            momentum: a.momentum,
            temperature: a.temperature,
            expectations: a.expectations.parse()?,
            chains: a.chains,
            sweeps: a.sweeps,
        },
        ..BoltzmannParams::default()
    }
    .epochs(epochs)
    .batch_size(a.batch_size)
    .seed(g.seed());
    Ok(BoltzmannRunConfig { params, source })
}

fn table_lines(rows: &[StateRow], with_exact: bool) -> String {
    let head = if with_exact {
        "state  target  empirical  exact q"
    } else {
        "state  p_data   q(v)"
    };
    let body: Vec<String> = rows
        .iter()
        .map(|r| match r.exact {
            Some(e) if with_exact => {
                format!("{:>5}  {:.4}  {:.4}     {:.4}", r.state, r.p_data, r.q, e)
            }
            _ => format!("{:>5}  {:.4}   {:.4}", r.state, r.p_data, r.q),
        })
        .collect();
    format!("{head}\n{}", body.join("\n"))
}

fn eval_line(e: &BoltzmannEval) -> String {
    let kl =
        e.kl.map_or("not computed (more than 20 units)".into(), |k| {
            format!("{k:.5} nats")
        });
    format!(
        "a Boltzmann machine with {} visible and {} hidden units, {} steps: KL(p_data || q) = {kl}",
        e.visible, e.hidden, e.steps
    )
}

fn sample(a: SampleArgs, g: &Global) -> anyhow::Result<()> {
    if a.anneal.is_some() {
        refuse_unused(
            &["temperature"],
            "is not used with --anneal (the schedule sets the temperatures)",
        )?;
    }
    // The schedule parser speaks of `schedule` (anneal's flag); here the flags are --anneal
    // and --temperature.
    let named = |name: &'static str| {
        move |e: helmholtz::Error| match e {
            helmholtz::Error::InvalidParam { reason, .. } => helmholtz::Error::param(name, reason),
            e => e,
        }
    };
    let schedule = match &a.anneal {
        Some(s) => s.parse::<Schedule>().map_err(named("anneal"))?,
        None => {
            let s = Schedule::Constant {
                temperature: a.temperature,
            };
            s.validate().map_err(named("temperature"))?;
            s
        }
    };
    let mixing = match (a.sweeps, &a.anneal) {
        (None, None) => {
            let (_, _, bm) = boltzmann::open(&a.run)?;
            Some(boltzmann::mixing_sweeps(&bm, a.temperature, g.seed()))
        }
        _ => None,
    };
    let req = SampleRequest {
        chains: a.n,
        sweeps: a
            .sweeps
            .or(mixing.map(|m| m.sweeps))
            .unwrap_or(ANNEAL_SWEEPS),
        schedule,
        seed: g.seed(),
    };
    let mut s = boltzmann::sample(&a.run, &req, &progress_bar())?;
    s.mixing = mixing;
    if s.mixed == Some(false) {
        eprintln!(
            "warning: the chains have not mixed: total variation {:.4} to the exact distribution, \
             where sampling noise explains {:.4}; sample with more --sweeps",
            s.total_variation.unwrap_or(f64::NAN),
            s.expected_total_variation.unwrap_or(f64::NAN)
        );
    }
    let tv = s.total_variation.map_or(String::new(), |t| {
        format!("; total variation to the exact distribution {t:.4}")
    });
    let sweeps = match &s.mixing {
        Some(m) => format!(
            "{} sweeps (10 x autocorrelation time {:.1}; pilot chains agreed after {}, R-hat {:.3})",
            s.sweeps, m.tau, m.pilot_sweeps, m.r_hat
        ),
        None => format!("{} sweeps", s.sweeps),
    };
    let human = format!(
        "{}\n{} samples at T = {:.3} after {sweeps}{tv} -> {}",
        table_lines(&s.table, true),
        s.chains,
        s.temperature,
        s.file.display()
    );
    emit(g.json, &human, &s)
}
