//! The RBM as the trainer drives it: CD/PCD updates, per-epoch metrics, pictures, checkpoints.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::{Rng, RngExt};

use super::cd::ContrastiveDivergence;
use super::config::{NegativePhase, VisibleKind};
use super::exact::{exact_possible, log_z_exact};
use super::model::Rbm;
use crate::api::Persist;
use crate::data::data_units;
use crate::error::Result;
use crate::io::{RunDir, TensorFile};
use crate::kernels::ops;
use crate::report::{GridSpec, Shade, save_grid};
use crate::train::{EpochData, Fit, Metrics, PictureAt, Step, mini_batch};

/// Examples of each split used for the per-epoch metrics.
const METRIC_EXAMPLES: usize = 1000;

/// Pictures show this many filters and chains.
const PICTURE_TILES: usize = 100;

/// Epochs between two redraws of the sample picture (it is also drawn after the last epoch).
const SAMPLE_EVERY: usize = 5;

/// An RBM with its CD/PCD optimiser, as a [`Fit`].
pub struct RbmFit {
    /// The model.
    pub rbm: Rbm,
    /// The optimiser and persistent chains.
    pub cd: ContrastiveDivergence,
    /// Gibbs steps for the per-epoch sample grid.
    pub sample_steps: usize,
    /// Shape of one example as an image, for pictures.
    pub image_shape: Option<[usize; 2]>,
    /// Per-column `(mean, std)` to undo standardisation in pictures (Gaussian visibles).
    pub unstandardize: Option<(Vec<f64>, Vec<f64>)>,
    last_recon: f64,
}

impl RbmFit {
    /// Wrap a model and its optimiser.
    pub fn new(
        rbm: Rbm,
        cd: ContrastiveDivergence,
        sample_steps: usize,
        image_shape: Option<[usize; 2]>,
    ) -> Self {
        Self {
            rbm,
            cd,
            sample_steps,
            image_shape,
            unstandardize: None,
            last_recon: 0.0,
        }
    }
}

impl Fit for RbmFit {
    fn live_metric(&self) -> &'static str {
        "recon"
    }

    fn train_batch(&mut self, x: Option<Tensor<2>>, step: &Step, rng: &mut StdRng) -> Result<f64> {
        let x = mini_batch(x)?;
        let cfg = self.cd.config();
        let lr = cfg.lr * cfg.lr_schedule.factor(step.progress());
        let momentum = cfg.momentum_at(step.epoch);
        // Under PCD the reconstruction costs an extra product; measure it on every 10th batch.
        let want = cfg.negative == NegativePhase::Cd || step.batch.is_multiple_of(10);
        if let Some(r) = self.cd.step(&mut self.rbm, &x, lr, momentum, want, rng) {
            self.last_recon = r;
        }
        Ok(self.last_recon)
    }

    fn epoch_metrics(&mut self, at: EpochData<'_>, rng: &mut StdRng) -> Result<Metrics> {
        let EpochData {
            train, validation, ..
        } = at;
        let device = self.rbm.device();
        let train = train.head(METRIC_EXAMPLES).to_tensor(&device);
        let mut m: Metrics = vec![("recon_error", self.rbm.reconstruction_error(&train))];
        if self.rbm.config().visible_kind == VisibleKind::Bernoulli {
            m.push((
                "pseudo_log_likelihood",
                pseudo_log_likelihood(&self.rbm, &train, rng),
            ));
        }
        if let Some(validation) = validation {
            let valid = validation.head(METRIC_EXAMPLES).to_tensor(&device);
            let f_train = mean(&self.rbm.free_energy(&train));
            let f_valid = mean(&self.rbm.free_energy(&valid));
            m.push((
                "validation_recon_error",
                self.rbm.reconstruction_error(&valid),
            ));
            m.push(("free_energy_gap", f_valid - f_train));
            if exact_possible(&self.rbm)
                && self.rbm.config().hidden.min(self.rbm.config().visible) <= 16
            {
                m.push((
                    "validation_log_likelihood_exact",
                    -f_valid - log_z_exact(&self.rbm)?,
                ));
            }
        }
        Ok(m)
    }

    fn write_pictures(&mut self, at: PictureAt<'_>, rng: &mut StdRng) -> Result<()> {
        let PictureAt { run, epoch, last } = at;
        let Some([h, w]) = self.image_shape else {
            return Ok(());
        };
        let filters = filter_tiles(&self.rbm, PICTURE_TILES);
        save_grid(
            &run.file("filters.png"),
            &filters,
            GridSpec::for_count(filters.len() / (h * w), [h, w]),
            Shade::Signed,
        )?;
        run.add_figure(
            "filters.png",
            "weight filters W[:, j] of the first hidden units (grey = 0, white > 0, black < 0)",
        )?;
        // The sample chains cost as much as several epochs of training: redraw them every
        // few epochs and after the last one.
        if !(last || epoch.is_multiple_of(SAMPLE_EVERY)) {
            return Ok(());
        }
        let samples = self.samples(PICTURE_TILES, self.sample_steps, rng);
        let shade = shade_for(self.rbm.config().visible_kind);
        save_grid(
            &run.file("samples.png"),
            &samples,
            GridSpec::for_count(PICTURE_TILES, [h, w]),
            shade,
        )?;
        run.add_figure(
            "samples.png",
            &format!(
                "E[v | h] after {} block Gibbs steps from noise, {PICTURE_TILES} independent chains (epoch {epoch})",
                self.sample_steps
            ),
        )?;
        Ok(())
    }

    fn state(&self) -> Result<(TensorFile, TensorFile)> {
        let model = self.rbm.to_file();
        let mut trainer = TensorFile::default();
        let (vw, vb, vc) = self.cd.velocities();
        trainer.put("velocity.weight", vw);
        trainer.put("velocity.visible_bias", vb);
        trainer.put("velocity.hidden_bias", vc);
        if let Some(c) = self.cd.chains() {
            trainer.put("persistent_hidden", c);
        }
        trainer
            .metadata
            .insert("last_recon".into(), self.last_recon.to_string());
        Ok((model, trainer))
    }

    fn load_state(&mut self, model: &TensorFile, trainer: &TensorFile, run: &RunDir) -> Result<()> {
        let (v, h) = (self.rbm.config().visible, self.rbm.config().hidden);
        let device = self.rbm.device();
        let (mp, tp) = run.checkpoint_paths();
        let rbm = self.rbm.reloaded(model, &mp)?;
        self.rbm = rbm;
        let vel = (
            trainer.get("velocity.weight", [v, h], &device, &tp)?,
            trainer.get("velocity.visible_bias", [v], &device, &tp)?,
            trainer.get("velocity.hidden_bias", [h], &device, &tp)?,
        );
        let chains = match trainer.tensors.get("persistent_hidden") {
            Some(b) => Some(trainer.get("persistent_hidden", [b.shape[0], h], &device, &tp)?),
            None => None,
        };
        self.cd.restore(vel, chains);
        self.last_recon = trainer.meta("last_recon").unwrap_or(0.0);
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        self.rbm.non_finite_parameter()
    }
}

impl RbmFit {
    /// `n` chains from noise (Bernoulli(1/2), or N(0, I) for Gaussian units), `steps` Gibbs
    /// sweeps; returns `E[v | h]` of the last sweep, in data units, on the host.
    pub fn samples(&self, n: usize, steps: usize, rng: &mut StdRng) -> Vec<f32> {
        let v0 = noise(&self.rbm, n, rng);
        let (mean, _) = self.rbm.gibbs(v0, steps.max(1), rng);
        data_units(mean, self.unstandardize.as_ref())
    }
}

/// Grey-level mapping for pictures of visible states.
pub fn shade_for(kind: VisibleKind) -> Shade {
    match kind {
        VisibleKind::Bernoulli => Shade::Unit,
        VisibleKind::Gaussian => Shade::MinMax,
    }
}

/// `n` starting states from noise.
pub fn noise(rbm: &Rbm, n: usize, rng: &mut impl Rng) -> Tensor<2> {
    let d = rbm.config().visible;
    let vals: Vec<f32> = match rbm.config().visible_kind {
        VisibleKind::Bernoulli => (0..n * d)
            .map(|_| f32::from(rng.random::<bool>()))
            .collect(),
        VisibleKind::Gaussian => {
            let normal = rand_distr::StandardNormal;
            (0..n * d).map(|_| rng.sample::<f32, _>(normal)).collect()
        }
    };
    Tensor::from_data(TensorData::new(vals, [n, d]), &rbm.device())
}

/// The first `n` hidden units' weight vectors, as rows.
fn filter_tiles(rbm: &Rbm, n: usize) -> Vec<f32> {
    let hidden = rbm.config().hidden.min(n);
    let cols = rbm.weight().dims()[0];
    ops::to_f32_vec(rbm.weight().clone().slice([0..cols, 0..hidden]).transpose())
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

/// Stochastic pseudo-log-likelihood (as scikit-learn's `BernoulliRBM.score_samples`): for each
/// example flip one random unit `i` and use `D log sigmoid(F(v~) - F(v))`, an unbiased estimate of
/// `sum_i log p(v_i | v_-i)`. Mean over examples, nats.
pub fn pseudo_log_likelihood(rbm: &Rbm, v: &Tensor<2>, rng: &mut impl Rng) -> f64 {
    let [n, d] = v.dims();
    let mut mask = vec![0f32; n * d];
    for r in 0..n {
        mask[r * d + rng.random_range(0..d)] = 1.0;
    }
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [n, d]), &v.device());
    // Flip: v + m - 2 v m.
    let flipped = v.clone() + mask.clone() - v.clone().mul(mask).mul_scalar(2.0);
    let f = rbm.free_energy(v);
    let f_flip = rbm.free_energy(&flipped);
    let total: f64 = f
        .iter()
        .zip(&f_flip)
        .map(|(a, b)| -(d as f64) * super::ais::softplus64(a - b))
        .sum();
    total / n as f64
}
