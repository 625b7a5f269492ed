//! `helmholtz bnn train|eval|predict`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::bayes::bbb::{Activation, Prior};
use helmholtz::bayes::params::{BnnData, BnnRunConfig, Method};
use helmholtz::bayes::run::{self, Bnn, BnnEval, HeldOut};
use helmholtz::kernels::runtime::DeviceKind;

use crate::commands::{LoopArgs, print_summary};
use crate::common::{Global, emit, refuse_unused};

/// Bayesian regression and classification: SVI with a mean-field guide, Bayes by Backprop,
/// SGLD, SGHMC.
#[derive(Debug, Subcommand)]
pub enum BnnCommand {
    /// Infer a posterior and write a run directory: samples or variational parameters, a
    /// summary, held-out metrics and pictures. The reference article's Bayesian linear regression (`--example seed`: w ~ N(0, 1),
    /// b ~ N(0, 10²), σ ~ Uniform(0, 10)) takes any --method; the `gap` example, CSV data with
    /// --method bbb, and the digits classifier are Bayes-by-Backprop MLPs.
    Train(Box<TrainArgs>),
    /// Held-out metrics of a run: test_log_likelihood (nats per example); rmse and coverage_95
    /// (regression), accuracy, ece, brier_rmse and set_coverage_95 (classification).
    Eval(EvalArgs),
    /// Posterior predictive for new rows (or the held-out rows) as CSV.
    Predict(PredictArgs),
}

/// Flags of `bnn eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run directory.
    #[arg(value_name = "RUN")]
    run: PathBuf,

    /// Posterior draws per prediction [default: the run's --eval-draws].
    #[arg(long = "n", value_name = "N")]
    n: Option<usize>,
}

/// Flags of `bnn predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The run directory.
    #[arg(value_name = "RUN")]
    run: PathBuf,

    /// CSV of inputs with the training feature columns (by name, or all columns but the target
    /// in order; digits: 784 pixel columns in [0, 1]) [default: the run's held-out rows].
    #[arg(long, value_name = "FILE.csv")]
    input: Option<PathBuf>,

    /// Posterior draws per prediction [default: the run's --eval-draws].
    #[arg(long = "n", value_name = "N")]
    n: Option<usize>,
}

/// Flags of `bnn train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Built-in data: `seed` (100 points of y = 3x + 2 + 0.5 ε on [-5, 5]; the default when
    /// no --data is given), `gap` (200 points of y = sin 2x + 0.3x + 0.2 ε with no inputs in
    /// (-1.5, 1.5)), or `digits` (the embedded 8k/2k MNIST digits, classification; needs
    /// --method bbb). Held out: 100 / 500 fresh points, the 2k test digits.
    #[arg(long, value_parser = ["seed", "gap", "digits"], conflicts_with = "data")]
    example: Option<String>,

    /// A CSV file (header row, numeric cells); --target names the response column.
    #[arg(long, value_name = "FILE.csv", requires = "target")]
    data: Option<PathBuf>,

    /// The response column of --data.
    #[arg(long, value_name = "COLUMN")]
    target: Option<String>,

    /// Fraction of a CSV file's rows held out (seeded) for the metrics; 0 keeps all.
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    test_fraction: f64,

    /// Inference: `svi` (mean-field Gaussian guide, Adam), `bbb` (Bayes by Backprop), `sgld`
    /// or `sghmc`. svi/sgld/sghmc fit the linear regression; bbb fits an MLP (no hidden layer
    /// on `--example seed`).
    #[arg(long, default_value = "svi", value_parser = Method::NAMES.to_vec())]
    method: String,

    /// SVI: optimisation steps [default: 1000]; SGLD/SGHMC: chain length [default: 50000].
    /// An epoch (a metrics row and a checkpoint) is 100 SVI or 1000 chain steps.
    #[arg(long, value_name = "N")]
    steps: Option<usize>,

    /// Adam learning rate: SVI [default: 0.01]; BBB [default: 0.01, digits 0.001].
    #[arg(long, value_name = "X")]
    lr: Option<f64>,

    /// Hidden widths, comma-separated, or `none` for a Bayesian linear model [default: gap 50,
    /// digits 400,400, otherwise none]. svi/sgld/sghmc take at most one (tanh) hidden layer.
    #[arg(long, value_name = "W1,W2,..|none")]
    hidden: Option<String>,

    /// BBB: hidden non-linearity [default: tanh for gap, relu otherwise].
    #[arg(long, value_parser = ["relu", "tanh"])]
    activation: Option<String>,

    /// BBB: prior of the weights: `gaussian[:SIGMA]` or `mixture[:PI,SIGMA1,SIGMA2]` (Blundell's
    /// scale mixture; bare `mixture` is π = 0.5, σ1 = 1, σ2 = e^-6) [default: gaussian:1, digits
    /// mixture].
    #[arg(long, value_name = "PRIOR")]
    prior: Option<String>,

    /// BBB: prior of the biases, same syntax [default: seed gaussian:10, otherwise as --prior].
    #[arg(long, value_name = "PRIOR")]
    bias_prior: Option<String>,

    /// BBB: sample weights (one draw per batch) instead of pre-activations (local
    /// reparameterisation, the default).
    #[arg(long)]
    no_local_reparam: bool,

    /// BBB: update engine: `auto` (a classifier on the CPU trains with the hand-written host
    /// kit: forward, backward and Adam over the split sgemm) or `tensor` (burn's autodiff, the
    /// reference; regression always uses it).
    #[arg(long, default_value = "auto", value_parser = helmholtz::nn::Engine::NAMES.to_vec())]
    engine: String,

    /// BBB: initial posterior standard deviation of every weight.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    init_std: f64,

    /// Posterior draws behind the held-out metrics, the band and predictions.
    #[arg(long, default_value_t = 100, value_name = "N")]
    eval_draws: usize,

    /// SVI: learning rate at the last step, reached geometrically [default: constant --lr].
    #[arg(long, value_name = "X")]
    lr_final: Option<f64>,

    /// SVI: reparameterised draws per ELBO estimate.
    #[arg(long, default_value_t = 1, value_name = "M")]
    particles: usize,

    /// SVI: posterior draws from the fitted guide for the summaries and the band.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    samples: usize,

    /// SGLD: a in ε_t = a (b + t)^-γ; SGHMC: the learning rate η [default: 5e-5; the gap
    /// network: SGLD 2e-5, SGHMC 1e-5].
    #[arg(long, allow_negative_numbers = true)]
    step_size: Option<f64>,

    /// SGLD: b in ε_t = a (b + t)^-γ.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    step_offset: f64,

    /// SGLD: γ in ε_t = a (b + t)^-γ (0 = constant step).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    step_decay: f64,

    /// SGHMC: friction α in (0, 1] (the momentum's decay per step).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    friction: f64,

    /// SGLD/SGHMC: steps discarded before samples are kept.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    burn_in: usize,

    /// SGLD/SGHMC: keep every N-th state after the burn-in.
    #[arg(long, default_value_t = 10, value_name = "N")]
    thin: usize,

    /// --epochs (BBB: passes over the training data [default: seed 1000, gap 3000, CSV 500,
    /// digits 10]; svi/sgld/sghmc take --steps), --batch-size (gradients are scaled to the
    /// full data set [default: all rows; BBB: seed 100, gap 200, CSV 64, digits 100]; SGHMC
    /// here does not correct for the gradient noise, so small batches widen its posterior),
    /// --resume, --no-eval.
    #[command(flatten)]
    train: LoopArgs,
}

/// Run a `bnn` subcommand.
pub fn run(cmd: BnnCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        BnnCommand::Train(a) => train(*a, g),
        BnnCommand::Eval(a) => eval(a, g),
        BnnCommand::Predict(a) => predict(a, g),
    }
}

fn config(a: &TrainArgs, g: &Global) -> anyhow::Result<BnnRunConfig> {
    let data = match (&a.example, &a.data) {
        (Some(e), _) => match e.as_str() {
            "seed" => BnnData::Seed,
            "gap" => BnnData::Gap,
            "digits" => BnnData::Digits,
            _ => anyhow::bail!(helmholtz::Error::param(
                "example",
                format!("`{e}` is not a built-in example (seed, gap, digits)")
            )),
        },
        (_, Some(path)) => BnnData::Csv {
            path: path.clone(),
            target: a.target.clone().unwrap_or_default(),
        },
        _ => BnnData::Seed,
    };
    let method: Method = a.method.parse()?;
    refuse_other_methods(method)?;
    let mut cfg = BnnRunConfig::new(data, method);
    let p = &mut cfg.params;
    p.train.seed = g.seed();
    p.device = g.device_kind()?;
    if p.device != DeviceKind::Cpu && method != Method::Bbb {
        anyhow::bail!(helmholtz::Error::param(
            "device",
            "svi, sgld and sghmc run on the CPU (their updates are host code); use --device cpu",
        ));
    }
    if method != Method::Bbb && a.train.epochs.is_some() {
        anyhow::bail!(helmholtz::Error::param(
            "epochs",
            "svi, sgld and sghmc count --steps (an epoch is a block of 100 or 1000 steps)",
        ));
    }
    p.train.epochs = a.train.epochs.unwrap_or(p.train.epochs);
    p.posterior_samples = a.samples;
    cfg.eval_draws = a.eval_draws;
    cfg.test_fraction = a.test_fraction;
    if let Some(h) = a.hidden.as_deref() {
        p.hidden = parse_hidden(h)?;
    }
    p.svi.lr = a.lr.unwrap_or(p.svi.lr);
    p.bbb.lr = a.lr.unwrap_or(p.bbb.lr);
    if let Some(act) = a.activation.as_deref() {
        p.bbb.activation = act.parse::<Activation>()?;
    }
    if let Some(prior) = a.prior.as_deref() {
        p.bbb.weight_prior = prior.parse::<Prior>()?;
        if cfg.data != BnnData::Seed {
            p.bbb.bias_prior = p.bbb.weight_prior;
        }
    }
    if let Some(prior) = a.bias_prior.as_deref() {
        // The prior parser speaks of `prior`; this is --bias-prior.
        p.bbb.bias_prior = prior.parse::<Prior>().map_err(|e| match e {
            helmholtz::Error::InvalidParam { reason, .. } => {
                helmholtz::Error::param("bias-prior", reason)
            }
            e => e,
        })?;
    }
    p.bbb.local_reparam = !a.no_local_reparam;
    p.engine = a.engine.parse()?;
    p.bbb.init_std = a.init_std;
    p.svi.lr_final = a.lr_final;
    p.svi.particles = a.particles;
    match method {
        Method::Svi => {
            p.svi.steps = a.steps.unwrap_or(p.svi.steps);
            p.svi.batch_size = a.train.batch_size;
        }
        Method::Bbb => p.train.batch_size = a.train.batch_size.unwrap_or(p.train.batch_size),
        Method::Sgld | Method::Sghmc => {
            p.chain.steps = a.steps.unwrap_or(p.chain.steps);
            p.chain.batch_size = a.train.batch_size;
        }
    }
    p.chain.burn_in = a.burn_in;
    p.chain.thin = a.thin;
    p.sgld.a = a.step_size.unwrap_or(p.sgld.a);
    p.sgld.b = a.step_offset;
    p.sgld.gamma = a.step_decay;
    p.sghmc.lr = a.step_size.unwrap_or(p.sghmc.lr);
    p.sghmc.friction = a.friction;
    p.sync_epochs();
    cfg.validate()?;
    Ok(cfg)
}

/// Refuse the flags of the other inference methods: each would be silently ignored.
fn refuse_other_methods(method: Method) -> anyhow::Result<()> {
    const BBB: &[&str] = &[
        "activation",
        "prior",
        "bias-prior",
        "no-local-reparam",
        "engine",
        "init-std",
    ];
    const SVI: &[&str] = &["lr-final", "particles"];
    const CHAIN: &[&str] = &["step-size", "burn-in", "thin"];
    const SGLD: &[&str] = &["step-offset", "step-decay"];
    const SGHMC: &[&str] = &["friction"];
    let groups: [(&[&'static str], &[Method], &str); 6] = [
        (BBB, &[Method::Bbb], "bbb"),
        (SVI, &[Method::Svi], "svi"),
        (CHAIN, &[Method::Sgld, Method::Sghmc], "sgld and sghmc"),
        (SGLD, &[Method::Sgld], "sgld"),
        (SGHMC, &[Method::Sghmc], "sghmc"),
        (&["lr"], &[Method::Svi, Method::Bbb], "svi and bbb"),
    ];
    for (flags, methods, names) in groups {
        if !methods.contains(&method) {
            refuse_unused(flags, &format!("is only used by --method {names}"))?;
        }
    }
    if method == Method::Bbb {
        refuse_unused(
            &["steps"],
            "is not used by --method bbb, which counts --epochs",
        )?;
    }
    Ok(())
}

/// `64,32` -> `[64, 32]`; `none` -> `[]`.
fn parse_hidden(s: &str) -> anyhow::Result<Vec<usize>> {
    if s == "none" {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|w| match w.trim().parse::<usize>() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(helmholtz::Error::param(
                "hidden",
                format!("`{s}` is not a comma-separated list of positive widths or `none`"),
            )
            .into()),
        })
        .collect()
}

fn train(a: TrainArgs, g: &Global) -> anyhow::Result<()> {
    let s = a.train.train::<Bnn>(g, || config(&a, g))?;
    print_summary(g.json, &s, summary_lines)
}

fn eval(a: EvalArgs, g: &Global) -> anyhow::Result<()> {
    let e = run::eval(&a.run, a.n)?;
    emit(g.json, &held_out_line(&e), &e)
}

fn predict(a: PredictArgs, g: &Global) -> anyhow::Result<()> {
    let p = run::predict(&a.run, a.input.as_deref(), g.out.as_deref(), a.n)?;
    let line = format!(
        "{} rows predicted from {} posterior draws -> {}",
        p.rows,
        p.draws,
        p.path.display()
    );
    emit(g.json, &line, &p)
}

fn held_out_line(e: &HeldOut) -> String {
    let mut s = format!(
        "held out ({} examples, {} draws): test log-likelihood {:.4} nats/example",
        e.examples, e.draws, e.test_log_likelihood
    );
    if let (Some(rmse), Some(cov)) = (e.rmse, e.coverage_95) {
        s.push_str(&format!(", rmse {rmse:.4}, 95% coverage {cov:.3}"));
    }
    if let (Some(acc), Some(ece)) = (e.accuracy, e.ece) {
        s.push_str(&format!(", accuracy {acc:.4}, ECE {ece:.4}"));
    }
    s
}

/// The posterior table (from `posterior_draws` draws) and the held-out line.
fn summary_lines(e: &BnnEval) -> String {
    let mut out = String::new();
    if !e.posterior.is_empty() {
        out.push_str(&format!("posterior ({} draws):\n", e.posterior_draws));
    }
    for p in &e.posterior {
        out.push_str(&format!(
            "  {:<10} mean {:>9.4}  std {:>8.4}  95% [{:.4}, {:.4}]\n",
            p.name, p.mean, p.std, p.q025, p.q975
        ));
    }
    if let Some(h) = &e.held_out {
        out.push_str(&held_out_line(h));
    }
    out.trim_end().to_string()
}
