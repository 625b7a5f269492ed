//! Whole commands: `boltzmann train` and `boltzmann sample`.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::exact::{MAX_EXACT_UNITS, kl_divergence, visible_marginal};
use super::learn::{BoltzmannFit, BoltzmannParams, machine_from_file};
use super::model::{BoltzmannMachine, state_index};
use super::targets::{Target, TrainingData};
use crate::data::{DataConfig, Dataset};
use crate::error::{Result, check};
use crate::io::{RunDir, TensorFile};
use crate::report::{Chart, Series, save_chart, write_run_report};
use crate::rng::rng_for;
use crate::run::Family;
use crate::sampling::Schedule;
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "boltzmann";

/// What the machine learns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrainingSource {
    /// A built-in target distribution.
    Target(Target),
    /// Binary data (training split).
    Data(DataConfig),
}

/// Everything that defines a Boltzmann run; saved as config.json (inside the run envelope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoltzmannRunConfig {
    /// How the machine learns (`model`, `learn`, `train`, `device` in the JSON).
    #[serde(flatten)]
    pub params: BoltzmannParams,
    /// What is learned.
    pub source: TrainingSource,
}

/// The final evaluation of `boltzmann train`.
#[derive(Debug, Clone, Serialize)]
pub struct BoltzmannEval {
    /// Final exact `KL(p_data || q)` in nats (absent beyond 20 units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kl: Option<f64>,
    /// Visible units.
    pub visible: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Gradient steps.
    pub steps: usize,
    /// `(state, p_data, q)` for every visible state (up to 2^12 states).
    pub table: Vec<StateRow>,
}

/// The data of a run: what the machine learns, and its rows as a data set for the trainer.
pub struct BoltzmannData {
    /// The target distribution and its rows.
    pub training: TrainingData,
    /// The rows as a data set.
    pub rows: Dataset,
}

impl Family for BoltzmannMachine {
    const NAME: &'static str = FAMILY;
    type Config = BoltzmannRunConfig;
    type Params = BoltzmannParams;
    type Data = BoltzmannData;
    type Fit = BoltzmannFit;
    type Eval = BoltzmannEval;

    fn params(cfg: &BoltzmannRunConfig) -> &BoltzmannParams {
        &cfg.params
    }

    fn params_mut(cfg: &mut BoltzmannRunConfig) -> &mut BoltzmannParams {
        &mut cfg.params
    }

    fn prepare(cfg: &mut BoltzmannRunConfig) -> Result<BoltzmannData> {
        let training = training_data(&cfg.source, cfg.params.train.seed)?;
        cfg.params.model.visible = training.visible;
        let fit = cfg.params.build(&training)?;
        Ok(BoltzmannData {
            rows: fit.rows_dataset()?,
            training,
        })
    }

    fn train_data(data: &BoltzmannData) -> &Dataset {
        &data.rows
    }

    fn validation_data(_data: &BoltzmannData) -> Option<&Dataset> {
        None
    }

    fn build(
        cfg: &BoltzmannRunConfig,
        data: &BoltzmannData,
        _device: &Device,
    ) -> Result<BoltzmannFit> {
        let mut fit = cfg.params.build(&data.training)?;
        fit.pictures = true;
        Ok(fit)
    }

    fn evaluate(
        cfg: &BoltzmannRunConfig,
        fit: &mut BoltzmannFit,
        data: &BoltzmannData,
        _run: &RunDir,
        _progress: &dyn Progress,
    ) -> Result<BoltzmannEval> {
        let t = cfg.params.learn.temperature;
        let kl = (fit.bm.units() <= MAX_EXACT_UNITS)
            .then(|| kl_of(&fit.bm, &data.training, t))
            .transpose()?;
        Ok(BoltzmannEval {
            kl,
            visible: cfg.params.model.visible,
            hidden: cfg.params.model.hidden,
            steps: cfg.params.train.epochs * cfg.params.learn.steps_per_epoch,
            table: state_table(&fit.bm, &data.training, t)?,
        })
    }
}

/// One visible state's probabilities.
#[derive(Debug, Clone, Serialize)]
pub struct StateRow {
    /// The units, e.g. `110`.
    pub state: String,
    /// Target probability.
    pub p_data: f64,
    /// Model probability (exact), or empirical frequency when sampling.
    pub q: f64,
    /// Exact model probability next to an empirical frequency (sampling only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<f64>,
}

fn bits(s: u64, v: usize) -> String {
    (0..v)
        .map(|i| if (s >> i) & 1 == 1 { '1' } else { '0' })
        .collect()
}

fn training_data(source: &TrainingSource, seed: u64) -> Result<TrainingData> {
    match source {
        TrainingSource::Target(t) => Ok(TrainingData::from_target(*t)),
        TrainingSource::Data(d) => TrainingData::from_dataset(&d.load(seed)?.train),
    }
}

pub(crate) fn state_table(
    bm: &BoltzmannMachine,
    data: &TrainingData,
    t: f64,
) -> Result<Vec<StateRow>> {
    let v = bm.config().visible;
    if bm.units() > MAX_EXACT_UNITS || v > 12 {
        return Ok(Vec::new());
    }
    let q = visible_marginal(bm, t)?;
    Ok((0..1u64 << v)
        .map(|s| StateRow {
            state: bits(s, v),
            p_data: data
                .distribution
                .iter()
                .find(|(x, _)| *x == s)
                .map_or(0.0, |(_, p)| *p),
            q: q[s as usize],
            exact: None,
        })
        .collect())
}

pub(crate) fn draw_distribution(
    run: &RunDir,
    table: &[StateRow],
    file: &str,
    caption: &str,
) -> Result<()> {
    if table.is_empty() {
        return Ok(());
    }
    let series = |name: &str, f: &dyn Fn(&StateRow) -> f64| {
        let mut s = Series::line(
            name,
            table
                .iter()
                .enumerate()
                .map(|(i, r)| (i as f64, f(r)))
                .collect(),
        );
        s.markers = true;
        s
    };
    let mut lines = vec![
        series("p_data (target)", &|r| r.p_data),
        series("q (model)", &|r| r.q),
    ];
    if table.iter().any(|r| r.exact.is_some()) {
        lines = vec![
            series("empirical frequency", &|r| r.q),
            series("exact q (model)", &|r| r.exact.unwrap_or(f64::NAN)),
        ];
    }
    let chart = Chart {
        title: caption.into(),
        x_label: "visible state (index, unit 1 = lowest bit)".into(),
        y_label: "probability".into(),
        series: lines,
        integer_x: true,
        ..Default::default()
    };
    save_chart(&run.file(file), &chart, 800, 420)?;
    run.add_figure(file, caption)
}

/// Open a trained machine.
pub fn open(dir: &Path) -> Result<(RunDir, BoltzmannRunConfig, BoltzmannMachine)> {
    let (run, envelope) = crate::run::open::<BoltzmannMachine>(dir)?;
    let cfg = envelope.config;
    let path = run.file("model.safetensors");
    let bm = machine_from_file(cfg.params.model.clone(), &TensorFile::load(&path)?, &path)?;
    Ok((run, cfg, bm))
}

/// What `boltzmann sample` runs.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    /// Independent chains (one sample each).
    pub chains: usize,
    /// Gibbs sweeps per chain.
    pub sweeps: usize,
    /// Temperatures over the sweeps (`constant:T` samples at `T`; otherwise simulated annealing).
    pub schedule: Schedule,
    /// Seed of the chains.
    pub seed: u64,
}

/// What `boltzmann sample` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SampleSummary {
    /// Chains run.
    pub chains: usize,
    /// Final temperature.
    pub temperature: f64,
    /// Total variation between the empirical and exact visible distributions (when enumerable).
    pub total_variation: Option<f64>,
    /// Empirical frequency and exact probability of every visible state.
    pub table: Vec<StateRow>,
    /// The picture written.
    pub file: PathBuf,
}

/// Run independent Gibbs chains along `schedule`; return the final states.
pub fn sample_states(bm: &BoltzmannMachine, req: &SampleRequest) -> Vec<Vec<u8>> {
    let n = bm.units();
    (0..req.chains)
        .into_par_iter()
        .map(|c| {
            let mut rng = rng_for(req.seed, &[c as u64]);
            let mut u: Vec<u8> = (0..n).map(|_| u8::from(rng.random::<bool>())).collect();
            for k in 0..req.sweeps {
                bm.gibbs_sweep(&mut u, req.schedule.temperature(k, req.sweeps), 0, &mut rng);
            }
            u
        })
        .collect()
}

/// `boltzmann sample`: sample the visible units and compare with the exact model probabilities.
pub fn sample(dir: &Path, req: &SampleRequest) -> Result<SampleSummary> {
    check::positive_count("chains", req.chains)?;
    check::positive_count("sweeps", req.sweeps)?;
    req.schedule.validate()?;
    let (run, cfg, bm) = open(dir)?;
    let v = cfg.params.model.visible;
    let t_end = req.schedule.temperature(req.sweeps - 1, req.sweeps);
    let states = sample_states(&bm, req);
    let mut counts = vec![0f64; if v <= 12 { 1 << v } else { 0 }];
    for u in &states {
        if let Some(c) = counts.get_mut(state_index(&u[..v]) as usize) {
            *c += 1.0;
        }
    }
    let exact = (bm.units() <= MAX_EXACT_UNITS && v <= 12)
        .then(|| visible_marginal(&bm, t_end))
        .transpose()?;
    let data = training_data(&cfg.source, cfg.params.train.seed)?;
    let table: Vec<StateRow> = counts
        .iter()
        .enumerate()
        .map(|(s, c)| StateRow {
            state: bits(s as u64, v),
            p_data: data
                .distribution
                .iter()
                .find(|(x, _)| *x == s as u64)
                .map_or(0.0, |(_, p)| *p),
            q: c / req.chains as f64,
            exact: exact.as_ref().map(|q| q[s]),
        })
        .collect();
    let total_variation = exact.as_ref().map(|_| {
        0.5 * table
            .iter()
            .map(|r| (r.q - r.exact.unwrap_or(0.0)).abs())
            .sum::<f64>()
    });
    let file = format!("samples-T{t_end:.3}.png");
    draw_distribution(
        &run,
        &table,
        &file,
        &format!(
            "{} Gibbs samples at T = {t_end:.3} against the exact model",
            req.chains
        ),
    )?;
    write_run_report(&run)?;
    Ok(SampleSummary {
        chains: req.chains,
        temperature: t_end,
        total_variation,
        table,
        file: run.file(&file),
    })
}

/// `KL(p_data || q)` of a trained machine at temperature `t` (exact).
pub fn kl_of(bm: &BoltzmannMachine, data: &TrainingData, t: f64) -> Result<f64> {
    Ok(kl_divergence(&data.distribution, &visible_marginal(bm, t)?))
}
