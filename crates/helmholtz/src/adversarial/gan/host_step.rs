//! The MLP GAN's updates on the host path of the network kit: generator and discriminator as
//! host [`Mlp`]s with their hand-written backward passes and Adam (the same updates as the
//! autodiff model, without recording a graph per step).
//!
//! With discriminator logits `l = D(x)` and `sigma` the logistic function, per mini-batch of
//! `m` real images and `m` noise vectors `z ~ N(0, I)`:
//! - discriminator loss `(1/m) sum [softplus(l_real) - t l_real] + (1/m) sum softplus(l_fake)`
//!   (binary cross-entropy from logits, real target `t = 1` or the smoothed label);
//!   `dL/dl_real = (sigma(l_real) - t) / m`, `dL/dl_fake = sigma(l_fake) / m`;
//! - generator loss, non-saturating `(1/m) sum softplus(-l_fake)` with
//!   `dL/dl = (sigma(l) - 1) / m`, or minimax `-(1/m) sum softplus(l_fake)` (`log(1 - D)`),
//!   `dL/dl = -sigma(l) / m`; the gradient flows through `D` (its parameters untouched) into `G`.
//!
//! Images are scaled to `[-1, 1]` (the generator ends in `tanh`); every forward pass of the
//! discriminator in training draws fresh dropout masks.
//!
//! # Shapes
//! Noise `[m, noise_dim]`; images `[m, D]`; logits `[m, 1]`.

use burn::optim::AdamState;

use super::model::Gan;
use crate::kernels::math::{sigmoid, softplus};
use crate::kernels::noise;
use crate::nn::dense::AdamSettings;
use crate::nn::mlp::{Activation, Mlp};

/// Which generator objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorObjective {
    /// Maximise `log D(G(z))`.
    NonSaturating,
    /// Minimise `log(1 - D(G(z)))`, the original minimax game.
    Minimax,
}

/// What one discriminator step measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DiscriminatorStep {
    /// The discriminator loss (mean over the batch, real plus fake term).
    pub loss: f64,
    /// Mean `D(x)` on the real images.
    pub d_real: f64,
    /// Mean `D(G(z))` on the generated images.
    pub d_fake: f64,
}

/// Generator and discriminator on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostGan {
    /// `G: [m, noise_dim] -> [m, D]`.
    pub generator: Mlp,
    /// `D: [m, D] -> [m, 1]` logits.
    pub discriminator: Mlp,
    /// Width of `z`.
    pub noise_dim: usize,
}

/// `z ~ N(0, I)`, `[m, noise_dim]`, from the counter-based stream `key`.
fn noise_batch(m: usize, noise_dim: usize, key: u64) -> Vec<f32> {
    (0..m * noise_dim)
        .map(|i| noise::normal(key, i as u64))
        .collect()
}

impl HostGan {
    /// Generate `m` images in `[-1, 1]` from the noise stream `key`.
    pub fn generate(&self, m: usize, key: u64) -> Vec<f32> {
        let z = noise_batch(m, self.noise_dim, key);
        self.generator
            .forward(&z, m)
            .outputs
            .pop()
            .unwrap_or_default()
    }

    /// One Adam step of the discriminator on `real` (`[m, D]`, in `[-1, 1]`) against `m` fresh
    /// samples.
    pub fn discriminator_step(
        &mut self,
        real: &[f32],
        m: usize,
        real_target: f32,
        key: u64,
        adam: AdamSettings,
    ) -> DiscriminatorStep {
        let fake = self.generate(m, key);
        let d = &self.discriminator;
        let (tr, tf) = (
            d.forward_train(real, m, key ^ 0x5EA1),
            d.forward_train(&fake, m, key ^ 0xFA4E),
        );
        let inv = 1.0 / m as f32;
        let mut out = DiscriminatorStep::default();
        let d_real: Vec<f32> = tr
            .output()
            .iter()
            .map(|&l| {
                out.loss += f64::from(softplus(l) - real_target * l);
                out.d_real += f64::from(sigmoid(l));
                (sigmoid(l) - real_target) * inv
            })
            .collect();
        let d_fake: Vec<f32> = tf
            .output()
            .iter()
            .map(|&l| {
                out.loss += f64::from(softplus(l));
                out.d_fake += f64::from(sigmoid(l));
                sigmoid(l) * inv
            })
            .collect();
        let mut grads = d.zero_grads();
        d.backward(real, &tr, &d_real, Some(&mut grads), false);
        d.backward(&fake, &tf, &d_fake, Some(&mut grads), false);
        self.discriminator.adam_step(&grads, adam);
        let n = m as f64;
        DiscriminatorStep {
            loss: out.loss / n,
            d_real: out.d_real / n,
            d_fake: out.d_fake / n,
        }
    }

    /// One Adam step of the generator on `m` noise vectors; returns its loss.
    pub fn generator_step(
        &mut self,
        m: usize,
        objective: GeneratorObjective,
        key: u64,
        adam: AdamSettings,
    ) -> f64 {
        let z = noise_batch(m, self.noise_dim, key);
        let tg = self.generator.forward(&z, m);
        let fake = tg.output();
        let td = self.discriminator.forward_train(fake, m, key ^ 0xD15C);
        let inv = 1.0 / m as f32;
        let mut loss = 0f64;
        let d_logit: Vec<f32> = td
            .output()
            .iter()
            .map(|&l| match objective {
                GeneratorObjective::NonSaturating => {
                    loss += f64::from(softplus(-l));
                    (sigmoid(l) - 1.0) * inv
                }
                GeneratorObjective::Minimax => {
                    loss -= f64::from(softplus(l));
                    -sigmoid(l) * inv
                }
            })
            .collect();
        let d_fake = self
            .discriminator
            .backward(fake, &td, &d_logit, None, true)
            .unwrap_or_default();
        let mut grads = self.generator.zero_grads();
        self.generator
            .backward(&z, &tg, &d_fake, Some(&mut grads), false);
        self.generator.adam_step(&grads, adam);
        loss / m as f64
    }
}

impl HostGan {
    /// The engine for `gan` with the Adam states of its generator and discriminator.
    pub(crate) fn from_gan(
        gan: &Gan,
        g_states: &[Option<AdamState<2>>],
        d_states: &[Option<AdamState<2>>],
    ) -> Self {
        let c = gan.config();
        let leaky = Activation::LeakyRelu(c.leaky_slope as f32);
        let g_acts = activations(gan.generator_layers().len(), leaky, Activation::Tanh);
        let d_layers = gan.discriminator_layers().len();
        let d_acts = activations(d_layers, leaky, Activation::Identity);
        let dropout = (0..d_layers)
            .map(|l| {
                if l + 1 < d_layers {
                    c.dropout as f32
                } else {
                    0.0
                }
            })
            .collect();
        Self {
            generator: Mlp::from_tensor_layers(gan.generator_layers(), g_states, g_acts),
            discriminator: Mlp::from_tensor_layers(gan.discriminator_layers(), d_states, d_acts)
                .with_dropout(dropout),
            noise_dim: c.noise_dim,
        }
    }

    /// Write the parameters and Adam moments back into `gan` and the states.
    pub(crate) fn write_back(
        &self,
        gan: &mut Gan,
        g_states: &mut [Option<AdamState<2>>],
        d_states: &mut [Option<AdamState<2>>],
    ) {
        (self.generator).to_tensor_layers(gan.generator_layers_mut(), g_states);
        (self.discriminator).to_tensor_layers(gan.discriminator_layers_mut(), d_states);
    }

    /// Name of the first network layer holding a NaN or infinity.
    pub fn non_finite_parameter(&self) -> Option<String> {
        let g = self
            .generator
            .non_finite_layer()
            .map(|l| format!("generator.{l}"));
        g.or_else(|| {
            self.discriminator
                .non_finite_layer()
                .map(|l| format!("discriminator.{l}"))
        })
    }
}

/// `hidden` activations for all layers but the last, `last` for it.
fn activations(layers: usize, hidden: Activation, last: Activation) -> Vec<Activation> {
    (0..layers)
        .map(|i| if i + 1 == layers { last } else { hidden })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::dense::Dense;

    fn layer(inp: usize, out: usize, seed: u64) -> Dense {
        Dense::gaussian(inp, out, 1.0, 0.0, seed)
    }

    fn toy() -> HostGan {
        HostGan {
            generator: Mlp::new(
                vec![layer(2, 8, 1), layer(8, 4, 2)],
                vec![Activation::Relu, Activation::Sigmoid],
            ),
            discriminator: Mlp::new(
                vec![layer(4, 8, 3), layer(8, 1, 4)],
                vec![Activation::LeakyRelu(0.2), Activation::Identity],
            ),
            noise_dim: 2,
        }
    }

    #[test]
    fn discriminator_steps_separate_real_from_fake_and_generator_steps_fool_it() {
        let adam = AdamSettings {
            lr: 1e-2,
            beta1: 0.5,
            ..AdamSettings::default()
        };
        let mut gan = toy();
        let real: Vec<f32> = (0..16).flat_map(|_| [1.0, 0.0, 1.0, 0.0]).collect();
        let first = gan.discriminator_step(&real, 16, 1.0, 0, adam);
        let mut last = first;
        for k in 1..50 {
            last = gan.discriminator_step(&real, 16, 1.0, k, adam);
        }
        assert!(
            last.loss < first.loss && last.d_real > last.d_fake,
            "{first:?} -> {last:?}"
        );
        // The generator, trained against the fixed discriminator, raises D(G(z)).
        for objective in [
            GeneratorObjective::NonSaturating,
            GeneratorObjective::Minimax,
        ] {
            let mut g = gan.clone();
            let before = g.discriminator_step(&real, 16, 1.0, 99, AdamSettings { lr: 0.0, ..adam });
            for k in 0..50 {
                g.generator_step(16, objective, 100 + k, adam);
            }
            let after = g.discriminator_step(&real, 16, 1.0, 99, AdamSettings { lr: 0.0, ..adam });
            assert!(
                after.d_fake > before.d_fake,
                "{objective:?}: {before:?} -> {after:?}"
            );
        }
    }
}
