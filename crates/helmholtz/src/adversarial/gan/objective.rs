//! The adversarial losses, all from the discriminator's logits `l` (`D = sigmoid(l)`) with the
//! stable `softplus(l) = log(1 + e^l) = max(l, 0) + log1p(e^{-|l|})`:
//!
//! - `-log D = softplus(-l)`, `-log(1 - D) = softplus(l)`.
//! - Discriminator (minimising the negative of the value function, real target `t`, 1 without
//!   smoothing): `L_D = mean_x [softplus(l_x) - t l_x] + mean_z softplus(l_z)`, i.e. the binary
//!   cross-entropy of real examples against `t` and of fakes against 0.
//! - Generator, non-saturating: `L_G = mean_z -log D(G(z)) = mean_z softplus(-l_z)`.
//! - Generator, minimax: `L_G = mean_z log(1 - D(G(z))) = -mean_z softplus(l_z)`.
//!
//! # Shapes
//! Logits `[n, 1]` (or any shape; means are over all entries); losses are 1-element tensors.

use burn::prelude::*;

use super::config::GanLoss;

/// `softplus(l) = log(1 + e^l)`, computed without overflow.
pub fn softplus<const D: usize>(l: Tensor<D>) -> Tensor<D> {
    // softplus(l) = -log sigmoid(-l), with burn's stable log_sigmoid. (A hand-written
    // max(l, 0) + log1p(e^{-|l|}) got wrong gradients under burn's autodiff here; see
    // tests/gan.rs `loss_gradient_signs`.)
    burn::tensor::activation::log_sigmoid(l.neg()).neg()
}

/// The discriminator's loss on real logits and fake logits, with real target `real_target`.
pub fn discriminator_loss(real: Tensor<2>, fake: Tensor<2>, real_target: f64) -> Tensor<1> {
    let real_term = softplus(real.clone()) - real.mul_scalar(real_target);
    real_term.mean() + softplus(fake).mean()
}

/// The generator's loss on the logits of its samples.
pub fn generator_loss(fake: Tensor<2>, loss: GanLoss) -> Tensor<1> {
    match loss {
        GanLoss::NonSaturating => softplus(fake.neg()).mean(),
        GanLoss::Minimax => softplus(fake).mean().neg(),
    }
}
