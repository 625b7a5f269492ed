//! Whole annealing runs: load a problem, anneal it, write a run directory. The CLI calls these.
//!
//! ```text
//! config.json      family "anneal", the problem (kind, source), the annealing settings
//! solution.json    the best solution (spins / bits / tour), its energy, every read's energy
//! solution.txt     the best solution as plain text, one node (or tour stop) per line
//! eval.json        the summary printed by the CLI
//! energy.png       energy after every sweep of the best read (repeated with a trace)
//! reads.png        every read's final energy, sorted
//! tour.png         (tsp) the best tour
//! report.html      all of it on one page
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::annealer::{
    AnnealConfig, AnnealOutcome, AnnealSchedule, Annealer, READ_BYTES, SWEEP_BYTES,
};
use super::maxcut::MaxCut;
use super::output::{Solution, write_outputs};
use super::problem::IsingProblem;
use super::qubo::{Qubo, spins_to_bits};
use super::read::FileFormat;
use super::tsp::Cities;
use crate::budget::{self, Subject};
use crate::error::{Error, Result};
use crate::io::RunDir;
use crate::sampling::Schedule;
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "anneal";

/// Which optimisation problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// Maximum cut of a weighted graph.
    MaxCut,
    /// `min x^T Q x`, `x in {0, 1}^n`.
    Qubo,
    /// `min sum J_ij s_i s_j + sum h_i s_i`, `s in {-1, +1}^n`.
    Ising,
    /// Shortest closed tour through cities in the plane.
    Tsp,
}

impl ProblemKind {
    /// The command that solves it: `maxcut`, `qubo`, `ising` or `tsp`.
    pub fn name(self) -> &'static str {
        match self {
            Self::MaxCut => "maxcut",
            Self::Qubo => "qubo",
            Self::Ising => "ising",
            Self::Tsp => "tsp",
        }
    }
}

/// Where the problem comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProblemSource {
    /// A file (edge list, matrix, or cities for TSP).
    File {
        /// The file.
        path: PathBuf,
        /// Edge list or matrix (ignored for cities).
        format: FileFormat,
    },
    /// `G(n, m)` with unit weights and `m = n * degree / 2` edges (Max-Cut), from the run seed.
    RandomGraph {
        /// Nodes.
        nodes: usize,
        /// Average degree.
        degree: f64,
    },
    /// Cities uniform in the unit square (TSP), from the run seed.
    RandomCities {
        /// Number of cities.
        cities: usize,
    },
}

/// Everything that defines an annealing run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnealRunConfig {
    /// Always `anneal`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// The problem kind.
    pub problem: ProblemKind,
    /// Where it comes from.
    pub source: ProblemSource,
    /// Sweeps, reads, schedule, seed.
    pub anneal: AnnealConfig,
}

impl AnnealRunConfig {
    /// A run of `problem` from `source` with `anneal` settings.
    pub fn new(problem: ProblemKind, source: ProblemSource, anneal: AnnealConfig) -> Self {
        Self {
            family: FAMILY.into(),
            helmholtz_version: env!("CARGO_PKG_VERSION").into(),
            problem,
            source,
            anneal,
        }
    }
}

/// A loaded problem.
#[derive(Debug, Clone)]
pub enum Problem {
    /// Max-Cut.
    MaxCut(MaxCut),
    /// A QUBO and its Ising form.
    Qubo(Qubo, IsingProblem),
    /// An Ising problem.
    Ising(IsingProblem),
    /// TSP.
    Tsp(Cities),
}

impl Problem {
    /// Read or generate the problem; random instances use `seed`.
    pub fn load(kind: ProblemKind, source: &ProblemSource, seed: u64) -> Result<Self> {
        Ok(match (kind, source) {
            (ProblemKind::MaxCut, ProblemSource::File { path, format }) => {
                Self::MaxCut(MaxCut::read(path, *format)?)
            }
            (ProblemKind::MaxCut, &ProblemSource::RandomGraph { nodes, degree }) => {
                Self::MaxCut(MaxCut::random(nodes, degree, seed)?)
            }
            (ProblemKind::Qubo, ProblemSource::File { path, format }) => {
                let q = Qubo::read(path, *format)?;
                let ising = q
                    .to_ising()
                    .map_err(|e| Error::bad_file(path, e.to_string()))?;
                Self::Qubo(q, ising)
            }
            (ProblemKind::Ising, ProblemSource::File { path, format }) => {
                Self::Ising(IsingProblem::read(path, *format)?)
            }
            (ProblemKind::Tsp, ProblemSource::File { path, .. }) => Self::Tsp(Cities::read(path)?),
            (ProblemKind::Tsp, &ProblemSource::RandomCities { cities }) => {
                Self::Tsp(Cities::random(cities, seed)?)
            }
            (kind, source) => {
                let what = match source {
                    ProblemSource::File { .. } => "a file",
                    ProblemSource::RandomGraph { .. } => "a random graph",
                    ProblemSource::RandomCities { .. } => "random cities",
                };
                return Err(Error::param(
                    "random",
                    format!("{what} is not a source of {} problems", kind.name()),
                ));
            }
        })
    }

    /// The Ising form (`None` for TSP).
    pub fn ising(&self) -> Option<&IsingProblem> {
        match self {
            Self::MaxCut(m) => Some(m.ising()),
            Self::Qubo(_, i) | Self::Ising(i) => Some(i),
            Self::Tsp(_) => None,
        }
    }

    /// Spins, variables or cities.
    pub fn size(&self) -> usize {
        match self {
            Self::Tsp(c) => c.len(),
            other => other.ising().map_or(0, IsingProblem::len),
        }
    }

    /// The problem's default `(beta_hot, beta_cold)`.
    pub fn default_beta_range(&self) -> (f64, f64) {
        match self {
            Self::Tsp(c) => c.default_beta_range(),
            other => other
                .ising()
                .map_or((0.1, 1.0), IsingProblem::default_beta_range),
        }
    }
}

/// What a run found; the CLI prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnealSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The problem kind.
    pub problem: ProblemKind,
    /// Spins, variables or cities.
    pub size: usize,
    /// Lowest energy over the reads (Ising energy with offset; the QUBO value; the tour length).
    pub best_energy: f64,
    /// Mean final energy of the reads.
    pub mean_energy: f64,
    /// Max-Cut: the cut weight of the best state, `(W - E) / 2`.
    pub cut_value: Option<f64>,
    /// TSP: the best tour's length.
    pub tour_length: Option<f64>,
    /// Index of the best read.
    pub best_read: usize,
    /// Reads that reached the best energy (within `1e-9` relative).
    pub hits: usize,
    /// Independent reads.
    pub reads: usize,
    /// Sweeps per read.
    pub sweeps: usize,
    /// `(beta_hot, beta_cold)` used, when the schedule is drawn from a beta range.
    pub beta_range: Option<(f64, f64)>,
    /// The temperature schedule.
    pub schedule: Schedule,
    /// Wall-clock seconds of the annealing (all reads), excluding file input and output.
    pub seconds: f64,
}

/// Load the problem, anneal it, and write the run directory `out` (or `runs/anneal-<time>`).
/// Bad input fails before the directory is created.
pub fn solve(
    cfg: &AnnealRunConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<AnnealSummary> {
    let problem = Problem::load(cfg.problem, &cfg.source, cfg.anneal.seed)?;
    let default_range = problem.default_beta_range();
    let annealer = cfg
        .anneal
        .validate(default_range)
        .map_err(|e| match (e, &cfg.source) {
            // What is wrong with a problem read from a file is said of the file.
            (Error::BadData { reason, .. }, ProblemSource::File { path, .. }) => {
                Error::bad_file(path, reason)
            }
            (e, _) => e,
        })?;
    check_memory(cfg, &problem, &annealer)?;
    RunDir::create_filled(out, FAMILY, |run| {
        anneal_into(cfg, &problem, &annealer, default_range, run, progress)
    })
}

/// The reads' states, energies and traces against the memory budget; the states are blamed
/// on the problem (its file, or `random`).
fn check_memory(cfg: &AnnealRunConfig, problem: &Problem, annealer: &Annealer) -> Result<()> {
    let states = annealer.state_bytes(problem.size(), matches!(problem, Problem::Tsp(_)));
    let source = match &cfg.source {
        ProblemSource::File { path, .. } => Subject::File(path, "annealing this problem"),
        _ => Subject::Param("random"),
    };
    budget::check_costs(&[
        (source, states),
        (
            Subject::Param("reads"),
            budget::bytes(&[annealer.reads(), READ_BYTES]),
        ),
        (
            Subject::Param("sweeps"),
            budget::bytes(&[annealer.betas().len(), SWEEP_BYTES]),
        ),
    ])
}

fn anneal_into(
    cfg: &AnnealRunConfig,
    problem: &Problem,
    annealer: &Annealer,
    default_range: (f64, f64),
    run: &RunDir,
    progress: &dyn Progress,
) -> Result<AnnealSummary> {
    run.write_json("config.json", cfg)?;
    let started = Instant::now();
    let (energies, best_read, solution) = anneal_problem(problem, annealer, progress)?;
    let seconds = started.elapsed().as_secs_f64();
    let best = energies[best_read];
    let hits = energies
        .iter()
        .filter(|&&e| e - best <= 1e-9 * best.abs().max(1.0))
        .count();
    let summary = AnnealSummary {
        run_dir: run.path().to_path_buf(),
        problem: cfg.problem,
        size: problem.size(),
        best_energy: best,
        mean_energy: energies.iter().sum::<f64>() / energies.len() as f64,
        cut_value: match problem {
            Problem::MaxCut(m) => Some(m.cut_from_energy(best)),
            _ => None,
        },
        tour_length: matches!(problem, Problem::Tsp(_)).then_some(best),
        best_read,
        hits,
        reads: annealer.reads(),
        sweeps: annealer.betas().len(),
        beta_range: match cfg.anneal.schedule {
            AnnealSchedule::Given { .. } => None,
            _ => Some(cfg.anneal.beta_range.unwrap_or(default_range)),
        },
        schedule: annealer.schedule().clone(),
        seconds,
    };
    write_outputs(run, problem, annealer, &summary, &energies, &solution)?;
    Ok(summary)
}

/// Run the reads: `(energies, best read, best solution)`.
fn anneal_problem(
    problem: &Problem,
    annealer: &Annealer,
    progress: &dyn Progress,
) -> Result<(Vec<f64>, usize, Solution)> {
    if let Problem::Tsp(cities) = problem {
        let AnnealOutcome {
            energies,
            best_read,
            best_state,
        } = annealer.anneal_tour(cities, progress);
        return Ok((energies, best_read, Solution::Tour(best_state)));
    }
    let ising = problem
        .ising()
        .ok_or_else(|| Error::Internal("problem without an Ising form".into()))?;
    let AnnealOutcome {
        energies,
        best_read,
        best_state,
    } = annealer.anneal(ising, progress);
    let solution = match problem {
        Problem::Qubo(..) => Solution::Bits(spins_to_bits(&best_state)),
        _ => Solution::Spins(best_state),
    };
    Ok((energies, best_read, solution))
}
