//! The Gaussian stochastic layer of the host path: the reparameterised sample, its KL to `N(0, I)` and
//! the gradient with respect to the encoder's head.
//!
//! The head row is `[mu | log sigma^2]` (`2Z` values); `z = mu + sigma eps`,
//! `KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)`;
//! `dmu = dz + beta mu`, `dlog sigma^2 = dz eps sigma / 2 + beta (sigma^2 - 1) / 2`.
//!
//! # Shapes
//! `head`: `[B, 2Z]`; `eps`, `z`, `dz`: `[B, Z]`.

use crate::kernels::noise;

/// Draw `eps` from stream `key`, fill `z` and return the batch's summed KL.
pub(crate) fn sample(head: &[f32], eps: &mut [f32], z: &mut [f32], dim: usize, key: u64) -> f64 {
    eps.iter_mut()
        .enumerate()
        .for_each(|(i, e)| *e = noise::normal(key, i as u64));
    let mut kl = 0f64;
    for ((h, eps), z) in head
        .chunks_exact(2 * dim)
        .zip(eps.chunks_exact(dim))
        .zip(z.chunks_exact_mut(dim))
    {
        let (mu, log_var) = h.split_at(dim);
        for j in 0..dim {
            let sigma = (0.5 * log_var[j]).exp();
            z[j] = mu[j] + sigma * eps[j];
            kl += -0.5 * f64::from(1.0 + log_var[j] - mu[j] * mu[j] - sigma * sigma);
        }
    }
    kl
}

/// `d loss / d head` from `dz = d recon / d z` and the KL weight `beta`.
pub(crate) fn backward(
    head: &[f32],
    eps: &[f32],
    dz: &[f32],
    dhead: &mut [f32],
    dim: usize,
    beta: f32,
) {
    for (((h, eps), dz), dh) in head
        .chunks_exact(2 * dim)
        .zip(eps.chunks_exact(dim))
        .zip(dz.chunks_exact(dim))
        .zip(dhead.chunks_exact_mut(2 * dim))
    {
        let (mu, log_var) = h.split_at(dim);
        let (dmu, dlog_var) = dh.split_at_mut(dim);
        for j in 0..dim {
            let sigma = (0.5 * log_var[j]).exp();
            dmu[j] = dz[j] + beta * mu[j];
            dlog_var[j] = 0.5 * dz[j] * eps[j] * sigma + 0.5 * beta * (sigma * sigma - 1.0);
        }
    }
}
