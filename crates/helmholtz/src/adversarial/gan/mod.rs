//! Generative adversarial nets (Goodfellow et al. 2014, "Generative Adversarial Nets").
//!
//! A generator `G(z)` maps noise `z ~ p_z = N(0, I)` to data space; a discriminator `D(x)`
//! estimates the probability that `x` came from the data rather than from `G`. They play the
//! minimax game
//!
//! `min_G max_D V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p_z}[log(1 - D(G(z)))]`,
//!
//! whose optimum has `p_g = p_data` and `D = 1/2` (the value is `-log 4`, the Jensen-Shannon
//! divergence of `p_data` and `p_g` being 0). Training follows Algorithm 1: `k` discriminator
//! steps (ascending `V`) per generator step; the generator either descends `V` itself
//! ([`GanLoss::Minimax`]) or, as the paper recommends, ascends `log D(G(z))`
//! ([`GanLoss::NonSaturating`]). All losses are computed from logits with the stable
//! `softplus` ([`discriminator_loss`], [`generator_loss`]); Adam (lr 2e-4, beta1 0.5).
//!
//! Networks ([`Arch`]): the paper's MLPs (default: G 100-256-512-784 with LeakyReLU and a
//! `tanh` output, D 784-512-256-1 with LeakyReLU and dropout 0.3), or a DCGAN-style pair of
//! transposed / strided 4x4 convolutions ([`GanConfig::conv`]). Both see images scaled to
//! `[-1, 1]`; on the CPU the MLP pair trains on a hand-written engine ([`host_step`]), the
//! convolutional pair on burn's autodiff.
//!
//! A GAN has no tractable likelihood: [`crate::eval::parzen`] estimates one with a
//! Gaussian Parzen window on samples, as the paper's Table 1; [`crate::eval::classifier`]
//! and [`crate::eval::frechet`] measure mode coverage and feature statistics.
//!
//! # Shapes
//! Noise `z`: `[n, noise_dim]`; samples and data `x`: `[n, input]` in `[0, 1]` (the public
//! API; `[-1, 1]` inside); logits `[n, 1]`. Dense weights are stored `[in, out]` (`y = x W +
//! b`), convolution kernels `[c_out, c_in * 16]` and transposed ones `[c_in, c_out * 16]`;
//! see [`Gan`] for the names.
//!
//! # Example
//! ```
//! use burn::prelude::*;
//! use helmholtz::adversarial::gan::{Gan, GanConfig, GanLoss, discriminator_loss, generator_loss};
//! use rand::SeedableRng;
//! # fn main() -> helmholtz::Result<()> {
//! let device = Device::flex();
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let config = GanConfig { noise_dim: 4, generator_hidden: vec![8], discriminator_hidden: vec![8], ..GanConfig::new(6) };
//! let gan = Gan::new(config, &device, &mut rng)?;
//! let fake = gan.generate(gan.noise(5, &mut rng));
//! assert_eq!(fake.dims(), [5, 6]);
//! let real = Tensor::<2>::ones([5, 6], &device);
//! let d = discriminator_loss(gan.discriminate(real), gan.discriminate(fake.clone()), 1.0);
//! let g = generator_loss(gan.discriminate(fake), GanLoss::NonSaturating);
//! // Each loss is a sum/mean of positive softplus terms.
//! assert!(d.into_scalar::<f32>() > 0.0 && g.into_scalar::<f32>() > 0.0);
//! # Ok(())
//! # }
//! ```

mod config;
mod fit;
pub mod host_step;
pub(crate) mod model;
mod objective;
mod params;
mod pictures;
mod run;

pub use crate::run::{SampleRequest, SampleSummary};
pub use config::{Arch, GanConfig, GanLoss, GanObjective};
pub use fit::GanFit;
pub use model::Gan;
pub use objective::{discriminator_loss, generator_loss, softplus};
pub use params::GanParams;
pub use pictures::{FIXED_TILES, nearest_rows};
pub use run::{
    EvalReport, EvalRequest, FAMILY, GanRunConfig, PreparedData, evaluate_run, open_run,
    prepare_data, sample_run,
};
