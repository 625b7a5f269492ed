//! [`RbmParams`]: how an RBM is trained, and the in-memory `fit` that returns the model; the
//! shared model traits ([`Score`], [`Sample`], [`Transform`]) for [`Rbm`].

use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::ais::{AisConfig, ais_log_z};
use super::cd::ContrastiveDivergence;
use super::config::{CdConfig, NegativePhase, RbmConfig, VisibleKind};
use super::exact::{exact_possible, log_z_exact};
use super::fit::{RbmFit, noise};
use super::model::Rbm;
use super::run::base_bias;
use crate::api::{Estimate, Sample, Score, Scores, Transform};
use crate::api::{FitControl, fit_in_memory, setters, trainable};
use crate::data::Dataset;
use crate::error::Result;
use crate::kernels::ops;
use crate::kernels::runtime::DeviceKind;
use crate::rng::rng_for;
use crate::train::{Silent, TrainConfig};

/// Everything that defines how an RBM is trained, whatever the data: the architecture, CD/PCD
/// and the optimiser, epochs, batch size, seed and device. Defaults are Hinton's guide's and
/// Tieleman's PCD: 500 hidden units, PCD-1 with 100 chains, lr 0.05 decaying linearly,
/// momentum 0.5, weight decay 1e-4, 30 epochs of batches of 100.
///
/// ```
/// use helmholtz::prelude::*;
/// # fn main() -> helmholtz::Result<()> {
/// let digits = DataConfig::digits().load(0)?;
/// let rbm = RbmParams::default().hidden(10).epochs(1).fit(&digits.train.head(500))?;
/// let ll = rbm.score(&digits.test.head(100), 0)?;
/// assert!(ll.mean() < 0.0 && ll.estimate == Estimate::Exact);
/// let h = rbm.transform(&digits.test.head(3))?; // p(h = 1 | v), 3 x 10
/// assert_eq!(h.len(), 30);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbmParams {
    /// Architecture (`visible` is taken from the data at `fit`).
    pub model: RbmConfig,
    /// CD/PCD settings and the optimiser.
    pub cd: CdConfig,
    /// Epochs, batch size, seed.
    pub train: TrainConfig,
    /// Device to train on.
    pub device: DeviceKind,
}

impl Default for RbmParams {
    fn default() -> Self {
        Self {
            model: RbmConfig::new(0, 500),
            cd: CdConfig::default(),
            train: TrainConfig {
                epochs: 30,
                batch_size: 100,
                seed: 0,
            },
            device: DeviceKind::Cpu,
        }
    }
}

trainable!(RbmParams, visible, cd);
setters!(RbmParams {
    /// Hidden units.
    hidden: usize => model.hidden,
    /// Visible unit type (Gaussian units expect standardised data).
    visible_kind: VisibleKind => model.visible_kind,
    /// Base learning rate.
    lr: f64 => cd.lr,
    /// Gibbs steps per update (the k of CD-k / PCD-k).
    k: usize => cd.k,
    /// Plain CD (chains restart at the data) or PCD (persistent chains).
    negative_phase: NegativePhase => cd.negative,
});

impl RbmParams {
    /// A freshly initialised model (visible biases from the data means) with its optimiser.
    pub(crate) fn build(&self, train: &Dataset, device: &Device) -> Result<RbmFit> {
        let mut config = self.model.clone();
        config.visible = train.dim();
        let mut rbm = Rbm::new(
            config,
            device,
            &mut rng_for(self.train.seed, &[0x494e_4954]),
        )?;
        rbm.init_visible_bias(&train.column_means());
        let cd = ContrastiveDivergence::new(self.cd.clone(), &rbm)?;
        Ok(RbmFit::new(rbm, cd, 0, None))
    }

    /// Train on `data` (`[n, visible]`, values in [0, 1] for Bernoulli units) in memory and
    /// return the model; writes no file. Deterministic given the seed.
    pub fn fit(&self, data: &Dataset) -> Result<Rbm> {
        if self.model.visible_kind == VisibleKind::Bernoulli {
            data.require_unit_interval(
                "a Bernoulli RBM needs (for real-valued data set `visible` to `gaussian`)",
            )?;
        }
        self.fit_with(data, FitControl::default())
    }

    /// [`RbmParams::fit`] reporting to, and stoppable through, `control`. Values of Bernoulli
    /// data are taken as they are, as scikit-learn's `BernoulliRBM` takes them: the energy
    /// and its gradients are defined for any real `v`, though only values in [0, 1] are
    /// probabilities of the binary units ([`RbmParams::fit`] refuses the others).
    pub fn fit_with(&self, data: &Dataset, control: FitControl<'_>) -> Result<Rbm> {
        self.validate(data.dim())?;
        Ok(fit_in_memory(self, data, control, |device| self.build(data, device))?.rbm)
    }
}

impl Rbm {
    /// Per-example log-likelihoods `-F(v) - log Z` of `data`: exact when the model is small
    /// enough to enumerate, else through `log Z` estimated by AIS with `ais`.
    pub fn score_with(&self, data: &Dataset, ais: &AisConfig, seed: u64) -> Result<Scores> {
        let f = self.free_energy(&data.to_tensor(&self.device()));
        let (log_z, estimate) = if exact_possible(self) {
            (log_z_exact(self)?, Estimate::Exact)
        } else {
            let base = base_bias(data, self.config().visible_kind);
            let est = ais_log_z(
                self,
                &base,
                ais,
                &mut rng_for(seed, &[0x4149_5300]),
                &Silent,
            )?;
            (est.log_z, Estimate::Ais)
        };
        Ok(Scores {
            per_example: f.iter().map(|f| -f - log_z).collect(),
            estimate,
        })
    }
}

impl Score for Rbm {
    /// [`Rbm::score_with`] with 100 AIS runs of 1,000 inverse temperatures where `log Z` cannot
    /// be enumerated (the run driver's evaluation uses 14,500).
    fn score(&self, data: &Dataset, seed: u64) -> Result<Scores> {
        let ais = AisConfig {
            runs: 100,
            betas: 1000,
        };
        self.score_with(data, &ais, seed)
    }
}

impl Sample for Rbm {
    /// `E[v | h]` after 1,000 block Gibbs steps from noise, one chain per sample.
    fn sample(&self, n: usize, seed: u64) -> Result<Vec<f32>> {
        let mut rng = rng_for(seed, &[0x5341_4d50]);
        let v0 = noise(self, n, &mut rng);
        let (mean, _) = self.gibbs(v0, 1000, &mut rng);
        Ok(ops::to_f32_vec(mean))
    }
}

impl Transform for Rbm {
    /// The hidden probabilities `p(h_j = 1 | v)`, `[n, hidden]`.
    fn transform(&self, data: &Dataset) -> Result<Vec<f32>> {
        Ok(ops::to_f32_vec(
            self.hidden_probs(&data.to_tensor(&self.device())),
        ))
    }
}

impl Rbm {
    /// The pseudo-log-likelihood estimate of scikit-learn's `BernoulliRBM.score_samples`, per
    /// example: `d ln sigmoid(F(v') - F(v))`, where `v'` is `v` with one unit flipped
    /// (`v'_i = 1 - v_i`) and `d` the number of visible units; `d` times the log-probability
    /// of that unit given the others. The flipped unit is chosen from the example's own values
    /// and `seed`, so an example's score depends neither on the other examples nor on their
    /// order (scikit-learn draws the units for the whole batch from one stream).
    pub fn pseudo_likelihood(&self, data: &Dataset, seed: u64) -> Result<Scores> {
        if self.config().visible_kind != VisibleKind::Bernoulli {
            return Err(crate::error::Error::param(
                "visible",
                "the pseudo-likelihood flips binary units; it needs Bernoulli visibles",
            ));
        }
        let d = data.dim();
        let flipped: Vec<f32> = (0..data.len())
            .flat_map(|r| {
                let row = data.row(r);
                let i = flipped_unit(row, seed);
                row.iter()
                    .enumerate()
                    .map(move |(j, &v)| if j == i { 1.0 - v } else { v })
            })
            .collect();
        let device = self.device();
        let f = self.free_energy(&data.to_tensor(&device));
        let flipped = Tensor::from_data(TensorData::new(flipped, [data.len(), d]), &device);
        let f_flipped = self.free_energy(&flipped);
        let per_example = f
            .iter()
            .zip(&f_flipped)
            // d ln sigmoid(x) = -d softplus(-x), in f64.
            .map(|(f, g)| {
                let x = g - f;
                -(d as f64) * ((-x).max(0.0) + (-x.abs()).exp().ln_1p())
            })
            .collect();
        Ok(Scores {
            per_example,
            estimate: Estimate::PseudoLikelihood,
        })
    }
}

/// The unit of `row` that [`Rbm::pseudo_likelihood`] flips: a hash of the row's values and
/// `seed`, reduced to `0..row.len()`.
fn flipped_unit(row: &[f32], seed: u64) -> usize {
    (crate::rng::content_seed(seed, row) % row.len() as u64) as usize
}
