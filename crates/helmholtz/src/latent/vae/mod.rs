//! Variational autoencoders (Kingma & Welling 2014, "Auto-Encoding Variational Bayes"; the
//! seeds' PyTorch VAE), with Gaussian or Gumbel-Softmax categorical latents (Jang et al. 2017).
//!
//! The model is `p(x, z) = p(z) p(x | z)` with a decoder network for `p(x | z)`; an encoder
//! network gives the approximate posterior `q(z | x)`. Both are fitted by maximising the ELBO
//! (minimising the variational free energy `F = -ELBO`):
//!
//! `ELBO(x) = E_{q(z|x)}[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x)`.
//!
//! - Gaussian latents: `q(z | x) = N(mu(x), diag exp(log_var(x)))`, `p(z) = N(0, I)`; samples are
//!   reparameterised, `z = mu + exp(log_var / 2) * eps` with `eps ~ N(0, I)` ([`reparameterize`]),
//!   so the one-sample estimate of the ELBO is differentiable in the encoder's outputs (the SGVB
//!   estimator); `KL = -1/2 sum_j (1 + log_var_j - mu_j^2 - exp(log_var_j))` ([`kl_standard_normal`]).
//! - Categorical latents (`groups` variables of `classes` categories): `q` is a product of
//!   categoricals `softmax(logits)`, `p(z)` uniform, `KL = sum q log(q * classes)`; training
//!   samples are Gumbel-Softmax relaxations at temperature `tau` (optionally straight-through),
//!   annealed as `tau = max(tau_min, tau0 exp(-r t))` ([`crate::latent::gumbel`]).
//! - Decoders: Bernoulli, `log p(x | z) = -sum_j bce(x_j, l_j)` with the stable
//!   `bce(x, l) = softplus(l) - x l` from logits ([`bce_with_logits`]); or Gaussian with a learned
//!   per-dimension standard deviation for real-valued (standardised) data.
//! - Training loss per mini-batch: `sum_i [-log p(x_i | z_i) + beta_t KL_i]` (summed over the
//!   batch as PyTorch's `reduction='sum'`), with the KL weight `beta_t` warmed up linearly from 0
//!   to `beta`; Adam (burn's, epsilon 1e-8 as PyTorch).
//! - Evaluation: the test ELBO and the importance-weighted bound
//!   `L_k = log (1/k) sum_i p(x, z_i) / q(z_i | x)` ([`iw_bound`]), reported as a test NLL.
//!
//! # Shapes
//! `x`: `[n, input]`; Gaussian `mu`, `log_var`, `z`: `[n, dim]`; categorical `logits` and samples:
//! `[n, groups, classes]`, flattened group-major to `[n, groups * classes]` for the decoder;
//! decoder output (logits or means): `[n, input]`; per-example terms: `[n]`. Weights are stored
//! `[in, out]` (`y = x W + b`); see [`Vae`] for the safetensors names.
//!
//! # Example
//! ```
//! use burn::prelude::*;
//! use helmholtz::latent::vae::{Vae, VaeConfig, Sampling, elbo, iw_bound};
//! use helmholtz::train::Silent;
//! use rand::SeedableRng;
//! # fn main() -> helmholtz::Result<()> {
//! let device = Device::flex();
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let config = VaeConfig { hidden: vec![16], ..VaeConfig::new(6) };
//! let vae = Vae::new(config, &device, &mut rng)?;
//! let x = Tensor::<2>::from_data([[1.0f32, 1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]], &device);
//! let terms = elbo(&vae, &x, Sampling::Hard, &mut rng);
//! let elbo_mean = terms.elbo().mean().into_scalar::<f32>() as f64;
//! let iw = iw_bound(&vae, &x, 100, &mut rng, &Silent)?;
//! // Both bound log p(x) from below; with 100 samples the bound is tighter (up to noise).
//! assert!(iw.mean() > elbo_mean - 1.0, "L_100 {:.3} vs ELBO {elbo_mean:.3}", iw.mean());
//! # Ok(())
//! # }
//! ```

mod anomaly;
mod bounds;
mod config;
pub mod engine;
mod fit;
mod model;
mod objective;
mod params;
mod pictures;
mod run;

pub use crate::run::{SampleRequest, SampleSummary};
pub use anomaly::{
    AnomalyReport, AnomalyRequest, ClassAuc, HoldoutSweep, ScoreKind, holdout_sweep, score_run,
};
pub use bounds::{ROWS_PER_PASS, elbo_per_example, iw_bound};
pub use config::{ElboConfig, Engine, Latent, Likelihood, VaeConfig, parse_hidden};
pub use fit::{METRIC_EXAMPLES, VaeFit, binarize};
pub use model::{Posterior, Vae};
pub use objective::{
    ElboTerms, Sampling, bce_with_logits, elbo, elbo_keyed, kl_standard_normal, reparameterize,
    standard_normal,
};
pub use params::VaeParams;
pub use pictures::{PictureData, mode_code, prior_codes, write_pictures};
pub use run::{
    DEFAULT_SAMPLES, EvalReport, EvalRequest, FAMILY, PreparedData, VaeRunConfig, encode_run,
    evaluate, evaluate_run, open_run, prepare_data, sample_run,
};
