//! Whole runs: train into a run directory, resume, evaluate, sample. The CLI calls these.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::ais::{AisConfig, ais_log_z};
use super::cd::ContrastiveDivergence;
use super::config::{CdConfig, RbmConfig, VisibleKind};
use super::exact::{exact_possible, log_z_exact};
use super::fit::{RbmFit, data_units, load_rbm, noise, shade_for};
use super::model::{Rbm, logit};
use crate::data::{DataConfig, DataSplit};
use crate::error::{Error, Result, check};
use crate::kernels::runtime::DeviceKind;
use crate::report::{GridSpec, save_grid, write_run_report};
use crate::rng::rng_for;
use crate::train::{
    FitReport, Position, Progress, RunDir, TensorFile, TrainConfig, Trainer, resume,
};

/// Family name in config.json.
pub const FAMILY: &str = "rbm";

/// Everything that defines an RBM run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbmRunConfig {
    /// Always `rbm`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// Architecture (`visible` is filled in from the data).
    pub model: RbmConfig,
    /// CD/PCD settings.
    pub cd: CdConfig,
    /// Epochs, batch size, seed.
    pub train: TrainConfig,
    /// Where the data come from and how they are binarised.
    pub data: DataConfig,
    /// Gibbs steps for the per-epoch sample picture.
    pub sample_steps: usize,
    /// AIS settings for the final evaluation.
    pub ais: AisConfig,
    /// Device the run trained on.
    pub device: DeviceKind,
}

impl RbmRunConfig {
    /// Check every part.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.cd.validate()?;
        self.train.validate()?;
        self.ais.validate()?;
        check::positive_count("sample-steps", self.sample_steps)?;
        if self.model.visible_kind == VisibleKind::Gaussian
            && self.data.binarize != crate::data::Binarize::None
        {
            return Err(Error::param(
                "binarize",
                "Gaussian visible units model real values; use --binarize none",
            ));
        }
        Ok(())
    }
}

/// Data as the RBM sees them, with what is needed to map back and to build the AIS base model.
pub struct PreparedData {
    /// Train/test split (standardised for Gaussian visibles).
    pub split: DataSplit,
    /// Per-column `(mean, std)` used to standardise, for Gaussian visibles.
    pub standardize: Option<(Vec<f64>, Vec<f64>)>,
    /// Visible biases of the AIS base-rate model.
    pub base_bias: Vec<f32>,
}

/// Load and prepare the run's data.
pub fn prepare_data(cfg: &RbmRunConfig) -> Result<PreparedData> {
    let mut split = cfg.data.load(cfg.train.seed)?;
    let means = split.train.column_means();
    match cfg.model.visible_kind {
        VisibleKind::Bernoulli => {
            let why = "a Bernoulli RBM needs (use --visible gaussian for real-valued data)";
            split.train.require_unit_interval(why)?;
            split.test.require_unit_interval(why)?;
            let base_bias = means.iter().map(|&m| logit(m) as f32).collect();
            Ok(PreparedData {
                split,
                standardize: None,
                base_bias,
            })
        }
        VisibleKind::Gaussian => {
            let stds = split.train.column_stds();
            split.train.standardize(&means, &stds);
            split.test.standardize(&means, &stds);
            let base_bias = split
                .train
                .column_means()
                .iter()
                .map(|&m| m as f32)
                .collect();
            Ok(PreparedData {
                split,
                standardize: Some((means, stds)),
                base_bias,
            })
        }
    }
}

/// What `rbm train` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Epochs trained in total.
    pub epochs: usize,
    /// Seconds spent training in this call (evaluation excluded).
    pub train_seconds: f64,
    /// The final evaluation.
    pub eval: EvalReport,
    /// Metrics of the last epoch.
    pub last_epoch: serde_json::Map<String, serde_json::Value>,
}

/// Options that are not part of the model: where to write, how to report, when to stop.
pub struct RunOptions<'a> {
    /// Progress sink for training and evaluation.
    pub progress: &'a dyn Progress,
    /// Set by Ctrl-C.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Stop after this many epochs (the run stays resumable).
    pub stop_after: Option<usize>,
    /// Skip the final AIS evaluation.
    pub skip_eval: bool,
}

/// Train a new RBM into `out` (or `runs/rbm-<timestamp>`), then evaluate it.
pub fn train(
    mut cfg: RbmRunConfig,
    out: Option<&Path>,
    opts: &RunOptions<'_>,
) -> Result<TrainSummary> {
    // Everything that can fail on the user's input fails before the run directory exists.
    let prepared = prepare_data(&cfg)?;
    cfg.model.visible = prepared.split.dim()?;
    cfg.family = FAMILY.into();
    cfg.helmholtz_version = env!("CARGO_PKG_VERSION").into();
    cfg.validate()?;
    let device = cfg.device.device(cfg.train.seed)?;
    let mut fit = build_fit(&cfg, &prepared, &device)?;
    let run = match out {
        Some(p) => RunDir::create(p)?,
        None => RunDir::create_default("runs", FAMILY)?,
    };
    run.write_json("config.json", &cfg)?;
    let start = Position::default();
    let result = finish(&cfg, &run, &mut fit, &prepared, start, &device, opts);
    crate::train::discard_if_unsaved(&run, result)
}

/// Continue the run in `dir` from its last checkpoint; `epochs` may raise the total.
pub fn resume_run(
    dir: &Path,
    epochs: Option<usize>,
    opts: &RunOptions<'_>,
) -> Result<TrainSummary> {
    let run = RunDir::open(dir, FAMILY)?;
    let mut cfg: RbmRunConfig = run.read_json("config.json")?;
    let pos = run.position()?;
    if let Some(e) = crate::train::resume_epochs(pos.epochs_done, epochs)? {
        cfg.train.epochs = e;
        run.write_json("config.json", &cfg)?;
    }
    cfg.validate()?;
    let prepared = prepare_data(&cfg)?;
    let device = cfg.device.device(cfg.train.seed)?;
    let mut fit = build_fit(&cfg, &prepared, &device)?;
    let pos = resume(&mut fit, &run)?;
    finish(&cfg, &run, &mut fit, &prepared, pos, &device, opts)
}

fn build_fit(cfg: &RbmRunConfig, prepared: &PreparedData, device: &Device) -> Result<RbmFit> {
    let mut rbm = Rbm::new(
        cfg.model.clone(),
        device,
        &mut rng_for(cfg.train.seed, &[0x494e_4954]),
    )?;
    rbm.init_visible_bias(&prepared.split.train.column_means());
    let cd = ContrastiveDivergence::new(cfg.cd.clone(), &rbm)?;
    let mut fit = RbmFit::new(
        rbm,
        cd,
        cfg.sample_steps,
        prepared.split.train.image_shape(),
    );
    fit.unstandardize = prepared.standardize.clone();
    Ok(fit)
}

fn finish(
    cfg: &RbmRunConfig,
    run: &RunDir,
    fit: &mut RbmFit,
    prepared: &PreparedData,
    start: Position,
    device: &Device,
    opts: &RunOptions<'_>,
) -> Result<TrainSummary> {
    let mut trainer =
        Trainer::new(cfg.train.clone(), device.clone(), opts.progress)?.with_run_dir(run);
    if let Some(flag) = &opts.interrupt {
        trainer = trainer.with_interrupt(flag.clone());
    }
    if let Some(n) = opts.stop_after {
        trainer = trainer.stop_after(n);
    }
    let report: FitReport = trainer.fit(fit, &prepared.split, start)?;
    let eval = if opts.skip_eval {
        EvalReport::default()
    } else {
        let eval = evaluate(&fit.rbm, prepared, &cfg.ais, cfg.train.seed, opts.progress)?;
        run.write_json("eval.json", &eval)?;
        write_run_report(run)?;
        eval
    };
    let last_epoch = run
        .metrics()?
        .last()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    Ok(TrainSummary {
        run_dir: run.path().to_path_buf(),
        epochs: run.position()?.epochs_done,
        train_seconds: report.seconds,
        eval,
        last_epoch,
    })
}

/// Test-set log-likelihood of an RBM.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Mean test log-likelihood, nats per example: `mean(-F(v)) - log Z` (Gaussian visibles:
    /// a log-density of the data in original units).
    pub test_log_likelihood: f64,
    /// Its uncertainty from `log Z` (one standard error; 0 when `log Z` is exact).
    pub test_log_likelihood_std: f64,
    /// Standard error of the mean over test examples.
    pub test_log_likelihood_sem: f64,
    /// `log Z` used: exact when `log_z_method` is `exact`, else the AIS estimate.
    pub log_z: f64,
    /// Standard error of `log Z` (AIS); 0 when exact.
    pub log_z_std: f64,
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
        &prepared.base_bias,
        ais,
        &mut rng_for(seed, &[0x4149_5300]),
        progress,
    )?;
    let exact = exact_possible(rbm).then(|| log_z_exact(rbm)).transpose()?;
    let (log_z, log_z_std, method) = match exact {
        Some(z) => (z, 0.0, "exact"),
        None => (ais_est.log_z, ais_est.log_z_std, "ais"),
    };
    // Gaussian visibles: the density of standardised data; convert to original units.
    let jacobian: f64 = prepared
        .standardize
        .as_ref()
        .map(|(_, s)| s.iter().map(|&s| if s > 1e-8 { s.ln() } else { 0.0 }).sum())
        .unwrap_or(0.0);
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
        test_log_likelihood_std: log_z_std,
        test_log_likelihood_sem: (var_f / n).sqrt(),
        log_z,
        log_z_std,
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
    let run = RunDir::open(dir, FAMILY)?;
    let cfg: RbmRunConfig = run.read_json("config.json")?;
    let device = device_kind.device(cfg.train.seed)?;
    let path = run.file("model.safetensors");
    let file = TensorFile::load(&path)?;
    let rbm = load_rbm(cfg.model.clone(), &file, &device, &path)?;
    Ok((run, cfg, rbm))
}

/// What `rbm eval` should do differently from the run's own settings.
#[derive(Debug, Clone, Default)]
pub struct EvalRequest {
    /// AIS settings [default: the run's].
    pub ais: Option<AisConfig>,
    /// Other data of the same width [default: the run's].
    pub data: Option<DataConfig>,
    /// Seed of the AIS runs [default: the run's seed].
    pub seed: Option<u64>,
    /// Device to evaluate on.
    pub device: DeviceKind,
}

/// `rbm eval`: evaluate the run in `dir` and record the result in its eval.json and report.
pub fn evaluate_run(
    dir: &Path,
    request: &EvalRequest,
    progress: &dyn Progress,
) -> Result<EvalReport> {
    let (run, mut cfg, rbm) = open_run(dir, request.device)?;
    if let Some(d) = &request.data {
        cfg.data = d.clone();
    }
    let ais = request.ais.clone().unwrap_or(cfg.ais.clone());
    ais.validate()?;
    let prepared = prepare_data(&cfg)?;
    let width = prepared.split.dim()?;
    if width != cfg.model.visible {
        return Err(Error::ShapeMismatch {
            what: format!(
                "data `{}` width vs the model in {}",
                cfg.data.source,
                run.path().display()
            ),
            expected: vec![cfg.model.visible],
            got: vec![width],
        });
    }
    let seed = request.seed.unwrap_or(cfg.train.seed);
    let report = evaluate(&rbm, &prepared, &ais, seed, progress)?;
    run.write_json("eval.json", &report)?;
    write_run_report(&run)?;
    Ok(report)
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

impl std::str::FromStr for ChainStart {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "noise" => Ok(Self::Noise),
            "data" => Ok(Self::Data),
            other => Err(Error::param(
                "from",
                format!("`{other}` is not one of noise, data"),
            )),
        }
    }
}

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
}

/// `rbm sample`: run Gibbs chains and write a grid of `E[v | h]` (default `RUN/samples-<steps>-steps.png`).
pub fn sample_run(
    dir: &Path,
    request: &SampleRequest,
    out: Option<&Path>,
) -> Result<SampleSummary> {
    let (chains, steps) = (request.chains, request.steps);
    check::positive_count("chains", chains)?;
    check::positive_count("steps", steps)?;
    let (run, cfg, rbm) = open_run(dir, request.device)?;
    let mut rng = rng_for(request.seed, &[0x5341_4d50]);
    // Data are needed to start from them and, for Gaussian units, to undo standardisation.
    let prepared = match (request.from, cfg.model.visible_kind) {
        (ChainStart::Noise, VisibleKind::Bernoulli) => None,
        _ => Some(prepare_data(&cfg)?),
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
    let file = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run.file(&format!("samples-{steps}-steps.png")));
    let grid = GridSpec::for_count(chains, image_shape_of(&cfg));
    save_grid(&file, &values, grid, shade_for(cfg.model.visible_kind))?;
    if file.parent() == Some(run.path())
        && let Some(name) = file.file_name().and_then(|n| n.to_str())
    {
        let from = request.from;
        run.add_figure(
            name,
            &format!("`rbm sample`: {chains} chains, {steps} Gibbs steps from {from:?}"),
        )?;
        write_run_report(&run)?;
    }
    Ok(SampleSummary {
        file,
        chains,
        steps,
        mean_free_energy: fe.iter().sum::<f64>() / fe.len() as f64,
    })
}

/// The picture shape of a run's examples (square images, or one row).
fn image_shape_of(cfg: &RbmRunConfig) -> [usize; 2] {
    let d = cfg.model.visible;
    let side = (d as f64).sqrt().round() as usize;
    if side * side == d {
        [side, side]
    } else {
        [1, d]
    }
}
