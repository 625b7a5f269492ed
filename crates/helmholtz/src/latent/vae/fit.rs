//! The VAE as the trainer drives it: one Adam step on the negative ELBO per mini-batch,
//! per-epoch metrics and pictures, checkpoints of the parameters and of Adam's moments.

use burn::optim::{AdamState, Optimizer};

use crate::api::Persist;
use crate::nn::adam_state::{get_adam_states, put_adam_states};
use burn::prelude::*;
use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::{Rng, RngExt};

use super::bounds::elbo_per_example;
use super::config::{ElboConfig, Engine};
use super::engine::{HostVae, StepSettings, host_eligible};
use super::model::Vae;
use super::objective::{Sampling, elbo_keyed};
use super::pictures::{PictureData, write_pictures};
use crate::error::{Error, Result};
use crate::io::{RunDir, TensorFile};
use crate::kernels::ops;
use crate::train::{EpochData, Fit, Metrics, PictureAt, Step, mini_batch};

/// Validation examples used for the per-epoch ELBO.
pub const METRIC_EXAMPLES: usize = 500;

/// A VAE with its Adam optimiser, as a [`Fit`].
///
/// Adam is burn's (`burn::optim::Adam`, epsilon set to PyTorch's 1e-8), applied parameter by
/// parameter; its moments are checkpointed in `trainer.safetensors` as
/// `adam.moment_1.<param>` and `adam.moment_2.<param>` (the parameter's stored shape) with the
/// step count in the metadata key `adam.time`.
///
/// On the CPU, a VAE with a Bernoulli decoder (Gaussian or categorical latents) is trained by
/// the host engine ([`super::host`]; same loss, gradients and Adam, two to three times as fast)
/// unless [`ElboConfig::engine`] asks for burn's autodiff; the burn model is brought up to date
/// before anything reads it (metrics, pictures, checkpoints). Both engines draw a step's noise
/// from the counter-based stream of one key taken from the run's generator
/// ([`super::elbo_keyed`]), so they take the same steps up to rounding.
pub struct VaeFit {
    vae: Vae,
    objective: ElboConfig,
    optimizer: burn::optim::Adam,
    states: Vec<Option<AdamState<2>>>,
    pictures: PictureData,
    loss_sum: f64,
    loss_count: usize,
    last_tau: f64,
    /// The host engine while it owns the newest parameters.
    host: Option<HostVae>,
}

impl VaeFit {
    /// Wrap a model, its objective and the examples that pictures show.
    pub fn new(vae: Vae, objective: ElboConfig, pictures: PictureData) -> Result<Self> {
        objective.validate()?;
        let optimizer = objective.adam().tensor_optimizer();
        let states = vec![None; vae.params().len()];
        let last_tau = objective.tau.tau0;
        Ok(Self {
            vae,
            objective,
            optimizer,
            states,
            pictures,
            loss_sum: 0.0,
            loss_count: 0,
            last_tau,
            host: None,
        })
    }

    /// Whether updates run on the host engine.
    pub fn uses_host_engine(&self) -> bool {
        self.objective.engine == Engine::Auto && host_eligible(&self.vae)
    }

    /// Copy the host engine's parameters and Adam moments back into the burn model.
    fn sync(&mut self) {
        if let Some(host) = self.host.take() {
            host.write_back(&mut self.vae, &mut self.states);
        }
    }

    /// One update on the host engine; returns the summed loss.
    fn host_step(&mut self, x: Tensor<2>, step: StepSettings) -> f64 {
        let n = x.dims()[0];
        let host = match self.host.as_mut() {
            Some(h) => h,
            None => self
                .host
                .insert(HostVae::from_model(&self.vae, &self.states)),
        };
        let adam = self.objective.adam();
        let x = ops::to_f32_vec(x);
        host.train_batch(&x, n, step, adam).loss
    }

    /// The model (up to date after every epoch: the trainer's metrics bring it up to date).
    pub fn vae(&self) -> &Vae {
        &self.vae
    }

    /// The trained model, with the host engine's newest parameters.
    pub fn into_vae(mut self) -> Result<Vae> {
        self.sync();
        Ok(self.vae)
    }

    /// One Adam step on the mini-batch `x`; returns the loss per example (the negative ELBO
    /// with the current KL weight).
    pub fn step(&mut self, x: Tensor<2>, step: &Step, rng: &mut StdRng) -> Result<f64> {
        let x = if self.objective.dynamic_binarization {
            binarize(x, rng)
        } else {
            x
        };
        let n = x.dims()[0];
        let update = ((step.epoch - 1) * step.batches + step.batch) as u64;
        let epochs_done = (step.epoch - 1) as f64 + step.batch as f64 / step.batches as f64;
        let beta = self.objective.kl_weight(epochs_done);
        let tau = self.objective.tau.at(update);
        self.last_tau = tau;
        let key = rng.next_u64();
        if self.uses_host_engine() {
            let settings = StepSettings {
                beta: beta as f32,
                tau: tau as f32,
                straight_through: self.objective.straight_through,
                key,
            };
            let value = self.host_step(x, settings) / n as f64;
            self.loss_sum += value * n as f64;
            self.loss_count += n;
            return Ok(value);
        }
        let sampling = Sampling::Relaxed {
            tau,
            straight_through: self.objective.straight_through,
        };
        let tracked = self.vae.tracked();
        let loss = elbo_keyed(&tracked, &x, sampling, key).loss(beta);
        let value = f64::from(loss.clone().inner().into_scalar::<f32>()) / n as f64;
        if !value.is_finite() {
            return Ok(value);
        }
        let grads = loss.backward();
        let lr = self.objective.lr;
        let updates: Vec<Option<Tensor<2>>> =
            tracked.tensors().iter().map(|t| t.grad(&grads)).collect();
        for ((param, grad), state) in self
            .vae
            .tensors_mut()
            .into_iter()
            .zip(updates)
            .zip(self.states.iter_mut())
        {
            let grad =
                grad.ok_or_else(|| Error::Internal("a VAE parameter got no gradient".into()))?;
            let (next, s) = self.optimizer.step(lr, param.clone(), grad, state.take());
            *param = next;
            *state = s;
        }
        self.loss_sum += value * n as f64;
        self.loss_count += n;
        Ok(value)
    }
}

/// Stochastic binarisation: each value `x` in [0, 1] becomes 1 with probability `x`.
pub fn binarize(x: Tensor<2>, rng: &mut impl Rng) -> Tensor<2> {
    let dims = x.dims();
    let device = x.device();
    let v: Vec<f32> = ops::to_f32_vec(x)
        .into_iter()
        .map(|p| f32::from(rng.random::<f32>() < p))
        .collect();
    Tensor::from_data(TensorData::new(v, dims), &device)
}

impl Fit for VaeFit {
    fn train_batch(&mut self, x: Option<Tensor<2>>, step: &Step, rng: &mut StdRng) -> Result<f64> {
        let x = mini_batch(x)?;
        self.step(x, step, rng)
    }

    fn epoch_metrics(&mut self, at: EpochData<'_>, rng: &mut StdRng) -> Result<Metrics> {
        let EpochData {
            epoch, validation, ..
        } = at;
        self.sync();
        let mut m: Metrics = vec![("train_loss", self.loss_sum / self.loss_count.max(1) as f64)];
        if let Some(validation) = validation {
            let x = validation
                .head(METRIC_EXAMPLES)
                .to_tensor(&self.vae.device());
            let (bound, recon, kl) = elbo_per_example(&self.vae, &x, rng);
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
            m.push(("validation_elbo", bound.mean()));
            m.push(("validation_recon", mean(&recon)));
            m.push(("validation_kl", mean(&kl)));
        }
        if self.objective.warmup_epochs > 0.0 {
            m.push(("kl_weight", self.objective.kl_weight(epoch as f64)));
        }
        if self.vae.config().latent.is_categorical() {
            m.push(("tau", self.last_tau));
        }
        self.loss_sum = 0.0;
        self.loss_count = 0;
        Ok(m)
    }

    fn write_pictures(&mut self, at: PictureAt<'_>, rng: &mut StdRng) -> Result<()> {
        self.sync();
        write_pictures(&self.vae, &self.pictures, at.run, rng)
    }

    fn state(&self) -> Result<(TensorFile, TensorFile)> {
        let (vae, states) = match &self.host {
            Some(host) => {
                let (mut vae, mut states) = (self.vae.clone(), self.states.clone());
                host.write_back(&mut vae, &mut states);
                (vae, states)
            }
            None => (self.vae.clone(), self.states.clone()),
        };
        let model = vae.to_file();
        let mut trainer = TensorFile::default();
        let names: Vec<String> = vae.params().into_iter().map(|(n, _)| n).collect();
        put_adam_states(&mut trainer, &names, &states, "adam.time", |n| {
            !n.ends_with(".weight")
        });
        let meta = &mut trainer.metadata;
        meta.insert("epoch_loss_sum".into(), self.loss_sum.to_string());
        meta.insert("epoch_loss_count".into(), self.loss_count.to_string());
        meta.insert("tau".into(), self.last_tau.to_string());
        Ok((model, trainer))
    }

    fn load_state(&mut self, model: &TensorFile, trainer: &TensorFile, run: &RunDir) -> Result<()> {
        self.host = None;
        let (mp, tp) = run.checkpoint_paths();
        self.vae = self.vae.reloaded(model, &mp)?;
        let device = self.vae.device();
        let (names, shapes): (Vec<String>, Vec<[usize; 2]>) = self
            .vae
            .params()
            .into_iter()
            .map(|(n, t)| (n, t.dims()))
            .unzip();
        self.states = get_adam_states(
            trainer,
            &names,
            &shapes,
            "adam.time",
            |n| !n.ends_with(".weight"),
            &device,
            &tp,
        )?;
        self.loss_sum = trainer.meta("epoch_loss_sum").unwrap_or(0.0);
        self.loss_count = trainer.meta("epoch_loss_count").unwrap_or(0);
        self.last_tau = trainer.meta("tau").unwrap_or(self.objective.tau.tau0);
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        if let Some(host) = &self.host {
            return host.non_finite_layer();
        }
        self.vae.non_finite_parameter()
    }
}
