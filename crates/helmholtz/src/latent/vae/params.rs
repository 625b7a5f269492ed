//! [`VaeParams`]: how a VAE is trained, and the in-memory `fit` that returns the model; the
//! shared model traits ([`Score`], [`Sample`], [`Transform`]) for [`Vae`].

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::bounds::{elbo_per_example, iw_bound};
use super::config::{ElboConfig, Latent, Likelihood, VaeConfig};
use super::fit::VaeFit;
use super::model::Vae;
use super::pictures::{PictureData, mode_code, prior_codes};
use crate::api::{Estimate, Sample, Score, Scores, Transform};
use crate::api::{FitControl, fit_in_memory, setters, trainable};
use crate::data::Dataset;
use crate::error::{Result, check};
use crate::kernels::ops;
use crate::kernels::runtime::DeviceKind;
use crate::rng::rng_for;
use crate::train::{Silent, TrainConfig};

/// Everything that defines how a VAE is trained, whatever the data: the networks, the ELBO
/// and Adam, epochs, batch size, seed and device. Defaults are the PyTorch reference VAE's:
/// `input`-400-20 with ReLU, a Bernoulli decoder from logits, Adam 1e-3, batches of 128, 50
/// epochs.
///
/// ```
/// use helmholtz::prelude::*;
/// # fn main() -> helmholtz::Result<()> {
/// let digits = DataConfig::digits().load(0)?;
/// let vae = VaeParams::default().hidden(vec![64]).latent(Latent::Gaussian { dim: 4 }).epochs(1);
/// let vae = vae.fit(&digits.train.head(1000))?;
/// let elbo = vae.score(&digits.test.head(100), 0)?;
/// assert_eq!(elbo.estimate, Estimate::Elbo);
/// let iw = vae.score_iw(&digits.test.head(100), 10, 0)?;
/// assert!(iw.mean() > elbo.mean() - 3.0 * elbo.se()); // the IW bound is the tighter one
/// let z = vae.transform(&digits.test.head(2))?; // posterior means, 2 x 4
/// let x = vae.sample(3, 0)?; // E[x | z], z ~ p(z): 3 x 784
/// assert_eq!((z.len(), x.len()), (8, 3 * 784));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeParams {
    /// Architecture (`input` is taken from the data at `fit`).
    pub model: VaeConfig,
    /// The objective and the optimiser.
    pub objective: ElboConfig,
    /// Epochs, batch size, seed.
    pub train: TrainConfig,
    /// Device to train on.
    pub device: DeviceKind,
}

impl Default for VaeParams {
    fn default() -> Self {
        Self {
            model: VaeConfig::new(0),
            objective: ElboConfig::default(),
            train: TrainConfig {
                // The test ELBO on the embedded digits levels off after about 50 epochs (and
                // slowly overfits after 70).
                epochs: 50,
                batch_size: 128,
                seed: 0,
            },
            device: DeviceKind::Cpu,
        }
    }
}

trainable!(VaeParams, input, objective);
setters!(VaeParams {
    /// Hidden-layer widths of the encoder (the decoder mirrors them).
    hidden: Vec<usize> => model.hidden,
    /// The latent variables and their prior.
    latent: Latent => model.latent,
    /// The decoder's distribution.
    likelihood: Likelihood => model.likelihood,
    /// Adam's learning rate.
    lr: f64 => objective.lr,
});

impl VaeParams {
    /// A freshly initialised model for `input`-wide data with its optimiser; `pictures` are the
    /// examples the run's pictures show.
    pub(crate) fn build(
        &self,
        input: usize,
        pictures: PictureData,
        device: &Device,
    ) -> Result<VaeFit> {
        let mut config = self.model.clone();
        config.input = input;
        let vae = Vae::new(
            config,
            device,
            &mut rng_for(self.train.seed, &[0x494e_4954]),
        )?;
        VaeFit::new(vae, self.objective.clone(), pictures)
    }

    /// Train on `data` (`[n, input]`; values in [0, 1] for a Bernoulli decoder) in memory and
    /// return the model; writes no file. Deterministic given the seed.
    pub fn fit(&self, data: &Dataset) -> Result<Vae> {
        self.fit_with(data, FitControl::default())
    }

    /// [`VaeParams::fit`] reporting to, and stoppable through, `control`.
    pub fn fit_with(&self, data: &Dataset, control: FitControl<'_>) -> Result<Vae> {
        self.validate(data.dim())?;
        if self.model.likelihood == Likelihood::Bernoulli {
            data.require_unit_interval(
                "a Bernoulli decoder needs (for real-valued data set `likelihood` to `gaussian`)",
            )?;
        }
        let pictures = PictureData {
            examples: data.head(1),
            unstandardize: None,
        };
        fit_in_memory(self, data, control, |device| {
            self.build(data.dim(), pictures, device)
        })?
        .into_vae()
    }
}

impl Vae {
    /// The importance-weighted bound `log (1/k) Σ p(x, z_i) / q(z_i | x)` per example, with `k`
    /// samples of `q` (Burda et al. 2016).
    pub fn score_iw(&self, data: &Dataset, k: usize, seed: u64) -> Result<Scores> {
        let x = data.to_tensor(&self.device());
        iw_bound(self, &x, k, &mut rng_for(seed, &[0x4957_4145]), &Silent)
    }
}

impl Vae {
    /// [`Vae::score_iw`] with each example's samples drawn from a stream of its own, keyed by
    /// its values and `seed`: an example's bound depends neither on the other examples nor on
    /// their order (one example at a time, so slower than [`Vae::score_iw`] on large sets).
    pub fn score_iw_per_example(&self, data: &Dataset, k: usize, seed: u64) -> Result<Scores> {
        let mut per_example = Vec::with_capacity(data.len());
        let mut estimate = Estimate::IwBound { k };
        for r in 0..data.len() {
            let s = self.score_iw(
                &data.select(&[r]),
                k,
                crate::rng::content_seed(seed, data.row(r)),
            )?;
            per_example.extend(s.per_example);
            estimate = s.estimate;
        }
        Ok(Scores {
            per_example,
            estimate,
        })
    }
}

impl Score for Vae {
    /// The one-sample ELBO per example (a lower bound on `log p(x)`); see [`Vae::score_iw`]
    /// for the tighter importance-weighted bound.
    fn score(&self, data: &Dataset, seed: u64) -> Result<Scores> {
        let x = data.to_tensor(&self.device());
        let (elbo, _, _) = elbo_per_example(self, &x, &mut rng_for(seed, &[0x454c_424f]));
        Ok(elbo)
    }
}

impl Sample for Vae {
    /// `E[x | z]` for `n` draws `z ~ p(z)`.
    fn sample(&self, n: usize, seed: u64) -> Result<Vec<f32>> {
        check::positive_count("n", n)?;
        let z = prior_codes(self, n, &mut rng_for(seed, &[0x5341_4d50]));
        Ok(ops::to_f32_vec(self.mean(self.decode(z))))
    }
}

impl Transform for Vae {
    /// The posterior means `E_q[z | x]` (Gaussian latents) or the most probable categories as
    /// one-hot codes (categorical latents), `[n, code width]`.
    fn transform(&self, data: &Dataset) -> Result<Vec<f32>> {
        let posterior = self.encode(data.to_tensor(&self.device()));
        Ok(ops::to_f32_vec(mode_code(&posterior)))
    }
}
