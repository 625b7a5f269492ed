//! Bayesian inference: distributions, models written once as log-joints, and inference kept
//! apart from them — SVI with a mean-field Gaussian guide, SGLD and SGHMC.
//!
//! The seed's program (a Bayesian linear regression in Pyro, `AutoDiagonalNormal` +
//! `Trace_ELBO`) is [`linear::BayesLinear::seed_example`] fitted by [`svi::svi`]; its
//! posterior predictive band is [`predictive::RegressionDraws::band`]; Bayes by Backprop for
//! MLPs is [`bbb`].
//!
//! # Example
//! ```
//! use helmholtz::bayes::linear::BayesLinear;
//! use helmholtz::bayes::svi::{SviConfig, svi};
//! use rand::SeedableRng;
//! # fn main() -> helmholtz::Result<()> {
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let model = BayesLinear::seed_example(&mut rng);
//! let fit = svi(&model, &SviConfig::default(), &mut rng, &mut |_, _| {})?;
//! let s = fit.guide.sample(1000, &mut rng).summaries();
//! assert!((s[0].mean - 3.0).abs() < 0.1); // slope
//! # Ok(())
//! # }
//! ```

pub mod bbb;
pub mod distributions;
pub mod fit;
pub mod linear;
pub mod mcmc;
pub mod mixture;
pub mod mlp;
pub mod model;
pub mod params;
pub mod predictive;
pub mod run;
pub mod svi;
