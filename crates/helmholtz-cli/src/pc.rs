//! `helmholtz pc tutorial` and `helmholtz pc train`.

use clap::{Args, Subcommand};
use helmholtz::data::Binarize;
use helmholtz::predictive_coding::{
    self as pc, Exercise, Mode, PcActivation, PcParams, PcRunConfig, PcSummary, Perception,
    TutorialConfig, TutorialSummary, VarianceLearning,
};

use crate::commands::DataArgs;
use crate::common::{Global, emit, given, kw, refuse_unused, write_run};

/// Predictive coding: perception as the minimisation of prediction errors.
#[derive(Debug, Subcommand)]
pub enum PcCommand {
    /// Bogacz's tutorial model (2017): a cause v with prior N(v_p, Σ_p), a sensation
    /// u ~ N(v^2, Σ_u). Exercise 1: the exact posterior on a grid; 2: gradient dynamics of the
    /// estimate φ; 3: the same with prediction-error nodes; 5: learning a variance with an
    /// interneuron.
    Tutorial(TutorialArgs),
    /// A hierarchical predictive-coding network on images: a classifier (labels clamped at
    /// the top while learning; compared with the same MLP trained by backpropagation) or a
    /// generative model (ancestral samples, lower halves filled in, test log-likelihood by
    /// importance sampling).
    Train(TrainArgs),
}

/// Flags of `pc tutorial`.
#[derive(Debug, Args)]
pub struct TutorialArgs {
    /// The exercise: 1, 2, 3 or 5.
    #[arg(long, value_name = "N")]
    exercise: u32,

    /// The sensation u.
    #[arg(long, default_value_t = 2.0, value_name = "U")]
    u: f64,

    /// The prior mean v_p.
    #[arg(long, default_value_t = 3.0, value_name = "V")]
    v_prior: f64,

    /// The prior variance Σ_p (Bogacz's sigma_p is a variance).
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    sigma_p: f64,

    /// The sensory noise variance Σ_u.
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    sigma_u: f64,

    /// Euler time step (exercises 2, 3, 5).
    #[arg(long, default_value_t = 0.01, value_name = "DT")]
    dt: f64,

    /// Time units simulated [default: 5 for exercise 2, 20 for exercise 3 (the error nodes
    /// settle more slowly), 20 per trial for exercise 5].
    #[arg(long, value_name = "T")]
    duration: Option<f64>,

    /// Exercise 5: trials (one φ drawn per trial).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    trials: usize,

    /// Exercise 5: learning rate α of Σ.
    #[arg(long, default_value_t = 0.01, value_name = "A")]
    learning_rate: f64,

    /// Exercise 5: the mean φ is drawn around (and predicted by).
    #[arg(long, default_value_t = 5.0, value_name = "G")]
    true_mean: f64,

    /// Exercise 5: the variance φ is drawn with (what Σ learns).
    #[arg(long, default_value_t = 2.0, value_name = "S")]
    true_variance: f64,

    /// Exercise 5: Σ before the first trial.
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    initial_variance: f64,
}

/// Flags of `pc train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,

    /// `supervised` (a classifier) or `unsupervised` (a generative model of binarised images).
    #[arg(long, default_value = "supervised", value_parser = kw(Mode::NAMES))]
    mode: String,

    /// Hidden layer sizes, comma-separated: from the input up (supervised), or from the top
    /// cause down (unsupervised) [default: 128,128 supervised; 16,128 unsupervised].
    #[arg(long, value_name = "N1,N2,..")]
    hidden: Option<String>,

    /// The non-linearity between layers.
    #[arg(long, default_value = "tanh", value_parser = kw(PcActivation::NAMES))]
    activation: String,

    /// Passes over the training data.
    #[arg(long, default_value_t = 10, value_name = "N")]
    epochs: usize,

    /// Examples per weight update.
    #[arg(long, default_value_t = 64, value_name = "N")]
    batch_size: usize,

    /// Adam's learning rate for the weights (the backprop baseline uses the same).
    #[arg(long, default_value_t = 1e-3, value_name = "LR")]
    learning_rate: f64,

    /// Inference steps per batch while learning [default: 20 supervised, 50 unsupervised].
    #[arg(long, value_name = "N")]
    inference_steps: Option<usize>,

    /// Step size of inference (gradient descent on the free energy).
    #[arg(long, default_value_t = 0.1, value_name = "X")]
    inference_rate: f64,

    /// Supervised: β, the precision of the label layer. A weak label (small β) keeps the
    /// settled errors close to backpropagation's (Whittington & Bogacz 2017).
    #[arg(long, default_value_t = 0.1, value_name = "B")]
    label_precision: f64,

    /// Unsupervised: inference steps to the mode when scoring and completing.
    #[arg(long, default_value_t = 200, value_name = "N")]
    eval_steps: usize,

    /// Unsupervised: importance samples per test image for the log-likelihood bound.
    #[arg(long, default_value_t = 1000, value_name = "K")]
    iw_samples: usize,

    /// Unsupervised: test images scored (the first ones).
    #[arg(long, default_value_t = 2000, value_name = "N")]
    eval_examples: usize,
}

/// Run a `pc` subcommand.
pub fn run(cmd: PcCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        PcCommand::Tutorial(a) => tutorial(a, g),
        PcCommand::Train(a) => train(a, g),
    }
}

fn tutorial(a: TutorialArgs, g: &Global) -> anyhow::Result<()> {
    let exercise = Exercise::from_number(a.exercise)?;
    let ex5 = [
        "trials",
        "learning-rate",
        "true-mean",
        "true-variance",
        "initial-variance",
    ];
    let model_flags = ["u", "v-prior", "sigma-p", "sigma-u"];
    match exercise {
        Exercise::Variance => refuse_unused(&model_flags, "exercise 5 has no sensation model")?,
        Exercise::Posterior => {
            refuse_unused(&ex5, "only exercise 5 learns a variance")?;
            refuse_unused(
                &["dt", "duration"],
                "exercise 1 integrates on a grid, no dynamics",
            )?;
        }
        _ => refuse_unused(&ex5, "only exercise 5 learns a variance")?,
    }
    let duration = a.duration.unwrap_or(match exercise {
        Exercise::Dynamics => 5.0,
        _ => 20.0,
    });
    let cfg = TutorialConfig {
        family: pc::run::FAMILY.into(),
        helmholtz_version: env!("CARGO_PKG_VERSION").into(),
        exercise,
        model: Perception {
            u: a.u,
            v_prior: a.v_prior,
            sigma_p: a.sigma_p,
            sigma_u: a.sigma_u,
        },
        dt: a.dt,
        duration,
        variance: VarianceLearning {
            mean: a.true_mean,
            variance: a.true_variance,
            initial: a.initial_variance,
            learning_rate: a.learning_rate,
            trials: a.trials,
            dt: a.dt,
            duration,
            seed: g.seed(),
        },
    };
    let s = pc::tutorial(&cfg, g.out.as_deref())?;
    emit(g.json, &tutorial_line(&s), &s)
}

fn tutorial_line(s: &TutorialSummary) -> String {
    let body = match s.exercise {
        1 => format!(
            "posterior mode {:.6}, mean {:.6}",
            s.mode.unwrap_or(f64::NAN),
            s.posterior_mean.unwrap_or(f64::NAN)
        ),
        2 => format!(
            "φ = {:.9} (posterior mode {:.9})",
            s.phi.unwrap_or(f64::NAN),
            s.mode.unwrap_or(f64::NAN)
        ),
        3 => format!(
            "φ = {:.9} (posterior mode {:.9}), ε_p = {:.6}, ε_u = {:.6}",
            s.phi.unwrap_or(f64::NAN),
            s.mode.unwrap_or(f64::NAN),
            s.eps_p.unwrap_or(f64::NAN),
            s.eps_u.unwrap_or(f64::NAN)
        ),
        _ => format!(
            "Σ = {:.4} (mean over the second half of the trials; last {:.4}; generating variance {})",
            s.sigma.unwrap_or(f64::NAN),
            s.sigma_final.unwrap_or(f64::NAN),
            s.true_variance.unwrap_or(f64::NAN)
        ),
    };
    format!("exercise {}: {body} -> {}", s.exercise, s.run_dir.display())
}

fn train(a: TrainArgs, g: &Global) -> anyhow::Result<()> {
    let mode: Mode = a.mode.parse()?;
    let mut params = PcParams::new(mode);
    if mode == Mode::Supervised {
        refuse_unused(
            &["eval-steps", "iw-samples", "eval-examples"],
            "only the unsupervised network is scored by importance sampling",
        )?;
    } else if given("label-precision") {
        refuse_unused(
            &["label-precision"],
            "the unsupervised network has no labels",
        )?;
    }
    if let Some(h) = &a.hidden {
        params.hidden = h
            .split(',')
            .map(|v| {
                v.trim().parse::<usize>().map_err(|_| {
                    helmholtz::Error::param("hidden", format!("`{h}` is not comma-separated sizes"))
                })
            })
            .collect::<Result<_, _>>()?;
    }
    params.activation = a.activation.parse()?;
    params.epochs = a.epochs;
    params.batch_size = a.batch_size;
    params.learning_rate = a.learning_rate;
    if let Some(s) = a.inference_steps {
        params.inference_steps = s;
    }
    params.inference_rate = a.inference_rate;
    params.label_precision = a.label_precision;
    if mode == Mode::Unsupervised {
        params.eval_steps = a.eval_steps;
        params.iw_samples = a.iw_samples;
        params.eval_examples = a.eval_examples;
    }
    params.seed = g.seed();
    let binarize = if mode == Mode::Supervised {
        Binarize::None
    } else {
        Binarize::Threshold
    };
    let cfg = PcRunConfig {
        data: a.data.data_config(binarize)?,
        ..PcRunConfig::digits(params)
    };
    write_run(g, &cfg, |c, out, p| pc::train_pc(c, out, p), train_line)
}

fn train_line(s: &PcSummary) -> String {
    let sizes = s
        .sizes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("-");
    match s.mode {
        Mode::Supervised => format!(
            "predictive coding {sizes}: test accuracy {:.4} ({:.1} s); the same MLP by backprop: {:.4} ({:.1} s); {} epochs -> {}",
            s.test_accuracy.unwrap_or(f64::NAN),
            s.train_seconds,
            s.backprop_test_accuracy.unwrap_or(f64::NAN),
            s.backprop_train_seconds.unwrap_or(f64::NAN),
            s.epochs,
            s.run_dir.display()
        ),
        Mode::Unsupervised => format!(
            "predictive coding {sizes}: test log-likelihood ≥ {:.2} ± {:.2} nats per image ({}); lower halves {:.1}% right; {:.1} s -> {}",
            s.test_log_likelihood.unwrap_or(f64::NAN),
            s.test_log_likelihood_se.unwrap_or(f64::NAN),
            s.kind.as_deref().unwrap_or(""),
            100.0 * s.completion_accuracy.unwrap_or(f64::NAN),
            s.train_seconds,
            s.run_dir.display()
        ),
    }
}
