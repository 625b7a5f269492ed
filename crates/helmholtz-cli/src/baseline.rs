//! `helmholtz baseline train`.

use clap::{Args, Subcommand};
use helmholtz::baseline::EmParams;
use helmholtz::baseline::run::{self, BaselineModel, BaselineRunConfig, BaselineSummary};
use helmholtz::data::Binarize;

use crate::commands::DataArgs;
use crate::common::{Global, kw, refuse_unused, write_run};

/// Maximum-likelihood baselines for binary data: independent Bernoulli pixels (closed form and
/// gradient descent on the KL divergence) and a mixture of Bernoullis (EM); exact test
/// log-likelihood in nats.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Fit on the training split and score the test split exactly.
    Train(TrainArgs),
}

/// Flags of `baseline train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,

    /// `bernoulli` (independent pixels) or `mixture` (a mixture of Bernoullis, EM).
    #[arg(long, default_value = "bernoulli", value_parser = kw(BaselineModel::NAMES))]
    model: String,

    /// Additive smoothing A: p = (count + A) / (N + 2A) (0: plain maximum likelihood).
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "A",
        allow_negative_numbers = true
    )]
    smoothing: f64,

    /// Mixture: components K.
    #[arg(long, default_value_t = 10, value_name = "K")]
    components: usize,

    /// Mixture: independent EM starts (the best training objective is kept).
    #[arg(long, default_value_t = 3, value_name = "N")]
    restarts: usize,

    /// Mixture: EM iterations per start at most.
    #[arg(long, default_value_t = 100, value_name = "N")]
    max_iter: usize,

    /// Mixture: stop a start when its objective rises by less (nats per example).
    #[arg(long, default_value_t = 1e-6, value_name = "X")]
    tol: f64,

    /// Bernoulli: step of gradient descent on the KL divergence (on the logits).
    #[arg(long, default_value_t = 4.0, value_name = "X")]
    lr: f64,

    /// Bernoulli: gradient-descent steps at most.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    max_steps: usize,
}

/// Run a `baseline` subcommand.
pub fn run(cmd: BaselineCommand, g: &Global) -> anyhow::Result<()> {
    let BaselineCommand::Train(a) = cmd;
    let model: BaselineModel = a.model.parse()?;
    match model {
        BaselineModel::Bernoulli => refuse_unused(
            &["components", "restarts", "max-iter", "tol"],
            "the independent model has no components",
        )?,
        BaselineModel::Mixture => refuse_unused(
            &["lr", "max-steps"],
            "the mixture is fitted by EM, not gradient descent",
        )?,
    }
    let em = EmParams {
        components: a.components,
        smoothing: a.smoothing,
        restarts: a.restarts,
        max_iter: a.max_iter,
        tol: a.tol,
        seed: g.seed(),
    };
    let cfg = BaselineRunConfig {
        data: a.data.data_config(Binarize::Threshold)?,
        lr: a.lr,
        max_steps: a.max_steps,
        ..BaselineRunConfig::digits(model, em)
    };
    write_run(g, &cfg, |c, out, p| run::train_baseline(c, out, p), line)
}

fn line(s: &BaselineSummary) -> String {
    let extra = match &s.gradient_descent {
        Some(gd) => format!(
            "; gradient descent on the KL: {:.6} after {} steps (|difference| {:.1e})",
            gd.test_log_likelihood, gd.steps, gd.difference
        ),
        None => format!("; {} EM iterations", s.em_iterations.unwrap_or(0)),
    };
    format!(
        "{:?}: test log-likelihood {:.4} ± {:.4} nats per example ({}), train {:.4}; {} parameters{extra}; {:.2} s -> {}",
        s.model,
        s.test_log_likelihood,
        s.test_log_likelihood_se,
        s.kind,
        s.train_log_likelihood,
        s.parameters,
        s.train_seconds,
        s.run_dir.display()
    )
}
