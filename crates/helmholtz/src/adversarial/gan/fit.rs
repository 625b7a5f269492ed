//! The GAN as the trainer drives it (Algorithm 1 of Goodfellow et al. 2014): every mini-batch
//! is one discriminator step; every `k`-th one is also followed by one generator step. Both
//! networks use burn's Adam applied parameter by parameter; the moments are checkpointed.

use burn::optim::{AdamState, Optimizer};

use crate::api::Persist;
use crate::nn::adam_state::{get_adam_states, put_adam_states};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use rand::rngs::StdRng;

use super::config::{Arch, GanLoss, GanObjective};
use super::host_step::{GeneratorObjective, HostGan};
use super::model::Gan;
use super::objective::{discriminator_loss, generator_loss};
use super::pictures::write_fixed_noise;
use crate::error::{Error, Result};
use crate::io::{RunDir, TensorFile};
use crate::kernels::ops;
use crate::nn::Engine;
use crate::nn::layers::Dense;
use crate::train::{EpochData, Fit, Metrics, PictureAt, Step, mini_batch};

/// Adam moments of one network, one slot per tensor (weight, bias of each layer in order).
type States = Vec<Option<AdamState<2>>>;

/// A GAN with its two Adam optimisers and the fixed noise of the per-epoch sample grid, as a
/// [`Fit`].
///
/// `trainer.safetensors` holds `adam.moment_1.<param>` and `adam.moment_2.<param>` for every
/// parameter of both networks; the metadata keys `adam.generator.time` and
/// `adam.discriminator.time` hold the step counts.
pub struct GanFit {
    gan: Gan,
    objective: GanObjective,
    optimizer: burn::optim::Adam,
    g_states: States,
    d_states: States,
    fixed_noise: Tensor<2>,
    sums: Sums,
    /// The host engine while it owns the newest parameters (CPU, `engine = auto`).
    host: Option<HostGan>,
}

/// Running sums of the epoch's training monitors.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    d_loss: f64,
    d_real: f64,
    d_fake: f64,
    d_count: f64,
    g_loss: f64,
    g_count: f64,
}

impl Sums {
    const KEYS: [&'static str; 6] = ["d_loss", "d_real", "d_fake", "d_count", "g_loss", "g_count"];

    fn values(&self) -> [f64; 6] {
        [
            self.d_loss,
            self.d_real,
            self.d_fake,
            self.d_count,
            self.g_loss,
            self.g_count,
        ]
    }

    fn from_values(v: [f64; 6]) -> Self {
        Self {
            d_loss: v[0],
            d_real: v[1],
            d_fake: v[2],
            d_count: v[3],
            g_loss: v[4],
            g_count: v[5],
        }
    }
}

impl GanFit {
    /// Wrap the networks, their objective and the fixed noise (`[tiles, noise_dim]`) of the
    /// per-epoch sample grid.
    pub fn new(gan: Gan, objective: GanObjective, fixed_noise: Tensor<2>) -> Result<Self> {
        objective.validate()?;
        let optimizer = objective.adam().tensor_optimizer();
        let g_states = vec![None; 2 * gan.generator_layers().len()];
        let d_states = vec![None; 2 * gan.discriminator_layers().len()];
        Ok(Self {
            gan,
            objective,
            optimizer,
            g_states,
            d_states,
            fixed_noise,
            sums: Sums::default(),
            host: None,
        })
    }

    /// The networks.
    pub fn gan(&self) -> &Gan {
        &self.gan
    }

    /// The trained networks, with the host engine's newest parameters.
    pub fn into_gan(mut self) -> Gan {
        self.sync();
        self.gan
    }

    /// Whether updates run on the host engine ([`super::host_step`]).
    pub fn uses_host_engine(&self) -> bool {
        self.objective.engine == Engine::Auto
            && self.gan.config().arch == Arch::Mlp
            && ops::is_host(&self.gan.device())
    }

    /// Copy the host engine's parameters and Adam moments back into the burn networks.
    fn sync(&mut self) {
        if let Some(host) = self.host.take() {
            host.write_back(&mut self.gan, &mut self.g_states, &mut self.d_states);
        }
    }

    /// One step of Algorithm 1 on the host engine; returns the discriminator's loss.
    fn host_step(&mut self, x: Tensor<2>, update: usize, rng: &mut StdRng) -> f64 {
        let n = x.dims()[0];
        let o = &self.objective;
        let adam = o.adam();
        let objective = match o.loss {
            GanLoss::NonSaturating => GeneratorObjective::NonSaturating,
            GanLoss::Minimax => GeneratorObjective::Minimax,
        };
        let (smoothing, k) = (o.label_smoothing as f32, o.d_steps);
        let host = match self.host.as_mut() {
            Some(h) => h,
            None => self
                .host
                .insert(HostGan::from_gan(&self.gan, &self.g_states, &self.d_states)),
        };
        let x: Vec<f32> = ops::to_f32_vec(x).iter().map(|v| 2.0 * v - 1.0).collect();
        let d = host.discriminator_step(&x, n, smoothing, rand::Rng::next_u64(rng), adam);
        self.sums.d_loss += d.loss;
        self.sums.d_real += d.d_real;
        self.sums.d_fake += d.d_fake;
        self.sums.d_count += 1.0;
        if d.loss.is_finite() && (update + 1).is_multiple_of(k) {
            let g = host.generator_step(n, objective, rand::Rng::next_u64(rng), adam);
            self.sums.g_loss += g;
            self.sums.g_count += 1.0;
            if !g.is_finite() {
                return g;
            }
        }
        d.loss
    }

    /// The loss value and, when it is finite, one Adam step of `net` down its gradient
    /// (`tracked`: the network's layers that `loss` was computed with).
    fn descend(&mut self, loss: Tensor<1>, net: Net, tracked: &[Dense]) -> Result<f64> {
        let value = scalar(loss.clone().inner());
        if !value.is_finite() {
            return Ok(value);
        }
        let grads = loss.backward();
        let (layers, states) = match net {
            Net::Generator => (self.gan.generator_layers_mut(), &mut self.g_states),
            Net::Discriminator => (self.gan.discriminator_layers_mut(), &mut self.d_states),
        };
        apply(
            &self.optimizer,
            self.objective.lr,
            layers,
            tracked,
            &grads,
            states,
        )?;
        Ok(value)
    }

    /// One discriminator step on real examples `x` and as many fresh fakes; returns the loss.
    fn discriminator_step(&mut self, x: Tensor<2>, rng: &mut StdRng) -> Result<f64> {
        let n = x.dims()[0];
        let fake = self.gan.generate_centred(self.gan.noise(n, rng));
        let mut tracked = self.gan.clone();
        let layers = track(tracked.discriminator_layers_mut());
        let real_logits = tracked.discriminate_centred(x * 2.0 - 1.0, true);
        let fake_logits = tracked.discriminate_centred(fake, true);
        let d_real = scalar(sigmoid(real_logits.clone().inner()).mean());
        let d_fake = scalar(sigmoid(fake_logits.clone().inner()).mean());
        let loss = discriminator_loss(real_logits, fake_logits, self.objective.label_smoothing);
        let value = self.descend(loss, Net::Discriminator, &layers)?;
        if !value.is_finite() {
            return Ok(value);
        }
        self.sums.d_loss += value;
        self.sums.d_real += d_real;
        self.sums.d_fake += d_fake;
        self.sums.d_count += 1.0;
        Ok(value)
    }

    /// One generator step on `n` fresh noise vectors; returns the loss.
    fn generator_step(&mut self, n: usize, rng: &mut StdRng) -> Result<f64> {
        let z = self.gan.noise(n, rng);
        let mut tracked = self.gan.clone();
        let layers = track(tracked.generator_layers_mut());
        // The discriminator passes gradients through to the generator but is not updated.
        for l in tracked.discriminator_layers_mut() {
            l.weight = l.weight.clone().autodiff();
            l.bias = l.bias.clone().autodiff();
        }
        let logits = tracked.discriminate_centred(tracked.generate_centred(z), true);
        let loss = generator_loss(logits, self.objective.loss);
        let value = self.descend(loss, Net::Generator, &layers)?;
        if !value.is_finite() {
            return Ok(value);
        }
        self.sums.g_loss += value;
        self.sums.g_count += 1.0;
        Ok(value)
    }

    /// One step of Algorithm 1 as the trainer calls it: a discriminator step, then a generator
    /// step after every `k`-th discriminator step. Returns the discriminator's loss.
    pub fn step(&mut self, x: Tensor<2>, step: &Step, rng: &mut StdRng) -> Result<f64> {
        if self.uses_host_engine() {
            let update = (step.epoch - 1) * step.batches + step.batch;
            return Ok(self.host_step(x, update, rng));
        }
        let n = x.dims()[0];
        let d = self.discriminator_step(x, rng)?;
        let update = (step.epoch - 1) * step.batches + step.batch;
        if d.is_finite() && (update + 1).is_multiple_of(self.objective.d_steps) {
            let g = self.generator_step(n, rng)?;
            if !g.is_finite() {
                return Ok(g);
            }
        }
        Ok(d)
    }
}

/// Replace the layers' tensors by tracked copies; returns them for reading gradients.
fn track(layers: &mut [Dense]) -> Vec<Dense> {
    for l in layers.iter_mut() {
        l.weight = l.weight.clone().autodiff().require_grad();
        l.bias = l.bias.clone().autodiff().require_grad();
    }
    layers.to_vec()
}

/// One of the two networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    Generator,
    Discriminator,
}

/// One Adam step on every tensor of `layers` with the gradients of their `tracked` copies.
fn apply(
    optimizer: &burn::optim::Adam,
    lr: f64,
    layers: &mut [Dense],
    tracked: &[Dense],
    grads: &burn::tensor::Gradients,
    states: &mut States,
) -> Result<()> {
    let params = layers.iter_mut().flat_map(|l| [&mut l.weight, &mut l.bias]);
    let tracked = tracked.iter().flat_map(|l| [&l.weight, &l.bias]);
    for ((param, t), state) in params.zip(tracked).zip(states.iter_mut()) {
        let grad = t
            .grad(grads)
            .ok_or_else(|| Error::Internal("a GAN parameter got no gradient".into()))?;
        let (next, s) = optimizer.step(lr, param.clone(), grad, state.take());
        *param = next;
        *state = s;
    }
    Ok(())
}

fn scalar(t: Tensor<1>) -> f64 {
    f64::from(t.into_scalar::<f32>())
}

/// Biases are stored as vectors, weights as matrices.
fn is_vector(name: &str) -> bool {
    !name.ends_with(".weight")
}

/// Parameter names of `layers` in the order of the Adam slots.
fn names(prefix: &str, layers: usize) -> Vec<String> {
    (0..layers)
        .flat_map(|i| [format!("{prefix}.{i}.weight"), format!("{prefix}.{i}.bias")])
        .collect()
}

impl Fit for GanFit {
    fn live_metric(&self) -> &'static str {
        "d_loss"
    }

    fn train_batch(&mut self, x: Option<Tensor<2>>, step: &Step, rng: &mut StdRng) -> Result<f64> {
        let x = mini_batch(x)?;
        self.step(x, step, rng)
    }

    fn epoch_metrics(&mut self, _at: EpochData<'_>, rng: &mut StdRng) -> Result<Metrics> {
        self.sync();
        let s = self.sums;
        let g_loss = if s.g_count > 0.0 {
            s.g_loss / s.g_count
        } else {
            // No generator step this epoch (k above the batches per epoch): evaluate the loss.
            let logits = self
                .gan
                .discriminate(self.gan.generate(self.gan.noise(500, rng)));
            scalar(generator_loss(logits, self.objective.loss))
        };
        let d = s.d_count.max(1.0);
        self.sums = Sums::default();
        Ok(vec![
            ("d_loss", s.d_loss / d),
            ("g_loss", g_loss),
            ("d_real", s.d_real / d),
            ("d_fake", s.d_fake / d),
        ])
    }

    fn write_pictures(&mut self, at: PictureAt<'_>, _: &mut StdRng) -> Result<()> {
        self.sync();
        write_fixed_noise(&self.gan, &self.fixed_noise, at.run, at.epoch)
    }

    fn state(&self) -> Result<(TensorFile, TensorFile)> {
        if let Some(host) = &self.host {
            // Checkpoint the host engine's newest parameters without disturbing it.
            let mut copy = Self {
                gan: self.gan.clone(),
                objective: self.objective.clone(),
                optimizer: self.optimizer.clone(),
                g_states: self.g_states.clone(),
                d_states: self.d_states.clone(),
                fixed_noise: self.fixed_noise.clone(),
                sums: self.sums,
                host: None,
            };
            host.write_back(&mut copy.gan, &mut copy.g_states, &mut copy.d_states);
            return copy.state();
        }
        let model = self.gan.to_file();
        let mut trainer = TensorFile::default();
        let nets = [
            ("generator", self.gan.generator_layers(), &self.g_states),
            (
                "discriminator",
                self.gan.discriminator_layers(),
                &self.d_states,
            ),
        ];
        for (prefix, layers, states) in nets {
            let names = names(prefix, layers.len());
            let time_key = format!("adam.{prefix}.time");
            put_adam_states(&mut trainer, &names, states, &time_key, is_vector);
        }
        for (k, v) in Sums::KEYS.iter().zip(self.sums.values()) {
            trainer.metadata.insert(format!("epoch.{k}"), v.to_string());
        }
        Ok((model, trainer))
    }

    fn load_state(&mut self, model: &TensorFile, trainer: &TensorFile, run: &RunDir) -> Result<()> {
        self.host = None;
        let (mp, tp) = run.checkpoint_paths();
        self.gan = self.gan.reloaded(model, &mp)?;
        let device = self.gan.device();
        for prefix in ["generator", "discriminator"] {
            let (layers, states) = if prefix == "generator" {
                (self.gan.generator_layers(), &mut self.g_states)
            } else {
                (self.gan.discriminator_layers(), &mut self.d_states)
            };
            let names = names(prefix, layers.len());
            let shapes: Vec<[usize; 2]> = layers
                .iter()
                .flat_map(|l| [l.weight.dims(), l.bias.dims()])
                .collect();
            let time_key = format!("adam.{prefix}.time");
            *states =
                get_adam_states(trainer, &names, &shapes, &time_key, is_vector, &device, &tp)?;
        }
        let mut v = [0.0; 6];
        for (slot, k) in v.iter_mut().zip(Sums::KEYS) {
            *slot = trainer.meta(&format!("epoch.{k}")).unwrap_or(0.0);
        }
        self.sums = Sums::from_values(v);
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        if let Some(host) = &self.host {
            return host.non_finite_parameter();
        }
        self.gan.non_finite_parameter()
    }
}
