//! `bnn train | eval | predict`: fit a Bayesian model and write a run directory.
//!
//! The seed's linear regression is inferred by SVI, SGLD or SGHMC (a [`BayesLinear`]
//! log-joint) or by Bayes by Backprop (a [`BayesMlp`] with no hidden layer); the nonlinear
//! examples (`gap`, a CSV file) and the digits classifier are Bayes-by-Backprop MLPs.
//!
//! A run directory holds `config.json`, `model.safetensors` (the posterior: draws `[S, P]` for
//! the linear methods, the variational parameters for BBB), `summary.json`, `metrics.jsonl`
//! (the loss per SVI step or BBB epoch), `samples.csv` (posterior draws of a linear model),
//! `eval.json` (held-out metrics), and pictures: `interval.png` (data, mean, 95% bands) for one
//! input, `reliability.png` for a classifier.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::Rng;
use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::bbb::{Activation, BayesMlp, BbbConfig, BbbOptim, Prior, Targets, fit};
use super::linear::BayesLinear;
use super::mcmc::{ChainConfig, SghmcParams, StepSchedule, sghmc, sgld};
use super::mlp::MlpRegression;
use super::model::{LogJoint, Samples, Summary};
use super::predictive::{BandPoint, RegressionDraws, band_csv, class_metrics};
use super::svi::{SviConfig, svi};
use crate::data::{DataConfig, DataSource, Dataset, read_csv};
use crate::error::{Error, Result, check};
use crate::eval::calibration::{argmax, confidence_bins, expected_calibration_error};
use crate::io::{Blob, RunDir, TensorFile, write_atomic};
use crate::kernels::runtime::DeviceKind;
use crate::report::{Band, Chart, Series, save_chart};
use crate::rng::rng_for;
use crate::train::{Progress, Silent};

/// Family name in `config.json`.
pub const FAMILY: &str = "bnn";

/// Which inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// SVI with a mean-field Gaussian guide.
    Svi,
    /// Bayes by Backprop.
    Bbb,
    /// Stochastic-gradient Langevin dynamics.
    Sgld,
    /// Stochastic-gradient HMC.
    Sghmc,
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "svi" => Ok(Method::Svi),
            "bbb" => Ok(Method::Bbb),
            "sgld" => Ok(Method::Sgld),
            "sghmc" => Ok(Method::Sghmc),
            _ => Err(Error::param(
                "method",
                format!("`{s}` is not one of svi, bbb, sgld, sghmc"),
            )),
        }
    }
}

/// Where the data come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BnnData {
    /// The seed's 100 points of `y = 3x + 2 + 0.5 ε` on `[-5, 5]` (held out: 100 more).
    Seed,
    /// A nonlinear 1-D regression with a gap in the inputs ([`gap_example`]).
    Gap,
    /// A CSV file with a target column (every other column a feature); a seeded fraction of
    /// the rows is held out.
    Csv {
        /// The file.
        path: PathBuf,
        /// Target column.
        target: String,
    },
    /// The embedded digits (classification, 8000 train / 2000 test).
    Digits,
}

impl BnnData {
    /// Whether the task is classification.
    pub fn is_classification(&self) -> bool {
        matches!(self, BnnData::Digits)
    }
}

/// Settings of Bayes by Backprop; `None` takes the data's default ([`BbbSettings::resolve`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BbbSettings {
    /// Hidden widths.
    pub hidden: Option<Vec<usize>>,
    /// Hidden non-linearity.
    pub activation: Option<Activation>,
    /// Prior of the weights.
    pub weight_prior: Option<Prior>,
    /// Prior of the biases.
    pub bias_prior: Option<Prior>,
    /// Local reparameterisation.
    pub local_reparam: bool,
    /// Initial posterior standard deviation.
    pub init_std: f64,
    /// Epochs.
    pub epochs: Option<usize>,
    /// Batch size.
    pub batch_size: Option<usize>,
    /// Adam learning rate.
    pub lr: Option<f64>,
}

impl Default for BbbSettings {
    fn default() -> Self {
        Self {
            hidden: None,
            activation: None,
            weight_prior: None,
            bias_prior: None,
            local_reparam: true,
            init_std: 1e-2,
            epochs: None,
            batch_size: None,
            lr: None,
        }
    }
}

impl BbbSettings {
    /// The network and optimiser for `data` of width `input`:
    ///
    /// | data   | hidden     | priors (weights / biases) | epochs | batch | lr    |
    /// |--------|------------|---------------------------|--------|-------|-------|
    /// | seed   | none       | N(0, 1) / N(0, 10²), raw units | 1000 | 100 | 0.01 |
    /// | gap    | 50 tanh    | N(0, 1), standardised     | 3000   | 200   | 0.01  |
    /// | CSV    | none       | N(0, 1), standardised     | 500    | 64    | 0.01  |
    /// | digits | 400, 400 relu | Blundell's mixture     | 10     | 100   | 0.001 |
    pub fn resolve(&self, data: &BnnData, input: usize) -> (BbbConfig, BbbOptim) {
        let (mut cfg, optim) = match data {
            BnnData::Seed => (
                BbbConfig {
                    bias_prior: Prior::Gaussian { sigma: 10.0 },
                    standardize: false,
                    ..BbbConfig::regression(input, Vec::new())
                },
                BbbOptim {
                    epochs: 1000,
                    batch_size: 100,
                    lr: 0.01,
                },
            ),
            BnnData::Gap => (
                BbbConfig {
                    activation: Activation::Tanh,
                    ..BbbConfig::regression(input, vec![50])
                },
                BbbOptim {
                    epochs: 3000,
                    batch_size: 200,
                    lr: 0.01,
                },
            ),
            BnnData::Csv { .. } => (
                BbbConfig::regression(input, Vec::new()),
                BbbOptim {
                    epochs: 500,
                    batch_size: 64,
                    lr: 0.01,
                },
            ),
            BnnData::Digits => (
                BbbConfig::classifier(input, vec![400, 400], 10),
                BbbOptim {
                    epochs: 10,
                    batch_size: 100,
                    lr: 1e-3,
                },
            ),
        };
        if let Some(h) = &self.hidden {
            cfg.hidden.clone_from(h);
        }
        cfg.activation = self.activation.unwrap_or(cfg.activation);
        cfg.weight_prior = self.weight_prior.unwrap_or(cfg.weight_prior);
        cfg.bias_prior = self.bias_prior.unwrap_or(cfg.bias_prior);
        cfg.local_reparam = self.local_reparam;
        cfg.init_std = self.init_std;
        let optim = BbbOptim {
            epochs: self.epochs.unwrap_or(optim.epochs),
            batch_size: self.batch_size.unwrap_or(optim.batch_size),
            lr: self.lr.unwrap_or(optim.lr),
        };
        (cfg, optim)
    }
}

/// Everything `bnn train` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BnnRunConfig {
    /// Always `bnn`.
    pub family: String,
    /// The data.
    pub data: BnnData,
    /// The inference.
    pub method: Method,
    /// SVI settings.
    pub svi: SviConfig,
    /// SGLD / SGHMC chain.
    pub chain: ChainConfig,
    /// SGLD step sizes.
    pub sgld: StepSchedule,
    /// SGHMC settings.
    pub sghmc: SghmcParams,
    /// Bayes by Backprop.
    #[serde(default)]
    pub bbb: BbbSettings,
    /// Draws from the fitted guide (SVI, BBB) for the summaries and the band.
    pub posterior_samples: usize,
    /// Posterior draws behind the held-out metrics and predictions.
    #[serde(default = "default_eval_draws")]
    pub eval_draws: usize,
    /// Fraction of a CSV file's rows held out for `eval`.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed.
    pub seed: u64,
}

fn default_eval_draws() -> usize {
    100
}

fn default_test_fraction() -> f64 {
    0.2
}

impl BnnRunConfig {
    /// Defaults: the seed's SVI settings (1000 steps of Adam 0.01, 1000 draws); chains of
    /// 50000 steps (10000 burn-in, thinning 10) with SGLD `a = 5e-5` and SGHMC `η = 5e-5`,
    /// `α = 0.1` (the `gap` network: `a = 2e-5`, `η = 1e-5`); BBB per [`BbbSettings::resolve`].
    pub fn new(data: BnnData, method: Method) -> Self {
        let network = data == BnnData::Gap;
        Self {
            family: FAMILY.into(),
            data,
            method,
            svi: SviConfig::default(),
            chain: ChainConfig {
                steps: 50_000,
                burn_in: 10_000,
                thin: 10,
                batch_size: None,
            },
            sgld: StepSchedule {
                a: if network { 2e-5 } else { 5e-5 },
                b: 1.0,
                gamma: 0.0,
            },
            sghmc: SghmcParams {
                lr: if network { 1e-5 } else { 5e-5 },
                friction: 0.1,
            },
            bbb: BbbSettings::default(),
            posterior_samples: 1000,
            eval_draws: default_eval_draws(),
            test_fraction: default_test_fraction(),
            seed: 0,
        }
    }

    /// Check every part.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("samples", self.posterior_samples)?;
        check::positive_count("eval-draws", self.eval_draws)?;
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(Error::param(
                "test-fraction",
                format!("must lie in [0, 1) (got {})", self.test_fraction),
            ));
        }
        if self.data.is_classification() && self.method != Method::Bbb {
            return Err(Error::param(
                "method",
                "svi, sgld and sghmc fit the linear regression; classifying digits needs --method bbb",
            ));
        }
        match self.method {
            Method::Svi => self.svi.validate(),
            Method::Bbb => {
                let (cfg, optim) = self.bbb.resolve(&self.data, 1);
                cfg.validate()?;
                optim.validate()
            }
            Method::Sgld => {
                self.sgld.validate()?;
                self.chain.validate()
            }
            Method::Sghmc => {
                self.sghmc.validate()?;
                self.chain.validate()
            }
        }
    }
}

/// What `bnn train` reports.
#[derive(Debug, Clone, Serialize)]
pub struct BnnSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The inference.
    pub method: Method,
    /// Per-parameter posterior summaries (linear models only).
    pub posterior: Vec<Summary>,
    /// Final loss: SVI's `-ELBO` for the whole data set, BBB's last-epoch free energy per
    /// example (nats).
    pub final_loss: Option<f64>,
    /// Seconds of inference.
    pub seconds: f64,
    /// Posterior draws behind the summaries.
    pub draws: usize,
    /// Held-out metrics (absent when nothing is held out).
    pub eval: Option<BnnEval>,
}

/// Held-out metrics of a run: `bnn eval`.
///
/// Both tasks: `test_log_likelihood` (`ln p(y | x)` of the Monte-Carlo predictive, nats per
/// example, not a bound). Regression: `rmse` of the predictive mean and `coverage_95` (fraction
/// of `y` inside the predictive central 95% interval). Classification: `accuracy`, `ece` (10
/// bins), `brier_rmse` (the root Brier score `sqrt(mean_i Σ_k (p_ik - [y_i = k])²)`) and
/// `set_coverage_95` (fraction of labels inside the smallest set of classes holding 95% of the
/// predictive probability). Figures a task does not have are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BnnEval {
    /// `regression` or `classification`.
    pub task: String,
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
    let seed = cfg.seed;
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

    /// Save as `model.safetensors` in `run`.
    fn save(&self, run: &RunDir) -> Result<()> {
        let path = run.file("model.safetensors");
        match self {
            Posterior::Mlp(m) => m.save(&path),
            Posterior::Linear { samples, .. } => {
                let mut file = TensorFile::default();
                file.put_blob(
                    "posterior.draws",
                    Blob {
                        shape: vec![samples.len(), samples.names.len()],
                        data: samples.values.iter().map(|&v| v as f32).collect(),
                    },
                );
                file.metadata.insert(
                    "names".into(),
                    serde_json::to_string(&samples.names).unwrap_or_default(),
                );
                file.save(&path)
            }
        }
    }
}

/// The log-joint model of the training rows: the linear regression, or with `--hidden H` a
/// one-hidden-layer network (default for `gap`: 50 units).
fn linear_model(cfg: &BnnRunConfig, data: &RegressionData) -> Result<SampledModel> {
    let default = if cfg.data == BnnData::Gap {
        vec![50]
    } else {
        Vec::new()
    };
    let hidden = cfg.bbb.hidden.clone().unwrap_or(default);
    match hidden.as_slice() {
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
            &mut rng_for(cfg.seed, &[0x4d4c_5049]),
        )?)),
        _ => Err(Error::param(
            "hidden",
            "svi, sgld and sghmc take at most one hidden layer (bbb takes any number)",
        )),
    }
}

/// Run the inference of `cfg` and write the run directory (`out`, or `runs/bnn-<stamp>`).
pub fn train(
    cfg: &BnnRunConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<BnnSummary> {
    cfg.validate()?;
    let task = load_task(cfg)?;
    // Build the log-joint model first: bad data fail before a run directory exists.
    let sampled = match &task {
        BnnTask::Regression(data) if cfg.method != Method::Bbb => {
            Some((data, linear_model(cfg, data)?))
        }
        _ => None,
    };
    let run = match out {
        Some(p) => RunDir::create(p)?,
        None => RunDir::create_default("runs", FAMILY)?,
    };
    run.write_json("config.json", cfg)?;
    let mut rng = rng_for(cfg.seed, &[0x494e_4645]);
    let t0 = Instant::now();
    let (posterior, samples, losses) = match sampled {
        Some((data, model)) => {
            write_atomic(&run.file("data.csv"), data_csv(data).as_bytes())?;
            let (samples, losses) = infer_linear(cfg, model.log_joint(), &run, &mut rng)?;
            let rows: Vec<serde_json::Value> = losses
                .iter()
                .enumerate()
                .map(|(s, l)| serde_json::json!({ "step": s + 1, "loss": l }))
                .collect();
            run.write_metrics(&rows)?;
            let p = Posterior::Linear {
                model,
                samples: samples.clone(),
            };
            (p, Some(samples), losses)
        }
        None => {
            let (mlp, losses) = infer_bbb(cfg, &task, &run, progress)?;
            let samples = mlp.linear_samples(cfg.posterior_samples, &mut rng);
            (Posterior::Mlp(mlp), samples, losses)
        }
    };
    let seconds = t0.elapsed().as_secs_f64();
    posterior.save(&run)?;
    // Evaluate what was saved, so `bnn eval` later reports the same numbers.
    let (_, _, _, posterior) = open_run(run.path())?;
    if let Some(s) = &samples {
        write_atomic(&run.file("samples.csv"), s.to_csv().as_bytes())?;
    }
    let (eval, class_probs) = evaluate(cfg, &task, &posterior)?;
    if let Some(e) = &eval {
        run.write_json("eval.json", e)?;
    }
    write_pictures(cfg, &run, &task, &posterior, class_probs.as_deref())?;
    let summary = BnnSummary {
        run_dir: run.path().to_path_buf(),
        method: cfg.method,
        posterior: reported_summaries(&posterior, samples.as_ref()),
        final_loss: losses.last().copied(),
        seconds,
        draws: samples.as_ref().map_or(cfg.eval_draws, Samples::len),
        eval,
    };
    run.write_json("summary.json", &summary)?;
    Ok(summary)
}

/// The summaries printed: every parameter of a linear model, only the noise `sigma` of a
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

/// SVI, SGLD or SGHMC on the linear model: posterior draws and (SVI) the loss per step.
fn infer_linear(
    cfg: &BnnRunConfig,
    model: &dyn LogJoint,
    run: &RunDir,
    rng: &mut impl Rng,
) -> Result<(Samples, Vec<f64>)> {
    Ok(match cfg.method {
        Method::Svi => {
            let fit = svi(model, &cfg.svi, rng, &mut |_, _| {})?;
            run.write_json("guide.json", &fit.guide)?;
            (fit.guide.sample(cfg.posterior_samples, rng), fit.losses)
        }
        Method::Sgld => (sgld(model, cfg.sgld, &cfg.chain, rng)?, Vec::new()),
        Method::Sghmc => (sghmc(model, cfg.sghmc, &cfg.chain, rng)?, Vec::new()),
        Method::Bbb => unreachable!("Bayes by Backprop is fitted by infer_bbb"),
    })
}

/// Bayes by Backprop on the task; the epoch losses go to `metrics.jsonl`.
fn infer_bbb(
    cfg: &BnnRunConfig,
    task: &BnnTask,
    run: &RunDir,
    progress: &dyn Progress,
) -> Result<(BayesMlp, Vec<f64>)> {
    let device = DeviceKind::Cpu.device(cfg.seed)?;
    let (x, y_real, labels): (Vec<f32>, Vec<f64>, Vec<u32>) = match task {
        BnnTask::Regression(d) => (
            d.train_x.iter().map(|&v| v as f32).collect(),
            d.train_y.clone(),
            Vec::new(),
        ),
        BnnTask::Classification { train, .. } => (
            train.features().to_vec(),
            Vec::new(),
            train
                .labels()
                .ok_or_else(|| Error::data(train.name(), "has no labels"))?
                .to_vec(),
        ),
    };
    let input = match task {
        BnnTask::Regression(d) => d.d(),
        BnnTask::Classification { train, .. } => train.dim(),
    };
    let (model_cfg, optim) = cfg.bbb.resolve(&cfg.data, input);
    let targets = match task {
        BnnTask::Regression(_) => Targets::Real(&y_real),
        BnnTask::Classification { .. } => Targets::Classes(&labels),
    };
    let (mlp, history) = fit(model_cfg, &x, targets, &optim, &device, cfg.seed, progress)?;
    let rows: Vec<serde_json::Value> = history
        .iter()
        .map(|h| serde_json::to_value(h).unwrap_or_default())
        .collect();
    run.write_metrics(&rows)?;
    Ok((mlp, history.iter().map(|h| h.loss).collect()))
}

/// Held-out metrics, `None` when nothing is held out.
/// The held-out metrics, and for a classifier the predictive probabilities behind them (so the
/// reliability diagram shows the same draws as eval.json).
fn evaluate(
    cfg: &BnnRunConfig,
    task: &BnnTask,
    posterior: &Posterior,
) -> Result<(Option<BnnEval>, Option<Vec<f64>>)> {
    let mut rng = rng_for(cfg.seed, &[0x4556_414c]);
    match (task, posterior) {
        (BnnTask::Regression(d), _) if d.test_y.is_empty() => Ok((None, None)),
        (BnnTask::Regression(d), p) => {
            let draws = p.regression_draws(&d.test_x, cfg.eval_draws, &mut rng)?;
            let m = draws.metrics(&d.test_y);
            let eval = BnnEval {
                task: "regression".into(),
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
            let probs = m.class_probabilities(test.features(), cfg.eval_draws)?;
            let classes = m.config().output();
            let c = class_metrics(&probs, classes, labels);
            let eval = BnnEval {
                task: "classification".into(),
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
            let mut rng = rng_for(cfg.seed, &[0x4241_4e44]);
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

/// Open a run: its config, data and posterior.
pub fn open_run(dir: &Path) -> Result<(RunDir, BnnRunConfig, BnnTask, Posterior)> {
    let run = RunDir::open(dir, FAMILY)?;
    let cfg: BnnRunConfig = run.read_json("config.json")?;
    let task = load_task(&cfg)?;
    let path = run.file("model.safetensors");
    let posterior = match (&task, cfg.method) {
        (BnnTask::Regression(d), m) if m != Method::Bbb => {
            let file = TensorFile::load(&path)?;
            let names: Vec<String> = file
                .metadata
                .get("names")
                .and_then(|s| serde_json::from_str(s).ok())
                .ok_or_else(|| Error::bad_file(&path, "no parameter `names` in the metadata"))?;
            let blob = file
                .tensors
                .get("posterior.draws")
                .ok_or_else(|| Error::bad_file(&path, "tensor `posterior.draws` is missing"))?;
            if blob.shape.len() != 2 || blob.shape[1] != names.len() {
                return Err(Error::bad_file(
                    &path,
                    "posterior draws do not match the parameter names",
                ));
            }
            Posterior::Linear {
                model: linear_model(&cfg, d)?,
                samples: Samples {
                    names,
                    values: blob.data.iter().map(|&v| f64::from(v)).collect(),
                },
            }
        }
        _ => Posterior::Mlp(BayesMlp::load(&path, &DeviceKind::Cpu.device(cfg.seed)?)?),
    };
    Ok((run, cfg, task, posterior))
}

/// Held-out metrics of the run in `dir` (`draws` overrides the run's `eval_draws`).
pub fn eval(dir: &Path, draws: Option<usize>) -> Result<BnnEval> {
    let (_, mut cfg, task, posterior) = open_run(dir)?;
    if let Some(d) = draws {
        check::positive_count("n", d)?;
        cfg.eval_draws = d;
    }
    evaluate(&cfg, &task, &posterior)?.0.ok_or_else(|| {
        Error::data(
            dir.display().to_string(),
            "the run holds nothing out (train with --test-fraction above 0)",
        )
    })
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
    check::positive_count("draws", draws)?;
    let path = out.map_or_else(|| run.file("predictions.csv"), Path::to_path_buf);
    let mut rng = rng_for(cfg.seed, &[0x5052_4544]);
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
            let probs = m.class_probabilities(&x, draws)?;
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

/// [`train`] without progress output.
pub fn train_quiet(cfg: &BnnRunConfig, out: Option<&Path>) -> Result<BnnSummary> {
    train(cfg, out, &Silent)
}
