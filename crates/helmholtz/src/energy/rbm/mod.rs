//! Restricted Boltzmann machines (Smolensky 1986; the seed's RBM chapter, after Fischer & Igel 2012).
//!
//! A bipartite Boltzmann machine with visible units `v` and hidden units `h`:
//! `p(v, h) = exp(-E(v, h)) / Z`, `E(v, h) = -b.v - c.h - v^T W h`. The layers are conditionally
//! independent, so block Gibbs sampling alternates two matrix products, and summing out `h`
//! gives the free energy `F(v) = -b.v - sum_j softplus(c_j + v.W_j)`, `p(v) = exp(-F(v)) / Z`.
//! Learning follows the log-likelihood gradient `<v h^T>_data - <v h^T>_model`, with the model
//! term estimated by CD-k or PCD-k ([`ContrastiveDivergence`]); `log Z` for evaluation comes
//! from annealed importance sampling ([`ais_log_z`]) or, for small models, enumeration
//! ([`log_z_exact`]).
//!
//! # Shapes
//! `W`: `[visible, hidden]`; `b`: `[visible]`; `c`: `[hidden]`; batches `[n, visible]`.
//!
//! # Example
//! ```
//! use burn::prelude::*;
//! use helmholtz::energy::rbm::{CdConfig, ContrastiveDivergence, Rbm, RbmConfig, log_z_exact};
//! use rand::SeedableRng;
//! # fn main() -> helmholtz::Result<()> {
//! let device = Device::flex();
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let mut rbm = Rbm::new(RbmConfig::new(6, 3), &device, &mut rng)?;
//! let data = Tensor::<2>::from_data([[1.0f32, 1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]], &device);
//! let mut cd = ContrastiveDivergence::new(CdConfig { k: 5, ..CdConfig::default() }, &rbm)?;
//! let before = -rbm.free_energy(&data).iter().sum::<f64>() / 2.0 - log_z_exact(&rbm)?;
//! for _ in 0..300 {
//!     cd.step(&mut rbm, &data, 0.1, 0.5, false, &mut rng);
//! }
//! let after = -rbm.free_energy(&data).iter().sum::<f64>() / 2.0 - log_z_exact(&rbm)?;
//! assert!(after > before + 1.0, "log-likelihood {before:.3} -> {after:.3}");
//! # Ok(())
//! # }
//! ```

mod ais;
mod cd;
mod config;
mod exact;
mod fit;
mod host;
mod model;
mod params;
mod run;

pub use ais::{AisConfig, AisEstimate, ais_log_z, base_log_z};
pub use cd::{ContrastiveDivergence, Gradient, Statistics};
pub use config::{CdConfig, LrSchedule, NegativePhase, RbmConfig, VisibleKind};
pub use exact::{
    MAX_ENUMERATED_UNITS, binary_states, exact_log_likelihood_gradient, exact_possible,
    log_p_all_visible, log_sum_exp, log_z_exact,
};
pub use fit::{RbmFit, pseudo_log_likelihood, shade_for};
pub use model::{Rbm, logit};
pub use params::RbmParams;
pub use run::{
    ChainStart, EvalReport, EvalRequest, FAMILY, PreparedData, RbmRunConfig, SampleRequest,
    SampleSummary, base_bias, evaluate, evaluate_run, open_run, prepare_data, sample_run,
    transform_run,
};
