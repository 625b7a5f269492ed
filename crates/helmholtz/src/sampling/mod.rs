//! Samplers shared by the energy models: acceptance rules (heat-bath / Gibbs and Metropolis),
//! temperature schedules for annealing, and the statistics of Markov-chain output.
//!
//! For a state `s` with energy `E(s)` at temperature `T` (inverse temperature `beta = 1/T`)
//! the target is the canonical distribution `p(s) = exp(-E(s)/T) / Z`. A binary unit with input
//! (local field) `I` is on with the heat-bath probability `sigmoid(I / T)` (the seed's
//! `p(u_i = 1) = 1 / (1 + exp(-I_i / T))`); a proposed change with energy difference `dE` is
//! accepted by Metropolis with probability `min(1, exp(-beta dE))` or by heat-bath with
//! `1 / (1 + exp(beta dE))`. Both leave `p` invariant. Simulated annealing lowers `T` along a
//! [`Schedule`] so that the chain settles in low-energy states.
//!
//! ```
//! use helmholtz::sampling::{Schedule, metropolis_acceptance, heat_bath_on};
//! # fn main() -> helmholtz::Result<()> {
//! let s: Schedule = "geometric:10:0.1".parse()?;
//! assert!((s.temperature(0, 5) - 10.0).abs() < 1e-12 && (s.temperature(4, 5) - 0.1).abs() < 1e-12);
//! assert_eq!(metropolis_acceptance(-1.0, 2.0), 1.0);
//! assert!((heat_bath_on(0.0, 1.0) - 0.5).abs() < 1e-12);
//! # Ok(())
//! # }
//! ```

mod rules;
mod schedule;
mod stats;

pub use rules::{Sampler, heat_bath_flip, heat_bath_on, metropolis_acceptance};
pub use schedule::{Schedule, ais_betas};
pub use stats::{Estimate, integrated_autocorrelation_time, mean_with_error};
