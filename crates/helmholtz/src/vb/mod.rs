//! Variational Bayes by coordinate ascent (CAVI): closed-form updates of a mean-field
//! posterior that never lower the evidence lower bound.
//!
//! ```text
//! ln p(X) = L(q) + KL(q || p(. | X)),   L(q) = E_q[ln p(X, Z, theta)] - E_q[ln q(Z, theta)]
//! q_j* ∝ exp(E_{q_-j}[ln p(X, Z, theta)])      one factor at a time
//! ```
//!
//! [`gmm`]: the Bayesian Gaussian mixture with Dirichlet or Dirichlet-process weights,
//! agreeing with scikit-learn's `BayesianGaussianMixture`.

pub mod gmm;
pub mod run;

pub use gmm::{Covariance, Fitted, Gmm, GmmParams, Init, Priors, WeightPrior};
pub use run::{GmmData, GmmRunConfig, GmmSummary, InitSpec, fit_gmm};
