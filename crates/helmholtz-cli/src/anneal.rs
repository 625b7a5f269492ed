//! `helmholtz anneal maxcut|qubo|ising|tsp`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::Error;
use helmholtz::anneal::{
    self, AnnealConfig, AnnealRunConfig, AnnealSchedule, AnnealSummary, FileFormat, ProblemKind,
    ProblemSource,
};

use crate::common::{Global, refuse_unused, write_run};

/// Simulated annealing for optimisation: minimise an Ising energy
/// E(s) = sum_{i<j} J_ij s_i s_j + sum_i h_i s_i (dwave's SPIN convention) by Metropolis
/// sweeps from many random starts in parallel, or a tour length by 2-opt moves.
#[derive(Debug, Subcommand)]
pub enum AnnealCommand {
    /// Maximum cut of a weighted graph (edge list `i j w`, or a symmetric matrix).
    Maxcut(MaxcutArgs),
    /// Minimise x^T Q x over x in {0,1}^n (edge list `i j Q_ij`, `i i Q_ii`, or the matrix Q).
    Qubo(FileArgs),
    /// Minimise an Ising energy (edge list `i j J_ij`, `i i h_i`; or a matrix M with
    /// h_i = M_ii, J_ij = M_ij + M_ji).
    Ising(FileArgs),
    /// Shortest closed tour through cities (`x y` per line), by 2-opt moves.
    Tsp(TspArgs),
}

/// Flags of `anneal maxcut`.
#[derive(Debug, Args)]
pub struct MaxcutArgs {
    /// Edge list (`i j w` per line, 0-based ids, `#` comments, optional first line `n m`) or
    /// dense symmetric adjacency matrix (rows of numbers, whitespace or commas).
    #[arg(required_unless_present = "random", conflicts_with = "random")]
    file: Option<PathBuf>,

    /// Instead of a file, a random graph: N nodes, N*DEGREE/2 distinct unit-weight edges, drawn
    /// with --seed.
    #[arg(long, value_name = "N:DEGREE")]
    random: Option<String>,

    /// File layout: `edges`, `matrix`, or `auto` (matrix for .csv/.mat files or rows with commas
    /// or other than 2-3 fields).
    #[arg(long, default_value = "auto", value_parser = ["auto", "edges", "matrix"])]
    format: String,

    #[command(flatten)]
    anneal: AnnealArgs,
}

/// Flags of `anneal qubo` and `anneal ising`.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// Edge list (`i j w` per line, 0-based ids, `#` comments, optional first line `n m`;
    /// `i i w` is the diagonal) or dense matrix (rows of numbers, whitespace or commas).
    file: PathBuf,

    /// File layout: `edges`, `matrix`, or `auto` (matrix for .csv/.mat files or rows with commas
    /// or other than 2-3 fields).
    #[arg(long, default_value = "auto", value_parser = ["auto", "edges", "matrix"])]
    format: String,

    #[command(flatten)]
    anneal: AnnealArgs,
}

/// Flags of `anneal tsp`.
#[derive(Debug, Args)]
pub struct TspArgs {
    /// City file: `x y` per line (whitespace or comma), `#` comments.
    #[arg(required_unless_present = "random", conflicts_with = "random")]
    file: Option<PathBuf>,

    /// Instead of a file, N cities uniform in the unit square, drawn with --seed.
    #[arg(long, value_name = "N")]
    random: Option<usize>,

    #[command(flatten)]
    anneal: AnnealArgs,
}

/// Flags every `anneal` command takes.
#[derive(Debug, Args)]
pub struct AnnealArgs {
    /// Sweeps per read: passes over all spins (for tsp, n proposed 2-opt moves each).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    sweeps: usize,

    /// Independent restarts, run in parallel; the best is kept.
    #[arg(long, default_value_t = 100, value_name = "N")]
    reads: usize,

    /// Temperature schedule: `geometric` (in beta, as dwave-neal), `linear` (in T) or `log`
    /// over --beta-range; or one with its own temperatures: `geometric:T0:T1`,
    /// `linear:T0:T1`, `log:T0`, `constant:T`.
    #[arg(long, default_value = "geometric", value_name = "SCHEDULE")]
    schedule: String,

    /// Inverse temperatures at the start and end [default: dwave-samplers' rule: hot enough
    /// that every flip has probability >= 1/2, cold enough that the weakest bias is excited
    /// with total rate 0.01].
    #[arg(long, value_name = "B0:B1")]
    beta_range: Option<String>,

    /// Order in which a sweep visits the spins: `random` (a fresh permutation every sweep),
    /// `sequential` (0, 1, ..., as dwave-samplers), or `auto` (random for problems without
    /// fields, where a fixed order can cycle; sequential otherwise).
    #[arg(long, default_value = "auto", value_parser = ["auto", "sequential", "random"])]
    order: String,
}

/// Run an `anneal` subcommand.
pub fn run(cmd: AnnealCommand, g: &Global) -> anyhow::Result<()> {
    let (kind, source, args) = match cmd {
        AnnealCommand::Maxcut(a) => {
            let source = match (&a.file, &a.random) {
                (_, Some(spec)) => {
                    refuse_unused(&["format"], "is not used with --random (no file is read)")?;
                    random_graph(spec)?
                }
                (Some(path), None) => file_source(path, &a.format)?,
                (None, None) => {
                    return Err(Error::param("random", "give a FILE or --random N:DEGREE").into());
                }
            };
            (ProblemKind::MaxCut, source, a.anneal)
        }
        AnnealCommand::Qubo(a) => (
            ProblemKind::Qubo,
            file_source(&a.file, &a.format)?,
            a.anneal,
        ),
        AnnealCommand::Ising(a) => (
            ProblemKind::Ising,
            file_source(&a.file, &a.format)?,
            a.anneal,
        ),
        AnnealCommand::Tsp(a) => {
            refuse_unused(
                &["order"],
                "is not used by tsp (2-opt moves visit no spins)",
            )?;
            let source = match (a.file, a.random) {
                (_, Some(cities)) => ProblemSource::RandomCities { cities },
                (Some(path), None) => ProblemSource::File {
                    path,
                    format: FileFormat::Auto,
                },
                (None, None) => {
                    return Err(Error::param("random", "give a FILE or --random N").into());
                }
            };
            (ProblemKind::Tsp, source, a.anneal)
        }
    };
    let cfg = AnnealRunConfig::new(kind, source, anneal_config(&args, g)?);
    write_run(g, &cfg, anneal::solve, summary_line)
}

fn anneal_config(a: &AnnealArgs, g: &Global) -> anyhow::Result<AnnealConfig> {
    Ok(AnnealConfig {
        sweeps: a.sweeps,
        reads: a.reads,
        schedule: a.schedule.parse::<AnnealSchedule>()?,
        beta_range: a.beta_range.as_deref().map(beta_range).transpose()?,
        seed: g.seed(),
        order: a.order.parse()?,
    })
}

fn file_source(path: &std::path::Path, format: &str) -> anyhow::Result<ProblemSource> {
    Ok(ProblemSource::File {
        path: path.to_path_buf(),
        format: format.parse()?,
    })
}

/// `B0:B1`.
fn beta_range(s: &str) -> helmholtz::Result<(f64, f64)> {
    let bad = || {
        Error::param(
            "beta-range",
            format!("`{s}` is not B0:B1 with two positive numbers"),
        )
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let (a, b): (f64, f64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
        return Err(bad());
    }
    Ok((a, b))
}

/// `N:DEGREE`.
fn random_graph(s: &str) -> helmholtz::Result<ProblemSource> {
    let bad = || Error::param("random", format!("`{s}` is not N:DEGREE (e.g. 1000:6)"));
    let (n, d) = s.split_once(':').ok_or_else(bad)?;
    Ok(ProblemSource::RandomGraph {
        nodes: n.trim().parse().map_err(|_| bad())?,
        degree: d.trim().parse().map_err(|_| bad())?,
    })
}

fn summary_line(s: &AnnealSummary) -> String {
    let what = match (s.cut_value, s.tour_length) {
        (Some(c), _) => format!("cut value {c} (Ising energy {})", s.best_energy),
        (_, Some(l)) => format!("tour length {l:.6}"),
        _ => format!("best energy {}", s.best_energy),
    };
    format!(
        "{what}; {}/{} reads reached it, mean energy {:.4}; {} sweeps x {} reads in {:.2} s -> {}",
        s.hits,
        s.reads,
        s.mean_energy,
        s.sweeps,
        s.reads,
        s.seconds,
        s.run_dir.display()
    )
}
