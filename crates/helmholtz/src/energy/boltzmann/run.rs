//! Whole commands: `boltzmann train` and `boltzmann sample`.

use std::path::{Path, PathBuf};

use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::exact::{MAX_EXACT_UNITS, kl_divergence, visible_marginal};
use super::learn::{LearnConfig, learn};
use super::model::{BoltzmannConfig, BoltzmannMachine, state_index};
use super::targets::{Target, TrainingData};
use crate::data::DataConfig;
use crate::error::{Error, Result, check};
use crate::io::{Blob, RunDir, TensorFile};
use crate::report::{Bars, save_bars, write_run_report};
use crate::rng::rng_for;
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

/// Everything that defines a Boltzmann run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoltzmannRunConfig {
    /// Always `boltzmann`.
    pub family: String,
    /// Architecture (`visible` is taken from the data).
    pub model: BoltzmannConfig,
    /// Learning settings.
    pub learn: LearnConfig,
    /// What is learned.
    pub source: TrainingSource,
}

/// What `boltzmann train` reports.
#[derive(Debug, Clone, Serialize)]
pub struct BoltzmannSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Final exact `KL(p_data || q)` in nats (absent beyond 20 units).
    pub kl: Option<f64>,
    /// Visible and hidden units.
    pub visible: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Gradient steps.
    pub steps: usize,
    /// `(state, p_data, q)` for every visible state (up to 2^12 states).
    pub table: Vec<StateRow>,
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

/// `boltzmann train`: learn the target, log the exact KL, write the run directory.
pub fn train(
    mut cfg: BoltzmannRunConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<BoltzmannSummary> {
    let data = training_data(&cfg.source, cfg.learn.seed)?;
    cfg.model.visible = data.visible;
    cfg.family = FAMILY.into();
    cfg.model.validate()?;
    cfg.learn.validate()?;
    let mut bm = BoltzmannMachine::new(
        cfg.model.clone(),
        &mut rng_for(cfg.learn.seed, &[0x424d_494e]),
    )?;
    cfg.learn.exact_for(&bm)?;
    let run = match out {
        Some(p) => RunDir::create(p)?,
        None => RunDir::create_default("runs", FAMILY)?,
    };
    run.write_json("config.json", &cfg)?;
    let log = match learn(&mut bm, &data, &cfg.learn, progress) {
        Ok(log) => log,
        Err(e) => {
            let _ = std::fs::remove_dir_all(run.path());
            return Err(e);
        }
    };
    save_machine(&run, &bm)?;
    let rows: Vec<serde_json::Value> = log
        .iter()
        .map(|l| serde_json::json!({ "step": l.step, "kl": l.kl }))
        .collect();
    run.write_metrics(&rows)?;
    let table = state_table(&bm, &data, cfg.learn.temperature)?;
    draw_distribution(
        &run,
        &table,
        "distribution.png",
        "target p_data(v) and learned q(v) over the visible states",
    )?;
    let summary = BoltzmannSummary {
        run_dir: run.path().to_path_buf(),
        kl: log.last().and_then(|l| l.kl),
        visible: cfg.model.visible,
        hidden: cfg.model.hidden,
        steps: cfg.learn.steps,
        table,
    };
    run.write_json("eval.json", &serde_json::json!({ "kl": summary.kl, "steps": summary.steps, "visible": summary.visible, "hidden": summary.hidden }))?;
    write_run_report(&run)?;
    Ok(summary)
}

fn state_table(bm: &BoltzmannMachine, data: &TrainingData, t: f64) -> Result<Vec<StateRow>> {
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

/// The probability of every visible state as grouped bars: target and model, or the sampled
/// frequency and the exact model probability.
fn draw_distribution(run: &RunDir, table: &[StateRow], file: &str, caption: &str) -> Result<()> {
    if table.is_empty() {
        return Ok(());
    }
    let group = |name: &str, f: &dyn Fn(&StateRow) -> f64| {
        (name.to_string(), table.iter().map(f).collect::<Vec<f64>>())
    };
    let groups = if table.iter().any(|r| r.exact.is_some()) {
        vec![
            group("empirical frequency", &|r| r.q),
            group("exact q (model)", &|r| r.exact.unwrap_or(f64::NAN)),
        ]
    } else {
        vec![
            group("p_data (target)", &|r| r.p_data),
            group("q (model)", &|r| r.q),
        ]
    };
    let bars = Bars {
        title: caption.into(),
        x_label: "visible state (unit 1 first)".into(),
        y_label: "probability".into(),
        categories: table.iter().map(|r| r.state.clone()).collect(),
        groups,
        ..Bars::default()
    };
    save_bars(&run.file(file), &bars, 800, 420)?;
    run.add_figure(file, caption)
}

fn save_machine(run: &RunDir, bm: &BoltzmannMachine) -> Result<()> {
    let n = bm.units();
    let mut f = TensorFile::default();
    f.put_blob(
        "weight",
        Blob {
            shape: vec![n, n],
            data: bm.weights().iter().map(|&x| x as f32).collect(),
        },
    );
    f.put_blob(
        "bias",
        Blob {
            shape: vec![n],
            data: bm.biases().iter().map(|&x| x as f32).collect(),
        },
    );
    f.metadata.insert("family".into(), FAMILY.into());
    // f64 parameters are kept exactly in the metadata so that sampling reproduces training.
    f.metadata.insert(
        "weight_f64".into(),
        serde_json::to_string(bm.weights()).unwrap_or_default(),
    );
    f.metadata.insert(
        "bias_f64".into(),
        serde_json::to_string(bm.biases()).unwrap_or_default(),
    );
    f.save(&run.file("model.safetensors"))
}

/// Open a trained machine.
pub fn open(dir: &Path) -> Result<(RunDir, BoltzmannRunConfig, BoltzmannMachine)> {
    let run = RunDir::open(dir, FAMILY)?;
    let cfg: BoltzmannRunConfig = run.read_json("config.json")?;
    let path = run.file("model.safetensors");
    let f = TensorFile::load(&path)?;
    let parse = |key: &str| -> Result<Vec<f64>> {
        let text = f
            .metadata
            .get(key)
            .ok_or_else(|| Error::bad_file(&path, format!("`{key}` is missing")))?;
        serde_json::from_str(text).map_err(|e| Error::bad_file(&path, format!("`{key}`: {e}")))
    };
    let bm =
        BoltzmannMachine::from_parts(cfg.model.clone(), parse("weight_f64")?, parse("bias_f64")?)?;
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
    let v = cfg.model.visible;
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
    let data = training_data(&cfg.source, cfg.learn.seed)?;
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
