//! The CPU engine of the Gaussian MLP VAE: forward, backward and Adam by hand on host buffers.
//!
//! burn's autodiff runs each tensor op as its own pass and records a graph per batch; for the
//! seed's VAE that costs about twice PyTorch's time per epoch on this CPU. This engine computes
//! the same loss and gradients with the split sgemm of [`crate::kernels::gemm`] and fused
//! element-wise passes into preallocated buffers:
//!
//! - encoder `h_l = relu(h_{l-1} W_l + b_l)`, head `[mu | log sigma^2] = h_L W_h + b_h`;
//! - `z = mu + exp(log sigma^2 / 2) * eps`, `eps ~ N(0, I)` from a counter-based stream;
//! - decoder `g_l = relu(g_{l-1} V_l + c_l)`, logits `a = g_L V_o + c_o`;
//! - loss (summed over the batch) `sum_d [softplus(a_d) - x_d a_d] + beta KL`, with
//!   `KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)` (Bernoulli decoder), or
//!   `sum_d (x_d - a_d)^2 / 2 + D/2 ln 2 pi` (unit-variance Gaussian decoder);
//! - backward: `da = sigmoid(a) - x` (or `a - x`), the usual products through the ReLU masks,
//!   `dmu = dz + beta mu`, `dlog sigma^2 = dz eps sigma / 2 + beta (sigma^2 - 1) / 2`;
//! - Adam (`m_hat / (sqrt(v_hat) + epsilon)`, as burn and PyTorch).
//!
//! # Shapes
//! Weights `[in, out]` row-major (burn's `Linear` layout), biases `[out]`; the head is one
//! `[H, 2Z]` matrix whose first `Z` columns give `mu`; batches `[B, D]` row-major.

use rayon::prelude::*;

use crate::kernels::gemm::gemm_into;
use crate::kernels::math::{exp, log1p};
use crate::kernels::{multiversion, noise};
pub use crate::nn::dense::{AdamSettings, Dense, LayerGrad};
use crate::nn::dense::{adam_update, dense_backward, dense_forward, row_major, transposed};

multiversion! {
    /// One row of the Bernoulli decoder: `delta = sigmoid(a) - x` and the returned
    /// `sum_d softplus(a_d) - x_d a_d` (16 f32 lanes, then f64), with one `exp` and one
    /// `log1p` per element: `e = exp(-|a|)`, `softplus(a) = max(a, 0) + log1p(e)`,
    /// `sigmoid(a) = 1 / (1 + e)` or `e / (1 + e)`.
    fn bernoulli_row(a: &[f32], x: &[f32], delta: &mut [f32]) -> f64 {
        #[inline(always)]
        fn one(a: f32, x: f32, d: &mut f32) -> f32 {
            let e = exp(-a.abs());
            let inv = 1.0 / (1.0 + e);
            *d = if a >= 0.0 { inv } else { e * inv } - x;
            a.max(0.0) + log1p(e) - x * a
        }
        let mut acc = [0f32; 16];
        let full = a.len() / 16 * 16;
        for ((a, x), d) in a[..full].chunks_exact(16).zip(x[..full].chunks_exact(16)).zip(delta[..full].chunks_exact_mut(16)) {
            for l in 0..16 {
                acc[l] += one(a[l], x[l], &mut d[l]);
            }
        }
        let mut tail = 0f64;
        for ((a, x), d) in a[full..].iter().zip(&x[full..]).zip(&mut delta[full..]) {
            tail += f64::from(one(*a, *x, d));
        }
        acc.iter().map(|&v| f64::from(v)).sum::<f64>() + tail
    }
}

multiversion! {
    /// One row of the unit-variance Gaussian decoder: `delta = a - x`, returns
    /// `sum_d (x_d - a_d)^2 / 2` (without the constant).
    fn gaussian_row(a: &[f32], x: &[f32], delta: &mut [f32]) -> f64 {
        let mut acc = [0f32; 16];
        for (k, ((a, x), d)) in a.iter().zip(x).zip(delta.iter_mut()).enumerate() {
            *d = a - x;
            acc[k % 16] += 0.5 * (a - x) * (a - x);
        }
        acc.iter().map(|&v| f64::from(v)).sum()
    }
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

/// The layers in order: encoder hidden layers, the head, decoder hidden layers, the output.
#[derive(Debug, Clone, PartialEq)]
pub struct HostVae {
    /// Encoder hidden layers then the `[H, 2Z]` head.
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
    z: Vec<f32>,
    eps: Vec<f32>,
    /// Gradients with respect to layer outputs (pre-activation after masking), per layer.
    delta_enc: Vec<Vec<f32>>,
    delta_dec: Vec<Vec<f32>>,
    dz: Vec<f32>,
    /// Parameter gradients in layer order (w, b).
    grads: Vec<(Vec<f32>, Vec<f32>)>,
}

impl HostVae {
    /// An engine over the given layers (encoder ending in the `[H, 2Z]` head, decoder ending
    /// in the output layer), with fresh Adam moments.
    pub fn new(encoder: Vec<Dense>, decoder: Vec<Dense>, bernoulli: bool) -> Self {
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
            encoder,
            decoder,
            bernoulli,
            moments,
            steps: 0,
            work: Work::default(),
        }
    }

    /// Latent width `Z`.
    pub fn latent(&self) -> usize {
        self.encoder.last().map_or(0, |h| h.out / 2)
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
        let z = self.latent();
        self.work = Work {
            batch,
            enc: sized(&self.encoder),
            dec: sized(&self.decoder),
            z: vec![0.0; batch * z],
            eps: vec![0.0; batch * z],
            delta_enc: sized(&self.encoder),
            delta_dec: sized(&self.decoder),
            dz: vec![0.0; batch * z],
            grads: self
                .encoder
                .iter()
                .chain(&self.decoder)
                .map(|l| (vec![0.0; l.w.len()], vec![0.0; l.b.len()]))
                .collect(),
        };
    }

    /// Forward pass on `x` (`[batch, D]`) with noise stream `key`; fills the work buffers and
    /// returns the summed losses.
    fn forward(&mut self, x: &[f32], batch: usize, beta: f32, key: u64) -> BatchLoss {
        self.ensure_work(batch);
        let (zw, d) = (self.latent(), self.dim());
        let w = &mut self.work;
        let last_enc = self.encoder.len() - 1;
        for (l, layer) in self.encoder.iter().enumerate() {
            let (done, rest) = w.enc.split_at_mut(l);
            let input: &[f32] = if l == 0 { x } else { &done[l - 1] };
            dense_forward(layer, input, &mut rest[0], batch, l < last_enc);
        }
        // z = mu + sigma * eps; KL per row.
        let head = &w.enc[last_enc];
        w.eps
            .iter_mut()
            .enumerate()
            .for_each(|(i, e)| *e = noise::normal(key, i as u64));
        let mut kl = 0f64;
        for r in 0..batch {
            let h = &head[r * 2 * zw..(r + 1) * 2 * zw];
            for j in 0..zw {
                let (mu, lv) = (h[j], h[zw + j]);
                let sigma = (0.5 * lv).exp();
                w.z[r * zw + j] = mu + sigma * w.eps[r * zw + j];
                kl += -0.5 * f64::from(1.0 + lv - mu * mu - sigma * sigma);
            }
        }
        let last_dec = self.decoder.len() - 1;
        for (l, layer) in self.decoder.iter().enumerate() {
            let (done, rest) = w.dec.split_at_mut(l);
            let input: &[f32] = if l == 0 { &w.z } else { &done[l - 1] };
            dense_forward(layer, input, &mut rest[0], batch, l < last_dec);
        }
        // -log p(x | z) per row, and d loss / d logits for the backward pass.
        let bernoulli = self.bernoulli;
        let recon: f64 = w.dec[last_dec]
            .par_chunks(d)
            .zip(x.par_chunks(d))
            .zip(w.delta_dec[last_dec].par_chunks_mut(d))
            .map(|((a, x), delta)| {
                if bernoulli {
                    bernoulli_row(a, x, delta)
                } else {
                    gaussian_row(a, x, delta)
                }
            })
            .sum::<f64>()
            + if bernoulli {
                0.0
            } else {
                (batch * d) as f64 * 0.5 * (2.0 * std::f64::consts::PI).ln()
            };
        BatchLoss {
            recon,
            kl,
            loss: recon + f64::from(beta) * kl,
        }
    }

    /// One Adam step on the summed loss of the batch `x` (`[batch, D]`); `key` seeds `eps`.
    pub fn train_batch(
        &mut self,
        x: &[f32],
        batch: usize,
        beta: f32,
        adam: AdamSettings,
        key: u64,
    ) -> BatchLoss {
        let loss = self.forward(x, batch, beta, key);
        self.backward(x, batch, beta);
        self.adam_step(adam);
        loss
    }

    /// The summed losses and the gradients of the loss (layer order, `(w, b)`), without an
    /// update (for tests).
    pub fn loss_and_gradients(
        &mut self,
        x: &[f32],
        batch: usize,
        beta: f32,
        key: u64,
    ) -> (BatchLoss, Vec<LayerGrad>) {
        let loss = self.forward(x, batch, beta, key);
        self.backward(x, batch, beta);
        (loss, self.work.grads.clone())
    }

    fn backward(&mut self, x: &[f32], batch: usize, beta: f32) {
        let zw = self.latent();
        let ne = self.encoder.len();
        let w = &mut self.work;
        let last_dec = self.decoder.len() - 1;
        // delta_dec[last] = d loss / d logits was filled by the forward pass.
        for l in (0..=last_dec).rev() {
            let (lower, upper) = w.delta_dec.split_at_mut(l);
            let input: &[f32] = if l == 0 { &w.z } else { &w.dec[l - 1] };
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
        gemm_into(
            &mut w.dz,
            row_major(&w.delta_dec[0], batch, self.decoder[0].out),
            transposed(&self.decoder[0].w, self.decoder[0].inp, self.decoder[0].out),
            0.0,
            1.0,
            false,
        );
        let last_enc = ne - 1;
        let head = &w.enc[last_enc];
        let dhead = &mut w.delta_enc[last_enc];
        for r in 0..batch {
            for j in 0..zw {
                let (mu, lv) = (head[r * 2 * zw + j], head[r * 2 * zw + zw + j]);
                let sigma = (0.5 * lv).exp();
                let dz = w.dz[r * zw + j];
                dhead[r * 2 * zw + j] = dz + beta * mu;
                dhead[r * 2 * zw + zw + j] =
                    0.5 * dz * w.eps[r * zw + j] * sigma + 0.5 * beta * (sigma * sigma - 1.0);
            }
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
        let t = self.steps as i32;
        let c1 = 1.0 - s.beta1.powi(t);
        let c2 = 1.0 - s.beta2.powi(t);
        let layers = self.encoder.iter_mut().chain(self.decoder.iter_mut());
        for ((layer, (gw, gb)), (m, v)) in layers.zip(&self.work.grads).zip(&mut self.moments) {
            let nw = layer.w.len();
            let (mw, mb) = m.split_at_mut(nw);
            let (vw, vb) = v.split_at_mut(nw);
            adam_update(&mut layer.w, gw, mw, vw, s, c1, c2);
            adam_update(&mut layer.b, gb, mb, vb, s, c1, c2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(inp: usize, out: usize, seed: u64) -> Dense {
        Dense {
            inp,
            out,
            w: (0..inp * out)
                .map(|i| 0.5 * noise::normal(seed, i as u64) / (inp as f32).sqrt())
                .collect(),
            b: (0..out)
                .map(|i| 0.1 * noise::normal(seed + 1, i as u64))
                .collect(),
        }
    }

    fn small(bernoulli: bool) -> HostVae {
        // D = 6, hidden 5, Z = 2 (head 4), decoder hidden 4.
        HostVae::new(
            vec![layer(6, 5, 1), layer(5, 4, 2)],
            vec![layer(2, 4, 3), layer(4, 6, 4)],
            bernoulli,
        )
    }

    #[test]
    fn gradients_match_central_differences() {
        for bernoulli in [true, false] {
            let mut vae = small(bernoulli);
            let x: Vec<f32> = (0..3 * 6).map(|i| ((i * 7) % 5 < 2) as u8 as f32).collect();
            let (_, grads) = vae.loss_and_gradients(&x, 3, 0.7, 42);
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
                            v.forward(&x, 3, 0.7, 42).loss
                        };
                        let numeric = (probe(eps) - probe(-eps)) / (2.0 * f64::from(eps));
                        let got = f64::from(g[i]);
                        assert!(
                            (numeric - got).abs() < 2e-3 * (1.0 + got.abs()),
                            "layer {k} {} {i}: numeric {numeric}, analytic {got}",
                            if which == 0 { "w" } else { "b" }
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn adam_lowers_the_loss_on_a_fixed_batch() {
        let mut vae = small(true);
        let x: Vec<f32> = (0..4 * 6)
            .map(|i| ((i * 5) % 3 == 0) as u8 as f32)
            .collect();
        let adam = AdamSettings {
            lr: 1e-2,
            ..AdamSettings::default()
        };
        let first = vae.train_batch(&x, 4, 1.0, adam, 0).loss;
        let mut last = first;
        for step in 1..300 {
            last = vae.train_batch(&x, 4, 1.0, adam, step).loss;
        }
        assert!(last < 0.7 * first, "loss {first} -> {last}");
        assert_eq!(vae.steps, 300);
    }
}
