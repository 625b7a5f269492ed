//! Contrastive divergence (CD-k) and persistent contrastive divergence (PCD-k).
//!
//! The log-likelihood gradient of an RBM is a data term minus a model term,
//! `d log p(v) / dW = E_data[v p(h|v)^T] - E_model[v p(h|v)^T]` (and likewise for the biases).
//! CD-k replaces the model expectation by the end of a k-step Gibbs chain started at the data
//! (the seed's algorithm: `dW += p(H=1|v0) v0 - p(H=1|vk) vk`); PCD-k continues persistent
//! chains across updates instead; the chains persist as their hidden states (as in
//! scikit-learn's `BernoulliRBM`), so PCD costs no more products than CD. The update is gradient
//! ascent with classical momentum and
//! L2 weight decay on `W`.
//!
//! # Shapes
//! `v0`: `[batch, visible]`; persistent chains (hidden states): `[chains, hidden]`.

use burn::prelude::*;
use rand::Rng;

use super::config::{CdConfig, NegativePhase};
use super::host;
use super::model::{Rbm, squared_error};
use crate::error::Result;
use crate::kernels::ops;

/// The gradient estimate of one mini-batch (ascent direction, averaged over examples).
#[derive(Debug, Clone)]
pub struct Gradient {
    /// For `W`, `[visible, hidden]`.
    pub w: Tensor<2>,
    /// For `b`, `[visible]`.
    pub b: Tensor<1>,
    /// For `c`, `[hidden]`.
    pub c: Tensor<1>,
}

/// CD-k / PCD-k with momentum: the optimiser state lives here, the parameters in [`Rbm`].
#[derive(Debug, Clone)]
pub struct ContrastiveDivergence {
    config: CdConfig,
    vel_w: Tensor<2>,
    vel_b: Tensor<1>,
    vel_c: Tensor<1>,
    chains: Option<Tensor<2>>,
}

impl ContrastiveDivergence {
    /// Fresh optimiser state (zero velocities) for `rbm`.
    pub fn new(config: CdConfig, rbm: &Rbm) -> Result<Self> {
        config.validate()?;
        let device = rbm.device();
        let (v, h) = (rbm.config().visible, rbm.config().hidden);
        Ok(Self {
            config,
            vel_w: Tensor::zeros([v, h], &device),
            vel_b: Tensor::zeros([v], &device),
            vel_c: Tensor::zeros([h], &device),
            chains: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CdConfig {
        &self.config
    }

    /// Momentum buffers `(W, b, c)`.
    pub fn velocities(&self) -> (&Tensor<2>, &Tensor<1>, &Tensor<1>) {
        (&self.vel_w, &self.vel_b, &self.vel_c)
    }

    /// Hidden states of the persistent chains (PCD), once started.
    pub fn chains(&self) -> Option<&Tensor<2>> {
        self.chains.as_ref()
    }

    /// Restore optimiser state saved from [`Self::velocities`] and [`Self::chains`].
    pub fn restore(&mut self, vel: (Tensor<2>, Tensor<1>, Tensor<1>), chains: Option<Tensor<2>>) {
        (self.vel_w, self.vel_b, self.vel_c) = vel;
        self.chains = chains;
    }

    /// Run the positive and negative phases on the mini-batch `v0` (advancing persistent
    /// chains). Also returns `E[v | h0]`, the one-step reconstruction, when it came for free (CD).
    pub fn statistics(
        &mut self,
        rbm: &Rbm,
        v0: &Tensor<2>,
        rng: &mut impl Rng,
    ) -> (Statistics, Option<Tensor<2>>) {
        let (ph0, h0) = rbm.sample_hidden(v0, rng);
        let (start_h, persistent) = match self.config.negative {
            NegativePhase::Cd => (h0, false),
            NegativePhase::Pcd => (self.take_chains(rbm, v0, rng), true),
        };
        let mut h = start_h;
        let mut first_mean = None;
        let (mut vk, mut phk) = (v0.clone(), ph0.clone());
        for step in 0..self.config.k {
            let (mean, v) = rbm.sample_visible(&h, rng);
            if step == 0 && !persistent {
                first_mean = Some(mean);
            }
            let (p, s) = rbm.sample_hidden(&v, rng);
            (vk, phk, h) = (v, p, s);
        }
        if persistent {
            self.chains = Some(h);
        }
        let stats = Statistics {
            v0: v0.clone(),
            ph0,
            vk,
            phk,
        };
        (stats, first_mean)
    }

    /// The persistent hidden states; the first call starts them at `h ~ p(h | v)` for (a cycle
    /// of) the first mini-batch.
    fn take_chains(&mut self, rbm: &Rbm, v0: &Tensor<2>, rng: &mut impl Rng) -> Tensor<2> {
        self.chains.take().unwrap_or_else(|| {
            let n = self.config.chains;
            let [rows, cols] = v0.dims();
            let tiled = Tensor::cat(vec![v0.clone(); n.div_ceil(rows)], 0).slice([0..n, 0..cols]);
            rbm.sample_hidden(&tiled, rng).1
        })
    }

    /// One ascent step from `stats` with learning rate `lr` and momentum `momentum`:
    /// `V <- momentum V + lr (grad - decay W)`, `W <- W + V` (biases without decay).
    /// The weight gradient is accumulated straight into the velocity by two products.
    pub fn apply(&mut self, rbm: &mut Rbm, stats: &Statistics, lr: f64, momentum: f64) {
        let (lr, m, wd) = (lr as f32, momentum as f32, self.config.weight_decay as f32);
        let (nb, nm) = (stats.v0.dims()[0] as f32, stats.vk.dims()[0] as f32);
        // Take sole ownership of parameters and velocities so that, on the CPU, the update
        // runs in place on their buffers.
        let (w, b, c) = rbm.take_params();
        let (vw, vb, vc) = self.take_velocities(&w.device());
        let vw = ops::matmul_into(vw, m, &stats.v0.clone().transpose(), &stats.ph0, lr / nb);
        let vw = ops::matmul_into(vw, 1.0, &stats.vk.clone().transpose(), &stats.phk, -lr / nm);
        let (w, vw) = ops::decay_step(w, vw, lr * wd);
        let (gb, gc) = stats.bias_gradients();
        let (b, vb) = ops::momentum_ascent(b, vb, gb, lr, m, 0.0, 1.0);
        let (c, vc) = ops::momentum_ascent(c, vc, gc, lr, m, 0.0, 1.0);
        rbm.set_params(w, b, c);
        (self.vel_w, self.vel_b, self.vel_c) = (vw, vb, vc);
    }

    /// The velocities `(W, b, c)`, leaving empty tensors on `device` in their place (so that
    /// the caller owns their buffers and can update them in place).
    fn take_velocities(&mut self, device: &Device) -> (Tensor<2>, Tensor<1>, Tensor<1>) {
        (
            std::mem::replace(&mut self.vel_w, Tensor::empty([0, 0], device)),
            std::mem::replace(&mut self.vel_b, Tensor::empty([0], device)),
            std::mem::replace(&mut self.vel_c, Tensor::empty([0], device)),
        )
    }

    /// One full update on `v0`; returns the batch reconstruction error
    /// `mean_rows sum_i (v0_i - E[v_i | h0])^2` when `want_recon` (free under CD; one extra
    /// product under PCD). Runs the fused CPU engine on the CPU, tensor ops elsewhere; both
    /// draw the same samples from `rng`.
    pub fn step(
        &mut self,
        rbm: &mut Rbm,
        v0: &Tensor<2>,
        lr: f64,
        momentum: f64,
        want_recon: bool,
        rng: &mut impl Rng,
    ) -> Option<f64> {
        if ops::is_host(&rbm.device())
            && let Some(r) = self.step_host(rbm, v0, self.rates(lr, momentum), want_recon, rng)
        {
            return r;
        }
        self.step_with_tensor_ops(rbm, v0, lr, momentum, want_recon, rng)
    }

    /// [`Self::step`] written with tensor operations only (the GPU path, and the reference the
    /// CPU engine is tested against).
    pub fn step_with_tensor_ops(
        &mut self,
        rbm: &mut Rbm,
        v0: &Tensor<2>,
        lr: f64,
        momentum: f64,
        want_recon: bool,
        rng: &mut impl Rng,
    ) -> Option<f64> {
        let (stats, first_mean) = self.statistics(rbm, v0, rng);
        let recon = match (want_recon, first_mean) {
            (true, Some(mean)) => Some(squared_error(v0, &mean)),
            (true, None) => Some(rbm.reconstruction_error(v0)),
            (false, _) => None,
        };
        self.apply(rbm, &stats, lr, momentum);
        recon
    }
}

impl ContrastiveDivergence {
    /// The step sizes of the CPU engine, in its `f32`.
    fn rates(&self, lr: f64, momentum: f64) -> host::Rates {
        host::Rates {
            lr: lr as f32,
            momentum: momentum as f32,
            decay: self.config.weight_decay as f32,
            velocity: !self.config.without_velocity(),
        }
    }

    /// The CPU engine's version of [`Self::step`]; `None` when a buffer is not a contiguous
    /// host buffer (then the tensor-op path runs).
    fn step_host(
        &mut self,
        rbm: &mut Rbm,
        v0: &Tensor<2>,
        rates: host::Rates,
        want_recon: bool,
        rng: &mut impl Rng,
    ) -> Option<Option<f64>> {
        let cfg = rbm.config().clone();
        let (nv, nh) = (cfg.visible, cfg.hidden);
        let pcd = self.config.negative == NegativePhase::Pcd;
        let positive = rng.next_u64();
        let mut chains = pcd.then(|| ops::take_host(self.take_chains(rbm, v0, rng)));
        let keys = host::CdKeys {
            positive,
            sweeps: (0..self.config.k)
                .map(|_| (rng.next_u64(), rng.next_u64()))
                .collect(),
        };
        let device = rbm.device();
        let (w, b, c) = rbm.take_params();
        let ((mut w, wd), (mut b, bd), (mut c, cd)) =
            (ops::take_host(w), ops::take_host(b), ops::take_host(c));
        let recon = ops::with_host_slice(v0, |v0h| {
            let hr = host::HostRbm {
                w: &w,
                b: &b,
                c: &c,
                nv,
                nh,
                kind: cfg.visible_kind,
            };
            let buf = host::cd_chains(
                &hr,
                v0h,
                chains.as_mut().map(|(v, _)| v.as_mut_slice()),
                &keys,
            );
            let recon = match (&buf.first_mean, want_recon) {
                (_, false) => None,
                (Some(mean), true) => Some(host::squared_error(v0h, mean, nv)),
                (None, true) => Some(host::reconstruction_error(&hr, v0h, &buf.ph0)),
            };
            let (vw, vb, vc) = self.take_velocities(&device);
            let ((mut vw, vwd), (mut vb, vbd), (mut vc, vcd)) =
                (ops::take_host(vw), ops::take_host(vb), ops::take_host(vc));
            let state = host::HostState {
                nv,
                nh,
                w: &mut w,
                b: &mut b,
                c: &mut c,
                vw: &mut vw,
                vb: &mut vb,
                vc: &mut vc,
            };
            host::cd_update(state, v0h, &buf, rates);
            self.vel_w = ops::from_host(vw, vwd, &device);
            self.vel_b = ops::from_host(vb, vbd, &device);
            self.vel_c = ops::from_host(vc, vcd, &device);
            recon
        });
        rbm.set_params(
            ops::from_host(w, wd, &device),
            ops::from_host(b, bd, &device),
            ops::from_host(c, cd, &device),
        );
        if let Some((v, d)) = chains {
            self.chains = Some(ops::from_host(v, d, &device));
        }
        recon
    }
}

/// The sufficient statistics of one CD/PCD update.
#[derive(Debug, Clone)]
pub struct Statistics {
    /// Data, `[batch, visible]`.
    pub v0: Tensor<2>,
    /// `p(h | v0)`, `[batch, hidden]`.
    pub ph0: Tensor<2>,
    /// End of the negative chains, `[chains, visible]`.
    pub vk: Tensor<2>,
    /// `p(h | vk)`, `[chains, hidden]`.
    pub phk: Tensor<2>,
}

impl Statistics {
    /// The log-likelihood gradient estimate (ascent direction).
    pub fn gradient(&self) -> Gradient {
        gradient(&self.v0, &self.ph0, &self.vk, &self.phk)
    }

    /// `(mean(v0) - mean(vk), mean(p0) - mean(pk))`.
    fn bias_gradients(&self) -> (Tensor<1>, Tensor<1>) {
        (
            ops::column_means(&self.v0) - ops::column_means(&self.vk),
            ops::column_means(&self.ph0) - ops::column_means(&self.phk),
        )
    }
}

/// `(v0^T p0 / B - vk^T pk / M, mean(v0) - mean(vk), mean(p0) - mean(pk))`, the weights' part
/// as one product `[v0; vk]^T [p0 / B; -pk / M]`.
fn gradient(v0: &Tensor<2>, ph0: &Tensor<2>, vk: &Tensor<2>, phk: &Tensor<2>) -> Gradient {
    let (nb, nm) = (v0.dims()[0] as f32, vk.dims()[0] as f32);
    let lhs = Tensor::cat(vec![v0.clone(), vk.clone()], 0);
    let rhs = Tensor::cat(
        vec![ph0.clone().div_scalar(nb), phk.clone().div_scalar(-nm)],
        0,
    );
    let w = ops::matmul(&lhs.transpose(), &rhs);
    let b = v0.clone().mean_dim(0).squeeze_dim::<1>(0) - vk.clone().mean_dim(0).squeeze_dim::<1>(0);
    let c =
        ph0.clone().mean_dim(0).squeeze_dim::<1>(0) - phk.clone().mean_dim(0).squeeze_dim::<1>(0);
    Gradient { w, b, c }
}
