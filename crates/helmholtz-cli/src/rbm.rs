//! `helmholtz rbm train|sample|eval`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::data::Binarize;
use helmholtz::energy::rbm::{
    self, AisConfig, CdConfig, ChainStart, EvalReport, LrSchedule, NegativePhase, Rbm, RbmConfig,
    RbmParams, RbmRunConfig, VisibleKind,
};

use crate::commands::{CodesArgs, DataTrainArgs, EvalDataArgs, print_summary};
use crate::common::{Global, emit, refuse_unused, with_progress};

/// Restricted Boltzmann machines: Bernoulli or Gaussian visibles, CD-k or PCD.
#[derive(Debug, Subcommand)]
pub enum RbmCommand {
    /// Train an RBM, write a run directory, and report the test log-likelihood (AIS).
    Train(Box<TrainArgs>),
    /// Run Gibbs chains from a trained RBM and write a grid of samples.
    Sample(SampleArgs),
    /// Estimate log Z (AIS, or exactly for small models) and the test log-likelihood.
    Eval(EvalArgs),
    /// Write the hidden probabilities p(h = 1 | v) of the test set (or of --data) as a .npy
    /// array [n, hidden] (default RUN/hidden.npy; --out FILE.npy).
    Transform(CodesArgs),
}

/// Flags of `rbm train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataTrainArgs,

    /// Hidden units.
    #[arg(long, default_value_t = 500, value_name = "N")]
    hidden: usize,

    /// Visible units: `bernoulli` (binary data) or `gaussian` (real-valued, standardised, unit variance).
    #[arg(long, default_value = "bernoulli", value_parser = ["bernoulli", "gaussian"])]
    visible: String,

    /// Gibbs steps per update (the k of CD-k / PCD-k).
    #[arg(long = "cd-k", default_value_t = 1, value_name = "K")]
    cd_k: usize,

    /// Persistent contrastive divergence (the default): Gibbs chains persist across updates
    /// (Tieleman 2008), which gives far better samples than CD.
    #[arg(long, conflicts_with = "cd")]
    pcd: bool,

    /// Plain contrastive divergence: restart the Gibbs chains at each mini-batch (CD-k).
    #[arg(long)]
    cd: bool,

    /// Number of persistent chains (PCD).
    #[arg(long, default_value_t = 100, value_name = "N")]
    chains: usize,

    /// Learning rate [default: 0.05 for bernoulli visibles, 0.005 for gaussian].
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,

    /// Learning-rate schedule over training: `constant`, `linear` (to 0) or `cosine` (to 0).
    #[arg(long, default_value = "linear", value_parser = ["constant", "linear", "cosine"])]
    lr_schedule: String,

    /// Momentum after the warm-up epochs (Hinton's guide uses 0.9 with CD; high momentum
    /// slows the persistent chains of PCD, hence 0.5).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    momentum: f64,

    /// Momentum during the first --momentum-warmup epochs.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    initial_momentum: f64,

    /// Epochs that use --initial-momentum.
    #[arg(long, default_value_t = 5, value_name = "N")]
    momentum_warmup: usize,

    /// L2 weight decay on the weights.
    #[arg(long, default_value_t = 1e-4, allow_negative_numbers = true)]
    weight_decay: f64,

    /// Binarisation of [0, 1] data: `threshold` (> 0.5), `stochastic` (one seeded draw), `none`
    /// [default: threshold for bernoulli visibles, none for gaussian].
    #[arg(long, value_parser = ["threshold", "stochastic", "none"])]
    binarize: Option<String>,

    /// Gibbs steps for the per-epoch sample picture.
    #[arg(long, default_value_t = 500, value_name = "N")]
    sample_steps: usize,

    /// AIS runs for the final evaluation.
    #[arg(long, default_value_t = 100, value_name = "N")]
    ais_runs: usize,

    /// AIS inverse temperatures for the final evaluation.
    #[arg(long, default_value_t = 14_500, value_name = "N")]
    ais_betas: usize,
}

/// Flags of `rbm sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The run directory of a trained RBM.
    run: PathBuf,

    /// Samples: independent Gibbs chains (tiles in the grid).
    #[arg(long = "n", default_value_t = 100, value_name = "N")]
    n: usize,

    /// Gibbs steps per chain.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    steps: usize,

    /// Start chains from `noise` or from test `data`.
    #[arg(long, default_value = "noise", value_parser = ["noise", "data"])]
    from: String,
}

/// Flags of `rbm eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run directory of a trained RBM.
    run: PathBuf,

    /// AIS runs [default: the run's setting, 100].
    #[arg(long, value_name = "N")]
    ais_runs: Option<usize>,

    /// AIS inverse temperatures [default: the run's setting, 14,500].
    #[arg(long, value_name = "N")]
    ais_betas: Option<usize>,

    #[command(flatten)]
    data: EvalDataArgs,
}

/// Run an `rbm` subcommand.
pub fn run(cmd: RbmCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        RbmCommand::Train(args) => train(*args, g),
        RbmCommand::Sample(args) => sample(args, g),
        RbmCommand::Eval(args) => eval(args, g),
        RbmCommand::Transform(args) => args.write(g, "hidden probabilities", rbm::transform_run),
    }
}

fn train(a: TrainArgs, g: &Global) -> anyhow::Result<()> {
    let summary = a.data.train_loop.train::<Rbm>(g, || run_config(&a, g))?;
    print_summary(g.json, &summary, eval_line)
}

fn run_config(a: &TrainArgs, g: &Global) -> anyhow::Result<RbmRunConfig> {
    if a.cd {
        refuse_unused(
            &["chains"],
            "is not used with --cd (only PCD keeps persistent chains)",
        )?;
    }
    let kind: VisibleKind = a.visible.parse()?;
    let binarize: Binarize = match (&a.binarize, kind) {
        (Some(b), _) => b.parse()?,
        (None, VisibleKind::Bernoulli) => Binarize::Threshold,
        (None, VisibleKind::Gaussian) => Binarize::None,
    };
    let lr = a.lr.unwrap_or(match kind {
        VisibleKind::Bernoulli => 0.05,
        VisibleKind::Gaussian => 0.005,
    });
    let params = RbmParams {
        model: RbmConfig {
            visible_kind: kind,
            ..RbmConfig::new(0, a.hidden)
        },
        cd: CdConfig {
            k: a.cd_k,
            negative: if a.cd {
                NegativePhase::Cd
            } else {
                NegativePhase::Pcd
            },
            chains: a.chains,
            lr,
            lr_schedule: a.lr_schedule.parse::<LrSchedule>()?,
            initial_momentum: a.initial_momentum,
            momentum: a.momentum,
            momentum_warmup: a.momentum_warmup,
            weight_decay: a.weight_decay,
        },
        train: a.data.train_config(&RbmParams::default().train, g),
        device: g.device_kind()?,
    };
    Ok(RbmRunConfig {
        params,
        data: a.data.data_config(binarize)?,
        sample_steps: a.sample_steps,
        ais: AisConfig {
            runs: a.ais_runs,
            betas: a.ais_betas,
        },
    })
}

fn eval_line(e: &EvalReport) -> String {
    let how = if e.log_z_method == "exact" {
        "log Z exact by enumeration".to_string()
    } else {
        format!(
            "log Z = {:.2} ± {:.2} by AIS, {} runs x {} betas",
            e.log_z, e.log_z_se, e.ais_runs, e.ais_betas
        )
    };
    format!(
        "test log-likelihood: {:.2} ± {:.2} (test-set s.e.) ± {:.2} (log Z s.e.) nats/example ({how}; {} test examples)",
        e.test_log_likelihood, e.test_log_likelihood_se, e.log_z_se, e.test_examples
    )
}

fn sample(a: SampleArgs, g: &Global) -> anyhow::Result<()> {
    let from: ChainStart = a.from.parse()?;
    let request = rbm::SampleRequest {
        chains: a.n,
        steps: a.steps,
        from,
        seed: g.seed(),
        device: g.device_kind()?,
        out: g.out.clone(),
    };
    let s = rbm::sample_run(&a.run, &request)?;
    let human = format!(
        "wrote {} ({} chains, {} Gibbs steps; mean free energy {:.2})",
        s.file.display(),
        s.chains,
        s.steps,
        s.mean_free_energy
    );
    emit(g.json, &human, &s)
}

fn eval(a: EvalArgs, g: &Global) -> anyhow::Result<()> {
    let target = a.data.target(g)?;
    let (_, cfg, _) = rbm::open_run(&a.run, target.device)?;
    let ais = AisConfig {
        runs: a.ais_runs.unwrap_or(cfg.ais.runs),
        betas: a.ais_betas.unwrap_or(cfg.ais.betas),
    };
    let request = rbm::EvalRequest {
        ais: Some(ais),
        target,
    };
    with_progress(
        g.json,
        |bar| rbm::evaluate_run(&a.run, &request, bar),
        eval_line,
    )
}
