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
//! See [`BoltzmannParams`]: `BoltzmannParams { model, ..Default::default() }.fit(&data)` learns
//! in memory; `helmholtz::run::train::<BoltzmannMachine>` trains into a run directory.

mod exact;
mod learn;
mod model;
mod run;
mod targets;

pub use exact::{
    MAX_EXACT_UNITS, VisibleDistribution, data_moments, distribution, exact_gradient,
    kl_divergence, model_moments, state_energies, visible_marginal,
};
pub use learn::{
    BoltzmannFit, BoltzmannParams, Expectations, LearnConfig, machine_file, machine_from_file,
};
pub use model::{BoltzmannConfig, BoltzmannMachine, state_bits, state_index};
pub use run::{
    BoltzmannData, BoltzmannEval, BoltzmannRunConfig, FAMILY, Mixing, SampleRequest, SampleSummary,
    StateRow, TrainingSource, kl_of, mixing_sweeps, open, sample, sample_states,
};
pub use targets::{Target, TrainingData};
