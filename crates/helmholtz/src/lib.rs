//! # helmholtz
//!
//! Probabilistic generative models fitted by minimising a free energy: restricted Boltzmann
//! machines, Hopfield networks, Boltzmann machines and the Ising model ([`energy`]), with
//! simulated annealing for optimisation ([`anneal`]) and the samplers they share
//! ([`sampling`]); variational autoencoders with Gaussian and Gumbel-Softmax latents
//! ([`latent`]); GANs and Bayesian neural networks are to follow. Every model fits a
//! distribution `p(x | theta)` to data by minimising `KL(data || model)`, i.e. maximising the
//! likelihood, or a variational free energy that bounds it.
//!
//! Tensors come from [burn](https://burn.dev) 0.22 (`Tensor<D>` on a `Device`): the `flex`
//! CPU backend by default, CUDA with the `cuda` feature. Hot CPU paths (Gibbs sampling,
//! annealed importance sampling) run fused kernels from [`kernels`].
//!
//! ## Tutorial: an RBM on the embedded digits
//! ```no_run
//! use helmholtz::prelude::*;
//! # fn main() -> helmholtz::Result<()> {
//! let cfg = RbmRunConfig {
//!     family: "rbm".into(),
//!     helmholtz_version: String::new(),
//!     model: RbmConfig::new(0, 200), // `visible` is taken from the data
//!     cd: CdConfig::default(),
//!     train: TrainConfig { epochs: 5, batch_size: 100, seed: 0 },
//!     data: DataConfig { source: DataSource::Digits, binarize: Binarize::Threshold, table: TableOptions::default() },
//!     sample_steps: 200,
//!     ais: AisConfig { runs: 100, betas: 1000 },
//!     device: DeviceKind::Cpu,
//! };
//! let opts = RunOptions { progress: &Silent, interrupt: None, stop_after: None, skip_eval: false };
//! let summary = helmholtz::energy::rbm::train(cfg, Some("runs/tutorial".as_ref()), &opts)?;
//! println!("test log-likelihood {:.2} nats", summary.eval.test_log_likelihood);
//! # Ok(())
//! # }
//! ```

pub mod adversarial;
pub mod anneal;
pub mod bayes;
pub mod data;
pub mod energy;
mod error;
pub mod kernels;
pub mod latent;
pub mod report;
pub mod rng;
pub mod sampling;
pub mod train;

pub use error::{Error, Result};

/// The types most programs need.
pub mod prelude {
    pub use crate::data::{Binarize, DataConfig, DataSource, DataSplit, Dataset, TableOptions};
    pub use crate::energy::rbm::{
        AisConfig, CdConfig, Rbm, RbmConfig, RbmRunConfig, RunOptions, VisibleKind,
    };
    pub use crate::kernels::runtime::{DeviceKind, init_threads};
    pub use crate::latent::vae::{ElboConfig, Latent, Likelihood, Vae, VaeConfig, VaeRunConfig};
    pub use crate::train::{Progress, RunDir, Silent, TrainConfig};
    pub use crate::{Error, Result};
}
