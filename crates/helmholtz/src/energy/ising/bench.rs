//! Throughput of the samplers: attempted single-spin updates (spin flips) per second.
//!
//! The chain starts from a random configuration, runs `warmup` untimed sweeps, then `sweeps`
//! timed ones on a private rayon pool of `threads` threads. A Wolff sweep counts as `N` flips
//! (it flips at least `N` spins).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::chain::{Algorithm, Engine, IsingChain};
use super::lattice::{IsingModel, Lattice};
use crate::error::{Error, Result, check};

/// What to time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchConfig {
    /// Lattice side (a multiple of 128 for the multi-spin engine).
    pub size: usize,
    /// Temperature (`J = 1`, `h = 0`).
    pub temperature: f64,
    /// Timed sweeps.
    pub sweeps: usize,
    /// Untimed sweeps first.
    pub warmup: usize,
    /// Threads of the pool.
    pub threads: usize,
    /// Engine to time.
    pub engine: Engine,
    /// Seed.
    pub seed: u64,
}

impl Default for BenchConfig {
    /// `L = 1024` at `T = Tc`, multi-spin Metropolis, 20 + 200 sweeps, one thread.
    fn default() -> Self {
        Self {
            size: 1024,
            temperature: super::onsager::critical_temperature(1.0),
            sweeps: 200,
            warmup: 20,
            threads: 1,
            engine: Engine::Multispin,
            seed: 0,
        }
    }
}

/// Measured throughput.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Lattice side.
    pub size: usize,
    /// Temperature.
    pub temperature: f64,
    /// Threads.
    pub threads: usize,
    /// Engine.
    pub engine: Engine,
    /// Timed sweeps.
    pub sweeps: usize,
    /// Seconds of the timed sweeps.
    pub seconds: f64,
    /// Spin flips (attempted updates) per second.
    pub flips_per_second: f64,
    /// Nanoseconds per spin flip.
    pub ns_per_flip: f64,
    /// `|m|` at the end (a sanity check that the chain moved).
    pub abs_magnetization: f64,
}

impl BenchConfig {
    /// Check the counts: sweeps, and threads (whose stacks must fit the memory budget).
    pub fn validate(&self) -> Result<()> {
        check::positive_count("sweeps", self.sweeps)?;
        crate::kernels::runtime::check_threads("thread-counts", self.threads)
    }
}

/// Time `cfg.sweeps` sweeps.
pub fn benchmark(cfg: &BenchConfig) -> Result<BenchReport> {
    cfg.validate()?;
    let model = IsingModel {
        size: cfg.size,
        coupling: 1.0,
        field: 0.0,
    };
    let algorithm = match cfg.engine {
        Engine::Wolff => Algorithm::Wolff,
        _ => Algorithm::Metropolis,
    };
    let mut chain =
        IsingChain::with_engine(&model, cfg.temperature, algorithm, cfg.engine, cfg.seed)?;
    chain.set_lattice(&Lattice::random(cfg.size, cfg.seed))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .start_handler(|_| crate::kernels::runtime::flush_denormals_here())
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    let seconds = pool.install(|| {
        chain.sweeps(cfg.warmup);
        let start = Instant::now();
        chain.sweeps(cfg.sweeps);
        start.elapsed().as_secs_f64()
    });
    let flips = (model.spins() * cfg.sweeps) as f64;
    Ok(BenchReport {
        size: cfg.size,
        temperature: cfg.temperature,
        threads: cfg.threads,
        engine: cfg.engine,
        sweeps: cfg.sweeps,
        seconds,
        flips_per_second: flips / seconds.max(1e-12),
        ns_per_flip: seconds * 1e9 / flips,
        abs_magnetization: chain.measure().magnetization.abs(),
    })
}
