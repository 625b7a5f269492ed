//! Stochastic layers of the host path and the output likelihoods they are trained with.
//!
//! - [`gaussian`]: `z = mu + sigma eps` from a head `[mu | log sigma^2]`, its KL to `N(0, I)`
//!   and the backward pass to the head;
//! - [`categorical`]: the Gumbel-Softmax sample (relaxed or straight-through) of groups of
//!   logits, its KL to the uniform prior and the backward pass;
//! - [`likelihood`]: `-log p(x | a)` of a Bernoulli (logits `a`) or unit-variance Gaussian
//!   output row with its gradient, in one pass.
//!
//! Noise comes from the counter-based streams of [`crate::kernels::noise`], keyed per step, so
//! the tensor path can draw the very same `eps` and Gumbel values.

pub(crate) mod categorical;
pub(crate) mod gaussian;
pub(crate) mod likelihood;
