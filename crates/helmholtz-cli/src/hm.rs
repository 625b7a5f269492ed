//! `helmholtz hm train`.

use clap::{Args, Subcommand};
use helmholtz::api::Trainable;
use helmholtz::data::Binarize;
use helmholtz::latent::hm::run::{Hm, HmEval, HmParams, HmRunConfig};
use helmholtz::latent::hm::{HmConfig, Method};

use crate::commands::{DataTrainArgs, print_summary};
use crate::common::{Global, kw};

/// The Helmholtz machine: a sigmoid belief network with a recognition network, trained by
/// wake-sleep or reweighted wake-sleep; test log-likelihood as an importance-weighted bound.
#[derive(Debug, Subcommand)]
pub enum HmCommand {
    /// Train on binarised data (default: the embedded digits) and score the test set.
    Train(TrainArgs),
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
    let HmCommand::Train(a) = cmd;
    let summary = a.data.train_loop.train::<Hm>(g, || run_config(&a, g))?;
    print_summary(g.json, &summary, eval_line)
}

fn run_config(a: &TrainArgs, g: &Global) -> anyhow::Result<HmRunConfig> {
    let layers = a
        .layers
        .split(',')
        .map(|v| {
            v.trim().parse::<usize>().map_err(|_| {
                helmholtz::Error::param(
                    "layers",
                    format!("`{}` is not comma-separated sizes", a.layers),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
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
