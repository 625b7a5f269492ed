//! `ising sweep`: a temperature range at sizes `L` and `L/2`, and the critical temperature.
//!
//! At each of `points` temperatures in `[t_min, t_max]` one chain per size measures `|m|`, `e`,
//! `C`, `chi` and `U4`. Near the transition (`|T / Tc - 1| <= 0.15`) the chains use Wolff
//! clusters, whose autocorrelation time stays small where single-spin updates slow down as
//! `L^z`, `z ~ 2.17`; elsewhere Metropolis (multi-spin coded when `L` is a multiple of 128).
//!
//! # The critical temperature
//! `tc` is where the Binder cumulants of `L` and `L/2` cross. At `Tc`, `U4` tends to a
//! universal value independent of `L` and its finite-size shift falls off faster than `1/L`
//! (for the 2D Ising model the crossings of `L = 16, 32` lie within about 0.01 of `Tc`), while
//! the peak of `C` moves as `Tc (1 + 0.36 / L)` (Ferdinand & Fisher 1969: +0.026 at `L = 32`),
//! is broad (a logarithmic divergence), and is located only to the grid spacing; so the
//! crossing is the reliable estimate. The crossing is taken in the grid interval that best
//! separates `U4(L) - U4(L/2) > 0` (ordered side) from `< 0` (disordered side), weighting
//! each point by its standard error, and interpolated linearly. If the curves do not cross in
//! the range, `tc` falls back to the peak of `C(L)` (a parabola through the three highest points)
//! and `tc_method` says so.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::chain::{Algorithm, Engine, IsingChain};
use super::lattice::IsingModel;
use super::observables::{Observables, observables};
use super::onsager;
use super::plots::{save_sweep_figures, sweep_rows};
use super::run::{FAMILY, MEASUREMENT_BYTES, sample};
use crate::error::{Error, Result, check};
use crate::io::RunDir;
use crate::rng::derive_seed;
use crate::train::{Progress, Silent};

/// Everything that defines an `ising sweep`; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsingSweepConfig {
    /// Always `ising`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// Always `sweep` (tells a sweep's config from a run's).
    pub command: String,
    /// The larger lattice side `L` (the other is `L/2`).
    pub size: usize,
    /// Coupling `J > 0`.
    pub coupling: f64,
    /// Lowest temperature.
    pub t_min: f64,
    /// Highest temperature.
    pub t_max: f64,
    /// Temperatures, evenly spaced.
    pub points: usize,
    /// Measured sweeps per temperature and size.
    pub sweeps: usize,
    /// Sweeps discarded before measuring.
    pub equilibration: usize,
    /// Seed of every random stream.
    pub seed: u64,
}

impl Default for IsingSweepConfig {
    /// `L = 32` (and 16), `J = 1`, 31 temperatures in `[1.5, 3.0]`, 1,000 + 5,000 sweeps.
    fn default() -> Self {
        Self {
            family: FAMILY.into(),
            helmholtz_version: String::new(),
            command: "sweep".into(),
            size: 32,
            coupling: 1.0,
            t_min: 1.5,
            t_max: 3.0,
            points: 31,
            sweeps: 5_000,
            equilibration: 1_000,
            seed: 0,
        }
    }
}

impl IsingSweepConfig {
    /// Check every value (before anything is written).
    pub fn validate(&self) -> Result<()> {
        let l = self.size;
        if !(8..=IsingModel::MAX_SIZE).contains(&l) || !l.is_multiple_of(4) {
            return Err(Error::param(
                "size",
                format!(
                    "must be a multiple of 4 of at least 8, so that L/2 is an even lattice too (got {l})"
                ),
            ));
        }
        check::positive("coupling", self.coupling)?;
        check::positive("t-min", self.t_min)?;
        check::positive("t-max", self.t_max)?;
        if self.t_max <= self.t_min {
            return Err(Error::param(
                "t-max",
                format!("must exceed t-min {} (got {})", self.t_min, self.t_max),
            ));
        }
        if !(2..=1000).contains(&self.points) {
            return Err(Error::param(
                "points",
                format!("must lie in 2..=1000 (got {})", self.points),
            ));
        }
        check::positive_count("sweeps", self.sweeps)?;
        // The chains running at once, each with its lattice and its measured series.
        let live = (2 * self.points).min(rayon::current_num_threads());
        let model = IsingModel {
            size: l,
            coupling: self.coupling,
            field: 0.0,
        };
        crate::budget::check_parts(&[
            ("size", model.memory().saturating_mul(live as u128)),
            (
                "sweeps",
                crate::budget::bytes(&[live, self.sweeps, MEASUREMENT_BYTES]),
            ),
        ])
    }

    /// The temperatures.
    pub fn temperatures(&self) -> Vec<f64> {
        let step = (self.t_max - self.t_min) / (self.points - 1) as f64;
        (0..self.points)
            .map(|i| self.t_min + step * i as f64)
            .collect()
    }
}

/// The update used at temperature `T`: Wolff within 15% of `Tc`, Metropolis elsewhere.
pub fn sweep_algorithm(temperature: f64, coupling: f64) -> Algorithm {
    if (temperature / onsager::critical_temperature(coupling) - 1.0).abs() <= 0.15 {
        Algorithm::Wolff
    } else {
        Algorithm::Metropolis
    }
}

/// One chain of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Temperature.
    pub temperature: f64,
    /// Lattice side.
    pub size: usize,
    /// Update used.
    pub algorithm: Algorithm,
    /// Engine used.
    pub engine: Engine,
    /// Estimates.
    pub observables: Observables,
}

/// What `ising sweep` reports (also eval.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The two sizes, larger first.
    pub sizes: [usize; 2],
    /// Estimated critical temperature.
    pub tc: f64,
    /// `binder-crossing` or `specific-heat-peak`.
    pub tc_method: String,
    /// Onsager's `Tc = 2J / ln(1 + sqrt 2)`.
    pub tc_exact: f64,
    /// `tc - tc_exact`.
    pub tc_deviation: f64,
    /// Peak of `C(T)` for the larger size.
    pub specific_heat_peak: f64,
    /// Temperatures.
    pub points: usize,
    /// Measured sweeps per chain.
    pub sweeps: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Run the sweep into `out` (or `runs/ising-<timestamp>`).
pub fn sweep(
    mut cfg: IsingSweepConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<SweepSummary> {
    cfg.family = FAMILY.into();
    cfg.command = "sweep".into();
    cfg.helmholtz_version = env!("CARGO_PKG_VERSION").into();
    cfg.validate()?;
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", &cfg)?;
        sweep_into(&cfg, run, progress)
    })
}

fn sweep_into(
    cfg: &IsingSweepConfig,
    run: &RunDir,
    progress: &dyn Progress,
) -> Result<SweepSummary> {
    let start = Instant::now();
    let sizes = [cfg.size, cfg.size / 2];
    let temps = cfg.temperatures();
    let jobs: Vec<(usize, usize)> = (0..temps.len())
        .flat_map(|i| sizes.map(|l| (i, l)))
        .collect();
    progress.start("sweep", jobs.len() as u64);
    let points = jobs
        .par_iter()
        .map(|&(i, l)| {
            let point = simulate_point(
                cfg,
                temps[i],
                l,
                derive_seed(cfg.seed, &[i as u64, l as u64]),
            );
            progress.advance(1);
            point
        })
        .collect::<Result<Vec<_>>>()?;
    progress.finish();
    let by_size =
        |l: usize| -> Vec<&SweepPoint> { points.iter().filter(|p| p.size == l).collect() };
    let (large, small) = (by_size(sizes[0]), by_size(sizes[1]));
    let peak = specific_heat_peak(&large);
    let (tc, tc_method) = match binder_crossing(&large, &small) {
        Some(t) => (t, "binder-crossing"),
        None => (peak, "specific-heat-peak"),
    };
    let tc_exact = onsager::critical_temperature(cfg.coupling);
    let summary = SweepSummary {
        run_dir: run.path().to_path_buf(),
        sizes,
        tc,
        tc_method: tc_method.into(),
        tc_exact,
        tc_deviation: tc - tc_exact,
        specific_heat_peak: peak,
        points: cfg.points,
        sweeps: cfg.sweeps,
        seconds: start.elapsed().as_secs_f64(),
    };
    run.write_json("sweep.json", &points)?;
    run.write_metrics(&sweep_rows(&large, &small))?;
    save_sweep_figures(run, cfg, &large, &small, tc)?;
    run.write_json("eval.json", &summary)?;
    crate::report::write_run_report(run)?;
    Ok(summary)
}

/// Equilibrate and measure one `(T, L)` chain.
pub fn simulate_point(
    cfg: &IsingSweepConfig,
    temperature: f64,
    size: usize,
    seed: u64,
) -> Result<SweepPoint> {
    let model = IsingModel {
        size,
        coupling: cfg.coupling,
        field: 0.0,
    };
    let algorithm = sweep_algorithm(temperature, cfg.coupling);
    let mut chain = IsingChain::new(&model, temperature, algorithm, seed)?;
    let sampled = sample(&mut chain, cfg.equilibration, cfg.sweeps, 0, &Silent);
    Ok(SweepPoint {
        temperature,
        size,
        algorithm,
        engine: chain.engine(),
        observables: observables(&sampled.series, 1.0 / temperature, model.spins()),
    })
}

/// Where `U4(L) - U4(L/2)` changes sign from `+` (below) to `-` (above); `None` if it never does.
pub fn binder_crossing(large: &[&SweepPoint], small: &[&SweepPoint]) -> Option<f64> {
    let d: Vec<(f64, f64, f64)> = large
        .iter()
        .zip(small)
        .map(|(a, b)| {
            let (ua, ub) = (a.observables.binder, b.observables.binder);
            let sigma = ua.se.hypot(ub.se);
            let sigma = if sigma.is_finite() && sigma > 0.0 {
                sigma
            } else {
                1e-12
            };
            (a.temperature, ua.value - ub.value, sigma)
        })
        .collect();
    let changes = d.windows(2).any(|w| w[0].1 > 0.0 && w[1].1 < 0.0);
    if !changes {
        return None;
    }
    // Misfit of a crossing between points i and i + 1: how far (in standard errors) points
    // below it are negative and points above it are positive.
    let misfit = |i: usize| -> f64 {
        let below: f64 = d[..=i].iter().map(|&(_, x, s)| (-x / s).max(0.0)).sum();
        let above: f64 = d[i + 1..].iter().map(|&(_, x, s)| (x / s).max(0.0)).sum();
        below + above
    };
    let best = (0..d.len() - 1).min_by(|&a, &b| misfit(a).total_cmp(&misfit(b)))?;
    let ((t0, x0, _), (t1, x1, _)) = (d[best], d[best + 1]);
    Some(if x0 > 0.0 && x1 < 0.0 {
        t0 + x0 / (x0 - x1) * (t1 - t0)
    } else {
        0.5 * (t0 + t1)
    })
}

/// Temperature of the maximum of `C`, refined by a parabola through the top three points.
pub fn specific_heat_peak(points: &[&SweepPoint]) -> f64 {
    let c: Vec<f64> = points
        .iter()
        .map(|p| p.observables.specific_heat.value)
        .collect();
    let Some(i) = (0..c.len()).max_by(|&a, &b| c[a].total_cmp(&c[b])) else {
        return f64::NAN;
    };
    let t = |k: usize| points[k].temperature;
    if i == 0 || i + 1 == c.len() {
        return t(i);
    }
    let (y0, y1, y2) = (c[i - 1], c[i], c[i + 1]);
    let curvature = y0 - 2.0 * y1 + y2;
    if curvature >= 0.0 {
        return t(i);
    }
    let h = t(i + 1) - t(i);
    t(i) + 0.5 * h * (y0 - y2) / curvature
}
