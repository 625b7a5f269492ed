//! The ELBO and its pieces: reparameterisation, analytic KL terms, the Bernoulli log-likelihood
//! from logits.

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::relu;
use rand::{Rng, RngExt};

use super::model::{Posterior, Vae};
use crate::kernels::noise;
use crate::latent::gumbel;

/// Binary cross-entropy from logits, element-wise: `bce(x, l) = softplus(l) - x l
/// = max(l, 0) - x l + log(1 + exp(-|l|))` (finite for every finite `l`; equals the naive
/// `-x log sigmoid(l) - (1 - x) log(1 - sigmoid(l))` wherever that is finite).
pub fn bce_with_logits(x: Tensor<2>, logits: Tensor<2>) -> Tensor<2> {
    relu(logits.clone()) - x * logits.clone() + logits.abs().neg().exp().log1p()
}

/// `KL(N(mu, diag exp(log_var)) || N(0, I)) = -1/2 sum_j (1 + log_var_j - mu_j^2 - exp(log_var_j))`
/// per row, `[n]`.
pub fn kl_standard_normal(mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    let n = mu.dims()[0];
    (mu.square() + log_var.clone().exp() - log_var)
        .sub_scalar(1.0)
        .mul_scalar(0.5)
        .sum_dim(1)
        .reshape([n])
}

/// The reparameterised sample `z = mu + exp(log_var / 2) * eps`, `eps ~ N(0, I)`: a
/// differentiable function of `(mu, log_var)`.
pub fn reparameterize(mu: Tensor<2>, log_var: Tensor<2>, eps: Tensor<2>) -> Tensor<2> {
    mu + log_var.mul_scalar(0.5).exp() * eps
}

/// `N(0, I)` noise of shape `dims`, drawn on the CPU from `rng`.
pub fn standard_normal(dims: [usize; 2], device: &Device, rng: &mut impl Rng) -> Tensor<2> {
    let values: Vec<f32> = (0..dims[0] * dims[1])
        .map(|_| rng.sample::<f32, _>(rand_distr::StandardNormal))
        .collect();
    Tensor::from_data(TensorData::new(values, dims), device)
}

/// How categorical latents are sampled when estimating the ELBO.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// Gumbel-Softmax relaxation at temperature `tau` (training); with `straight_through`, the
    /// forward value is the one-hot argmax.
    Relaxed {
        /// Temperature.
        tau: f64,
        /// Straight-through estimator.
        straight_through: bool,
    },
    /// Exact one-hot samples of `q` (evaluation: the ELBO of the discrete model).
    Hard,
}

/// One-sample estimates of the ELBO's two terms per example.
#[derive(Debug, Clone)]
pub struct ElboTerms {
    /// Reconstruction cost `-log p(x | z)`, `z ~ q(z | x)`, `[n]`.
    pub recon: Tensor<1>,
    /// `KL(q(z | x) || p(z))` in closed form, `[n]`.
    pub kl: Tensor<1>,
}

impl ElboTerms {
    /// The ELBO per example, `-(recon + kl)`, `[n]`.
    pub fn elbo(&self) -> Tensor<1> {
        (self.recon.clone() + self.kl.clone()).neg()
    }

    /// The training loss `sum_i recon_i + beta * kl_i` (summed over the batch, as the
    /// PyTorch reference's `reduction='sum'`), a scalar `[1]`.
    pub fn loss(&self, beta: f64) -> Tensor<1> {
        (self.recon.clone() + self.kl.clone().mul_scalar(beta)).sum()
    }
}

/// The ELBO of a batch `x: [n, input]`: encode, draw one `z ~ q(z | x)` (reparameterised, or a
/// Gumbel-Softmax / hard categorical sample), decode, and the closed-form KL to the prior.
/// Noise comes from `rng`, on the CPU.
pub fn elbo(vae: &Vae, x: &Tensor<2>, sampling: Sampling, rng: &mut impl Rng) -> ElboTerms {
    elbo_with(vae, x, sampling, Noise::Rng(rng))
}

/// [`elbo`] with its noise from the counter-based stream `key`: `eps_i = normal(key, i)` or
/// the Gumbel noise `g_i = gumbel(key, i)` at the flat index `i` of the `[n, dim]` or
/// `[n, groups * classes]` sample, the values the host engine draws for the same key. The
/// tensor path trains with it, so that both engines take the same steps.
pub fn elbo_keyed(vae: &Vae, x: &Tensor<2>, sampling: Sampling, key: u64) -> ElboTerms {
    elbo_with::<rand::rngs::StdRng>(vae, x, sampling, Noise::Keyed(key))
}

/// Where the noise of one ELBO estimate comes from.
enum Noise<'a, R> {
    /// Drawn from a generator.
    Rng(&'a mut R),
    /// Read from the counter-based stream of a key.
    Keyed(u64),
}

impl<R: Rng> Noise<'_, R> {
    fn normal(&mut self, dims: [usize; 2], device: &Device) -> Tensor<2> {
        match self {
            Noise::Rng(rng) => standard_normal(dims, device, *rng),
            Noise::Keyed(key) => {
                let v = (0..dims[0] * dims[1])
                    .map(|i| noise::normal(*key, i as u64))
                    .collect();
                Tensor::from_data(TensorData::new(v, dims), device)
            }
        }
    }

    fn gumbel(&mut self, dims: [usize; 3], device: &Device) -> Tensor<3> {
        match self {
            Noise::Rng(rng) => gumbel::gumbel_noise(dims, device, *rng),
            Noise::Keyed(key) => {
                let mut v = vec![0f32; dims.iter().product()];
                noise::gumbel_fill(&mut v, *key, 0);
                Tensor::from_data(TensorData::new(v, dims), device)
            }
        }
    }
}

fn elbo_with<R: Rng>(
    vae: &Vae,
    x: &Tensor<2>,
    sampling: Sampling,
    mut noise: Noise<'_, R>,
) -> ElboTerms {
    let noise_device = x.device().without_autodiff();
    let (code, kl) = match vae.encode(x.clone()) {
        Posterior::Gaussian { mu, log_var } => {
            let eps = noise.normal(mu.dims(), &noise_device);
            let kl = kl_standard_normal(mu.clone(), log_var.clone());
            (reparameterize(mu, log_var, eps), kl)
        }
        Posterior::Categorical { logits } => {
            let dims = logits.dims();
            let g = noise.gumbel(dims, &noise_device);
            let kl = gumbel::kl_to_uniform(logits.clone());
            let y = match sampling {
                Sampling::Relaxed {
                    tau,
                    straight_through,
                } => {
                    let soft = gumbel::gumbel_softmax(logits, g, tau);
                    if straight_through {
                        gumbel::straight_through(soft)
                    } else {
                        soft
                    }
                }
                Sampling::Hard => gumbel::one_hot_argmax(&(logits.detach() + g)),
            };
            (y.reshape([dims[0], dims[1] * dims[2]]), kl)
        }
    };
    let decoded = vae.decode(code);
    ElboTerms {
        recon: vae.log_likelihood(x.clone(), decoded).neg(),
        kl,
    }
}
