//! Adversarial generative models (Goodfellow et al. 2014) and the tools that evaluate models
//! that give samples but no likelihood.
//!
//! [`gan`] is the model family (the minimax game of a generator and a discriminator);
//! [`parzen`] is the paper's Gaussian Parzen-window log-likelihood estimate; [`frechet`] the
//! Fréchet distance between Gaussians fitted to features (with a small Jacobi eigensolver);
//! [`classifier`] the small in-project classifier whose predictions measure mode coverage and
//! whose hidden features feed the Fréchet distance.

pub mod gan;
