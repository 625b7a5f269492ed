//! `helmholtz`: train, sample and evaluate probabilistic generative models.
//!
//! A thin front end over the `helmholtz` library: flags are parsed here, all work happens in
//! the library. Exit status: 0 on success, 2 for a usage error or bad input, 1 for any other
//! failure, 130 after Ctrl-C (a checkpoint is saved first).

mod aif;
mod anneal;
mod baseline;
mod bnn;
mod boltzmann;
mod commands;
mod common;
mod compare;
mod gan;
mod hm;
mod hopfield;
mod ising;
mod pc;
mod rbm;
mod runs;
mod vae;
mod vb;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Probabilistic generative models fitted by minimising a free energy.
///
/// Every command works on the embedded digits with no download; `--data fashion-mnist` uses
/// Debian's dataset-fashion-mnist package. Training writes a run directory (config.json,
/// metrics.jsonl, model.safetensors, pictures, report.html) that `sample` and `eval` take.
#[derive(Debug, Parser)]
#[command(name = "helmholtz", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: common::Global,

    #[command(subcommand)]
    family: Family,
}

#[derive(Debug, Subcommand)]
enum Family {
    /// Restricted Boltzmann machines (CD-k, PCD, AIS log-likelihood).
    #[command(subcommand)]
    Rbm(rbm::RbmCommand),
    /// Hopfield networks (Hebbian, pseudo-inverse, Storkey; capacity; modern Hopfield).
    #[command(subcommand)]
    Hopfield(hopfield::HopfieldCommand),
    /// Boltzmann machines (exact and sampled learning, AND/XOR targets, annealed sampling).
    #[command(subcommand)]
    Boltzmann(boltzmann::BoltzmannCommand),
    /// Simulated annealing for optimisation: Max-Cut, QUBO, Ising problems, TSP.
    #[command(subcommand)]
    Anneal(anneal::AnnealCommand),
    /// The 2D Ising model: Metropolis, heat-bath and Wolff sampling, Onsager's exact solution.
    #[command(subcommand)]
    Ising(ising::IsingCommand),
    /// Variational autoencoders (Gaussian and Gumbel-Softmax latents; ELBO, IW bound, anomalies).
    #[command(subcommand)]
    Vae(vae::VaeCommand),
    /// Generative adversarial nets (Parzen log-likelihood, mode coverage, Fréchet distance).
    #[command(subcommand)]
    Gan(gan::GanCommand),
    /// Variational Bayes by coordinate ascent: the Bayesian Gaussian mixture (scikit-learn's
    /// BayesianGaussianMixture conventions).
    #[command(subcommand)]
    Vb(vb::VbCommand),
    /// Active inference (pymdp's agent): perception, planning and learning by minimising
    /// free energy on discrete POMDPs; T-maze and grid worlds, sophisticated inference.
    #[command(subcommand)]
    Aif(aif::AifCommand),
    /// Predictive coding: Bogacz's tutorial model, and hierarchical networks that classify
    /// or generate images by minimising prediction errors.
    #[command(subcommand)]
    Pc(pc::PcCommand),
    /// Maximum-likelihood baselines for binary data: independent Bernoulli pixels and a
    /// mixture of Bernoullis (EM), with exact test log-likelihoods.
    #[command(subcommand)]
    Baseline(baseline::BaselineCommand),
    /// The Helmholtz machine: wake-sleep and reweighted wake-sleep, importance-weighted bound.
    #[command(subcommand)]
    Hm(hm::HmCommand),
    /// One table in nats: every likelihood model on the same split of the embedded digits
    /// (trained here, or --runs), with what kind of number each is.
    Compare(compare::CompareArgs),
    /// The run directories under runs/ (family, start, epochs, headline figure, status), or
    /// several runs' metric curves overlaid (`runs compare RUN...`).
    Runs(runs::RunsArgs),
    /// Bayesian regression and neural networks: SVI, Bayes by Backprop, SGLD, SGHMC (posterior,
    /// 95% band, calibration).
    #[command(subcommand)]
    Bnn(bnn::BnnCommand),
}

fn main() -> ExitCode {
    let parsed = command()
        .try_get_matches()
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let cli = match parsed {
        Ok((cli, matches)) => {
            common::record_given(&matches);
            cli
        }
        Err(e) if e.use_stderr() => {
            // A usage error: one line on stderr (clap's message and its hints joined), exit 2.
            eprintln!("{}", one_line(&e.render().to_string()));
            return ExitCode::from(2);
        }
        Err(e) => {
            // --help and --version go to stdout.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    if let Err(e) = check_global(&cli) {
        eprintln!("error: {}", shown(&e));
        return ExitCode::from(exit_status(&e));
    }
    let Cli { global, family } = cli;
    common::install_signal_handler();
    // The command runs on a thread of the pool, so its parallel sections wake one thread fewer.
    let result = helmholtz::kernels::runtime::in_pool(|| match family {
        Family::Rbm(cmd) => rbm::run(cmd, &global),
        Family::Hopfield(cmd) => hopfield::run(cmd, &global),
        Family::Boltzmann(cmd) => boltzmann::run(cmd, &global),
        Family::Anneal(cmd) => anneal::run(cmd, &global),
        Family::Ising(cmd) => ising::run(cmd, &global),
        Family::Vae(cmd) => vae::run(cmd, &global),
        Family::Gan(cmd) => gan::run(cmd, &global),
        Family::Bnn(cmd) => bnn::run(cmd, &global),
        Family::Aif(cmd) => aif::run(cmd, &global),
        Family::Vb(cmd) => vb::run(cmd, &global),
        Family::Pc(cmd) => pc::run(cmd, &global),
        Family::Baseline(cmd) => baseline::run(cmd, &global),
        Family::Hm(cmd) => hm::run(cmd, &global),
        Family::Compare(args) => compare::run(args, &global),
        Family::Runs(args) => runs::run(args, &global),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", shown(&e));
            ExitCode::from(exit_status(&e))
        }
    }
}

/// The command line's grammar. A family or the program named without a command is an error
/// like any other (one line naming the commands), not a page of help on stderr.
fn command() -> clap::Command {
    let cli = Cli::command().arg_required_else_help(false);
    let families: Vec<String> = cli
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    families.iter().fold(cli, |cli, name| {
        cli.mut_subcommand(name, |s| s.arg_required_else_help(false))
    })
}

/// Memory budget, thread pool and device checks that hold for every command.
fn check_global(cli: &Cli) -> anyhow::Result<()> {
    cli.global.init()?;
    let device = cli.global.device_kind()?;
    let host_only = matches!(
        cli.family,
        Family::Hopfield(_)
            | Family::Boltzmann(_)
            | Family::Anneal(_)
            | Family::Ising(_)
            | Family::Aif(_)
            | Family::Vb(_)
            | Family::Pc(_)
            | Family::Baseline(_)
            | Family::Hm(_)
            | Family::Compare(_)
            | Family::Runs(_)
    );
    if host_only && device != helmholtz::kernels::runtime::DeviceKind::Cpu {
        return Err(helmholtz::Error::param(
            "device",
            "this family runs on the CPU only (its kernels are host code); use --device cpu",
        )
        .into());
    }
    Ok(())
}

/// clap's multi-line usage error as one line: its message, the lists and tips under it, and
/// neither the usage nor the `--help` reminder that follow.
fn one_line(rendered: &str) -> String {
    let mut out = String::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if line.starts_with("tip:") { "; " } else { " " });
        }
        out.push_str(line);
    }
    out
}

/// The error as the command line words it: the library names parameters (`lr: must be
/// positive`, "set `visible` to `gaussian`"), the command line names their flags (`--lr: must be
/// positive`, "use --visible gaussian") and adds what to type next.
fn shown(e: &anyhow::Error) -> String {
    flags(&match e.downcast_ref::<helmholtz::Error>() {
        Some(helmholtz::Error::InvalidParam { name, reason }) => format!("--{name}: {reason}"),
        Some(helmholtz::Error::Diverged { what, .. }) if !what.contains("(try") => {
            format!("{e:#} (try a lower --lr)")
        }
        Some(helmholtz::Error::Interrupted { path, .. }) => {
            format!("{e:#}; continue with --resume {}", path.display())
        }
        _ => format!("{e:#}"),
    })
}

/// "set `name` to `value`" of a library message as the flag to type: "use --name value".
fn flags(message: &str) -> String {
    helmholtz::rewrite_settings(message, |name, value| format!("use --{name} {value}"))
}

/// 2 for bad input, 130 for an interruption, 1 otherwise.
fn exit_status(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<helmholtz::Error>() {
        Some(helmholtz::Error::Interrupted { .. }) => 130,
        Some(err) if err.is_usage() => 2,
        _ => 1,
    }
}
