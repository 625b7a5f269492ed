//! `helmholtz ising run|sweep|bench`.

use clap::{Args, Subcommand};
use helmholtz::energy::ising::{
    self, Algorithm, BenchConfig, Engine, IsingModel, IsingRunConfig, IsingSweepConfig, RunSummary,
    SweepSummary,
};

use crate::common::{Global, emit, kw, write_run};

/// The 2D Ising model: Metropolis, heat-bath and Wolff sampling, Onsager's exact solution.
#[derive(Debug, Subcommand)]
pub enum IsingCommand {
    /// Sample one temperature: energy, |m|, susceptibility, specific heat, Binder cumulant,
    /// autocorrelation times and lattice snapshots, written to a run directory.
    Run(RunArgs),
    /// Sample a temperature range at sizes L and L/2, plot |m|, C, chi, U4 and e against
    /// Onsager's exact curves, and estimate Tc from the Binder-cumulant crossing.
    Sweep(SweepArgs),
    /// Time the samplers: spin flips per second (attempted single-spin updates).
    Bench(BenchArgs),
}

/// Flags of `ising run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Lattice side L (even; N = L^2 spins, periodic boundaries). Metropolis at h = 0 uses
    /// multi-spin coding when L is a multiple of 128.
    #[arg(long, default_value_t = 64, value_name = "L")]
    size: usize,

    /// Temperature T in units of J/k_B (> 0; Onsager's Tc = 2.269 for J = 1).
    #[arg(long, default_value_t = 2.269, allow_negative_numbers = true)]
    temperature: f64,

    /// External field h in H = -J sum s_i s_j - h sum s_i (Wolff needs h = 0).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    field: f64,

    /// Coupling J (> 0 ferromagnetic, < 0 antiferromagnetic).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    coupling: f64,

    /// Update: `metropolis` or `heat-bath` (single spins, checkerboard sweeps) or `wolff`
    /// (cluster flips, h = 0 only; best near Tc).
    #[arg(long, default_value = "metropolis", value_parser = kw(Algorithm::NAMES))]
    algorithm: String,

    /// Measured sweeps (N attempted flips each; for Wolff, a fixed number of clusters flipping
    /// about N spins, calibrated in the first 10 equilibration sweeps).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    sweeps: usize,

    /// Sweeps discarded before measuring (the chain starts with all spins up).
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    equilibration: usize,

    /// Lattice snapshots in snapshots.png, evenly spaced over the measured sweeps (0 for none).
    #[arg(long, default_value_t = 4, value_name = "N")]
    snapshots: usize,
}

/// Flags of `ising sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Larger lattice side L (a multiple of 4, at least 8); L/2 is simulated too.
    #[arg(long, default_value_t = 32, value_name = "L")]
    size: usize,

    /// Lowest temperature.
    #[arg(long, default_value_t = 1.5, allow_negative_numbers = true)]
    t_min: f64,

    /// Highest temperature.
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    t_max: f64,

    /// Number of evenly spaced temperatures.
    #[arg(long, default_value_t = 31, value_name = "N")]
    points: usize,

    /// Coupling J (> 0).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    coupling: f64,

    /// Measured sweeps per temperature and size (Wolff within 15% of Tc, Metropolis elsewhere).
    #[arg(long, default_value_t = 5_000, value_name = "N")]
    sweeps: usize,

    /// Sweeps discarded before measuring at each temperature.
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    equilibration: usize,
}

/// Flags of `ising bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Lattice side L (a multiple of 128 for the multi-spin engine).
    #[arg(long, default_value_t = 1024, value_name = "L")]
    size: usize,

    /// Temperature (J = 1, h = 0) [default: Onsager's Tc = 2.2692].
    #[arg(long, allow_negative_numbers = true)]
    temperature: Option<f64>,

    /// Timed sweeps.
    #[arg(long, default_value_t = 200, value_name = "N")]
    sweeps: usize,

    /// Untimed sweeps before timing (from a random start).
    #[arg(long, default_value_t = 20, value_name = "N")]
    warmup: usize,

    /// Thread counts to time, comma-separated.
    #[arg(long = "thread-counts", default_value = "1,2", value_delimiter = ',')]
    thread_counts: Vec<usize>,

    /// Engine: `multispin` (64 spins per word, Metropolis), `checkerboard` (one spin per byte,
    /// Metropolis) or `wolff`.
    #[arg(long, default_value = "multispin", value_parser = kw(Engine::NAMES))]
    engine: String,
}

/// Run an `ising` subcommand.
pub fn run(cmd: IsingCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        IsingCommand::Run(a) => run_one(a, g),
        IsingCommand::Sweep(a) => sweep(a, g),
        IsingCommand::Bench(a) => bench(a, g),
    }
}

fn run_one(a: RunArgs, g: &Global) -> anyhow::Result<()> {
    let cfg = IsingRunConfig {
        model: IsingModel {
            size: a.size,
            coupling: a.coupling,
            field: a.field,
        },
        temperature: a.temperature,
        algorithm: a.algorithm.parse()?,
        sweeps: a.sweeps,
        equilibration: a.equilibration,
        snapshots: a.snapshots,
        seed: g.seed(),
        ..IsingRunConfig::default()
    };
    write_run(g, cfg, ising::run, run_line)
}

fn run_line(s: &RunSummary) -> String {
    let e = &s.estimates;
    let exact = match (s.onsager_energy, s.onsager_magnetization) {
        (Some(u), Some(m)) => format!(" (Onsager, infinite lattice: e = {u:.4}, M = {m:.4})"),
        _ => String::new(),
    };
    format!(
        "ising L={} T={} {} ({:?}): e = {:.5} ± {:.5}, |m| = {:.5} ± {:.5}{exact}; C = {:.3} ± {:.3}, \
         chi = {:.3} ± {:.3}, U4 = {:.4} ± {:.4}, tau_|m| = {:.1} sweeps; {:.2e} flips/s -> {}",
        s.size,
        s.temperature,
        s.algorithm.name(),
        s.engine,
        e.energy,
        e.energy_se,
        e.abs_magnetization,
        e.abs_magnetization_se,
        e.specific_heat,
        e.specific_heat_se,
        e.susceptibility,
        e.susceptibility_se,
        e.binder,
        e.binder_se,
        e.tau_abs_magnetization,
        s.flips_per_second,
        s.run_dir.display()
    )
}

fn sweep(a: SweepArgs, g: &Global) -> anyhow::Result<()> {
    let cfg = IsingSweepConfig {
        size: a.size,
        coupling: a.coupling,
        t_min: a.t_min,
        t_max: a.t_max,
        points: a.points,
        sweeps: a.sweeps,
        equilibration: a.equilibration,
        seed: g.seed(),
        ..IsingSweepConfig::default()
    };
    write_run(g, cfg, ising::sweep, sweep_line)
}

fn sweep_line(s: &SweepSummary) -> String {
    format!(
        "ising sweep L={} and {}, {} temperatures in {:.1} s: tc = {:.4} ({}; Onsager {:.4}, deviation {:+.4}; C peak at {:.3}) -> {}",
        s.sizes[0],
        s.sizes[1],
        s.points,
        s.seconds,
        s.tc,
        s.tc_method,
        s.tc_exact,
        s.tc_deviation,
        s.specific_heat_peak,
        s.run_dir.display()
    )
}

fn bench(a: BenchArgs, g: &Global) -> anyhow::Result<()> {
    let engine: Engine = a.engine.parse()?;
    let base = BenchConfig {
        size: a.size,
        sweeps: a.sweeps,
        warmup: a.warmup,
        engine,
        seed: g.seed(),
        ..BenchConfig::default()
    };
    let base = BenchConfig {
        temperature: a.temperature.unwrap_or(base.temperature),
        ..base
    };
    // Every count is checked before the first is timed.
    for &threads in &a.thread_counts {
        BenchConfig {
            threads,
            ..base.clone()
        }
        .validate()?;
    }
    for &threads in &a.thread_counts {
        let r = ising::benchmark(&BenchConfig {
            threads,
            ..base.clone()
        })?;
        let human = format!(
            "L={} T={:.4} {:?} threads={}: {:.3e} spin flips/s ({:.3} ns/flip, {} sweeps in {:.3} s)",
            r.size,
            r.temperature,
            r.engine,
            r.threads,
            r.flips_per_second,
            r.ns_per_flip,
            r.sweeps,
            r.seconds
        );
        emit(g.json, &human, &r)?;
    }
    Ok(())
}
