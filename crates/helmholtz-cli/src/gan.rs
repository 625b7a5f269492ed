//! `helmholtz gan train|sample|eval`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::adversarial::gan::{
    self, Arch, EvalReport, Gan, GanConfig, GanObjective, GanParams, GanRunConfig,
};
use helmholtz::data::Binarize;
use helmholtz::latent::vae::parse_hidden;

use crate::commands::{self, DataTrainArgs, EvalDataArgs, RunSampleArgs, print_summary};
use crate::common::{Global, emit};

/// Generative adversarial nets (Goodfellow et al. 2014): MLP generator and discriminator.
#[derive(Debug, Subcommand)]
pub enum GanCommand {
    /// Train a GAN (Algorithm 1 with Adam), write a run directory, and evaluate it (Parzen
    /// log-likelihood, class histogram, Fréchet distance).
    Train(Box<TrainArgs>),
    /// Draw samples G(z) into a grid.
    Sample(RunSampleArgs),
    /// Parzen-window log-likelihood, mode coverage and Fréchet distance of a trained GAN.
    Eval(EvalArgs),
}

/// Flags of `gan train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataTrainArgs,

    /// Networks: `mlp` (the paper's fully connected pair) or `conv` (a DCGAN-style pair for
    /// square images: transposed convolutions up, strided convolutions down; burn's autodiff,
    /// slower on the CPU).
    #[arg(long, default_value = "mlp", value_parser = ["mlp", "conv"])]
    arch: String,

    /// Dimensions of the noise z ~ N(0, I).
    #[arg(long, default_value_t = 100, value_name = "N")]
    noise_dim: usize,

    /// Hidden widths of the generator, from the noise side (channels with --arch conv)
    /// [default: 256,512; conv: 64,32].
    #[arg(long, value_name = "N[,N...]")]
    generator_hidden: Option<String>,

    /// Hidden widths of the discriminator, from the data side (channels with --arch conv)
    /// [default: 512,256; conv: 32,64].
    #[arg(long, value_name = "N[,N...]")]
    discriminator_hidden: Option<String>,

    /// Dropout probability after each hidden layer of the discriminator (training only; 0 turns
    /// it off, and the generator then tends to collapse onto a few digits).
    #[arg(long, default_value_t = 0.3, value_name = "P")]
    dropout: f64,

    /// Negative slope of the LeakyReLUs of both networks.
    #[arg(long, default_value_t = 0.2, value_name = "A")]
    leaky_slope: f64,

    /// Generator loss: `non-saturating` (maximise log D(G(z))) or `minimax` (minimise
    /// log(1 - D(G(z)))).
    #[arg(
        long,
        default_value = "non-saturating",
        value_parser = ["non-saturating", "minimax"]
    )]
    loss: String,

    /// Discriminator steps per generator step (the k of Goodfellow et al.'s Algorithm 1).
    #[arg(long, default_value_t = 1, value_name = "N")]
    d_steps: usize,

    /// Adam learning rate (both networks).
    #[arg(long, default_value_t = 2e-4, allow_negative_numbers = true)]
    lr: f64,

    /// Adam beta1.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    beta1: f64,

    /// One-sided label smoothing: the discriminator's target for real examples (e.g. 0.9).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    label_smoothing: f64,

    /// Update engine: `auto` (on the CPU, a hand-written forward/backward/Adam for both MLPs)
    /// or `tensor` (burn's autodiff).
    #[arg(long, default_value = "auto", value_parser = ["auto", "tensor"])]
    engine: String,

    /// Generated samples for the evaluation.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    eval_samples: usize,
}

/// Flags of `gan eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run directory of a trained GAN.
    run: PathBuf,

    /// Generated samples [default: the run's, 10000].
    #[arg(long = "n", value_name = "N")]
    n: Option<usize>,

    #[command(flatten)]
    data: EvalDataArgs,
}

/// Run a `gan` subcommand.
pub fn run(cmd: GanCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        GanCommand::Train(args) => train(*args, g),
        GanCommand::Sample(a) => commands::sample(g, &a.run, a.n, "G(z)", gan::sample_run),
        GanCommand::Eval(args) => eval(args, g),
    }
}

fn train(a: TrainArgs, g: &Global) -> anyhow::Result<()> {
    let summary = a.data.train_loop.train::<Gan>(g, || run_config(&a, g))?;
    if let Some(e) = &summary.eval {
        warn_collapse(e);
    }
    print_summary(g.json, &summary, eval_line)
}

fn run_config(a: &TrainArgs, g: &Global) -> anyhow::Result<GanRunConfig> {
    let base = match a.arch.parse()? {
        Arch::Mlp => GanConfig::new(0),
        Arch::Conv => GanConfig::conv(0),
    };
    // The widths parser speaks of `hidden`; here each network has its own flag.
    let hidden = |name: &'static str, flag: &Option<String>, default: &[usize]| match flag {
        Some(h) => parse_hidden(h).map_err(|e| match e {
            helmholtz::Error::InvalidParam { reason, .. } => helmholtz::Error::param(name, reason),
            e => e,
        }),
        None => Ok(default.to_vec()),
    };
    let model = GanConfig {
        noise_dim: a.noise_dim,
        generator_hidden: hidden(
            "generator-hidden",
            &a.generator_hidden,
            &base.generator_hidden,
        )?,
        discriminator_hidden: hidden(
            "discriminator-hidden",
            &a.discriminator_hidden,
            &base.discriminator_hidden,
        )?,
        dropout: a.dropout,
        leaky_slope: a.leaky_slope,
        ..base
    };
    let objective = GanObjective {
        loss: a.loss.parse()?,
        d_steps: a.d_steps,
        lr: a.lr,
        adam_beta1: a.beta1,
        label_smoothing: a.label_smoothing,
        engine: a.engine.parse()?,
        ..GanObjective::default()
    };
    let params = GanParams {
        model,
        objective,
        train: a.data.train_config(&GanParams::default().train, g),
        device: g.device_kind()?,
    };
    Ok(GanRunConfig {
        params,
        eval_samples: a.eval_samples,
        ..GanRunConfig::new(a.data.data_config(Binarize::None)?)
    })
}

fn warn_collapse(e: &EvalReport) {
    if e.collapsed {
        let missing = if e.missing_classes.is_empty() {
            String::new()
        } else {
            format!("; no samples of classes {:?}", e.missing_classes)
        };
        eprintln!(
            "warning: the samples look mode-collapsed (class entropy {:.3} nats of ln 10 = 2.303; largest class {:.0}%{missing})",
            e.class_entropy.unwrap_or(0.0),
            100.0 * e.max_class_fraction.unwrap_or(0.0)
        );
    }
}

fn eval_line(e: &EvalReport) -> String {
    let opt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    format!(
        "Parzen test log-likelihood {:.1} ± {:.1} nats/example (sigma {:.3}, {} samples); class entropy {} nats; \
         Fréchet distance {}{} ({:.1} s)",
        e.parzen_ll,
        e.parzen_se,
        e.sigma,
        e.samples,
        opt(e.class_entropy),
        opt(e.frechet_distance),
        if e.collapsed { "; COLLAPSED" } else { "" },
        e.eval_seconds
    )
}

fn eval(a: EvalArgs, g: &Global) -> anyhow::Result<()> {
    let request = gan::EvalRequest {
        samples: a.n,
        target: a.data.target(g)?,
    };
    let e = gan::evaluate_run(&a.run, &request)?;
    warn_collapse(&e);
    emit(g.json, &eval_line(&e), &e)
}
