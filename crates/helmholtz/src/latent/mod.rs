//! Latent-variable models fitted by maximising a variational lower bound on `log p(x)`.
//!
//! A latent-variable model `p(x, z) = p(z) p(x | z)` is fitted together with an inference
//! network `q(z | x)` by maximising the evidence lower bound (the negative variational free
//! energy of the seeds)
//!
//! `log p(x) >= ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))`,
//!
//! with low-variance gradients from reparameterised samples of `q` (Kingma & Welling 2014) for
//! Gaussian latents and from the Gumbel-Softmax relaxation (Jang, Gu & Poole 2017) for
//! categorical ones. [`vae`] is the model family; [`gumbel`] the reusable relaxed sampler.

pub mod gumbel;
pub mod hm;
pub mod vae;
