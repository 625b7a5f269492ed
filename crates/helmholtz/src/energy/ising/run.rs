//! `ising run`: one chain at one temperature, written to a run directory.
//!
//! Starting from all spins up, the chain is equilibrated for `equilibration` sweeps, then
//! measured after each of `sweeps` sweeps. The run directory holds config.json, metrics.jsonl
//! (the measured series, thinned to at most 1,000 rows), snapshots.png (the lattice at evenly
//! spaced sweeps, white = up), eval.json (the estimates below) and report.html.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::chain::{Algorithm, Engine, IsingChain, check_pair, default_engine};
use super::lattice::IsingModel;
use super::observables::{Measurement, Observables, observables};
use super::onsager;
use crate::error::{Error, Result, check};
use crate::io::RunDir;
use crate::report::{GridSpec, Shade, save_grid, write_run_report};
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "ising";

/// Most snapshots in one picture.
pub const MAX_SNAPSHOTS: usize = 64;

/// Everything that defines an `ising run`; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsingRunConfig {
    /// Always `ising`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// Lattice side, coupling and field.
    #[serde(flatten)]
    pub model: IsingModel,
    /// Temperature `T` (`k_B = 1`).
    pub temperature: f64,
    /// The update.
    pub algorithm: Algorithm,
    /// Measured sweeps (one measurement after each).
    pub sweeps: usize,
    /// Sweeps discarded before measuring.
    pub equilibration: usize,
    /// Lattice pictures taken at evenly spaced measured sweeps (0 for none).
    pub snapshots: usize,
    /// Seed of every random stream.
    pub seed: u64,
}

impl Default for IsingRunConfig {
    /// `L = 64`, `J = 1`, `h = 0` at `T = 2.269 ~ Tc`, Metropolis, 1,000 + 10,000 sweeps.
    fn default() -> Self {
        Self {
            family: FAMILY.into(),
            helmholtz_version: String::new(),
            model: IsingModel::default(),
            temperature: 2.269,
            algorithm: Algorithm::Metropolis,
            sweeps: 10_000,
            equilibration: 1_000,
            snapshots: 4,
            seed: 0,
        }
    }
}

impl IsingRunConfig {
    /// Check every value (before anything is written).
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        check::positive("temperature", self.temperature)?;
        check::positive_count("sweeps", self.sweeps)?;
        if self.snapshots > MAX_SNAPSHOTS.min(self.sweeps) {
            return Err(Error::param(
                "snapshots",
                format!(
                    "must be at most {} and at most the sweeps (got {})",
                    MAX_SNAPSHOTS, self.snapshots
                ),
            ));
        }
        let side = self.model.size.min(SNAPSHOT_SIDE);
        crate::budget::check_parts(&[
            ("size", self.model.memory()),
            (
                "sweeps",
                crate::budget::bytes(&[self.sweeps, MEASUREMENT_BYTES]),
            ),
            (
                "snapshots",
                crate::budget::bytes(&[self.snapshots, side, side, 8]),
            ),
        ])?;
        check_pair(
            &self.model,
            self.algorithm,
            default_engine(&self.model, self.algorithm),
        )
    }
}

/// Bytes per measured sweep: the measurement and the columns its analysis copies.
pub(crate) const MEASUREMENT_BYTES: usize = 64;

/// What `ising run` reports (also eval.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Lattice side `L`.
    pub size: usize,
    /// Temperature `T`.
    pub temperature: f64,
    /// Coupling `J`.
    pub coupling: f64,
    /// Field `h`.
    pub field: f64,
    /// The update.
    pub algorithm: Algorithm,
    /// How sweeps were computed.
    pub engine: Engine,
    /// Measured sweeps.
    pub sweeps: usize,
    /// Estimates with errors.
    #[serde(flatten)]
    pub estimates: FlatObservables,
    /// Onsager's `u(T)` of the infinite lattice (`h = 0`, `J > 0` only).
    pub onsager_energy: Option<f64>,
    /// Yang's `M(T)` of the infinite lattice (`h = 0`, `J > 0` only).
    pub onsager_magnetization: Option<f64>,
    /// Onsager's `c(T)` of the infinite lattice (`h = 0`, `J > 0` only).
    pub onsager_specific_heat: Option<f64>,
    /// Wall-clock seconds of all sweeps and measurements.
    pub seconds: f64,
    /// Attempted single-spin updates (or spins flipped by Wolff) per second.
    pub flips_per_second: f64,
}

/// [`Observables`] as flat `name`, `name_error` pairs (for eval.json and `--json`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlatObservables {
    /// `<e>` per spin.
    pub energy: f64,
    /// Its standard error.
    pub energy_se: f64,
    /// `<|m|>`.
    pub abs_magnetization: f64,
    /// Its standard error.
    pub abs_magnetization_se: f64,
    /// `<m^2>`.
    pub magnetization_sq: f64,
    /// `<m^4>`.
    pub magnetization_4: f64,
    /// `chi`.
    pub susceptibility: f64,
    /// Its standard error.
    pub susceptibility_se: f64,
    /// `C` per spin.
    pub specific_heat: f64,
    /// Its standard error.
    pub specific_heat_se: f64,
    /// `U4`.
    pub binder: f64,
    /// Its standard error.
    pub binder_se: f64,
    /// Integrated autocorrelation time of `e`, in sweeps.
    pub tau_energy: f64,
    /// Integrated autocorrelation time of `|m|`, in sweeps.
    pub tau_abs_magnetization: f64,
}

impl From<&Observables> for FlatObservables {
    fn from(o: &Observables) -> Self {
        Self {
            energy: o.energy.mean,
            energy_se: o.energy.se,
            abs_magnetization: o.abs_magnetization.mean,
            abs_magnetization_se: o.abs_magnetization.se,
            magnetization_sq: o.magnetization_sq.mean,
            magnetization_4: o.magnetization_4.mean,
            susceptibility: o.susceptibility.value,
            susceptibility_se: o.susceptibility.se,
            specific_heat: o.specific_heat.value,
            specific_heat_se: o.specific_heat.se,
            binder: o.binder.value,
            binder_se: o.binder.se,
            tau_energy: o.energy.tau,
            tau_abs_magnetization: o.abs_magnetization.tau,
        }
    }
}

/// Largest side of a snapshot in pixels: larger lattices are drawn by block means, so that
/// snapshots.png (and report.html, which embeds it) stays a few megabytes at any size.
pub const SNAPSHOT_SIDE: usize = 1024;

/// The series of one chain and the snapshots taken along it: `(sweep, side, intensities)`.
pub(crate) struct Sampled {
    pub(crate) series: Vec<Measurement>,
    pub(crate) snapshots: Vec<(usize, usize, Vec<f32>)>,
    pub(crate) seconds: f64,
}

/// Equilibrate, then measure after each sweep, taking `snapshots` pictures evenly.
pub(crate) fn sample(
    chain: &mut IsingChain,
    equilibration: usize,
    sweeps: usize,
    snapshots: usize,
    progress: &dyn Progress,
) -> Sampled {
    let start = Instant::now();
    progress.start("equilibrate", equilibration as u64);
    for _ in 0..equilibration {
        chain.sweep();
        progress.advance(1);
    }
    progress.start("measure", sweeps as u64);
    let shots: Vec<usize> = (1..=snapshots).map(|i| i * sweeps / snapshots).collect();
    let mut out = Sampled {
        series: Vec::with_capacity(sweeps),
        snapshots: Vec::new(),
        seconds: 0.0,
    };
    for k in 1..=sweeps {
        chain.sweep();
        out.series.push(chain.measure());
        if shots.contains(&k) {
            let (side, values) = chain.lattice().unit_picture(SNAPSHOT_SIDE);
            out.snapshots.push((k, side, values));
        }
        progress.advance(1);
    }
    progress.finish();
    out.seconds = start.elapsed().as_secs_f64();
    out
}

/// Run one temperature into `out` (or `runs/ising-<timestamp>`).
pub fn run(
    mut cfg: IsingRunConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<RunSummary> {
    cfg.family = FAMILY.into();
    cfg.helmholtz_version = env!("CARGO_PKG_VERSION").into();
    cfg.validate()?;
    let mut chain = IsingChain::new(&cfg.model, cfg.temperature, cfg.algorithm, cfg.seed)?;
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", &cfg)?;
        let sampled = sample(
            &mut chain,
            cfg.equilibration,
            cfg.sweeps,
            cfg.snapshots,
            progress,
        );
        write_outputs(&cfg, run, chain.engine(), &sampled)
    })
}

fn write_outputs(
    cfg: &IsingRunConfig,
    run: &RunDir,
    engine: Engine,
    s: &Sampled,
) -> Result<RunSummary> {
    let m = &cfg.model;
    let obs = observables(&s.series, 1.0 / cfg.temperature, m.spins());
    let exact = (m.field == 0.0 && m.coupling > 0.0).then_some((cfg.temperature, m.coupling));
    let summary = RunSummary {
        run_dir: run.path().to_path_buf(),
        size: m.size,
        temperature: cfg.temperature,
        coupling: m.coupling,
        field: m.field,
        algorithm: cfg.algorithm,
        engine,
        sweeps: cfg.sweeps,
        estimates: FlatObservables::from(&obs),
        onsager_energy: exact.map(|(t, j)| onsager::internal_energy(t, j)),
        onsager_magnetization: exact.map(|(t, j)| onsager::spontaneous_magnetization(t, j)),
        onsager_specific_heat: exact.map(|(t, j)| onsager::specific_heat(t, j)),
        seconds: s.seconds,
        flips_per_second: (m.spins() * (cfg.sweeps + cfg.equilibration)) as f64
            / s.seconds.max(1e-9),
    };
    run.write_metrics(&metric_rows(&s.series, cfg.equilibration))?;
    save_snapshots(run, &s.snapshots, m.size, cfg.temperature)?;
    run.write_json("eval.json", &summary)?;
    write_run_report(run)?;
    Ok(summary)
}

/// At most 1,000 rows: every `ceil(n / 1000)`-th measurement.
fn metric_rows(series: &[Measurement], equilibration: usize) -> Vec<serde_json::Value> {
    let stride = series.len().div_ceil(1000).max(1);
    series
        .iter()
        .enumerate()
        .step_by(stride)
        .map(|(i, x)| {
            json!({
                "step": equilibration + i + 1,
                "energy": x.energy,
                "magnetization": x.magnetization,
                "abs_magnetization": x.magnetization.abs(),
            })
        })
        .collect()
}

/// The snapshots side by side (white = up), enlarged so that small lattices stay visible.
pub(crate) fn save_snapshots(
    run: &RunDir,
    shots: &[(usize, usize, Vec<f32>)],
    size: usize,
    temperature: f64,
) -> Result<()> {
    let Some(&(_, side, _)) = shots.first() else {
        return Ok(());
    };
    let values: Vec<f32> = shots.iter().flat_map(|s| s.2.iter().copied()).collect();
    let spec = GridSpec {
        tile: [side, side],
        cols: shots.len().min(4),
        scale: (256 / side).clamp(1, 8),
        border: 128,
    };
    save_grid(&run.file("snapshots.png"), &values, spec, Shade::Unit)?;
    let at: Vec<String> = shots.iter().map(|(k, ..)| k.to_string()).collect();
    let l = size;
    let blocks = if side < l {
        format!(
            ", each pixel the mean of a {0} x {0} block",
            l.div_ceil(side)
        )
    } else {
        String::new()
    };
    run.add_figure(
        "snapshots.png",
        &format!(
            "{l} x {l} lattice at T = {temperature} after measured sweeps {} (white = spin up{blocks})",
            at.join(", ")
        ),
    )
}
