//! `vb gmm` runs: read or make the data, fit, write the run directory. The CLI calls these.
//!
//! ```text
//! config.json              family "vb", the data, the settings
//! weights.npy              [K]        scikit-learn's weights_
//! means.npy                [K, D]     means_
//! covariances.npy          [K, D, D]  covariances_ ([K, D] for diag)
//! responsibilities.npy     [n, K]     of the training rows
//! posterior.json                      the variational posterior (helmholtz.load_run reads it)
//! eval.json                the summary printed by the CLI
//! clusters.png             the data (2-D, or their first two principal components) with a 2-sigma
//!                          ellipse per effective component
//! weights.png, bound.png   the weights; the lower bound per iteration
//! report.html
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::gmm::{Covariance, Fitted, GmmParams, Init};
use crate::data::{DataConfig, read_csv, read_npy_f64, write_npy_f64};
use crate::error::{Error, Result};
use crate::eval::frechet::symmetric_eigen;
use crate::eval::pca::principal_components;
use crate::io::RunDir;
use crate::report::{Bars, Chart, Series, save_bars, save_chart, write_run_report};
use crate::rng::rng_for;
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "vb";

/// Where the data come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum GmmData {
    /// A `.npy` (`[n, D]`, read as float64) or `.csv` file.
    File {
        /// The file.
        path: PathBuf,
    },
    /// Four Gaussian clusters in the plane (1,200 points, fixed seed).
    Mixture2d,
    /// The embedded digits (training part) projected on their first two principal components.
    DigitsPca,
}

/// How the first responsibilities are chosen, as saved in config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitSpec {
    /// k-means.
    Kmeans,
    /// Random rows.
    Random,
    /// Responsibilities from a `.npy` file `[n_train, K]`.
    File(PathBuf),
}

/// Everything that defines a `vb gmm` run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmmRunConfig {
    /// Always `vb`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// The data.
    pub data: GmmData,
    /// Fraction of rows held out for the predictive density (the last rows after a seeded
    /// shuffle; not shuffled with `--init FILE`, whose rows are the training rows in order).
    pub test_fraction: f64,
    /// The initialisation.
    pub init: InitSpec,
    /// The model's settings (`init` is set from `init` above).
    pub params: GmmParams,
}

/// What a run found; the CLI prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmmSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Training rows.
    pub n_train: usize,
    /// Held-out rows.
    pub n_test: usize,
    /// Dimensions.
    pub dim: usize,
    /// The truncation `K`.
    pub components: usize,
    /// Iterations run (E-step + M-step each).
    pub n_iter: usize,
    /// Whether the bound's change fell below `tol`.
    pub converged: bool,
    /// The evidence lower bound at the end (nats, summed over the training rows).
    pub lower_bound: f64,
    /// The same per training row.
    pub lower_bound_per_example: f64,
    /// Components holding at least 1% of the weight.
    pub effective_components: usize,
    /// The example's true number of components.
    pub true_components: Option<usize>,
    /// The mixture weights.
    pub weights: Vec<f64>,
    /// Mean log predictive density of the held-out rows (Student-t mixture, nats per row).
    pub test_log_predictive: Option<f64>,
    /// Its standard error.
    pub test_log_predictive_se: Option<f64>,
    /// Seconds of the fit (initialisation and iterations).
    pub seconds: f64,
    /// Seconds per iteration.
    pub seconds_per_iteration: f64,
}

/// `[n, D]` values.
struct Rows {
    x: Vec<f64>,
    dim: usize,
    truth: Option<usize>,
}

/// The `mixture2d` example: four Gaussian clusters of 300 points in the plane (fixed seed),
/// `[1200, 2]`, and the number of clusters.
pub fn mixture2d() -> (Vec<f64>, usize) {
    let mut rng = StdRng::seed_from_u64(2024);
    let normal = Normal::new(0.0, 1.0).expect("unit normal");
    // Centre, per-axis spread, correlation; 300 points each.
    let clusters = [
        ([-4.0, -3.0], [1.0, 0.6], 0.5),
        ([4.0, -3.5], [0.8, 1.2], -0.4),
        ([0.0, 4.0], [1.5, 0.7], 0.0),
        ([6.0, 4.5], [0.6, 0.6], 0.3),
    ];
    let mut x = Vec::new();
    for (mean, sd, rho) in clusters {
        for _ in 0..300 {
            let (a, b): (f64, f64) = (normal.sample(&mut rng), normal.sample(&mut rng));
            x.push(mean[0] + sd[0] * a);
            x.push(mean[1] + sd[1] * (rho * a + (1.0f64 - rho * rho).sqrt() * b));
        }
    }
    (x, clusters.len())
}

fn load(data: &GmmData) -> Result<Rows> {
    match data {
        GmmData::File { path } => {
            let is_npy = path.extension().is_some_and(|e| e == "npy");
            let (x, dim) = if is_npy {
                let (shape, x) = read_npy_f64(path)?;
                let dim = match shape.as_slice() {
                    [_, d] => *d,
                    [_] => 1,
                    _ => {
                        return Err(Error::bad_file(
                            path,
                            format!("shape {shape:?}; [n, D] is needed"),
                        ));
                    }
                };
                (x, dim)
            } else {
                let t = read_csv(path, None)?;
                (
                    t.features.iter().map(|&v| f64::from(v)).collect(),
                    t.columns.len(),
                )
            };
            crate::data::check_finite(&path.display().to_string(), &x, dim)?;
            Ok(Rows {
                x,
                dim,
                truth: None,
            })
        }
        GmmData::Mixture2d => {
            let (x, truth) = mixture2d();
            Ok(Rows {
                x,
                dim: 2,
                truth: Some(truth),
            })
        }
        GmmData::DigitsPca => {
            let split = DataConfig::digits().load(0)?;
            let n = split.train.len();
            let x: Vec<f64> = split
                .train
                .features()
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            let (pts, _) = principal_components(&x, n, split.train.dim());
            Ok(Rows {
                x: pts.iter().flat_map(|&(a, b)| [a, b]).collect(),
                dim: 2,
                truth: None,
            })
        }
    }
}

/// Fit and write the run directory `out` (or `runs/vb-<time>`). Bad input fails before the
/// directory is created.
pub fn fit_gmm(
    cfg: &GmmRunConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<GmmSummary> {
    if !(0.0..1.0).contains(&cfg.test_fraction) {
        return Err(Error::param("test-fraction", "must be in [0, 1)"));
    }
    let rows = load(&cfg.data)?;
    let (dim, n) = (rows.dim, rows.x.len() / rows.dim.max(1));
    let n_test = (cfg.test_fraction * n as f64).round() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    let mut params = cfg.params.clone();
    match &cfg.init {
        InitSpec::Kmeans => params.init = Init::Kmeans,
        InitSpec::Random => params.init = Init::Random,
        InitSpec::File(path) => {
            let (shape, r) = read_npy_f64(path)?;
            if shape.len() != 2 || shape[0] != n - n_test || shape[1] != params.components {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "shape {shape:?}; [n_train, K] = [{}, {}] is needed",
                        n - n_test,
                        params.components
                    ),
                ));
            }
            params.init = Init::Resp(r);
        }
    }
    if !matches!(cfg.init, InitSpec::File(_)) {
        use rand::seq::SliceRandom;
        order.shuffle(&mut rng_for(params.seed, &[7]));
    }
    let pick = |idx: &[usize]| -> Vec<f64> {
        idx.iter()
            .flat_map(|&i| rows.x[i * dim..(i + 1) * dim].iter().copied())
            .collect()
    };
    let train = pick(&order[..n - n_test]);
    let test = pick(&order[n - n_test..]);
    params
        .validate(n - n_test, dim)
        .map_err(|e| match (&e, &cfg.init) {
            (
                Error::InvalidParam {
                    name: "init",
                    reason,
                },
                InitSpec::File(p),
            ) => Error::bad_file(p, reason.clone()),
            _ => e,
        })?;
    crate::budget::check("components", (n as u128) * (params.components as u128) * 24)?;
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", cfg)?;
        progress.start("iterations", params.max_iter as u64);
        let started = Instant::now();
        let fitted = params.fit(&train, dim)?;
        progress.finish();
        let seconds = started.elapsed().as_secs_f64();
        let summary = write_outputs(run, &fitted, &train, &test, dim, rows.truth, seconds)?;
        Ok(summary)
    })
}

fn write_outputs(
    run: &RunDir,
    fitted: &Fitted,
    train: &[f64],
    test: &[f64],
    dim: usize,
    truth: Option<usize>,
    seconds: f64,
) -> Result<GmmSummary> {
    let m = &fitted.model;
    let k = m.components();
    let n_train = train.len() / dim;
    let weights = m.weights();
    write_npy_f64(run.file("weights.npy"), &[k], &weights)?;
    write_npy_f64(run.file("means.npy"), &[k, dim], &m.means)?;
    let cov_shape = match m.covariance {
        Covariance::Full => vec![k, dim, dim],
        Covariance::Diag => vec![k, dim],
    };
    write_npy_f64(run.file("covariances.npy"), &cov_shape, &m.covariances())?;
    run.write_json("posterior.json", m)?;
    write_npy_f64(
        run.file("responsibilities.npy"),
        &[n_train, k],
        &fitted.resp,
    )?;
    let (test_lp, test_se) = if test.is_empty() {
        (None, None)
    } else {
        let (mean, se) = crate::eval::parzen::mean_se(&m.log_predictive(test)?);
        (Some(mean), Some(se))
    };
    let bound = *fitted.bounds.last().unwrap_or(&f64::NAN);
    let summary = GmmSummary {
        run_dir: run.path().to_path_buf(),
        n_train,
        n_test: test.len() / dim,
        dim,
        components: k,
        n_iter: fitted.bounds.len(),
        converged: fitted.converged,
        lower_bound: bound,
        lower_bound_per_example: bound / n_train as f64,
        effective_components: m.effective_components(),
        true_components: truth,
        weights: weights.clone(),
        test_log_predictive: test_lp,
        test_log_predictive_se: test_se,
        seconds,
        seconds_per_iteration: seconds / fitted.bounds.len().max(1) as f64,
    };
    crate::run::write_eval(run, &summary)?;
    let chart = Chart {
        title: "evidence lower bound after each iteration".into(),
        x_label: "iteration".into(),
        y_label: "lower bound (nats per row)".into(),
        series: vec![Series::line(
            "L(q)",
            fitted
                .bounds
                .iter()
                .enumerate()
                .map(|(i, b)| ((i + 1) as f64, b / n_train as f64))
                .collect(),
        )],
        integer_x: true,
        ..Default::default()
    };
    save_chart(&run.file("bound.png"), &chart, 720, 420)?;
    run.add_figure(
        "bound.png",
        "The lower bound per iteration (it never decreases)",
    )?;
    let bars = Bars {
        title: format!(
            "mixture weights ({} effective of {k})",
            summary.effective_components
        ),
        x_label: "component".into(),
        y_label: "weight".into(),
        ..Bars::single(weights.iter().enumerate().map(|(j, w)| (j.to_string(), *w)))
    };
    save_bars(&run.file("weights.png"), &bars, 720, 420)?;
    run.add_figure("weights.png", "Expected mixture weights")?;
    clusters_picture(run, fitted, train, dim)?;
    write_run_report(run)?;
    Ok(summary)
}

/// The rows (first two principal directions when `D > 2`), coloured by their most
/// responsible component, with the 2-sigma ellipse of each effective component's covariance.
fn clusters_picture(run: &RunDir, fitted: &Fitted, x: &[f64], dim: usize) -> Result<()> {
    let m = &fitted.model;
    let (k, n) = (m.components(), x.len() / dim);
    // Two directions: the axes (D <= 2) or the data covariance's top eigenvectors.
    let dirs: Vec<Vec<f64>> = if dim <= 2 {
        (0..dim)
            .map(|a| (0..dim).map(|b| f64::from(a == b)).collect())
            .collect()
    } else {
        let mean: Vec<f64> = (0..dim)
            .map(|j| x.iter().skip(j).step_by(dim).sum::<f64>() / n as f64)
            .collect();
        let mut cov = vec![0.0; dim * dim];
        for r in x.chunks(dim) {
            for a in 0..dim {
                for b in 0..dim {
                    cov[a * dim + b] += (r[a] - mean[a]) * (r[b] - mean[b]) / n as f64;
                }
            }
        }
        let (values, vectors) = symmetric_eigen(&cov, dim);
        let mut idx: Vec<usize> = (0..dim).collect();
        idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        idx.iter()
            .take(2)
            .map(|&i| (0..dim).map(|r| vectors[r * dim + i]).collect())
            .collect()
    };
    let project = |v: &[f64]| -> (f64, f64) {
        let p = |d: &Vec<f64>| d.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
        (p(&dirs[0]), dirs.get(1).map_or(0.0, p))
    };
    let labels: Vec<usize> = fitted
        .resp
        .chunks(k)
        .map(|r| (0..k).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap_or(0))
        .collect();
    let step = (n / 4000).max(1);
    let weights = m.weights();
    let covs = m.covariances();
    let size = if m.covariance == Covariance::Full {
        dim * dim
    } else {
        dim
    };
    let mut series = Vec::new();
    for j in 0..k {
        if weights[j] < super::gmm::EFFECTIVE_WEIGHT {
            continue;
        }
        let pts: Vec<(f64, f64)> = (0..n)
            .step_by(step)
            .filter(|&i| labels[i] == j)
            .map(|i| project(&x[i * dim..(i + 1) * dim]))
            .collect();
        series.push(Series::scatter(
            format!("component {j} ({:.2})", weights[j]),
            pts,
        ));
        // The covariance projected on the two directions: P S P^T.
        let c = &covs[j * size..(j + 1) * size];
        let entry = |a: usize, b: usize| match m.covariance {
            Covariance::Full => c[a * dim + b],
            Covariance::Diag => {
                if a == b {
                    c[a]
                } else {
                    0.0
                }
            }
        };
        let quad = |u: &[f64], w: &[f64]| {
            (0..dim)
                .map(|a| (0..dim).map(|b| u[a] * entry(a, b) * w[b]).sum::<f64>())
                .sum::<f64>()
        };
        let zero = vec![0.0; dim];
        let d1 = dirs.get(1).unwrap_or(&zero);
        let (s11, s12, s22) = (quad(&dirs[0], &dirs[0]), quad(&dirs[0], d1), quad(d1, d1));
        // Cholesky of the 2x2 projected covariance maps the unit circle to its ellipse.
        let l11 = s11.max(0.0).sqrt();
        let l21 = if l11 > 0.0 { s12 / l11 } else { 0.0 };
        let l22 = (s22 - l21 * l21).max(0.0).sqrt();
        let centre = project(&m.means[j * dim..(j + 1) * dim]);
        let ring = (0..=72)
            .map(|t| {
                let a = t as f64 * std::f64::consts::TAU / 72.0;
                let (u, v) = (2.0 * a.cos(), 2.0 * a.sin());
                (centre.0 + l11 * u, centre.1 + l21 * u + l22 * v)
            })
            .collect();
        series.push(Series::line("", ring));
    }
    let chart = Chart {
        title: format!("{} effective components", m.effective_components()),
        x_label: if dim <= 2 {
            "x1".into()
        } else {
            "principal direction 1".into()
        },
        y_label: if dim <= 2 {
            "x2".into()
        } else {
            "principal direction 2".into()
        },
        series,
        ..Default::default()
    };
    save_chart(&run.file("clusters.png"), &chart, 640, 640)?;
    run.add_figure(
        "clusters.png",
        "Rows coloured by their most responsible component, with each effective component's 2-sigma ellipse",
    )
}
