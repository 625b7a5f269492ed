//! `helmholtz hm train|sample|eval|compare-aevb`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::api::Trainable;
use helmholtz::data::Binarize;
use helmholtz::latent::hm::aevb::{self, AevbComparison};
use helmholtz::latent::hm::run::{self as hm_run, Hm, HmEval, HmParams, HmRunConfig};
use helmholtz::latent::hm::{HmConfig, Method};

use crate::commands::{self, DataTrainArgs, RunSampleArgs, print_summary};
use crate::common::{Global, emit, kw, write_run};

/// The Helmholtz machine: a sigmoid belief network with a recognition network, trained by
/// wake-sleep or reweighted wake-sleep; test log-likelihood as an importance-weighted bound.
#[derive(Debug, Subcommand)]
pub enum HmCommand {
    /// Train on binarised data (default: the embedded digits) and score the test set.
    Train(TrainArgs),
    /// AEVB (the VAE) against wake-sleep (the Helmholtz machine) with the same latent sizes on
    /// the embedded digits: the validation lower bound against training examples seen
    /// (Kingma & Welling 2014, Figure 2).
    CompareAevb(AevbArgs),
    /// Ancestral samples of a trained machine: the data layer's probabilities given sampled
    /// latent layers (a PNG grid, or --out FILE.npy).
    Sample(RunSampleArgs),
    /// The importance-weighted bound of a trained machine on its test data, recorded in
    /// RUN/evals/ beside the training's own evaluation.
    Eval(EvalArgs),
}

/// Flags of `hm eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run directory of a trained Helmholtz machine.
    run: PathBuf,

    /// Importance samples per test example.
    #[arg(long, default_value_t = 1000, value_name = "K")]
    k: usize,
}

/// Flags of `hm compare-aevb`.
#[derive(Debug, Args)]
pub struct AevbArgs {
    /// Latent sizes, comma-separated.
    #[arg(long, default_value = "3,5,10,20", value_name = "D1,D2,..")]
    sizes: String,

    /// Epochs of each run.
    #[arg(long, default_value_t = 20, value_name = "N")]
    epochs: usize,
}

/// Flags of `hm train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataTrainArgs,

    /// Latent layer sizes, nearest the data first, comma-separated.
    #[arg(long, default_value = "200,50", value_name = "N1,N2,..")]
    layers: String,

    /// `rws` (reweighted wake-sleep, Bornschein & Bengio 2015) or `ws` (wake-sleep, Hinton
    /// et al. 1995).
    #[arg(long, default_value = "rws", value_parser = kw(Method::NAMES))]
    method: String,

    /// Importance samples per example (rws).
    #[arg(long, default_value_t = 5, value_name = "K")]
    samples: usize,

    /// Adam's learning rate (both networks).
    #[arg(long, default_value_t = 1e-3, value_name = "LR")]
    lr: f64,

    /// Importance samples per test example in the final evaluation.
    #[arg(long, default_value_t = 1000, value_name = "K")]
    eval_k: usize,
}

/// Run an `hm` subcommand.
pub fn run(cmd: HmCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        HmCommand::Train(a) => {
            let summary = a.data.train_loop.train::<Hm>(g, || run_config(&a, g))?;
            print_summary(g.json, &summary, eval_line)
        }
        HmCommand::Sample(a) => commands::sample(g, &a.run, a.n, "p(x | h)", hm_run::sample_run),
        HmCommand::Eval(a) => {
            let (e, path) = hm_run::evaluate_run(&a.run, a.k, g.seed())?;
            emit(
                g.json,
                &format!("{} -> {}", eval_line(&e), path.display()),
                &e,
            )
        }
        HmCommand::CompareAevb(a) => {
            let sizes = sizes(&a.sizes, "sizes")?;
            let epochs = a.epochs;
            write_run(
                g,
                (sizes, epochs),
                |(s, e), out, p| aevb::compare_aevb(&s, e, g.seed(), out, p),
                aevb_line,
            )
        }
    }
}

/// Comma-separated sizes of flag `--flag`.
fn sizes(text: &str, flag: &'static str) -> anyhow::Result<Vec<usize>> {
    Ok(text
        .split(',')
        .map(|v| {
            v.trim().parse::<usize>().map_err(|_| {
                helmholtz::Error::param(flag, format!("`{text}` is not comma-separated sizes"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?)
}

fn aevb_line(c: &AevbComparison) -> String {
    let last = |latent: usize, method: &str| {
        c.curves
            .iter()
            .find(|k| k.latent == latent && k.method == method)
            .and_then(|k| k.points.last())
            .map_or(f64::NAN, |p| p.1)
    };
    let mut sizes: Vec<usize> = c.curves.iter().map(|k| k.latent).collect();
    sizes.dedup();
    let parts: Vec<String> = sizes
        .iter()
        .map(|&d| {
            format!(
                "{d}: AEVB {:.2}, wake-sleep {:.2}",
                last(d, "AEVB"),
                last(d, "wake-sleep")
            )
        })
        .collect();
    format!(
        "final validation ELBO (nats per example) by latent size: {} -> {}",
        parts.join("; "),
        c.run_dir.display()
    )
}

fn run_config(a: &TrainArgs, g: &Global) -> anyhow::Result<HmRunConfig> {
    let layers = sizes(&a.layers, "layers")?;
    let defaults = HmParams::default();
    let params = HmParams {
        model: HmConfig { visible: 0, layers },
        method: a.method.parse()?,
        samples: a.samples,
        lr: a.lr,
        train: a.data.train_config(defaults.train_config(), g),
        ..defaults
    };
    Ok(HmRunConfig {
        params,
        data: a.data.data_config(Binarize::Threshold)?,
        eval_k: a.eval_k,
    })
}

fn eval_line(e: &HmEval) -> String {
    format!(
        "test log-likelihood ≥ {:.2} ± {:.2} nats per example ({})",
        e.test_log_likelihood, e.test_log_likelihood_se, e.kind
    )
}
