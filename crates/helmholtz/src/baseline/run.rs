//! `baseline train` runs: fit on the training split, score the test split exactly, write the run
//! directory.
//!
//! ```text
//! config.json          family "baseline", the data, the settings
//! model.safetensors    p [D] (bernoulli) or weights [K], means [K, D] (mixture)
//! eval.json            the summary the CLI prints
//! means.png            the pixel probabilities (one tile per component)
//! objective.png        EM's objective per iteration (mixture)
//! report.html
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{Bernoulli, BernoulliMixture, EmParams};
use crate::data::{DataConfig, Dataset};
use crate::error::{Error, Result, check};
use crate::eval::parzen::mean_se;
use crate::io::{Blob, RunDir, TensorFile};
use crate::keywords::keywords;
use crate::report::{
    Chart, GridSpec, Series, Shade, image_shape, save_chart, save_grid, write_run_report,
};
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "baseline";

/// Which baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineModel {
    /// Independent Bernoulli pixels.
    #[default]
    Bernoulli,
    /// A mixture of independent Bernoullis, fitted by EM.
    Mixture,
}

keywords!(BaselineModel, "model", {
    Bernoulli => "bernoulli",
    Mixture => "mixture",
});

/// Everything that defines a `baseline train` run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineRunConfig {
    /// Always `baseline`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// The data (binarised).
    pub data: DataConfig,
    /// Which model.
    pub model: BaselineModel,
    /// EM's settings (mixture; `smoothing` is used by both models).
    pub em: EmParams,
    /// Step of gradient descent on the KL divergence (bernoulli).
    pub lr: f64,
    /// Steps of gradient descent at most (bernoulli).
    pub max_steps: usize,
}

impl BaselineRunConfig {
    /// A run on the embedded digits, binarised at 0.5 as the RBM's default.
    pub fn digits(model: BaselineModel, em: EmParams) -> Self {
        Self {
            family: FAMILY.into(),
            helmholtz_version: env!("CARGO_PKG_VERSION").into(),
            data: DataConfig::digits(),
            model,
            em,
            lr: 4.0,
            max_steps: 200_000,
        }
    }
}

/// Gradient descent on the KL divergence beside the closed form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescentSummary {
    /// Steps taken.
    pub steps: usize,
    /// Largest gradient component at the end.
    pub gradient: f64,
    /// Its test log-likelihood (nats per example).
    pub test_log_likelihood: f64,
    /// |closed form - gradient descent| in test nats per example.
    pub difference: f64,
}

/// What a `baseline train` run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Which model.
    pub model: BaselineModel,
    /// Free parameters.
    pub parameters: usize,
    /// Seconds of fitting.
    pub train_seconds: f64,
    /// Mean `ln P(x)` of the training rows (nats per example).
    pub train_log_likelihood: f64,
    /// Mean `ln P(x)` of the test rows (nats per example).
    pub test_log_likelihood: f64,
    /// Its standard error.
    pub test_log_likelihood_se: f64,
    /// What kind of number it is.
    pub kind: String,
    /// Gradient descent on the KL divergence (bernoulli).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradient_descent: Option<DescentSummary>,
    /// EM iterations of the kept restart (mixture).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub em_iterations: Option<usize>,
}

fn binary(d: &Dataset, what: &str) -> Result<()> {
    if let Some(i) = d.features().iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(Error::data(
            "data",
            format!(
                "{what} row {}, column {} is {}; the baselines model binary data (binarise it)",
                i / d.dim(),
                i % d.dim(),
                d.features()[i]
            ),
        ));
    }
    Ok(())
}

/// Fit, score and write the run directory `out` (or `runs/baseline-<time>`).
pub fn train_baseline(
    cfg: &BaselineRunConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<BaselineSummary> {
    check::non_negative("smoothing", cfg.em.smoothing)?;
    check::positive("lr", cfg.lr)?;
    if cfg.model == BaselineModel::Mixture {
        check::positive_count("components", cfg.em.components)?;
        check::positive_count("restarts", cfg.em.restarts)?;
    }
    let split = cfg.data.load(cfg.em.seed)?;
    binary(&split.train, "training")?;
    binary(&split.test, "test")?;
    let (train, test, dim) = (
        split.train.features(),
        split.test.features(),
        split.train.dim(),
    );
    crate::budget::check(
        "components",
        (split.train.len() as u128) * (cfg.em.components as u128) * 24,
    )?;
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", cfg)?;
        let started = Instant::now();
        let mut file = TensorFile::default();
        let blob = |shape: Vec<usize>, v: &[f64]| Blob {
            shape,
            data: v.iter().map(|&x| x as f32).collect(),
        };
        let (summary, tiles, k) = match cfg.model {
            BaselineModel::Bernoulli => {
                progress.start("gradient descent", 1);
                let exact = Bernoulli::closed_form(train, dim, cfg.em.smoothing)?;
                let seconds = started.elapsed().as_secs_f64();
                let gd = Bernoulli::gradient_descent(
                    train,
                    dim,
                    cfg.em.smoothing,
                    cfg.lr,
                    1e-10,
                    cfg.max_steps,
                )?;
                progress.finish();
                let (test_ll, se) = mean_se(&exact.log_likelihood(test));
                let (gd_ll, _) = mean_se(&gd.model.log_likelihood(test));
                file.put_blob("p", blob(vec![dim], &exact.p));
                let s = BaselineSummary {
                    run_dir: run.path().to_path_buf(),
                    model: cfg.model,
                    parameters: dim,
                    train_seconds: seconds,
                    train_log_likelihood: mean_se(&exact.log_likelihood(train)).0,
                    test_log_likelihood: test_ll,
                    test_log_likelihood_se: se,
                    kind: "exact".into(),
                    gradient_descent: Some(DescentSummary {
                        steps: gd.steps,
                        gradient: gd.gradient,
                        test_log_likelihood: gd_ll,
                        difference: (test_ll - gd_ll).abs(),
                    }),
                    em_iterations: None,
                };
                (s, exact.p, 1)
            }
            BaselineModel::Mixture => {
                progress.start("EM restarts", 1);
                let fit = BernoulliMixture::fit(train, dim, &cfg.em)?;
                progress.finish();
                let seconds = started.elapsed().as_secs_f64();
                let m = &fit.model;
                let k = m.components();
                let (test_ll, se) = mean_se(&m.log_likelihood(test));
                file.put_blob("weights", blob(vec![k], &m.weights));
                file.put_blob("means", blob(vec![k, dim], &m.means));
                let chart = Chart {
                    title: format!("EM (restart {} of {})", fit.restart + 1, cfg.em.restarts),
                    x_label: "iteration".into(),
                    y_label: "objective (nats per example)".into(),
                    series: vec![Series::line(
                        "mean log-likelihood + log prior of the smoothing",
                        fit.objective
                            .iter()
                            .enumerate()
                            .map(|(i, f)| (i as f64, *f))
                            .collect(),
                    )],
                    integer_x: true,
                    ..Default::default()
                };
                save_chart(&run.file("objective.png"), &chart, 720, 420)?;
                run.add_figure(
                    "objective.png",
                    "EM's objective per iteration (it never decreases)",
                )?;
                let s = BaselineSummary {
                    run_dir: run.path().to_path_buf(),
                    model: cfg.model,
                    parameters: k * dim + k - 1,
                    train_seconds: seconds,
                    train_log_likelihood: mean_se(&m.log_likelihood(train)).0,
                    test_log_likelihood: test_ll,
                    test_log_likelihood_se: se,
                    kind: "exact".into(),
                    gradient_descent: None,
                    em_iterations: Some(fit.objective.len() - 1),
                };
                (s, m.means.clone(), k)
            }
        };
        file.save(&run.file("model.safetensors"))?;
        crate::run::write_eval(run, &summary)?;
        let shape = split
            .train
            .image_shape()
            .unwrap_or_else(|| image_shape(dim));
        if shape[0] * shape[1] == dim {
            let values: Vec<f32> = tiles.iter().map(|&p| p as f32).collect();
            save_grid(
                &run.file("means.png"),
                &values,
                GridSpec::for_count(k, shape),
                Shade::Unit,
            )?;
            run.add_figure("means.png", "Pixel probabilities (one tile per component)")?;
        }
        write_run_report(run)?;
        Ok(summary)
    })
}

/// The settings and the model of the `baseline` run in `dir`, the independent-pixel model as a
/// mixture of one component (its parameters are stored as `f32`).
pub fn open(dir: &Path) -> Result<(BaselineRunConfig, BernoulliMixture)> {
    let run = RunDir::open(dir, FAMILY)?;
    let cfg: BaselineRunConfig = run.read_json("config.json")?;
    let path = run.file("model.safetensors");
    let file = TensorFile::load(&path)?;
    let widened = |b: &Blob| b.data.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    let model = match cfg.model {
        BaselineModel::Bernoulli => {
            let p = file
                .tensors
                .get("p")
                .ok_or_else(|| Error::bad_file(&path, "no tensor `p`"))?;
            BernoulliMixture {
                weights: vec![1.0],
                means: widened(p),
            }
        }
        BaselineModel::Mixture => {
            let get = |name: &str| {
                file.tensors
                    .get(name)
                    .ok_or_else(|| Error::bad_file(&path, format!("no tensor `{name}`")))
            };
            BernoulliMixture {
                weights: widened(get("weights")?),
                means: widened(get("means")?),
            }
        }
    };
    Ok((cfg, model))
}
