//! `helmholtz vae train|sample|eval|anomaly`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use helmholtz::Error;
use helmholtz::data::Binarize;
use helmholtz::latent::gumbel::TauSchedule;
use helmholtz::latent::vae::{
    self, AnomalyReport, AnomalyRequest, ElboConfig, EvalReport, HoldoutSweep, Latent, Likelihood,
    ScoreKind, Vae, VaeConfig, VaeParams, VaeRunConfig, parse_hidden,
};
use helmholtz::run::RunOptions;

use crate::commands::{self, CodesArgs, DataTrainArgs, EvalDataArgs, print_summary};
use crate::common::{
    Global, emit, given, interrupt_flag, progress_bar, refuse_unused, with_progress,
};

/// Variational autoencoders: Gaussian or Gumbel-Softmax categorical latents.
#[derive(Debug, Subcommand)]
pub enum VaeCommand {
    /// Train a VAE (Adam on the negative ELBO), write a run directory, and report the test ELBO
    /// and the importance-weighted test NLL.
    Train(Box<TrainArgs>),
    /// Decode draws from the prior into a grid of samples.
    Sample(SampleArgs),
    /// Test ELBO and importance-weighted bound (test NLL) of a trained VAE.
    Eval(EvalArgs),
    /// Anomaly scores (negative ELBO or IW bound) of the test set; with --holdout-class, train
    /// without a class and report the ROC-AUC of detecting it.
    Anomaly(Box<AnomalyArgs>),
    /// Write the posterior means E_q[z | x] (categorical latents: the most probable categories,
    /// one-hot) of the test set (or of --data) as a .npy array (default RUN/codes.npy; --out
    /// FILE.npy).
    Encode(CodesArgs),
}

/// Flags of `vae train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataTrainArgs,

    /// Hidden layer widths of the encoder, comma-separated (the decoder mirrors them).
    #[arg(long, default_value = "400", value_name = "N[,N...]")]
    hidden: String,

    /// Latent variables: `gaussian:D` (N(0, I) prior) or `categorical:NxK` (N categoricals of
    /// K classes, uniform prior, Gumbel-Softmax in training).
    #[arg(
        long,
        default_value = "gaussian:20",
        value_name = "gaussian:D|categorical:NxK"
    )]
    latent: String,

    /// Decoder distribution: `bernoulli` (binary or [0, 1] data, from logits) or `gaussian`
    /// (real-valued data, standardised; learned per-dimension sigma).
    #[arg(long, default_value = "bernoulli", value_parser = ["bernoulli", "gaussian"])]
    likelihood: String,

    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    lr: f64,

    /// Weight of the KL term (beta-VAE; 1 is the ELBO).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    beta: f64,

    /// KL warm-up: raise the KL weight linearly from 0 to --beta over this many epochs.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    warmup: f64,

    /// Initial Gumbel-Softmax temperature (categorical latents).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    tau: f64,

    /// Smallest temperature of the annealing schedule tau = max(tau_min, tau0 exp(-r t)).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    tau_min: f64,

    /// Temperature decay rate r per update.
    #[arg(long, default_value_t = 3e-5, allow_negative_numbers = true)]
    anneal_rate: f64,

    /// Straight-through Gumbel-Softmax: one-hot samples forward, relaxed gradients backward.
    #[arg(long)]
    straight_through: bool,

    /// Update engine: `auto` (on the CPU, a hand-written forward/backward/Adam for a Bernoulli
    /// decoder with Gaussian or categorical latents, two to three times as fast; burn's
    /// autodiff otherwise) or `tensor` (always burn's autodiff). Both draw the same noise.
    #[arg(long, default_value = "auto", value_parser = ["auto", "tensor"])]
    engine: String,

    /// Binarisation of [0, 1] data: `threshold` (> 0.5), `stochastic` (one seeded draw),
    /// `dynamic` (a fresh draw for every training batch; the test set drawn once), `none`
    /// [default: threshold for a bernoulli decoder, none for gaussian].
    #[arg(long, value_parser = ["threshold", "stochastic", "dynamic", "none"])]
    binarize: Option<String>,

    /// Leave this class out of the training data (for anomaly detection).
    #[arg(long, value_name = "C")]
    holdout_class: Option<String>,

    /// Importance samples per test example for the importance-weighted bound (the final
    /// evaluation; `vae anomaly --score iw`).
    #[arg(
        long = "eval-k",
        visible_alias = "k",
        default_value_t = 1000,
        value_name = "K"
    )]
    eval_k: usize,
}

/// Flags of `vae sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The run directory of a trained VAE.
    run: PathBuf,

    /// Number of samples (tiles in the grid).
    #[arg(long, default_value_t = vae::DEFAULT_SAMPLES, value_name = "N")]
    n: usize,
}

/// Flags of `vae eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run directory of a trained VAE.
    run: PathBuf,

    /// Importance samples per test example (up to thousands) [default: the run's, 1000].
    #[arg(long, value_name = "K")]
    k: Option<usize>,

    /// Evaluate on the first N test examples only [default: all].
    #[arg(long, value_name = "N")]
    examples: Option<usize>,

    #[command(flatten)]
    data: EvalDataArgs,
}

/// Flags of `vae anomaly`.
#[derive(Debug, Args)]
pub struct AnomalyArgs {
    /// A trained run to score [default: train a new one with --holdout-class and the train flags].
    run: Option<PathBuf>,

    /// Score: `elbo` (negative ELBO, one sample) or `iw` (importance-weighted NLL with --k
    /// samples).
    #[arg(long, default_value = "elbo", value_parser = ["elbo", "iw"])]
    score: String,

    #[command(flatten)]
    train: TrainArgs,
}

/// Run a `vae` subcommand.
pub fn run(cmd: VaeCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        VaeCommand::Train(args) => train(*args, g),
        VaeCommand::Sample(a) => {
            commands::sample(g, &a.run, a.n, "from the prior", vae::sample_run)
        }
        VaeCommand::Eval(args) => eval(args, g),
        VaeCommand::Anomaly(args) => anomaly(*args, g),
        VaeCommand::Encode(args) => args.write(g, "code values", vae::encode_run),
    }
}

fn options<'a>(bar: &'a indicatif::ProgressBar, no_eval: bool) -> RunOptions<'a> {
    RunOptions {
        progress: bar,
        interrupt: Some(interrupt_flag()),
        stop_after: None,
        skip_eval: no_eval,
        command_line: std::env::args().collect(),
    }
}

fn train(a: TrainArgs, g: &Global) -> anyhow::Result<()> {
    let summary = a.data.train_loop.train::<Vae>(g, || {
        let holdout = match a.holdout_class.as_deref() {
            Some(c) => Some(parse_class(c)?),
            None => None,
        };
        run_config(&a, holdout, g)
    })?;
    print_summary(g.json, &summary, eval_line)
}

fn parse_class(s: &str) -> Result<u32, Error> {
    s.parse::<u32>().map_err(|_| {
        Error::param(
            "holdout-class",
            format!("`{s}` is not a class label (a whole number; `all` only with `vae anomaly`)"),
        )
    })
}

fn run_config(a: &TrainArgs, holdout: Option<u32>, g: &Global) -> anyhow::Result<VaeRunConfig> {
    let likelihood: Likelihood = a.likelihood.parse()?;
    let latent: Latent = a.latent.parse()?;
    if matches!(latent, Latent::Gaussian { .. }) {
        refuse_unused(
            &["tau", "tau-min", "anneal-rate", "straight-through"],
            "is only used with categorical latents (Gumbel-Softmax), not gaussian ones",
        )?;
    }
    let (binarize, dynamic) = match (a.binarize.as_deref(), likelihood) {
        (Some("dynamic"), _) => (Binarize::None, true),
        (Some(b), _) => (
            b.parse::<Binarize>().map_err(|_| {
                Error::param(
                    "binarize",
                    format!("`{b}` is not one of threshold, stochastic, dynamic, none"),
                )
            })?,
            false,
        ),
        (None, Likelihood::Bernoulli) => (Binarize::Threshold, false),
        (None, Likelihood::Gaussian) => (Binarize::None, false),
    };
    let params = VaeParams {
        model: VaeConfig {
            hidden: parse_hidden(&a.hidden)?,
            latent,
            likelihood,
            ..VaeConfig::new(0)
        },
        objective: ElboConfig {
            beta: a.beta,
            warmup_epochs: a.warmup,
            lr: a.lr,
            tau: TauSchedule {
                tau0: a.tau,
                tau_min: a.tau_min,
                rate: a.anneal_rate,
            },
            straight_through: a.straight_through,
            dynamic_binarization: dynamic,
            engine: a.engine.parse()?,
            ..ElboConfig::default()
        },
        train: a.data.train_config(&VaeParams::default().train, g),
        device: g.device_kind()?,
    };
    Ok(VaeRunConfig {
        params,
        holdout_class: holdout,
        eval_k: a.eval_k,
        ..VaeRunConfig::new(a.data.data_config(binarize)?)
    })
}

fn eval_line(e: &EvalReport) -> String {
    format!(
        "test ELBO {:.2} ± {:.2} nats/example (recon {:.2}, KL {:.2}); test NLL {:.2} ± {:.2} nats/example \
         from the importance-weighted bound with k = {} ({} test examples, {} latents, {:.1} s)",
        e.test_elbo,
        e.test_elbo_se,
        e.test_recon,
        e.test_kl,
        e.test_nll_iw,
        e.test_nll_iw_se,
        e.k,
        e.test_examples,
        e.latent,
        e.eval_seconds
    )
}

fn eval(a: EvalArgs, g: &Global) -> anyhow::Result<()> {
    let request = vae::EvalRequest {
        k: a.k,
        limit: a.examples,
        target: a.data.target(g)?,
    };
    with_progress(
        g.json,
        |bar| vae::evaluate_run(&a.run, &request, bar),
        eval_line,
    )
}

fn anomaly(a: AnomalyArgs, g: &Global) -> anyhow::Result<()> {
    let request = AnomalyRequest {
        score: a.score.parse::<ScoreKind>()?,
        k: a.train.eval_k,
        data: None,
        seed: g.seed(),
        device: g.device_kind()?,
    };
    if request.score == ScoreKind::Iw && request.k == 0 {
        return Err(Error::param("k", "needs at least 1 importance sample (got 0)").into());
    }
    let bar = progress_bar();
    let json = g.json;
    match (&a.run, a.train.holdout_class.as_deref()) {
        (Some(_), Some(_)) => Err(Error::param(
            "holdout-class",
            "scoring an existing run uses the class that run held out; drop RUN to train a new one",
        )
        .into()),
        (Some(dir), None) => {
            refuse_training_flags()?;
            let report = vae::score_run(dir, &request, &bar)?;
            emit(json, &anomaly_line(&report), &report)
        }
        (None, None) => Err(Error::param(
            "holdout-class",
            "give a trained RUN to score, or --holdout-class C|all to train without class C",
        )
        .into()),
        (None, Some("all")) => {
            let base = run_config(&a.train, None, g)?;
            let classes = class_labels(&base)?;
            let opts = options(&bar, true);
            let sweep = vae::holdout_sweep(&base, &classes, g.out.as_deref(), &opts, &request)?;
            emit(json, &sweep_line(&sweep), &sweep)
        }
        (None, Some(c)) => {
            let cfg = run_config(&a.train, Some(parse_class(c)?), g)?;
            let opts = options(&bar, true);
            let summary = helmholtz::run::train::<Vae>(cfg, g.out.as_deref(), &opts)?;
            let report = vae::score_run(&summary.run_dir, &request, &bar)
                .with_context(|| format!("scoring {}", summary.run_dir.display()))?;
            emit(json, &anomaly_line(&report), &report)
        }
    }
}

/// Scoring an existing run trains nothing: a training flag typed beside RUN (other than
/// --eval-k, the importance samples of `--score iw`) would be ignored, so it is refused.
fn refuse_training_flags() -> anyhow::Result<()> {
    let train = <TrainArgs as clap::Args>::augment_args(clap::Command::new("train"));
    let typed = train
        .get_arguments()
        .filter(|arg| arg.get_id() != "eval_k")
        .filter_map(|arg| arg.get_long())
        .find(|long| given(long));
    match typed {
        Some(long) => {
            // An error names its parameter for the life of the program, which ends here.
            let name: &'static str = Box::leak(long.to_owned().into_boxed_str());
            Err(Error::param(
                name,
                "is not used when scoring an existing RUN (nothing is trained); drop it",
            )
            .into())
        }
        None => Ok(()),
    }
}

/// The class labels of the training data, sorted.
fn class_labels(cfg: &VaeRunConfig) -> anyhow::Result<Vec<u32>> {
    let split = cfg.data.load(cfg.params.train.seed)?;
    let labels = split.train.labels().ok_or_else(|| {
        Error::param(
            "holdout-class",
            format!(
                "{} has no labels to hold a class out of",
                split.train.name()
            ),
        )
    })?;
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    Ok(classes)
}

fn anomaly_line(r: &AnomalyReport) -> String {
    let auc = match (r.holdout_class, r.roc_auc) {
        (Some(c), Some(a)) => format!(
            "; ROC-AUC {a:.3} for detecting held-out class {c} (mean score {:.2} vs {:.2})",
            r.mean_score_holdout.unwrap_or(f64::NAN),
            r.mean_score_others.unwrap_or(f64::NAN)
        ),
        _ => String::new(),
    };
    format!(
        "scored {} test examples by {} (mean {:.2} nats) -> {}{auc}",
        r.examples,
        r.score,
        r.mean_score,
        r.scores_file.display()
    )
}

fn sweep_line(s: &HoldoutSweep) -> String {
    let per: Vec<String> = s
        .per_class
        .iter()
        .map(|p| format!("{}: {:.3}", p.class, p.roc_auc))
        .collect();
    format!(
        "ROC-AUC per held-out class [{}], mean {:.3} -> {}",
        per.join(", "),
        s.mean_auc,
        s.out_dir.display()
    )
}
