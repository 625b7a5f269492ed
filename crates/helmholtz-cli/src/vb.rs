//! `helmholtz vb gmm`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::Error;
use helmholtz::vb::{
    self, Covariance, GmmData, GmmParams, GmmRunConfig, GmmSummary, Init, InitSpec, WeightPrior,
};

use crate::common::{Global, write_run};

/// Variational Bayes by coordinate ascent: closed-form updates of a mean-field posterior that
/// never lower the evidence lower bound.
#[derive(Debug, Subcommand)]
pub enum VbCommand {
    /// The Bayesian Gaussian mixture (scikit-learn's BayesianGaussianMixture: same parameter
    /// names, defaults and conventions): Dirichlet-process or Dirichlet weights, Normal-Wishart
    /// components, full or diagonal covariances.
    Gmm(GmmArgs),
}

/// Flags of `vb gmm`.
#[derive(Debug, Args)]
pub struct GmmArgs {
    /// Data: a .npy file [n, D] (read as float64) or a .csv file of numbers.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "example",
        conflicts_with = "example"
    )]
    data: Option<PathBuf>,

    /// A built-in example: `mixture2d` (four Gaussian clusters in the plane, 1,200 points) or
    /// `digits-pca` (the embedded digits on their first two principal components).
    #[arg(long, value_parser = ["mixture2d", "digits-pca"])]
    example: Option<String>,

    /// n_components: the number of components K (the truncation of the Dirichlet process).
    #[arg(long, default_value_t = 1, value_name = "K")]
    components: usize,

    /// weight_concentration_prior_type.
    #[arg(long, default_value = "dirichlet-process", value_parser = ["dirichlet-process", "dirichlet-distribution"])]
    weight_prior: String,

    /// weight_concentration_prior alpha_0 [default: 1/K].
    #[arg(long, value_name = "A")]
    weight_concentration: Option<f64>,

    /// mean_precision_prior beta_0 [default: 1].
    #[arg(long, value_name = "B")]
    mean_precision_prior: Option<f64>,

    /// mean_prior m_0, comma-separated [default: the data mean].
    #[arg(long, value_name = "M1,M2,..")]
    mean_prior: Option<String>,

    /// degrees_of_freedom_prior nu_0 (> D - 1) [default: D].
    #[arg(long, value_name = "NU")]
    degrees_of_freedom_prior: Option<f64>,

    /// covariance_prior W_0^-1: a .npy file ([D, D], or [D] for diag) or one number (times the
    /// identity) [default: the data covariance, ddof 1].
    #[arg(long, value_name = "FILE|X")]
    covariance_prior: Option<String>,

    /// covariance_type: `full` or `diag`.
    #[arg(long, default_value = "full", value_parser = ["full", "diag"])]
    covariance: String,

    /// init_params: `kmeans`, `random`, or a .npy file of responsibilities [n_train, K] (rows
    /// summing to 1) from which the first parameters are formed (one M-step).
    #[arg(long, default_value = "kmeans", value_name = "kmeans|random|R.npy")]
    init: String,

    /// max_iter: iterations (one E-step and one M-step each).
    #[arg(long, default_value_t = 100, value_name = "N")]
    max_iter: usize,

    /// tol: stop when the lower bound changes by less (0: run --max-iter iterations).
    #[arg(long, default_value_t = 1e-3, value_name = "X")]
    tol: f64,

    /// reg_covar: added to the diagonal of each component's scatter matrix.
    #[arg(long, default_value_t = 1e-6, value_name = "X")]
    reg_covar: f64,

    /// Fraction of rows held out to score the predictive density (0 with --init FILE keeps
    /// every row for training, in file order).
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    test_fraction: f64,
}

/// Run a `vb` subcommand.
pub fn run(cmd: VbCommand, g: &Global) -> anyhow::Result<()> {
    let VbCommand::Gmm(a) = cmd;
    let data = match (&a.data, a.example.as_deref()) {
        (Some(path), _) => GmmData::File { path: path.clone() },
        (None, Some("digits-pca")) => GmmData::DigitsPca,
        _ => GmmData::Mixture2d,
    };
    let covariance = if a.covariance == "diag" {
        Covariance::Diag
    } else {
        Covariance::Full
    };
    let init = match a.init.as_str() {
        "kmeans" => InitSpec::Kmeans,
        "random" => InitSpec::Random,
        path => InitSpec::File(path.into()),
    };
    let mean_prior = a
        .mean_prior
        .as_deref()
        .map(|s| numbers(s, "mean-prior"))
        .transpose()?;
    let covariance_prior = a
        .covariance_prior
        .as_deref()
        .map(|s| covariance_prior(s, covariance))
        .transpose()?;
    let cfg = GmmRunConfig {
        family: vb::run::FAMILY.into(),
        helmholtz_version: env!("CARGO_PKG_VERSION").into(),
        data,
        test_fraction: a.test_fraction,
        init,
        params: GmmParams {
            components: a.components,
            weight_prior: if a.weight_prior == "dirichlet-distribution" {
                WeightPrior::DirichletDistribution
            } else {
                WeightPrior::DirichletProcess
            },
            weight_concentration: a.weight_concentration,
            mean_precision_prior: a.mean_precision_prior,
            mean_prior,
            degrees_of_freedom_prior: a.degrees_of_freedom_prior,
            covariance_prior,
            covariance,
            init: Init::Kmeans,
            max_iter: a.max_iter,
            tol: a.tol,
            reg_covar: a.reg_covar,
            seed: g.seed(),
        },
    };
    write_run(g, &cfg, |c, out, p| vb::fit_gmm(c, out, p), summary_line)
}

/// Comma-separated numbers.
fn numbers(s: &str, flag: &'static str) -> helmholtz::Result<Vec<f64>> {
    s.split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Error::param(flag, format!("`{s}` is not comma-separated numbers")))
        })
        .collect()
}

/// `--covariance-prior`: a number (times the identity; its dimension is learned from the data,
/// so it is kept as one value here and widened by the library) or a .npy file.
fn covariance_prior(s: &str, cov: Covariance) -> anyhow::Result<Vec<f64>> {
    if let Ok(x) = s.trim().parse::<f64>() {
        if !(x > 0.0 && x.is_finite()) {
            return Err(Error::param("covariance-prior", "must be positive").into());
        }
        return Ok(vec![x]);
    }
    let (shape, v) = helmholtz::data::read_npy_f64(s)?;
    let ok = match cov {
        Covariance::Full => shape.len() == 2 && shape[0] == shape[1],
        Covariance::Diag => shape.len() == 1,
    };
    if !ok {
        return Err(Error::bad_file(
            s,
            format!("shape {shape:?}; [D, D] (full) or [D] (diag) is needed"),
        )
        .into());
    }
    Ok(v)
}

fn summary_line(s: &GmmSummary) -> String {
    let test = s
        .test_log_predictive
        .map(|v| {
            format!(
                "; held-out log predictive {v:.4} ± {:.4} nats per row",
                s.test_log_predictive_se.unwrap_or(0.0)
            )
        })
        .unwrap_or_default();
    format!(
        "{} effective of {} components{}; lower bound {:.4} nats per row after {} iterations ({}){test}; {:.2} s -> {}",
        s.effective_components,
        s.components,
        s.true_components
            .map(|t| format!(" (true: {t})"))
            .unwrap_or_default(),
        s.lower_bound_per_example,
        s.n_iter,
        if s.converged {
            "converged"
        } else {
            "not converged"
        },
        s.seconds,
        s.run_dir.display()
    )
}
