//! Boltzmann machines (Ackley, Hinton & Sejnowski 1985), as derived in the seed: stochastic
//! binary units on a fully connected symmetric network, visible and hidden.
//!
//! `p(u) = exp(-E(u) / T) / Z` with `E(u) = -sum_{i<j} w_ij u_i u_j - sum_i b_i u_i`; a unit is on
//! with probability `sigmoid(I_i / T)`. Learning minimises `KL(p_data(v) || q(v))`, whose
//! gradient gives the seed's rule `dw_ij = lambda (<u_i u_j>_data - <u_i u_j>_model)`: exact by
//! enumeration up to 20 units, Gibbs-sampled beyond.
//!
//! # Shapes
//! Weights `[n, n]`, biases and states `[n]`, `n = visible + hidden`; visible distributions are
//! indexed by the visible state with unit `i` as bit `i`.
//!
//! # Example: the seed's AND system
//! ```
//! use helmholtz::energy::boltzmann::{BoltzmannConfig, BoltzmannMachine, LearnConfig, Target, TrainingData, learn};
//! use helmholtz::train::Silent;
//! use rand::SeedableRng;
//! # fn main() -> helmholtz::Result<()> {
//! let data = TrainingData::from_target(Target::And);
//! let cfg = BoltzmannConfig { visible: 3, hidden: 0, init_std: 0.1 };
//! let mut bm = BoltzmannMachine::new(cfg, &mut rand::rngs::StdRng::seed_from_u64(0))?;
//! let log = learn(&mut bm, &data, &LearnConfig { steps: 500, ..LearnConfig::default() }, &Silent)?;
//! let kl = log.last().and_then(|l| l.kl).unwrap_or(f64::NAN);
//! assert!(kl < 0.05, "KL {kl}");
//! # Ok(())
//! # }
//! ```

mod exact;
mod learn;
mod model;
mod run;
mod targets;

pub use exact::{
    MAX_EXACT_UNITS, VisibleDistribution, data_moments, distribution, exact_gradient,
    kl_divergence, model_moments, state_energies, visible_marginal,
};
pub use learn::{Expectations, LearnConfig, LearnLog, learn};
pub use model::{BoltzmannConfig, BoltzmannMachine, state_bits, state_index};
pub use run::{
    BoltzmannRunConfig, BoltzmannSummary, FAMILY, SampleRequest, SampleSummary, StateRow,
    TrainingSource, kl_of, open, sample, sample_states, train,
};
pub use targets::{Target, TrainingData};
