//! `bnn train | eval | predict` through the run driver: the [`Bnn`] family.
//!
//! The seed's linear regression is inferred by SVI, SGLD or SGHMC (a [`BayesLinear`]
//! log-joint) or by Bayes by Backprop (a [`BayesMlp`] with no hidden layer); the nonlinear
//! examples (`gap`, a CSV file) and the digits classifier are Bayes-by-Backprop MLPs (or, for
//! a regression, a one-hidden-layer log-joint sampled by SGLD / SGHMC).
//!
//! A run directory holds what every run has (`config.json`, `model.safetensors` and
//! `trainer.safetensors` — see [`super::fit`] for their layout — `checkpoint.json`,
//! `metrics.jsonl` with one row per epoch, `eval.json`, `report.html`) and after the
//! evaluation `data.csv` (the training rows of a regression), `samples.csv` (posterior draws of
//! a log-joint model), `guide.json` (SVI), `predictive.csv` and `interval.png` (data, mean, 95%
//! bands, for one input), `reliability.png` (a classifier).

use std::path::{Path, PathBuf};

use rand::Rng;
use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use serde::Serialize;

use super::bbb::BayesMlp;
use super::fit::BnnFit;
use super::linear::BayesLinear;
use super::mlp::MlpRegression;
use super::model::{LogJoint, Samples, Summary};
use super::params::{BnnData, BnnParams, BnnRunConfig, Method};
use super::predictive::{BandPoint, RegressionDraws, band_csv, class_metrics};
use crate::api::{FitControl, controlled_trainer};
use crate::data::{DataConfig, DataSource, Dataset, read_csv};
use crate::error::{Error, Result, check};
use crate::eval::calibration::{confidence_bins, expected_calibration_error};
use crate::io::Position;
use crate::io::{RunDir, write_atomic};
use crate::kernels::argmax;
use crate::report::{Band, Chart, Series, save_chart};
use crate::rng::rng_for;
use crate::run::{Family, TrainingData, family, record_eval};
use crate::train::Progress;

/// Family name in `config.json`.
pub const FAMILY: &str = "bnn";

/// What a `bnn` run's evaluation reports (`eval.json`, and `eval` in the summary): the
/// posterior summaries of a linear model (every parameter) or of a network's noise `sigma`,
/// and the held-out metrics when anything is held out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BnnEval {
    /// `regression` or `classification`.
    pub task: String,
    /// Posterior mean, standard deviation and central 95% interval per reported parameter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub posterior: Vec<Summary>,
    /// Posterior draws behind the summaries.
    pub posterior_draws: usize,
    /// Held-out metrics (absent when nothing is held out).
    #[serde(flatten)]
    pub held_out: Option<HeldOut>,
}

/// Held-out metrics of a run: `bnn eval`.
///
/// Both tasks: `test_log_likelihood` (`ln p(y | x)` of the Monte-Carlo predictive, nats per
/// example, not a bound). Regression: `rmse` of the predictive mean and `coverage_95` (fraction
/// of `y` inside the predictive central 95% interval). Classification: `accuracy`, `ece` (10
/// bins), `brier_rmse` (the root Brier score `sqrt(mean_i Σ_k (p_ik - [y_i = k])²)`) and
/// `set_coverage_95` (fraction of labels inside the smallest set of classes holding 95% of the
/// predictive probability). Figures a task does not have are absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    /// Held-out examples.
    pub examples: usize,
    /// Posterior draws per prediction.
    pub draws: usize,
    /// Nats per example (the predictive log-likelihood, not a bound).
    pub test_log_likelihood: f64,
    /// Regression only: root mean squared error of the predictive mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    /// Regression only: fraction of targets inside the central 95% predictive interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_95: Option<f64>,
    /// Classification only: the root Brier score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brier_rmse: Option<f64>,
    /// Classification only: fraction of labels inside the smallest 95% class set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_coverage_95: Option<f64>,
    /// Classification only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Classification only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ece: Option<f64>,
}

/// A regression data set: training and held-out rows.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionData {
    /// Feature names.
    pub columns: Vec<String>,
    /// Training features, `[n, d]`.
    pub train_x: Vec<f64>,
    /// Training targets, `[n]`.
    pub train_y: Vec<f64>,
    /// Held-out features, `[m, d]`.
    pub test_x: Vec<f64>,
    /// Held-out targets, `[m]`.
    pub test_y: Vec<f64>,
}

impl RegressionData {
    /// Number of features.
    pub fn d(&self) -> usize {
        self.columns.len()
    }
}

/// The data of a run.
#[derive(Debug, Clone)]
pub enum BnnTask {
    /// Real targets.
    Regression(RegressionData),
    /// Class labels.
    Classification {
        /// Training examples.
        train: Dataset,
        /// Held-out examples.
        test: Dataset,
    },
}

impl BnnTask {
    /// Whether the labels are classes.
    pub fn is_classification(&self) -> bool {
        matches!(self, BnnTask::Classification { .. })
    }

    /// Width of an input row.
    pub fn input_width(&self) -> usize {
        match self {
            BnnTask::Regression(d) => d.d(),
            BnnTask::Classification { train, .. } => train.dim(),
        }
    }

    /// Held-out rows.
    pub fn held_out_rows(&self) -> usize {
        match self {
            BnnTask::Regression(d) => d.test_y.len(),
            BnnTask::Classification { test, .. } => test.len(),
        }
    }

    /// Outputs per row: 1 for a regression, one per class (the largest label + 1).
    pub fn outputs(&self) -> usize {
        match self {
            BnnTask::Regression(_) => 1,
            BnnTask::Classification { train, .. } => train
                .labels()
                .and_then(|l| l.iter().max())
                .map_or(1, |&k| k as usize + 1),
        }
    }

    /// The training inputs as a data set (what the trainer reports against).
    pub fn train_rows(&self) -> Result<Dataset> {
        match self {
            BnnTask::Regression(d) => Dataset::new(
                "training rows",
                d.train_x.iter().map(|&v| v as f32).collect(),
                d.d(),
                None,
            ),
            BnnTask::Classification { train, .. } => Ok(train.clone()),
        }
    }
}

/// The `gap` example: `n` inputs drawn uniformly from `[-4, -1.5] ∪ [1.5, 4]` (nothing in
/// between), `y = sin(2x) + 0.3 x + 0.2 ε`.
pub fn gap_example(n: usize, rng: &mut impl Rng) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let u: f64 = rng.random::<f64>() * 2.5;
            if i % 2 == 0 { -4.0 + u } else { 1.5 + u }
        })
        .collect();
    let y = x
        .iter()
        .map(|&x| (2.0 * x).sin() + 0.3 * x + 0.2 * rng.sample::<f64, _>(StandardNormal))
        .collect();
    (x, y)
}

/// The seed's generator at `x`: `3x + 2 + 0.5 ε`.
fn seed_targets(x: &[f64], rng: &mut impl Rng) -> Vec<f64> {
    x.iter()
        .map(|&x| 3.0 * x + 2.0 + 0.5 * rng.sample::<f64, _>(StandardNormal))
        .collect()
}

/// Load (or generate) the data of `cfg`, with its held-out part.
pub fn load_task(cfg: &BnnRunConfig) -> Result<BnnTask> {
    let seed = cfg.params.train.seed;
    let one = |train: (Vec<f64>, Vec<f64>), test: (Vec<f64>, Vec<f64>)| {
        BnnTask::Regression(RegressionData {
            columns: vec!["x".into()],
            train_x: train.0,
            train_y: train.1,
            test_x: test.0,
            test_y: test.1,
        })
    };
    match &cfg.data {
        BnnData::Seed => {
            let m = BayesLinear::seed_example(&mut rng_for(seed, &[0x5345_4544]));
            let mut rng = rng_for(seed, &[0x5445_5354]);
            let test_x: Vec<f64> = (0..100)
                .map(|_| -5.0 + 10.0 * rng.random::<f64>())
                .collect();
            let test_y = seed_targets(&test_x, &mut rng);
            Ok(one((m.x, m.y), (test_x, test_y)))
        }
        BnnData::Gap => Ok(one(
            gap_example(200, &mut rng_for(seed, &[0x4741_5031])),
            gap_example(500, &mut rng_for(seed, &[0x4741_5032])),
        )),
        BnnData::Csv { path, target } => csv_task(path, target, cfg.test_fraction, seed),
        BnnData::Digits => {
            let split = DataConfig {
                source: DataSource::Digits,
                binarize: crate::data::Binarize::None,
                table: Default::default(),
                train_examples: None,
            }
            .load(seed)?;
            Ok(BnnTask::Classification {
                train: split.train,
                test: split.test,
            })
        }
    }
}

/// A CSV regression with a seeded held-out fraction.
fn csv_task(path: &Path, target: &str, test_fraction: f64, seed: u64) -> Result<BnnTask> {
    let t = read_csv(path, Some(target))?;
    let y = t.target.clone().unwrap_or_default();
    let d = t.columns.len();
    if d == 0 {
        return Err(Error::bad_file(
            path,
            "no feature columns besides the target",
        ));
    }
    let n = y.len();
    let n_test = (n as f64 * test_fraction).floor() as usize;
    if n - n_test < 2 {
        return Err(Error::bad_file(
            path,
            format!("need at least 2 training rows (got {n} rows, {n_test} held out)"),
        ));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rng_for(seed, &[0x5350_4c49]));
    let (train, test) = idx.split_at(n - n_test);
    let rows = |ids: &[usize]| -> Vec<f64> {
        ids.iter()
            .flat_map(|&i| t.features[i * d..(i + 1) * d].iter().map(|&v| f64::from(v)))
            .collect()
    };
    Ok(BnnTask::Regression(RegressionData {
        columns: t.columns.clone(),
        train_x: rows(train),
        train_y: train.iter().map(|&i| y[i]).collect(),
        test_x: rows(test),
        test_y: test.iter().map(|&i| y[i]).collect(),
    }))
}

/// A regression written as a log-joint (inferred by SVI, SGLD or SGHMC).
#[derive(Debug, Clone)]
pub enum SampledModel {
    /// The seed's linear regression.
    Linear(BayesLinear),
    /// A one-hidden-layer tanh network.
    Mlp(MlpRegression),
}

impl SampledModel {
    /// The model as a log-joint.
    pub fn log_joint(&self) -> &dyn LogJoint {
        match self {
            SampledModel::Linear(m) => m,
            SampledModel::Mlp(m) => m,
        }
    }

    /// Predictive draws at rows `x` from posterior `samples`.
    pub fn draws_at(&self, samples: &Samples, x: &[f64]) -> RegressionDraws {
        match self {
            SampledModel::Linear(m) => RegressionDraws::from_linear(m, samples, x),
            SampledModel::Mlp(m) => m.draws_at(samples, x),
        }
    }
}

/// The fitted posterior of a run.
#[derive(Debug, Clone)]
pub enum Posterior {
    /// Posterior draws of a log-joint model.
    Linear {
        /// The model (its priors and noise model).
        model: SampledModel,
        /// The draws.
        samples: Samples,
    },
    /// A Bayes-by-Backprop MLP.
    Mlp(BayesMlp),
}

impl Posterior {
    /// Regression draws at rows `x` (`[n, d]`).
    pub fn regression_draws(
        &self,
        x: &[f64],
        draws: usize,
        rng: &mut impl Rng,
    ) -> Result<RegressionDraws> {
        match self {
            Posterior::Linear { model, samples } => Ok(model.draws_at(samples, x)),
            Posterior::Mlp(m) => {
                let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                m.regression_draws(&xf, draws, rng)
            }
        }
    }
}

/// The log-joint model of the training rows: the linear regression, or with one hidden width
/// a one-hidden-layer tanh network.
pub(crate) fn sampled_model(params: &BnnParams, data: &RegressionData) -> Result<SampledModel> {
    match params.hidden.as_slice() {
        [] => Ok(SampledModel::Linear(BayesLinear::new(
            data.train_x.clone(),
            data.train_y.clone(),
            data.d(),
        )?)),
        [h] => Ok(SampledModel::Mlp(MlpRegression::new(
            &data.train_x,
            &data.train_y,
            data.d(),
            *h,
            &mut rng_for(params.train.seed, &[0x4d4c_5049]),
        )?)),
        _ => Err(Error::param(
            "hidden",
            "svi, sgld and sghmc take at most one hidden layer (bbb takes any number)",
        )),
    }
}

impl BnnParams {
    /// Infer the posterior of `task`'s training rows in memory; writes no file.
    ///
    /// ```
    /// use helmholtz::bayes::params::{BnnData, BnnParams, BnnRunConfig, Method};
    /// use helmholtz::bayes::run::load_task;
    /// # fn main() -> helmholtz::Result<()> {
    /// let cfg = BnnRunConfig::new(BnnData::Seed, Method::Svi);
    /// let task = load_task(&cfg)?; // y = 3x + 2 + 0.5 ε, 100 points
    /// let posterior = BnnParams::default().fit(&task)?;
    /// let draws = posterior.regression_draws(&[1.0], 100, &mut rand::rng())?;
    /// assert!((draws.mean(0) - 5.0).abs() < 0.3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn fit(&self, task: &BnnTask) -> Result<Posterior> {
        self.fit_with(task, FitControl::default())
    }

    /// [`BnnParams::fit`] reporting to, and stoppable through, `control`.
    pub fn fit_with(&self, task: &BnnTask, control: FitControl<'_>) -> Result<Posterior> {
        let mut params = self.clone();
        params.sync_epochs();
        let device = params.device.device(params.train.seed)?;
        let mut fit = BnnFit::new(&params, task, &device)?;
        controlled_trainer(params.train.clone(), device, control)?.fit(
            &mut fit,
            &task.train_rows()?,
            None,
            Position::default(),
        )?;
        Ok(fit.posterior())
    }
}

/// The `bnn` family as the run driver sees it.
#[derive(Debug, Clone, Copy)]
pub struct Bnn;

/// A run's data: the task and its training inputs as a data set.
#[derive(Debug, Clone)]
pub struct BnnPrepared {
    /// Training and held-out rows.
    pub task: BnnTask,
    /// The training inputs.
    pub rows: Dataset,
}

family!(Bnn: FAMILY, BnnRunConfig, BnnPrepared, BnnFit, BnnEval);

impl TrainingData for BnnPrepared {
    fn train(&self) -> &Dataset {
        &self.rows
    }
}

impl Family for Bnn {
    fn prepare(cfg: &mut BnnRunConfig) -> Result<BnnPrepared> {
        cfg.params.sync_epochs();
        cfg.validate()?;
        let task = load_task(cfg)?;
        check_memory(cfg, &task, "eval-draws", cfg.eval_draws)?;
        // Build the model once here: bad data fail before a run directory exists.
        BnnFit::new(
            &cfg.params,
            &task,
            &crate::kernels::runtime::DeviceKind::Cpu.device(0)?,
        )?;
        Ok(BnnPrepared {
            rows: task.train_rows()?,
            task,
        })
    }

    fn build(
        cfg: &BnnRunConfig,
        data: &BnnPrepared,
        device: &burn::prelude::Device,
    ) -> Result<BnnFit> {
        BnnFit::new(&cfg.params, &data.task, device)
    }

    fn evaluate(
        cfg: &BnnRunConfig,
        fit: &mut BnnFit,
        data: &BnnPrepared,
        run: &RunDir,
        _progress: &dyn Progress,
    ) -> Result<BnnEval> {
        let posterior = fit.posterior();
        if let BnnTask::Regression(d) = &data.task {
            write_atomic(&run.file("data.csv"), data_csv(d).as_bytes())?;
        }
        if let Some(guide) = fit.guide() {
            run.write_json("guide.json", &guide)?;
        }
        let samples = posterior_samples(cfg, &posterior);
        if let Posterior::Linear { samples, .. } = &posterior {
            write_atomic(&run.file("samples.csv"), samples.to_csv().as_bytes())?;
        }
        let (held_out, class_probs) = held_out(cfg, &data.task, &posterior)?;
        write_pictures(cfg, run, &data.task, &posterior, class_probs.as_deref())?;
        Ok(BnnEval {
            task: if data.task.is_classification() {
                "classification"
            } else {
                "regression"
            }
            .into(),
            posterior: reported_summaries(&posterior, samples.as_ref()),
            posterior_draws: samples.as_ref().map_or(0, Samples::len),
            held_out,
        })
    }
}

/// Bytes per predictive value: a draw of `f` and of `y` at one row and output.
const DRAW_BYTES: usize = 16;
/// Rows of the predictive band in the pictures, besides the held-out rows.
const BAND_ROWS: usize = 200;

/// The network, the predictive draws (`draws`, the parameter `name`), the posterior draws and
/// the chain's kept states of `cfg` on `task`, against the memory budget.
fn check_memory(
    cfg: &BnnRunConfig,
    task: &BnnTask,
    name: &'static str,
    draws: usize,
) -> Result<()> {
    use crate::budget::{PARAM_BYTES, bytes, layers, network};
    let p = &cfg.params;
    let mut widths = vec![("data", task.input_width())];
    widths.extend(p.hidden.iter().map(|&h| ("hidden", h)));
    widths.push(("data", task.outputs()));
    let weights = layers(&widths.iter().map(|w| w.1).collect::<Vec<_>>());
    // Draws of every weight: the guide's (SVI), the chain's kept states, a linear network's.
    let (samples, kept, particles) = match p.method {
        Method::Svi => (p.posterior_samples, 0, p.svi.particles),
        Method::Sgld | Method::Sghmc => {
            let kept =
                (p.chain.steps.saturating_sub(p.chain.burn_in)).div_ceil(p.chain.thin.max(1));
            (0, kept, 0)
        }
        Method::Bbb if p.hidden.is_empty() => (p.posterior_samples, 0, 0),
        Method::Bbb => (0, 0, 0),
    };
    let rows = task.held_out_rows().saturating_add(BAND_ROWS);
    let per = |count: usize| weights.saturating_mul(bytes(&[count, 8]));
    // A mean and a scale per weight (Bayes by Backprop), each trained; the network alone first,
    // so that a network too large is blamed on its widths, not on the draws of it.
    let mut costs = network(&widths, 2 * PARAM_BYTES);
    crate::budget::check_parts(&costs)?;
    costs.extend([
        (name, bytes(&[draws, rows, task.outputs(), DRAW_BYTES])),
        ("samples", per(samples)),
        ("steps", per(kept)),
        ("particles", per(particles)),
    ]);
    crate::budget::check_parts(&costs)
}

/// The posterior draws behind the summaries: a log-joint model's draws, or for a linear
/// Bayes-by-Backprop model `(w, b, σ)` drawn from its weights.
fn posterior_samples(cfg: &BnnRunConfig, posterior: &Posterior) -> Option<Samples> {
    match posterior {
        Posterior::Linear { samples, .. } => Some(samples.clone()),
        Posterior::Mlp(m) => m.linear_samples(
            cfg.params.posterior_samples,
            &mut rng_for(cfg.params.train.seed, &[0x4c49_4e53]),
        ),
    }
}

/// The summaries reported: every parameter of a linear model, only the noise `sigma` of a
/// network (its weights are in `samples.csv`).
fn reported_summaries(posterior: &Posterior, samples: Option<&Samples>) -> Vec<Summary> {
    let network = matches!(
        posterior,
        Posterior::Linear {
            model: SampledModel::Mlp(_),
            ..
        }
    );
    samples
        .map(Samples::summaries)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !network || s.name == "sigma")
        .collect()
}

/// The held-out metrics (`None` when nothing is held out), and for a classifier the predictive
/// probabilities behind them (so the reliability diagram shows the same draws as eval.json).
fn held_out(
    cfg: &BnnRunConfig,
    task: &BnnTask,
    posterior: &Posterior,
) -> Result<(Option<HeldOut>, Option<Vec<f64>>)> {
    let mut rng = rng_for(cfg.params.train.seed, &[0x4556_414c]);
    match (task, posterior) {
        (BnnTask::Regression(d), _) if d.test_y.is_empty() => Ok((None, None)),
        (BnnTask::Regression(d), p) => {
            let draws = p.regression_draws(&d.test_x, cfg.eval_draws, &mut rng)?;
            let m = draws.metrics(&d.test_y);
            let eval = HeldOut {
                examples: m.examples,
                draws: draws.draws(),
                test_log_likelihood: m.test_log_likelihood,
                rmse: Some(m.rmse),
                coverage_95: Some(m.coverage_95),
                brier_rmse: None,
                set_coverage_95: None,
                accuracy: None,
                ece: None,
            };
            Ok((Some(eval), None))
        }
        (BnnTask::Classification { test, .. }, Posterior::Mlp(m)) => {
            let labels = test
                .labels()
                .ok_or_else(|| Error::data(test.name(), "has no labels"))?;
            let probs = m.class_probabilities(test.features(), cfg.eval_draws, &mut rng)?;
            let classes = m.config().output();
            let c = class_metrics(&probs, classes, labels);
            let eval = HeldOut {
                examples: c.examples,
                draws: cfg.eval_draws,
                test_log_likelihood: c.test_log_likelihood,
                rmse: None,
                coverage_95: None,
                brier_rmse: Some(brier_rmse(&probs, classes, labels)),
                set_coverage_95: Some(set_coverage(&probs, classes, labels, 0.95)),
                accuracy: Some(c.accuracy),
                ece: Some(c.ece),
            };
            Ok((Some(eval), Some(probs)))
        }
        (BnnTask::Classification { .. }, Posterior::Linear { .. }) => Err(Error::param(
            "method",
            "a linear regression cannot classify digits",
        )),
    }
}

/// `sqrt(mean_i Σ_k (p_ik - [y_i = k])²)`.
fn brier_rmse(probs: &[f64], classes: usize, labels: &[u32]) -> f64 {
    let se: f64 = probs
        .chunks(classes)
        .zip(labels)
        .map(|(row, &y)| {
            row.iter()
                .enumerate()
                .map(|(k, p)| (p - f64::from(u8::from(k == y as usize))).powi(2))
                .sum::<f64>()
        })
        .sum();
    (se / labels.len().max(1) as f64).sqrt()
}

/// Fraction of labels inside the smallest set of classes whose probabilities reach `level`.
fn set_coverage(probs: &[f64], classes: usize, labels: &[u32], level: f64) -> f64 {
    let inside = probs
        .chunks(classes)
        .zip(labels)
        .filter(|(row, y)| {
            let mut order: Vec<usize> = (0..classes).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
            let mut mass = 0.0;
            for k in order {
                if k == **y as usize {
                    return true;
                }
                mass += row[k];
                if mass >= level {
                    return false;
                }
            }
            false
        })
        .count();
    inside as f64 / labels.len().max(1) as f64
}

/// The data as CSV: the feature columns and `y`.
fn data_csv(data: &RegressionData) -> String {
    let mut s = data.columns.join(",");
    s.push_str(",y\n");
    for (row, y) in data.train_x.chunks(data.d()).zip(&data.train_y) {
        for v in row {
            s.push_str(&format!("{v},"));
        }
        s.push_str(&format!("{y}\n"));
    }
    s
}

/// `interval.png` + `predictive.csv` for one input, `reliability.png` for a classifier.
fn write_pictures(
    cfg: &BnnRunConfig,
    run: &RunDir,
    task: &BnnTask,
    posterior: &Posterior,
    class_probs: Option<&[f64]>,
) -> Result<()> {
    match (task, posterior) {
        (BnnTask::Regression(d), p) if d.d() == 1 => {
            let mut rng = rng_for(cfg.params.train.seed, &[0x4241_4e44]);
            let (lo, hi) = d
                .train_x
                .iter()
                .chain(&d.test_x)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            let pad = if cfg.data == BnnData::Seed {
                0.0
            } else {
                0.1 * (hi - lo)
            };
            let xs: Vec<f64> = (0..200)
                .map(|i| lo - pad + (hi - lo + 2.0 * pad) * i as f64 / 199.0)
                .collect();
            let band = p.regression_draws(&xs, cfg.eval_draws, &mut rng)?.band(&xs);
            write_atomic(&run.file("predictive.csv"), band_csv(&band).as_bytes())?;
            let points: Vec<(f64, f64)> = d
                .train_x
                .iter()
                .copied()
                .zip(d.train_y.iter().copied())
                .collect();
            write_band(run, &points, &band, &d.columns[0])
        }
        (BnnTask::Classification { test, .. }, Posterior::Mlp(m)) => match class_probs {
            Some(probs) => write_reliability(
                run,
                probs,
                m.config().output(),
                test.labels().unwrap_or_default(),
            ),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The seed's picture: data, posterior mean line, 95% bands.
fn write_band(run: &RunDir, points: &[(f64, f64)], band: &[BandPoint], x_name: &str) -> Result<()> {
    let shade = |name: &str, opacity: f64, f: fn(&BandPoint) -> (f64, f64)| Band {
        name: name.into(),
        points: band
            .iter()
            .map(|p| {
                let (lo, hi) = f(p);
                (p.x, lo, hi)
            })
            .collect(),
        color: 1,
        opacity,
    };
    let chart = Chart {
        title: "posterior predictive: mean and 95% intervals".into(),
        x_label: x_name.into(),
        y_label: "y".into(),
        series: vec![
            Series::scatter("data", points.to_vec()),
            Series::line(
                "predicted mean",
                band.iter().map(|p| (p.x, p.mean)).collect(),
            ),
        ],
        bands: vec![
            shade("f(x), 95% interval", 0.35, |p| (p.lower, p.upper)),
            shade("new y, 95% interval", 0.15, |p| (p.y_lower, p.y_upper)),
        ],
        ..Chart::default()
    };
    save_chart(&run.file("interval.png"), &chart, 900, 560)?;
    run.add_figure(
        "interval.png",
        "data, posterior mean of f(x), the 95% interval of f(x) (dark band) and of a new observation (light band)",
    )
}

/// Reliability diagram: accuracy against confidence in 10 bins, with the diagonal.
fn write_reliability(run: &RunDir, probs: &[f64], classes: usize, labels: &[u32]) -> Result<()> {
    let bins = 10;
    let points: Vec<(f64, f64)> = confidence_bins(probs, classes, labels, bins)
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| (b.confidence / b.count as f64, b.correct / b.count as f64))
        .collect();
    let ece = expected_calibration_error(probs, classes, labels, bins);
    let chart = Chart {
        title: format!("reliability on held-out digits (ECE {ece:.4})"),
        x_label: "confidence (largest predictive probability)".into(),
        y_label: "accuracy (fraction correct)".into(),
        series: vec![
            Series {
                markers: true,
                ..Series::line("per confidence bin", points)
            },
            Series {
                dashed: true,
                ..Series::line("perfect calibration", vec![(0.0, 0.0), (1.0, 1.0)])
            },
        ],
        ..Chart::default()
    };
    save_chart(&run.file("reliability.png"), &chart, 700, 560)?;
    run.add_figure(
        "reliability.png",
        "accuracy against confidence over 10 bins of the held-out set; the diagonal is perfect calibration",
    )
}

/// Open a run: its config, data and posterior (from its last checkpoint).
pub fn open_run(dir: &Path) -> Result<(RunDir, BnnRunConfig, BnnTask, Posterior)> {
    let (run, envelope) = crate::run::open::<Bnn>(dir)?;
    let mut cfg = envelope.config;
    let data = Bnn::prepare(&mut cfg)?;
    let device = cfg.params.device.device(cfg.params.train.seed)?;
    let mut fit = Bnn::build(&cfg, &data, &device)?;
    crate::train::resume(&mut fit, &run)?;
    Ok((run, cfg, data.task, fit.posterior()))
}

/// Held-out metrics of the run in `dir` (`draws` overrides the run's `eval_draws`), recorded
/// beside the training's own as `evals/eval-<UTC time>.json`.
pub fn eval(dir: &Path, draws: Option<usize>) -> Result<HeldOut> {
    let (run, mut cfg, task, posterior) = open_run(dir)?;
    if let Some(d) = draws {
        check::positive_count("n", d)?;
        check_memory(&cfg, &task, "n", d)?;
        cfg.eval_draws = d;
    }
    let metrics = held_out(&cfg, &task, &posterior)?.0.ok_or_else(|| {
        Error::data(
            dir.display().to_string(),
            "the run holds nothing out (train with a test fraction above 0)",
        )
    })?;
    record_eval(&run, "eval", &metrics)?;
    Ok(metrics)
}

/// What `bnn predict` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PredictSummary {
    /// The CSV written.
    pub path: PathBuf,
    /// Rows predicted.
    pub rows: usize,
    /// Posterior draws per prediction.
    pub draws: usize,
}

/// Predict for the rows of `input` (a CSV of the training feature columns; a target column,
/// if present, is ignored) or, without `input`, for the run's held-out rows; write a CSV to
/// `out` (default `RUN/predictions.csv`): regression `features.., mean, lower, upper, y_lower,
/// y_upper`; classification `predicted, p0.., p{K-1}`.
pub fn predict(
    dir: &Path,
    input: Option<&Path>,
    out: Option<&Path>,
    draws: Option<usize>,
) -> Result<PredictSummary> {
    let (run, cfg, task, posterior) = open_run(dir)?;
    let draws = draws.unwrap_or(cfg.eval_draws);
    check::positive_count("n", draws)?;
    check_memory(&cfg, &task, "n", draws)?;
    let path = run.output(out, "predictions.csv")?;
    let mut rng = rng_for(cfg.params.train.seed, &[0x5052_4544]);
    let (text, rows) = match (&task, &posterior) {
        (BnnTask::Regression(d), p) => {
            let x = match input {
                Some(file) => input_rows(file, &d.columns, target_of(&cfg))?,
                None => d.test_x.clone(),
            };
            let draws = p.regression_draws(&x, draws, &mut rng)?;
            let mut s = d.columns.join(",");
            s.push_str(",mean,lower,upper,y_lower,y_upper\n");
            for (i, row) in x.chunks(d.d()).enumerate() {
                for v in row {
                    s.push_str(&format!("{v},"));
                }
                s.push_str(&format!(
                    "{},{},{},{},{}\n",
                    draws.mean(i),
                    draws.f_quantile(i, 0.025),
                    draws.f_quantile(i, 0.975),
                    draws.y_quantile(i, 0.025),
                    draws.y_quantile(i, 0.975)
                ));
            }
            (s, draws.n)
        }
        (BnnTask::Classification { test, .. }, Posterior::Mlp(m)) => {
            let x: Vec<f32> = match input {
                Some(file) => {
                    let columns: Vec<String> =
                        (0..m.config().input).map(|j| format!("p{j}")).collect();
                    input_rows(file, &columns, None)?
                        .iter()
                        .map(|&v| v as f32)
                        .collect()
                }
                None => test.features().to_vec(),
            };
            let k = m.config().output();
            let probs = m.class_probabilities(&x, draws, &mut rng)?;
            let mut s = String::from("predicted");
            for j in 0..k {
                s.push_str(&format!(",p{j}"));
            }
            s.push('\n');
            for row in probs.chunks(k) {
                s.push_str(&argmax(row).to_string());
                for p in row {
                    s.push_str(&format!(",{p}"));
                }
                s.push('\n');
            }
            (s, probs.len() / k)
        }
        _ => return Err(Error::Internal("a classifier run without an MLP".into())),
    };
    write_atomic(&path, text.as_bytes())?;
    Ok(PredictSummary { path, rows, draws })
}

fn target_of(cfg: &BnnRunConfig) -> Option<&str> {
    match &cfg.data {
        BnnData::Csv { target, .. } => Some(target),
        _ => Some("y"),
    }
}

/// Rows of `file`'s feature columns: by name when the header names all of `columns`, else by
/// position (every column but `target`); the width must match.
fn input_rows(file: &Path, columns: &[String], target: Option<&str>) -> Result<Vec<f64>> {
    let t = read_csv(file, None)?;
    let pick: Vec<usize> = if columns.iter().all(|c| t.columns.contains(c)) {
        columns
            .iter()
            .filter_map(|c| t.columns.iter().position(|h| h == c))
            .collect()
    } else {
        (0..t.columns.len())
            .filter(|&j| Some(t.columns[j].as_str()) != target)
            .collect()
    };
    if pick.len() != columns.len() {
        return Err(Error::bad_file(
            file,
            format!(
                "has {} feature columns; the model takes {} ({})",
                pick.len(),
                columns.len(),
                if columns.len() <= 8 {
                    columns.join(", ")
                } else {
                    format!("{}, ..", columns[..3].join(", "))
                }
            ),
        ));
    }
    let w = t.columns.len();
    Ok(t.features
        .chunks(w)
        .flat_map(|row| pick.iter().map(move |&j| f64::from(row[j])))
        .collect())
}
