//! `helmholtz bnn train`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::bayes::run::{self, BnnData, BnnRunConfig, BnnSummary, Method};

use crate::common::{RunFlags, emit};

/// Bayesian regression: SVI with a mean-field guide, SGLD, SGHMC.
#[derive(Debug, Subcommand)]
pub enum BnnCommand {
    /// Infer the posterior of a Bayesian linear regression (the seed's model: w ~ N(0, 1),
    /// b ~ N(0, 10²), σ ~ Uniform(0, 10)) and write samples, a summary and the predictive band.
    Train(Box<TrainArgs>),
}

/// Flags of `bnn train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    run: RunFlags,

    /// Built-in data: `seed` (100 points of y = 3x + 2 + 0.5 ε on [-5, 5]). The default when
    /// no --data is given.
    #[arg(long, value_name = "seed", conflicts_with = "data")]
    example: Option<String>,

    /// A CSV file (header row, numeric cells); --target names the response column.
    #[arg(long, value_name = "FILE.csv", requires = "target")]
    data: Option<PathBuf>,

    /// The response column of --data.
    #[arg(long, value_name = "COLUMN")]
    target: Option<String>,

    /// Inference: `svi` (mean-field Gaussian guide, Adam), `sgld` or `sghmc` (`bbb` is not
    /// implemented yet).
    #[arg(long, default_value = "svi", value_name = "svi|sgld|sghmc")]
    method: String,

    /// SVI: optimisation steps [default: 1000]; SGLD/SGHMC: chain length [default: 50000].
    #[arg(long, value_name = "N")]
    steps: Option<usize>,

    /// SVI: Adam learning rate.
    #[arg(long, default_value_t = 0.01, value_name = "X")]
    lr: f64,

    /// SVI: learning rate at the last step, reached geometrically [default: constant --lr].
    #[arg(long, value_name = "X")]
    lr_final: Option<f64>,

    /// SVI: reparameterised draws per ELBO estimate.
    #[arg(long, default_value_t = 1, value_name = "M")]
    particles: usize,

    /// SVI: posterior draws from the fitted guide for the summaries and the band.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    samples: usize,

    /// SGLD: a in ε_t = a (b + t)^-γ; SGHMC: the learning rate η.
    #[arg(
        long,
        default_value_t = 5e-5,
        value_name = "A",
        allow_negative_numbers = true
    )]
    step_size: f64,

    /// SGLD: b in ε_t = a (b + t)^-γ.
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "B",
        allow_negative_numbers = true
    )]
    step_offset: f64,

    /// SGLD: γ in ε_t = a (b + t)^-γ (0 = constant step).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "G",
        allow_negative_numbers = true
    )]
    step_decay: f64,

    /// SGHMC: friction α in (0, 1] (the momentum's decay per step).
    #[arg(
        long,
        default_value_t = 0.1,
        value_name = "F",
        allow_negative_numbers = true
    )]
    friction: f64,

    /// SGLD/SGHMC: steps discarded before samples are kept.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    burn_in: usize,

    /// SGLD/SGHMC: keep every N-th state after the burn-in.
    #[arg(long, default_value_t = 10, value_name = "N")]
    thin: usize,

    /// Mini-batch size; gradients are scaled to the full data set [default: all rows]. (SGHMC
    /// here does not correct for the gradient noise, so small batches widen its posterior.)
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
}

/// Run a `bnn` subcommand.
pub fn run(cmd: BnnCommand) -> anyhow::Result<()> {
    match cmd {
        BnnCommand::Train(a) => train(*a),
    }
}

fn config(a: &TrainArgs) -> anyhow::Result<BnnRunConfig> {
    let data = match (&a.example, &a.data) {
        (Some(e), _) if e != "seed" => {
            anyhow::bail!(helmholtz::Error::param(
                "example",
                format!("`{e}` is not a built-in example (seed)")
            ))
        }
        (_, Some(path)) => BnnData::Csv {
            path: path.clone(),
            target: a.target.clone().unwrap_or_default(),
        },
        _ => BnnData::Seed,
    };
    let method: Method = a.method.parse()?;
    let mut cfg = BnnRunConfig::new(data, method);
    cfg.seed = a.run.seed;
    cfg.posterior_samples = a.samples;
    cfg.svi.lr = a.lr;
    cfg.svi.lr_final = a.lr_final;
    cfg.svi.particles = a.particles;
    if method == Method::Svi {
        cfg.svi.steps = a.steps.unwrap_or(cfg.svi.steps);
        cfg.svi.batch_size = a.batch_size;
    } else {
        cfg.chain.steps = a.steps.unwrap_or(cfg.chain.steps);
        cfg.chain.batch_size = a.batch_size;
    }
    cfg.chain.burn_in = a.burn_in;
    cfg.chain.thin = a.thin;
    cfg.sgld.a = a.step_size;
    cfg.sgld.b = a.step_offset;
    cfg.sgld.gamma = a.step_decay;
    cfg.sghmc.lr = a.step_size;
    cfg.sghmc.friction = a.friction;
    Ok(cfg)
}

fn train(a: TrainArgs) -> anyhow::Result<()> {
    let cfg = config(&a)?;
    cfg.validate()?;
    let s = run::train(&cfg, a.run.out.as_deref())?;
    emit(a.run.json, &human(&s), &json(&s))
}

fn human(s: &BnnSummary) -> String {
    let mut out = format!(
        "{:?} posterior ({} draws, {:.2} s) -> {}\n",
        s.method,
        s.draws,
        s.seconds,
        s.run_dir.display()
    );
    for p in &s.posterior {
        out.push_str(&format!(
            "  {:<10} mean {:>9.4}  std {:>8.4}  95% [{:.4}, {:.4}]\n",
            p.name, p.mean, p.std, p.q025, p.q975
        ));
    }
    if let Some(l) = s.final_loss {
        out.push_str(&format!("  final -ELBO {l:.2} nats (whole data set)\n"));
    }
    out.trim_end().to_string()
}

fn json(s: &BnnSummary) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    obj.insert("run_dir".into(), s.run_dir.display().to_string().into());
    obj.insert(
        "method".into(),
        serde_json::to_value(s.method).unwrap_or_default(),
    );
    for p in &s.posterior {
        obj.insert(format!("{}_mean", p.name), p.mean.into());
        obj.insert(format!("{}_std", p.name), p.std.into());
    }
    if let Some(l) = s.final_loss {
        obj.insert("final_loss".into(), l.into());
    }
    obj.insert("seconds".into(), s.seconds.into());
    obj.insert("draws".into(), s.draws.into());
    serde_json::Value::Object(obj)
}
