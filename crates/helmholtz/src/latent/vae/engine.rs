//! The MLP VAE on the host path of the network kit ([`crate::nn`]): its dense layers, its
//! Gaussian and categorical stochastic layers and its output likelihoods composed into one
//! training step, for a Bernoulli (or unit-variance Gaussian) decoder.
//!
//! burn's autodiff runs each tensor op as its own pass and records a graph per batch; for the
//! seed's VAE that costs about twice PyTorch's time per epoch on this CPU. This engine computes
//! the same loss and gradients with the split sgemm of [`crate::kernels::gemm`] and fused
//! element-wise passes into preallocated buffers:
//!
//! - encoder `h_l = relu(h_{l-1} W_l + b_l)`, head `e = h_L W_h + b_h`;
//! - the latent ([`crate::nn::stochastic`]) turns the head into the decoder's code `z`
//!   (a reparameterised Gaussian sample, or a Gumbel-Softmax sample) with noise from the
//!   counter-based stream of the step's key, and gives the closed-form KL to the prior;
//! - decoder `g_l = relu(g_{l-1} V_l + c_l)`, logits `a = g_L V_o + c_o`;
//! - loss (summed over the batch) `sum_d [softplus(a_d) - x_d a_d] + beta KL` (Bernoulli
//!   decoder), or `sum_d (x_d - a_d)^2 / 2 + D/2 ln 2 pi` (unit-variance Gaussian decoder);
//! - backward: `da = sigmoid(a) - x` (or `a - x`), the usual products through the ReLU masks
//!   down to `dz`, the latent's own backward from `dz` to `de`, and on through the encoder;
//! - Adam (`m_hat / (sqrt(v_hat) + epsilon)`, as burn and PyTorch).
//!
//! # Shapes
//! Weights `[in, out]` row-major (burn's `Linear` layout), biases `[out]`; batches `[B, D]`
//! row-major. The head `e` is `[B, 2Z]` with `mu` in the first `Z` columns (Gaussian), or the
//! logits `[B, N K]` group-major (categorical); the code `z` is `[B, Z]` or `[B, N K]`.

use burn::optim::AdamState;
use rayon::prelude::*;

use super::config::{Latent, Likelihood};
use super::model::Vae;
use crate::kernels::gemm::gemm_into;
use crate::kernels::split::ordered_sum;
use crate::kernels::{noise, ops};
use crate::nn::bridge::HostParams;
pub use crate::nn::dense::{AdamSettings, Dense, LayerGrad};
use crate::nn::dense::{adam_layers, dense_backward, dense_forward, row_major, transposed};
use crate::nn::stochastic::categorical::{self, Relaxation};
use crate::nn::stochastic::gaussian;
use crate::nn::stochastic::likelihood::{bernoulli_row, gaussian_row};

/// True when the host path can train `vae`: flex CPU tensors and a Bernoulli decoder
/// (Gaussian or categorical latents).
pub fn host_eligible(vae: &Vae) -> bool {
    ops::is_host(&vae.device()) && vae.config().likelihood == Likelihood::Bernoulli
}

/// Sums of one batch's loss terms (nats, summed over the batch).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BatchLoss {
    /// Reconstruction term `-log p(x | z)` at the sampled `z`.
    pub recon: f64,
    /// `KL(q(z | x) || p(z))`.
    pub kl: f64,
    /// `recon + beta kl`, the minimised loss.
    pub loss: f64,
}

/// The settings of one training step besides the batch and Adam.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSettings {
    /// KL weight `beta`.
    pub beta: f32,
    /// Gumbel-Softmax temperature (categorical latents).
    pub tau: f32,
    /// Straight-through Gumbel-Softmax: one-hot codes forward (categorical latents).
    pub straight_through: bool,
    /// Key of the step's noise stream (`eps`, or the Gumbel noise).
    pub key: u64,
}

impl StepSettings {
    /// A step with KL weight `beta`, noise stream `key`, and the relaxation `tau = 1`.
    pub fn new(beta: f32, key: u64) -> Self {
        Self {
            beta,
            tau: 1.0,
            straight_through: false,
            key,
        }
    }
}

/// The layers in order: encoder hidden layers, the head, decoder hidden layers, the output.
#[derive(Debug, Clone, PartialEq)]
pub struct HostVae {
    /// The latent variables (what the head means).
    latent: Latent,
    /// Encoder hidden layers then the head (`[H, 2Z]` or `[H, N K]`).
    pub encoder: Vec<Dense>,
    /// Decoder hidden layers then the output layer.
    pub decoder: Vec<Dense>,
    /// Bernoulli (`true`) or unit-variance Gaussian decoder.
    pub bernoulli: bool,
    /// Adam moments, one `(m, v)` pair per weight and bias in layer order.
    moments: Vec<(Vec<f32>, Vec<f32>)>,
    /// Adam steps taken.
    pub steps: u64,
    work: Work,
}

/// Per-batch buffers, reallocated only when the batch size changes.
#[derive(Debug, Clone, PartialEq, Default)]
struct Work {
    batch: usize,
    /// Activations of every layer (post-ReLU for hidden layers, raw for the head and output).
    enc: Vec<Vec<f32>>,
    dec: Vec<Vec<f32>>,
    /// The decoder's input `z`, its noise (`eps` or Gumbel), the relaxed categorical sample
    /// and `dKL / dlogits` (both empty for Gaussian latents), and `d loss / d z`.
    code: Vec<f32>,
    noise: Vec<f32>,
    soft: Vec<f32>,
    dkl: Vec<f32>,
    dcode: Vec<f32>,
    /// Gradients with respect to layer outputs (pre-activation after masking), per layer.
    delta_enc: Vec<Vec<f32>>,
    delta_dec: Vec<Vec<f32>>,
    /// Parameter gradients in layer order (w, b).
    grads: Vec<(Vec<f32>, Vec<f32>)>,
}

impl HostVae {
    /// An engine over the given layers (encoder ending in the head of `latent`, decoder
    /// ending in the output layer), with fresh Adam moments.
    pub fn new(latent: Latent, encoder: Vec<Dense>, decoder: Vec<Dense>, bernoulli: bool) -> Self {
        let moments = encoder
            .iter()
            .chain(&decoder)
            .map(|l| {
                (
                    vec![0.0; l.w.len() + l.b.len()],
                    vec![0.0; l.w.len() + l.b.len()],
                )
            })
            .collect();
        Self {
            latent,
            encoder,
            decoder,
            bernoulli,
            moments,
            steps: 0,
            work: Work::default(),
        }
    }

    /// The engine for `vae` (Bernoulli decoder) and its Adam states; the Gaussian heads `mu`
    /// and `log sigma^2` run as one `[H, 2Z]` layer.
    pub fn from_model(vae: &Vae, states: &[Option<AdamState<2>>]) -> Self {
        let (hidden, latent) = (vae.config().hidden.len(), vae.config().latent);
        let mut params = HostParams::from_tensors(&vae.tensors(), states);
        if !latent.is_categorical() {
            params.join_layers(hidden);
        }
        let (mut encoder, moments) = params.layers();
        let decoder = encoder.split_off(hidden + 1);
        let mut host = Self::new(latent, encoder, decoder, true);
        host.set_moments(moments, params.steps);
        host
    }

    /// Write the parameters into `vae` and, once stepped, the Adam moments into `states`.
    pub fn write_back(&self, vae: &mut Vae, states: &mut [Option<AdamState<2>>]) {
        let layers = self.encoder.iter().chain(&self.decoder);
        let mut params = HostParams::from_layers(layers, &self.moments, self.steps);
        if let Latent::Gaussian { dim } = self.latent {
            params.split_layer(self.encoder.len() - 1, dim);
        }
        params.to_tensors(vae.tensors_mut(), states);
    }

    /// The latent variables.
    pub fn latent(&self) -> Latent {
        self.latent
    }

    /// Data width `D`.
    pub fn dim(&self) -> usize {
        self.encoder.first().map_or(0, |l| l.inp)
    }

    /// `encoder.{k}` or `decoder.{k}` of the first layer holding a NaN or infinity, if any.
    pub fn non_finite_layer(&self) -> Option<String> {
        let bad = |l: &Dense| l.w.iter().chain(&l.b).any(|v| !v.is_finite());
        let enc = self
            .encoder
            .iter()
            .position(bad)
            .map(|k| format!("encoder.{k}"));
        enc.or_else(|| {
            self.decoder
                .iter()
                .position(bad)
                .map(|k| format!("decoder.{k}"))
        })
    }

    /// Adam moments as flat `(m, v)` per layer (weights then bias), for checkpoints.
    pub fn moments(&self) -> &[(Vec<f32>, Vec<f32>)] {
        &self.moments
    }

    /// Restore Adam moments saved by [`HostVae::moments`] and the step count.
    pub fn set_moments(&mut self, moments: Vec<(Vec<f32>, Vec<f32>)>, steps: u64) {
        self.moments = moments;
        self.steps = steps;
    }

    fn ensure_work(&mut self, batch: usize) {
        if self.work.batch == batch {
            return;
        }
        let sized = |layers: &[Dense]| -> Vec<Vec<f32>> {
            layers.iter().map(|l| vec![0.0; batch * l.out]).collect()
        };
        let codes = batch * self.latent.code_width();
        let soft = if self.latent.is_categorical() {
            codes
        } else {
            0
        };
        self.work = Work {
            batch,
            enc: sized(&self.encoder),
            dec: sized(&self.decoder),
            code: vec![0.0; codes],
            noise: vec![0.0; codes],
            soft: vec![0.0; soft],
            dkl: vec![0.0; soft],
            dcode: vec![0.0; codes],
            delta_enc: sized(&self.encoder),
            delta_dec: sized(&self.decoder),
            grads: self
                .encoder
                .iter()
                .chain(&self.decoder)
                .map(|l| (vec![0.0; l.w.len()], vec![0.0; l.b.len()]))
                .collect(),
        };
    }

    /// Forward pass on `x` (`[batch, D]`); fills the work buffers and returns the summed
    /// losses.
    fn forward(&mut self, x: &[f32], batch: usize, step: StepSettings) -> BatchLoss {
        self.ensure_work(batch);
        let d = self.dim();
        let w = &mut self.work;
        let last_enc = self.encoder.len() - 1;
        for (l, layer) in self.encoder.iter().enumerate() {
            let (done, rest) = w.enc.split_at_mut(l);
            let input: &[f32] = if l == 0 { x } else { &done[l - 1] };
            dense_forward(layer, input, &mut rest[0], batch, l < last_enc);
        }
        let head = &w.enc[last_enc];
        let kl = match self.latent {
            Latent::Gaussian { dim } => {
                gaussian::sample(head, &mut w.noise, &mut w.code, dim, step.key)
            }
            Latent::Categorical { classes, .. } => {
                noise::gumbel_fill(&mut w.noise, step.key, 0);
                let relax = Relaxation {
                    tau: step.tau,
                    straight_through: step.straight_through,
                };
                categorical::sample(
                    head,
                    &w.noise,
                    &mut w.soft,
                    &mut w.code,
                    &mut w.dkl,
                    classes,
                    relax,
                )
            }
        };
        let last_dec = self.decoder.len() - 1;
        for (l, layer) in self.decoder.iter().enumerate() {
            let (done, rest) = w.dec.split_at_mut(l);
            let input: &[f32] = if l == 0 { &w.code } else { &done[l - 1] };
            dense_forward(layer, input, &mut rest[0], batch, l < last_dec);
        }
        // -log p(x | z) per row, and d loss / d logits for the backward pass.
        let bernoulli = self.bernoulli;
        // Rows added in order (rayon's `sum` adds in an order that follows the thread count).
        let recon: f64 = ordered_sum(
            w.dec[last_dec]
                .par_chunks(d)
                .zip(x.par_chunks(d))
                .zip(w.delta_dec[last_dec].par_chunks_mut(d))
                .map(|((a, x), delta)| {
                    if bernoulli {
                        bernoulli_row(a, x, delta)
                    } else {
                        gaussian_row(a, x, delta)
                    }
                }),
        ) + if bernoulli {
            0.0
        } else {
            (batch * d) as f64 * 0.5 * (2.0 * std::f64::consts::PI).ln()
        };
        BatchLoss {
            recon,
            kl,
            loss: recon + f64::from(step.beta) * kl,
        }
    }

    /// One Adam step on the summed loss of the batch `x` (`[batch, D]`).
    pub fn train_batch(
        &mut self,
        x: &[f32],
        batch: usize,
        step: StepSettings,
        adam: AdamSettings,
    ) -> BatchLoss {
        let loss = self.forward(x, batch, step);
        self.backward(x, batch, step);
        self.adam_step(adam);
        loss
    }

    /// The summed losses and the gradients of the loss (layer order, `(w, b)`), without an
    /// update (for tests).
    pub fn loss_and_gradients(
        &mut self,
        x: &[f32],
        batch: usize,
        step: StepSettings,
    ) -> (BatchLoss, Vec<LayerGrad>) {
        let loss = self.forward(x, batch, step);
        self.backward(x, batch, step);
        (loss, self.work.grads.clone())
    }

    fn backward(&mut self, x: &[f32], batch: usize, step: StepSettings) {
        let ne = self.encoder.len();
        let w = &mut self.work;
        let last_dec = self.decoder.len() - 1;
        // delta_dec[last] = d loss / d logits was filled by the forward pass.
        for l in (0..=last_dec).rev() {
            let (lower, upper) = w.delta_dec.split_at_mut(l);
            let input: &[f32] = if l == 0 { &w.code } else { &w.dec[l - 1] };
            let dx = if l == 0 {
                None
            } else {
                Some(&mut lower[l - 1][..])
            };
            dense_backward(
                &self.decoder[l],
                input,
                &upper[0],
                &mut w.grads[ne + l],
                dx,
                batch,
            );
        }
        // dz = delta_dec[0] V_1^T (no mask: z enters linearly).
        let first = &self.decoder[0];
        gemm_into(
            &mut w.dcode,
            row_major(&w.delta_dec[0], batch, first.out),
            transposed(&first.w, first.inp, first.out),
            0.0,
            1.0,
            false,
        );
        let last_enc = ne - 1;
        let head = &w.enc[last_enc];
        let dhead = &mut w.delta_enc[last_enc];
        match self.latent {
            Latent::Gaussian { dim } => {
                gaussian::backward(head, &w.noise, &w.dcode, dhead, dim, step.beta);
            }
            Latent::Categorical { classes, .. } => categorical::backward(
                &w.soft, &w.dcode, &w.dkl, dhead, classes, step.tau, step.beta,
            ),
        }
        for l in (0..=last_enc).rev() {
            let (lower, upper) = w.delta_enc.split_at_mut(l);
            let input: &[f32] = if l == 0 { x } else { &w.enc[l - 1] };
            let dx = if l == 0 {
                None
            } else {
                Some(&mut lower[l - 1][..])
            };
            dense_backward(
                &self.encoder[l],
                input,
                &upper[0],
                &mut w.grads[l],
                dx,
                batch,
            );
        }
    }

    fn adam_step(&mut self, s: AdamSettings) {
        self.steps += 1;
        let layers = self.encoder.iter_mut().chain(self.decoder.iter_mut());
        adam_layers(layers, &self.work.grads, &mut self.moments, s, self.steps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(inp: usize, out: usize, seed: u64) -> Dense {
        Dense::gaussian(inp, out, 0.5, 0.1, seed)
    }

    const GAUSSIAN: Latent = Latent::Gaussian { dim: 2 };
    const CATEGORICAL: Latent = Latent::Categorical {
        groups: 2,
        classes: 3,
    };

    fn small(latent: Latent, bernoulli: bool) -> HostVae {
        // D = 6, hidden 5, head 4 (Z = 2) or 6 (2 groups of 3), decoder hidden 4.
        let head = match latent {
            Latent::Gaussian { dim } => 2 * dim,
            Latent::Categorical { .. } => latent.code_width(),
        };
        HostVae::new(
            latent,
            vec![layer(6, 5, 1), layer(5, head, 2)],
            vec![layer(latent.code_width(), 4, 3), layer(4, 6, 4)],
            bernoulli,
        )
    }

    #[test]
    fn gradients_match_central_differences() {
        let step = StepSettings {
            tau: 0.7,
            ..StepSettings::new(0.7, 42)
        };
        for (latent, bernoulli) in [(GAUSSIAN, true), (GAUSSIAN, false), (CATEGORICAL, true)] {
            let mut vae = small(latent, bernoulli);
            let x: Vec<f32> = (0..3 * 6).map(|i| ((i * 7) % 5 < 2) as u8 as f32).collect();
            let (_, grads) = vae.loss_and_gradients(&x, 3, step);
            let n_enc = vae.encoder.len();
            let eps = 1e-2f32;
            for (k, (gw, gb)) in grads.iter().enumerate() {
                for (which, g) in [(0usize, gw), (1, gb)] {
                    for i in (0..g.len()).step_by(3) {
                        let probe = |delta: f32| {
                            let mut v = vae.clone();
                            let layer = if k < n_enc {
                                &mut v.encoder[k]
                            } else {
                                &mut v.decoder[k - n_enc]
                            };
                            let p = if which == 0 {
                                &mut layer.w
                            } else {
                                &mut layer.b
                            };
                            p[i] += delta;
                            v.forward(&x, 3, step).loss
                        };
                        let numeric = (probe(eps) - probe(-eps)) / (2.0 * f64::from(eps));
                        let got = f64::from(g[i]);
                        assert!(
                            (numeric - got).abs() < 2e-3 * (1.0 + got.abs()),
                            "{latent} layer {k} {} {i}: numeric {numeric}, analytic {got}",
                            if which == 0 { "w" } else { "b" }
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn adam_lowers_the_loss_on_a_fixed_batch() {
        for latent in [GAUSSIAN, CATEGORICAL] {
            adam_lowers_the_loss(latent);
        }
    }

    fn adam_lowers_the_loss(latent: Latent) {
        let mut vae = small(latent, true);
        let x: Vec<f32> = (0..4 * 6)
            .map(|i| ((i * 5) % 3 == 0) as u8 as f32)
            .collect();
        let adam = AdamSettings {
            lr: 1e-2,
            ..AdamSettings::default()
        };
        let first = vae.train_batch(&x, 4, StepSettings::new(1.0, 0), adam).loss;
        let mut last = first;
        for step in 1..300 {
            last = vae
                .train_batch(&x, 4, StepSettings::new(1.0, step), adam)
                .loss;
        }
        assert!(last < 0.7 * first, "{latent}: loss {first} -> {last}");
        assert_eq!(vae.steps, 300);
    }

    #[test]
    fn straight_through_codes_are_one_hot_argmaxes_of_the_relaxed_sample() {
        let mut vae = small(CATEGORICAL, true);
        let x: Vec<f32> = (0..3 * 6).map(|i| (i % 3 == 0) as u8 as f32).collect();
        let step = StepSettings {
            tau: 0.5,
            straight_through: true,
            ..StepSettings::new(1.0, 9)
        };
        vae.forward(&x, 3, step);
        let w = &vae.work;
        for (code, soft) in w.code.chunks_exact(3).zip(w.soft.chunks_exact(3)) {
            let sum: f32 = soft.iter().sum();
            assert!((sum - 1.0).abs() < 1e-6 && soft.iter().all(|&y| y > 0.0));
            let hot = crate::kernels::argmax(soft);
            for (k, &c) in code.iter().enumerate() {
                assert_eq!(c, f32::from(u8::from(k == hot)));
            }
        }
    }
}
