//! Simulated annealing for optimisation: Ising problems, Max-Cut, QUBO and the travelling
//! salesman.
//!
//! Every binary problem becomes an Ising problem in D-Wave's SPIN convention,
//!
//! `E(s) = sum_{i<j} J_ij s_i s_j + sum_i h_i s_i + c`,  `s_i in {-1, +1}`,
//!
//! which is minimised: Max-Cut with `J_ij = w_ij` (cut `C = (W - E) / 2`, [`MaxCut`]), QUBO
//! `x^T Q x` by `x = (1 + s) / 2` with the exact constant ([`Qubo`]). The [`Annealer`] samples
//! `p(s) ∝ exp(-beta E(s))` by single-spin Metropolis sweeps while `beta` rises along a
//! [`crate::sampling::Schedule`] (by default geometric over the beta range dwave-samplers
//! derives from the biases, [`IsingProblem::default_beta_range`]), from many random starts
//! ("reads") in parallel. Tours ([`Cities`]) are annealed by 2-opt moves with Metropolis
//! acceptance on the tour length.
//!
//! # Shapes
//! `h`: `[n]`; `J` as CSR: offsets `[n + 1]`, neighbours and couplings `[2m]`; a state `[n]`
//! of `i8` ±1 (`u8` 0/1 for QUBO, `u32` city indices for tours); read energies `[reads]`.
//!
//! # Example: the maximum cut of a 5-cycle
//! ```
//! use helmholtz::anneal::{AnnealConfig, MaxCut};
//! use helmholtz::train::Silent;
//! # fn main() -> helmholtz::Result<()> {
//! let ring = MaxCut::new(5, (0..5).map(|i| (i, (i + 1) % 5, 1.0)))?;
//! let cfg = AnnealConfig { sweeps: 200, reads: 8, ..AnnealConfig::default() };
//! let annealer = cfg.validate(ring.ising().default_beta_range())?;
//! let out = annealer.anneal(ring.ising(), &Silent);
//! // An odd cycle cannot be 2-coloured: the best cut leaves one edge uncut.
//! assert_eq!(ring.cut_from_energy(out.best_energy()), 4.0);
//! assert_eq!(ring.cut_value(&out.best_state)?, 4.0);
//! # Ok(())
//! # }
//! ```

mod annealer;
mod lanes;
mod maxcut;
mod output;
mod problem;
mod qubo;
mod read;
mod run;
mod tsp;

pub use annealer::{AnnealConfig, AnnealOutcome, AnnealSchedule, Annealer, SpinOrder};
pub use maxcut::MaxCut;
pub use problem::{IsingProblem, MAX_SPINS};
pub use qubo::{Qubo, bits_to_spins, spins_to_bits};
pub use read::FileFormat;
pub use run::{AnnealRunConfig, AnnealSummary, FAMILY, Problem, ProblemKind, ProblemSource, solve};
pub use tsp::Cities;
