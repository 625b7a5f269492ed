//! [`GanParams`]: how a GAN is trained, and the in-memory `fit` that returns the networks;
//! [`Sample`] for [`Gan`].

use serde::{Deserialize, Serialize};

use super::config::{GanConfig, GanObjective};
use super::fit::GanFit;
use super::model::Gan;
use super::pictures::FIXED_TILES;
use crate::api::Sample;
use crate::api::{FitControl, fit_in_memory, setters, trainable};
use crate::data::Dataset;
use crate::error::{Result, check};
use crate::kernels::runtime::DeviceKind;
use crate::rng::rng_for;
use crate::train::TrainConfig;

/// Everything that defines how a GAN is trained, whatever the data: both networks, the losses
/// and Adam, epochs, batch size, seed and device. Defaults are the paper's MNIST MLPs (G
/// 100-256-512-`input`, D `input`-512-256-1 with dropout 0.3) with DCGAN's Adam (2e-4, β₁ 0.5),
/// batches of 64, 100 epochs.
///
/// ```
/// use helmholtz::prelude::*;
/// # fn main() -> helmholtz::Result<()> {
/// let digits = DataConfig::digits().load(0)?;
/// let gan = GanParams::default().generator_hidden(vec![64]).discriminator_hidden(vec![64]);
/// let gan = gan.epochs(1).fit(&digits.train.head(512))?;
/// let x = gan.sample(5, 0)?; // G(z) for five z ~ N(0, I), in [0, 1]
/// assert!(x.len() == 5 * 784 && x.iter().all(|v| (0.0..=1.0).contains(v)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanParams {
    /// The networks (`input` is taken from the data at `fit`).
    pub model: GanConfig,
    /// Losses and optimiser.
    pub objective: GanObjective,
    /// Epochs, batch size, seed.
    pub train: TrainConfig,
    /// Device to train on.
    pub device: DeviceKind,
}

impl Default for GanParams {
    fn default() -> Self {
        Self {
            model: GanConfig::new(0),
            objective: GanObjective::default(),
            train: TrainConfig {
                // On the embedded digits the fixed-noise samples show varied, readable digits
                // after about 100 epochs (after 50 they are still speckled).
                epochs: 100,
                batch_size: 64,
                seed: 0,
            },
            device: DeviceKind::Cpu,
        }
    }
}

trainable!(GanParams, input, objective);
setters!(GanParams {
    /// Hidden widths of the generator, noise side first.
    generator_hidden: Vec<usize> => model.generator_hidden,
    /// Hidden widths of the discriminator, input side first.
    discriminator_hidden: Vec<usize> => model.discriminator_hidden,
    /// Dimensions of the noise `z`.
    noise_dim: usize => model.noise_dim,
    /// Adam's learning rate (both networks).
    lr: f64 => objective.lr,
});

impl GanParams {
    /// Freshly initialised networks for `input`-wide data with their optimisers.
    pub(crate) fn build(&self, input: usize, device: &burn::prelude::Device) -> Result<GanFit> {
        let mut config = self.model.clone();
        config.input = input;
        let seed = self.train.seed;
        let gan = Gan::new(config, device, &mut rng_for(seed, &[0x494e_4954]))?;
        let fixed = gan.noise(FIXED_TILES, &mut rng_for(seed, &[0x4649_5845]));
        GanFit::new(gan, self.objective.clone(), fixed)
    }

    /// Train on `data` (`[n, input]`, values in [0, 1]) in memory and return the networks;
    /// writes no file. Deterministic given the seed.
    pub fn fit(&self, data: &Dataset) -> Result<Gan> {
        self.validate(data.dim())?;
        data.require_unit_interval("the generator's output range")?;
        Ok(fit_in_memory(self, data, FitControl::default(), |device| {
            self.build(data.dim(), device)
        })?
        .into_gan())
    }
}

impl Sample for Gan {
    /// `G(z)` for `n` draws `z ~ N(0, I)`, in [0, 1].
    fn sample(&self, n: usize, seed: u64) -> Result<Vec<f32>> {
        check::positive_count("n", n)?;
        Ok(self.sample_values(n, &mut rng_for(seed, &[0x5341_4d50])))
    }
}
