//! The two-dimensional Ising model (Lenz 1920, Ising 1925; solved by Onsager 1944).
//!
//! Spins `s_i = +-1` on an `L x L` square lattice with periodic boundaries, coupling `J` and
//! field `h`:
//!
//! `H(s) = -J sum_<ij> s_i s_j - h sum_i s_i`,  `p(s) = exp(-H(s) / T) / Z`  (`k_B = 1`).
//!
//! For `J > 0`, `h = 0` the lattice orders below `Tc = 2J / ln(1 + sqrt 2) = 2.269 J`, with
//! spontaneous magnetisation `M = (1 - sinh(2J/T)^-4)^(1/8)` ([`onsager`]).
//!
//! Samplers ([`IsingChain`], one sweep = `N` attempted flips):
//! - Metropolis and heat bath ([`crate::sampling`]'s rules) in checkerboard sweeps, where each
//!   sublattice is updated at once, in parallel over fixed row blocks;
//! - Metropolis with multi-spin coding at `h = 0`: 64 spins per `u64`, bit-sliced neighbour
//!   counts, and random bit masks with the exact acceptance probabilities (over 1e9 flips/s on
//!   two cores for `L = 1024`; see the multispin module docs);
//! - Wolff clusters (`h = 0`), for the critical region.
//!
//! Measurements ([`observables`]): `e`, `|m|`, `m^2`, `m^4` with autocorrelation-aware errors,
//! `chi`, `C`, the Binder cumulant `U4`; [`exact_averages`] enumerates tiny lattices, and
//! [`run()`] and [`sweep()`] write run directories for the CLI.
//!
//! # Shapes
//! A [`Lattice`] holds `L * L` spins (`i8`, `+-1`) row-major, `s[y * L + x]`; `L` is even (two
//! sublattices) and a multiple of 128 for the multi-spin engine. Measurements are per spin.
//!
//! # Example
//! ```
//! use helmholtz::energy::ising::{Algorithm, IsingChain, IsingModel, exact_averages, observables};
//! # fn main() -> helmholtz::Result<()> {
//! // A 4 x 4 lattice at T = 2.5: heat-bath sampling against exact enumeration of 2^16 states.
//! let model = IsingModel { size: 4, coupling: 1.0, field: 0.0 };
//! let mut chain = IsingChain::new(&model, 2.5, Algorithm::HeatBath, 0)?;
//! chain.sweeps(500);
//! let series: Vec<_> = (0..20_000).map(|_| { chain.sweep(); chain.measure() }).collect();
//! let est = observables(&series, 1.0 / 2.5, model.spins());
//! let exact = exact_averages(&model, 2.5)?;
//! assert!((est.energy.mean - exact.energy).abs() < 4.0 * est.energy.se);
//! # Ok(())
//! # }
//! ```

mod bench;
mod chain;
mod checkerboard;
mod exact;
mod lattice;
mod multispin;
mod observables;
pub mod onsager;
mod plots;
mod run;
mod sweep;
mod wolff;

pub use bench::{BenchConfig, BenchReport, benchmark};
pub use chain::{Algorithm, Engine, IsingChain, default_engine};
pub use exact::{ExactAverages, MAX_EXACT_SPINS, exact_averages};
pub use lattice::{IsingModel, Lattice};
pub use multispin::multispin_supported;
pub use observables::{Derived, Measurement, Observables, observables};
pub use onsager::{
    critical_temperature, internal_energy, specific_heat, spontaneous_magnetization,
};
pub use run::{FAMILY, FlatObservables, IsingRunConfig, MAX_SNAPSHOTS, RunSummary, run};
pub use sweep::{
    IsingSweepConfig, SweepPoint, SweepSummary, binder_crossing, simulate_point,
    specific_heat_peak, sweep, sweep_algorithm,
};
