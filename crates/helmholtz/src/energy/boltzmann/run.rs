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
use crate::report::{Bars, save_bars, write_run_report};
use crate::rng::rng_for;
use crate::run::{Family, family};
use crate::sampling::Schedule;
use crate::sampling::integrated_autocorrelation_time;
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

family!(BoltzmannMachine: FAMILY, BoltzmannRunConfig[BoltzmannParams], BoltzmannData, BoltzmannFit, BoltzmannEval);

impl crate::run::TrainingData for BoltzmannData {
    fn train(&self) -> &Dataset {
        &self.rows
    }
}

impl Family for BoltzmannMachine {
    fn prepare(cfg: &mut BoltzmannRunConfig) -> Result<BoltzmannData> {
        let training = training_data(&cfg.source, cfg.params.train.seed)?;
        cfg.params.model.visible = training.visible;
        let fit = cfg.params.build(&training)?;
        Ok(BoltzmannData {
            rows: fit.rows_dataset()?,
            training,
        })
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

/// The probability of every visible state as grouped bars: target and model, or the sampled
/// frequency and the exact model probability.
pub(crate) fn draw_distribution(
    run: &RunDir,
    table: &[StateRow],
    file: &str,
    caption: &str,
) -> Result<()> {
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
    /// Gibbs sweeps per chain.
    pub sweeps: usize,
    /// The pilot chains' verdict, when the sweeps were chosen by [`mixing_sweeps`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixing: Option<Mixing>,
    /// Total variation between the empirical and exact visible distributions (when enumerable).
    pub total_variation: Option<f64>,
    /// The total variation that sampling noise alone gives for this many chains,
    /// `Σ_s sqrt(q_s (1 - q_s) / (2 π N))` (when enumerable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_total_variation: Option<f64>,
    /// False when the samples are further from the exact distribution than sampling noise
    /// explains (more than three times [`SampleSummary::expected_total_variation`]): the chains
    /// have not mixed, and more sweeps are needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixed: Option<bool>,
    /// Empirical frequency and exact probability of every visible state.
    pub table: Vec<StateRow>,
    /// The picture written.
    pub file: PathBuf,
}

/// How long Gibbs chains of a machine take to forget where they started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mixing {
    /// The largest integrated autocorrelation time (in sweeps) of the energy and of each
    /// visible unit, over the second half of the pilot chains.
    pub tau: f64,
    /// Length of the pilot chains when they agreed (Gelman-Rubin R-hat below 1.05 for the
    /// energy and every visible unit), or the cap.
    pub pilot_sweeps: usize,
    /// The largest R-hat at that length.
    pub r_hat: f64,
    /// Sweeps recommended per chain: `10 tau` (at least 100).
    pub sweeps: usize,
}

/// Pilot chains of a mixing estimate.
const PILOT_CHAINS: usize = 32;
/// The pilot chains double from this length ...
const PILOT_START: usize = 128;
/// ... up to this one.
const PILOT_MAX: usize = 1 << 17;

/// Estimate how many Gibbs sweeps at temperature `t` make the chains of `bm` forget their
/// start. 32 pilot chains from random states run for 128, 256, ... sweeps until they agree:
/// the Gelman-Rubin R-hat of the energy and of every visible unit over the second half of the
/// chains is below 1.05 (chains stuck in different modes of a machine like XOR's disagree,
/// though each one alone looks settled, so a pilot too short to see the modes swap would
/// underestimate the time). The integrated autocorrelation time `tau` of those series then
/// sets the sweeps: `10 tau`, after which a chain's start weighs about `e^-10`.
pub fn mixing_sweeps(bm: &BoltzmannMachine, t: f64, seed: u64) -> Mixing {
    let v = bm.config().visible;
    let n = bm.units();
    let mut chains: Vec<(Vec<u8>, rand::rngs::StdRng)> = (0..PILOT_CHAINS)
        .map(|c| {
            let mut rng = rng_for(seed, &[0x5049_4c4f, c as u64]);
            let u = (0..n).map(|_| u8::from(rng.random::<bool>())).collect();
            (u, rng)
        })
        .collect();
    let mut len = PILOT_START;
    // Run every chain to `len / 2`, then record the series over the second half.
    chains.par_iter_mut().for_each(|(u, rng)| {
        for _ in 0..len / 2 {
            bm.gibbs_sweep(u, t, 0, rng);
        }
    });
    loop {
        let traces: Vec<Vec<Vec<f64>>> = chains
            .par_iter_mut()
            .map(|(u, rng)| {
                let mut tr = vec![Vec::with_capacity(len / 2); v + 1];
                for _ in 0..len / 2 {
                    bm.gibbs_sweep(u, t, 0, rng);
                    tr[v].push(bm.energy(u));
                    for (i, series) in tr[..v].iter_mut().enumerate() {
                        series.push(f64::from(u[i]));
                    }
                }
                tr
            })
            .collect();
        let r_hat = (0..=v)
            .map(|k| {
                let per_chain: Vec<&[f64]> = traces.iter().map(|tr| tr[k].as_slice()).collect();
                gelman_rubin(&per_chain)
            })
            .fold(1.0, f64::max);
        if r_hat < 1.05 || len >= PILOT_MAX {
            let tau = traces
                .iter()
                .flat_map(|tr| tr.iter().map(|s| integrated_autocorrelation_time(s)))
                .fold(0.5, f64::max);
            return Mixing {
                tau,
                pilot_sweeps: len,
                r_hat,
                sweeps: ((10.0 * tau).ceil() as usize).max(100),
            };
        }
        // The chains are at `len`, the first half of the next length: record its second half.
        len *= 2;
    }
}

/// The Gelman-Rubin potential scale reduction of `m` chains of equal length: `sqrt(V / W)`
/// with `W` the mean within-chain variance and `V = (n - 1)/n W + B/n`, `B/n` the variance of
/// the chain means. 1 when the chains agree; infinite when they are constant but differ.
pub fn gelman_rubin(chains: &[&[f64]]) -> f64 {
    let m = chains.len();
    let n = chains.first().map_or(0, |c| c.len());
    if m < 2 || n < 2 {
        return 1.0;
    }
    let means: Vec<f64> = chains
        .iter()
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .collect();
    let w = chains
        .iter()
        .zip(&means)
        .map(|(c, mu)| c.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1) as f64)
        .sum::<f64>()
        / m as f64;
    let grand = means.iter().sum::<f64>() / m as f64;
    let b_over_n = means.iter().map(|mu| (mu - grand).powi(2)).sum::<f64>() / (m - 1) as f64;
    if w <= 0.0 {
        return if b_over_n > 0.0 { f64::INFINITY } else { 1.0 };
    }
    (((n - 1) as f64 / n as f64 * w + b_over_n) / w).sqrt()
}

/// Bytes per chain or clamped example: its state (at most 63 units, a byte each, in a vector of
/// its own) and its seeds.
pub(crate) const STATE_BYTES: usize = 128;

/// Run independent Gibbs chains along `schedule`; return the final states. `progress` counts
/// finished chains.
pub fn sample_states(
    bm: &BoltzmannMachine,
    req: &SampleRequest,
    progress: &dyn Progress,
) -> Vec<Vec<u8>> {
    let n = bm.units();
    progress.start("sample", req.chains as u64);
    let states = (0..req.chains)
        .into_par_iter()
        .map(|c| {
            let mut rng = rng_for(req.seed, &[c as u64]);
            let mut u: Vec<u8> = (0..n).map(|_| u8::from(rng.random::<bool>())).collect();
            for k in 0..req.sweeps {
                bm.gibbs_sweep(&mut u, req.schedule.temperature(k, req.sweeps), 0, &mut rng);
            }
            progress.advance(1);
            u
        })
        .collect();
    progress.finish();
    states
}

/// `boltzmann sample`: sample the visible units and compare with the exact model probabilities
/// (`progress` counts finished chains).
pub fn sample(dir: &Path, req: &SampleRequest, progress: &dyn Progress) -> Result<SampleSummary> {
    check::positive_count("n", req.chains)?;
    check::positive_count("sweeps", req.sweeps)?;
    crate::budget::check("n", crate::budget::bytes(&[req.chains, STATE_BYTES]))?;
    req.schedule.validate()?;
    let (run, cfg, bm) = open(dir)?;
    let v = cfg.params.model.visible;
    let t_end = req.schedule.temperature(req.sweeps - 1, req.sweeps);
    let states = sample_states(&bm, req, progress);
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
    // E|q̂ - q| = sqrt(2 q (1 - q) / (π N)) for a binomial frequency, halved in the TV.
    let expected_total_variation = exact.as_ref().map(|q| {
        let n = req.chains as f64;
        q.iter()
            .map(|&p| (p * (1.0 - p) / (2.0 * std::f64::consts::PI * n)).sqrt())
            .sum::<f64>()
    });
    let mixed = total_variation
        .zip(expected_total_variation)
        .map(|(tv, e)| tv <= 3.0 * e + 1e-12);
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
        sweeps: req.sweeps,
        mixing: None,
        temperature: t_end,
        total_variation,
        expected_total_variation,
        mixed,
        table,
        file: run.file(&file),
    })
}

/// `KL(p_data || q)` of a trained machine at temperature `t` (exact).
pub fn kl_of(bm: &BoltzmannMachine, data: &TrainingData, t: f64) -> Result<f64> {
    Ok(kl_divergence(&data.distribution, &visible_marginal(bm, t)?))
}
