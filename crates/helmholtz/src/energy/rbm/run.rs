//! Whole runs: train into a run directory, resume, evaluate, sample. The CLI calls these.

use crate::keywords::keywords;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::ais::{AisConfig, ais_log_z};
use super::config::{NegativePhase, VisibleKind};
use super::exact::{exact_possible, log_z_exact};
use super::fit::{RbmFit, noise, shade_for};
use super::model::{Rbm, logit};
use super::params::RbmParams;
use crate::data::{DataConfig, Dataset, PreparedSplit, data_units};
use crate::error::{Error, Result, check};
use crate::io::RunDir;
use crate::kernels::runtime::DeviceKind;

use crate::rng::rng_for;
use crate::run::{
    CodesRequest, CodesSummary, EvalTarget, Family, family, open_model, record_eval, save_samples,
    write_codes,
};
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "rbm";

/// Everything that defines an RBM run; saved as config.json (inside the run envelope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbmRunConfig {
    /// How the RBM is trained (`model`, `cd`, `train`, `device` in the JSON).
    #[serde(flatten)]
    pub params: RbmParams,
    /// Where the data come from and how they are binarised.
    pub data: DataConfig,
    /// Gibbs steps for the sample picture.
    pub sample_steps: usize,
    /// AIS settings for the final evaluation.
    pub ais: AisConfig,
}

impl RbmRunConfig {
    /// The defaults of `helmholtz rbm train` on `data`.
    pub fn new(params: RbmParams, data: DataConfig) -> Self {
        Self {
            params,
            data,
            sample_steps: 500,
            ais: AisConfig {
                runs: 100,
                betas: 14_500,
            },
        }
    }

    /// Check every part.
    pub fn validate(&self) -> Result<()> {
        self.params.validate(self.params.model.visible.max(1))?;
        self.ais.validate()?;
        check::positive_count("sample-steps", self.sample_steps)?;
        if self.params.model.visible > 0 {
            self.check_memory(0)?;
        }
        if self.params.model.visible_kind == VisibleKind::Gaussian
            && self.data.binarize != crate::data::Binarize::None
        {
            return Err(Error::param(
                "binarize",
                "Gaussian visible units model real values; must be none",
            ));
        }
        Ok(())
    }
}

/// Bytes per weight: the weights, their gradient and velocity, and the copies the engines keep.
const WEIGHT_BYTES: usize = 24;
/// Bytes per unit of a persistent chain: values, probabilities and pre-activations, visible and
/// hidden.
const CHAIN_BYTES_PER_UNIT: usize = 16;

impl RbmRunConfig {
    /// The weights, the persistent chains, a batch of `batch_rows` and the final AIS against the
    /// memory budget (with the data width once the data are read).
    fn check_memory(&self, batch_rows: usize) -> Result<()> {
        let (m, cd) = (&self.params.model, &self.params.cd);
        let (v, h) = (m.visible.max(1), m.hidden);
        let chains = match cd.negative {
            NegativePhase::Pcd => cd.chains,
            NegativePhase::Cd => 0,
        };
        let [runs, betas] = self.ais.costs(v, h);
        crate::budget::check_parts(&[
            ("hidden", crate::budget::bytes(&[v, h, WEIGHT_BYTES])),
            (
                "chains",
                crate::budget::bytes(&[chains, v.saturating_add(h), CHAIN_BYTES_PER_UNIT]),
            ),
            (
                "batch-size",
                crate::budget::bytes(&[batch_rows, v.saturating_add(h), CHAIN_BYTES_PER_UNIT]),
            ),
            runs,
            betas,
        ])
    }
}

/// Data as the RBM sees them: train (without the validation examples), validation and test,
/// standardised for Gaussian visibles.
pub type PreparedData = PreparedSplit;

/// Validation examples held out of the training data at most.
const VALIDATION_EXAMPLES: usize = 500;

/// Check `cfg`, load and prepare its data (hold validation examples out of the training data,
/// standardise for Gaussian visibles with the statistics of what remains) and size the visible
/// layer to their width.
pub fn prepare_data(cfg: &mut RbmRunConfig) -> Result<PreparedData> {
    cfg.validate()?;
    let split = cfg.data.load(cfg.params.train.seed)?;
    let v = Dataset::validation_size(split.train.len(), VALIDATION_EXAMPLES);
    let mut prepared = PreparedSplit::hold_out(split, v);
    match cfg.params.model.visible_kind {
        VisibleKind::Bernoulli => prepared.require_unit_interval(
            "a Bernoulli RBM needs (set `visible` to `gaussian` for real-valued data)",
        )?,
        VisibleKind::Gaussian => prepared.standardize(),
    }
    cfg.params.model.visible = prepared.split.dim()?;
    cfg.validate()?;
    cfg.check_memory(cfg.params.train.batch_size.min(prepared.split.train.len()))?;
    Ok(prepared)
}

/// Visible biases of the AIS base-rate model fitted to `train`: the logits of its column means
/// (Bernoulli) or the means themselves (Gaussian).
pub fn base_bias(train: &Dataset, kind: VisibleKind) -> Vec<f32> {
    let means = train.column_means();
    match kind {
        VisibleKind::Bernoulli => means.iter().map(|&m| logit(m) as f32).collect(),
        VisibleKind::Gaussian => means.iter().map(|&m| m as f32).collect(),
    }
}

family!(Rbm: FAMILY, RbmRunConfig[RbmParams], PreparedData, RbmFit, EvalReport);

impl Family for Rbm {
    fn prepare(cfg: &mut RbmRunConfig) -> Result<PreparedData> {
        prepare_data(cfg)
    }

    fn build(cfg: &RbmRunConfig, prepared: &PreparedData, device: &Device) -> Result<RbmFit> {
        let mut fit = cfg.params.build(&prepared.split.train, device)?;
        fit.sample_steps = cfg.sample_steps;
        fit.image_shape = prepared.split.train.image_shape();
        fit.unstandardize = prepared.standardize.clone();
        Ok(fit)
    }

    fn evaluate(
        cfg: &RbmRunConfig,
        fit: &mut RbmFit,
        prepared: &PreparedData,
        _run: &RunDir,
        progress: &dyn Progress,
    ) -> Result<EvalReport> {
        evaluate(
            &fit.rbm,
            prepared,
            &cfg.ais,
            cfg.params.train.seed,
            progress,
        )
    }
}

/// Test-set log-likelihood of an RBM.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Mean test log-likelihood, nats per example: `mean(-F(v)) - log Z` (Gaussian visibles:
    /// a log-density of the data in original units).
    pub test_log_likelihood: f64,
    /// Standard error of the mean over test examples (the spread of the data).
    pub test_log_likelihood_se: f64,
    /// `log Z` used: exact when `log_z_method` is `exact`, else the AIS estimate.
    pub log_z: f64,
    /// Standard error of `log Z` from the AIS runs (it shifts every example's log-likelihood
    /// alike); 0 when exact.
    pub log_z_se: f64,
    /// `exact` (enumeration) or `ais`.
    pub log_z_method: String,
    /// The AIS estimate, when AIS ran.
    pub log_z_ais: Option<f64>,
    /// AIS runs (0 when AIS did not run).
    pub ais_runs: usize,
    /// AIS inverse temperatures.
    pub ais_betas: usize,
    /// Test examples.
    pub test_examples: usize,
    /// Mean free energy of the test examples.
    pub mean_test_free_energy: f64,
    /// Which quantity this is.
    pub note: String,
}

/// Estimate the test log-likelihood: exact `log Z` when `min(visible, hidden) <= 20`, AIS
/// otherwise (and also alongside the exact value, for comparison, when it is cheap).
pub fn evaluate(
    rbm: &Rbm,
    prepared: &PreparedData,
    ais: &AisConfig,
    seed: u64,
    progress: &dyn Progress,
) -> Result<EvalReport> {
    let device = rbm.device();
    let test = prepared.split.test.to_tensor(&device);
    let f = rbm.free_energy(&test);
    let n = f.len() as f64;
    let mean_f = f.iter().sum::<f64>() / n;
    let var_f = f.iter().map(|x| (x - mean_f).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let ais_est = ais_log_z(
        rbm,
        &base_bias(&prepared.split.train, rbm.config().visible_kind),
        ais,
        &mut rng_for(seed, &[0x4149_5300]),
        progress,
    )?;
    let exact = exact_possible(rbm).then(|| log_z_exact(rbm)).transpose()?;
    let (log_z, log_z_se, method) = match exact {
        Some(z) => (z, 0.0, "exact"),
        None => (ais_est.log_z, ais_est.log_z_se, "ais"),
    };
    // Gaussian visibles: the density of standardised data; convert to original units.
    let jacobian = prepared.log_jacobian();
    let note = match (rbm.config().visible_kind, method) {
        (VisibleKind::Bernoulli, "exact") => {
            "exact average test log-likelihood (log Z by enumeration), nats per example"
        }
        (VisibleKind::Bernoulli, _) => {
            "AIS estimate of the average test log-likelihood, nats per example; not a bound: \
                                        AIS tends to underestimate log Z, so the estimate tends to be high"
        }
        (VisibleKind::Gaussian, "exact") => {
            "exact average test log-density in data units (nats per example)"
        }
        (VisibleKind::Gaussian, _) => {
            "AIS estimate of the average test log-density in data units (nats per example)"
        }
    };
    Ok(EvalReport {
        test_log_likelihood: -mean_f - log_z - jacobian,
        test_log_likelihood_se: (var_f / n).sqrt(),
        log_z,
        log_z_se,
        log_z_method: method.into(),
        log_z_ais: Some(ais_est.log_z),
        ais_runs: ais_est.runs,
        ais_betas: ais_est.betas,
        test_examples: f.len(),
        mean_test_free_energy: mean_f,
        note: note.into(),
    })
}

/// Open a run's model on `device_kind` (parameters load onto any device).
pub fn open_run(dir: &Path, device_kind: DeviceKind) -> Result<(RunDir, RbmRunConfig, Rbm)> {
    open_model::<Rbm, Rbm>(dir, device_kind, |cfg| cfg.params.model.clone())
}

/// What `rbm eval` should do differently from the run's own settings.
#[derive(Debug, Clone, Default)]
pub struct EvalRequest {
    /// AIS settings [default: the run's].
    pub ais: Option<AisConfig>,
    /// Data, seed of the AIS runs and device.
    pub target: EvalTarget,
}

/// `rbm eval`: evaluate the run in `dir` and record the result beside the training's own
/// evaluation (`evals/eval-<UTC timestamp>.json`, listed in the report).
pub fn evaluate_run(
    dir: &Path,
    request: &EvalRequest,
    progress: &dyn Progress,
) -> Result<EvalReport> {
    let (run, mut cfg, rbm) = open_run(dir, request.target.device)?;
    cfg.data = request.target.data_or(&cfg.data);
    let ais = request.ais.clone().unwrap_or(cfg.ais.clone());
    ais.validate()?;
    let m = &cfg.params.model;
    crate::budget::check_parts(&ais.costs(m.visible, m.hidden))?;
    let prepared = prepare_data(&mut cfg.clone())?;
    let width = cfg.params.model.visible;
    EvalTarget::check_width(&cfg.data, prepared.split.dim()?, width, &run)?;
    let seed = request.target.seed_or(cfg.params.train.seed);
    let report = evaluate(&rbm, &prepared, &ais, seed, progress)?;
    record_eval(&run, "eval", &report)?;
    Ok(report)
}

/// `rbm transform`: the hidden probabilities `p(h = 1 | v)` of the run's test set (or of
/// `data`, of the same width) as a `[n, hidden]` `.npy` array (default `RUN/hidden.npy`).
pub fn transform_run(dir: &Path, request: &CodesRequest) -> Result<CodesSummary> {
    let (run, mut cfg, rbm) = open_run(dir, request.device)?;
    if let Some(source) = &request.source {
        cfg.data.source = source.clone();
    }
    let prepared = prepare_data(&mut cfg.clone())?;
    let width = cfg.params.model.visible;
    EvalTarget::check_width(&cfg.data, prepared.split.dim()?, width, &run)?;
    let file = run.output(request.out.as_deref(), "hidden.npy")?;
    write_codes(&rbm, &prepared.split.test, &file)
}

/// Where `rbm sample` starts its chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainStart {
    /// Uniform binary noise (Gaussian: N(0, I)).
    Noise,
    /// Test examples.
    Data,
}

keywords!(ChainStart, "from", {
    Noise => "noise",
    Data => "data",
});

/// What `rbm sample` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SampleSummary {
    /// The PNG written.
    pub file: PathBuf,
    /// Chains run.
    pub chains: usize,
    /// Gibbs steps per chain.
    pub steps: usize,
    /// Mean free energy of the final states.
    pub mean_free_energy: f64,
}

/// What `rbm sample` runs.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    /// Independent chains (tiles in the picture).
    pub chains: usize,
    /// Gibbs sweeps per chain.
    pub steps: usize,
    /// Where the chains start.
    pub from: ChainStart,
    /// Seed of the chains.
    pub seed: u64,
    /// Device to sample on.
    pub device: DeviceKind,
    /// Where to write the samples [default: a picture in the run directory].
    pub out: Option<PathBuf>,
}

/// `rbm sample`: run Gibbs chains and write a grid of `E[v | h]` (default `RUN/samples-<steps>-steps.png`).
pub fn sample_run(dir: &Path, request: &SampleRequest) -> Result<SampleSummary> {
    let (chains, steps) = (request.chains, request.steps);
    check::positive_count("n", chains)?;
    check::positive_count("steps", steps)?;
    let (run, cfg, rbm) = open_run(dir, request.device)?;
    let m = &cfg.params.model;
    crate::budget::check(
        "n",
        crate::budget::bytes(&[
            chains,
            m.visible.saturating_add(m.hidden),
            CHAIN_BYTES_PER_UNIT,
        ]),
    )?;
    crate::run::check_samples("n", chains, m.visible, request.out.as_deref())?;
    let mut rng = rng_for(request.seed, &[0x5341_4d50]);
    // Data are needed to start from them and, for Gaussian units, to undo standardisation.
    let prepared = match (request.from, cfg.params.model.visible_kind) {
        (ChainStart::Noise, VisibleKind::Bernoulli) => None,
        _ => Some(prepare_data(&mut cfg.clone())?),
    };
    let v0 = match (&prepared, request.from) {
        (Some(p), ChainStart::Data) => {
            let idx: Vec<usize> = (0..chains).map(|i| i % p.split.test.len()).collect();
            p.split.test.batch_tensor(&idx, &rbm.device())
        }
        _ => noise(&rbm, chains, &mut rng),
    };
    let (mean, v) = rbm.gibbs(v0, steps, &mut rng);
    let fe = rbm.free_energy(&v);
    let standardize = prepared.and_then(|p| p.standardize);
    let values = data_units(mean, standardize.as_ref());
    let from = request.from;
    let file = save_samples(
        &run,
        request.out.as_deref(),
        &format!("samples-{steps}-steps.png"),
        &values,
        chains,
        cfg.params.model.visible,
        shade_for(cfg.params.model.visible_kind),
        &format!("`rbm sample`: {chains} chains, {steps} Gibbs steps from {from:?}"),
    )?;
    Ok(SampleSummary {
        file,
        chains,
        steps,
        mean_free_energy: fe.iter().sum::<f64>() / fe.len() as f64,
    })
}
