//! # helmholtz
//!
//! Probabilistic generative models fitted by minimising a free energy: restricted Boltzmann
//! machines, Hopfield networks, Boltzmann machines and the Ising model ([`energy`]), with
//! simulated annealing for optimisation ([`anneal`]) and the samplers they share
//! ([`sampling`]); variational autoencoders with Gaussian and Gumbel-Softmax latents
//! ([`latent`]); generative adversarial networks ([`adversarial`]); Bayesian regression and
//! Bayesian neural networks by SVI, Bayes by Backprop, SGLD and SGHMC ([`bayes`]); active
//! inference agents that perceive, plan and learn on discrete POMDPs ([`aif`]); the Bayesian
//! Gaussian mixture by coordinate-ascent variational Bayes ([`vb`]). Every model
//! fits a distribution `p(x | theta)` to data by minimising `KL(data || model)`, i.e.
//! maximising the likelihood, or a variational free energy that bounds it.
//!
//! Tensors come from [burn](https://burn.dev) 0.22 (`Tensor<D>` on a `Device`): the `flex`
//! CPU backend by default, CUDA with the `cuda` feature. Hot CPU paths run fused kernels
//! ([`kernels`]) and the host network kit ([`nn`]).
//!
//! ## Tutorial: an RBM on the embedded digits
//! ```
//! use helmholtz::prelude::*;
//! # fn main() -> helmholtz::Result<()> {
//! let digits = DataConfig::digits().load(0)?; // 8,000 train / 2,000 test, binarised
//! let rbm = RbmParams::default().hidden(16).epochs(2).fit(&digits.train)?;
//! let ll = rbm.score(&digits.test, 0)?; // exact: 16 hidden units are enumerable
//! let samples = rbm.sample(10, 0)?; // 10 x 784 values of E[v | h] after Gibbs sampling
//! println!("test log-likelihood {:.2} ± {:.2} nats ({:?}); {} sample values", ll.mean(), ll.se(), ll.estimate, samples.len());
//! # Ok(())
//! # }
//! ```
//! Nothing is written to disk. To train into a run directory (config, metrics, checkpoints,
//! pictures, report) as the command line does, hand a run configuration to
//! [`run::train`]; `helmholtz rbm train` is that call.
//!
//! ## Layers
//! `io`, `data`, `kernels`, `report` and `nn` know nothing of training or of any family;
//! `train` is the fit loop; `run` the driver over any [`run::Family`]; `eval` the shared
//! evaluation tools; each family (`energy::*`, `latent::vae`, `adversarial::gan`, `bayes`,
//! `anneal`, `aif`, `vb`) uses the layers below it and never another family. See ARCHITECTURE.md.

pub mod adversarial;
pub mod aif;
pub mod anneal;
pub mod api;
pub mod baseline;
pub mod bayes;
pub mod budget;
pub mod compare;
pub mod data;
pub mod energy;
mod error;
pub mod eval;
pub mod io;
pub mod kernels;
mod keywords;
pub mod latent;
pub mod nn;
pub mod predictive_coding;
pub mod report;
pub mod rng;
pub mod run;
pub mod sampling;
pub mod train;
pub mod vb;

pub use error::{Error, Result, rewrite_settings};

/// The types most programs need.
pub mod prelude {
    pub use crate::adversarial::gan::{Gan, GanParams, GanRunConfig};
    pub use crate::api::{Estimate, Persist, Sample, Score, Scores, Trainable, Transform};
    pub use crate::bayes::params::{BnnData, BnnParams, BnnRunConfig, Method};
    pub use crate::bayes::run::{Bnn, BnnTask, Posterior};
    pub use crate::data::{Binarize, DataConfig, DataSource, DataSplit, Dataset, TableOptions};
    pub use crate::energy::rbm::{
        AisConfig, CdConfig, Rbm, RbmConfig, RbmParams, RbmRunConfig, VisibleKind,
    };
    pub use crate::io::RunDir;
    pub use crate::kernels::runtime::{DeviceKind, init_threads};
    pub use crate::latent::vae::{
        ElboConfig, Latent, Likelihood, Vae, VaeConfig, VaeParams, VaeRunConfig,
    };
    pub use crate::run::{Family, RunOptions, Summary};
    pub use crate::train::{Progress, Silent, TrainConfig};
    pub use crate::{Error, Result};
}
