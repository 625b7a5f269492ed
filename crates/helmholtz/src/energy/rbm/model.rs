//! The restricted Boltzmann machine: energy, free energy and block Gibbs sampling.
//!
//! Bernoulli visibles (the seed's binary RBM):
//! `E(v, h) = -b.v - c.h - v^T W h`, `p(h_j = 1 | v) = sigmoid(c_j + v.W_j)`,
//! `p(v_i = 1 | h) = sigmoid(b_i + W_i.h)`, and summing out `h`,
//! `F(v) = -log sum_h e^{-E(v,h)} = -b.v - sum_j softplus(c_j + v.W_j)`.
//!
//! Gaussian visibles with unit variance: `E(v, h) = |v - b|^2 / 2 - c.h - v^T W h`,
//! `v | h ~ N(b + W h, I)`, `F(v) = |v - b|^2 / 2 - sum_j softplus(c_j + v.W_j)`.
//!
//! # Shapes
//! - `W`: `[visible, hidden]` (the `[in, out]` layout of burn's `Linear`), `b`: `[visible]`,
//!   `c`: `[hidden]`.
//! - `v`: `[batch, visible]`, `h`: `[batch, hidden]`; per-example results have length `batch`.

use std::path::Path;

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::Rng;
use rand_distr::{Distribution as _, Normal};

use super::config::{RbmConfig, VisibleKind};
use super::host;
use crate::api::Persist;
use crate::error::{Error, Result};
use crate::io::TensorFile;
use crate::kernels::ops;

/// A restricted Boltzmann machine.
#[derive(Debug, Clone)]
pub struct Rbm {
    config: RbmConfig,
    w: Tensor<2>,
    b: Tensor<1>,
    c: Tensor<1>,
}

impl Rbm {
    /// A new RBM: weights `~ N(0, init_std^2)` drawn from `rng` (the same on every device),
    /// biases zero.
    pub fn new(config: RbmConfig, device: &Device, rng: &mut impl Rng) -> Result<Self> {
        config.validate()?;
        let normal = Normal::new(0.0, config.init_std)
            .map_err(|e| Error::param("init-std", e.to_string()))?;
        let w: Vec<f32> = (0..config.visible * config.hidden)
            .map(|_| normal.sample(rng) as f32)
            .collect();
        let w = Tensor::from_data(TensorData::new(w, [config.visible, config.hidden]), device);
        let b = Tensor::zeros([config.visible], device);
        let c = Tensor::zeros([config.hidden], device);
        Ok(Self { config, w, b, c })
    }

    /// An RBM from given parameters (shapes are checked against `config`).
    pub fn from_parts(config: RbmConfig, w: Tensor<2>, b: Tensor<1>, c: Tensor<1>) -> Result<Self> {
        config.validate()?;
        let (v, h) = (config.visible, config.hidden);
        let check = |what: &str, got: Vec<usize>, want: Vec<usize>| {
            if got == want {
                Ok(())
            } else {
                Err(Error::ShapeMismatch {
                    what: what.into(),
                    expected: want,
                    got,
                })
            }
        };
        check("weight", w.dims().to_vec(), vec![v, h])?;
        check("visible_bias", b.dims().to_vec(), vec![v])?;
        check("hidden_bias", c.dims().to_vec(), vec![h])?;
        Ok(Self { config, w, b, c })
    }

    /// Set the visible biases to the log-odds of the data's pixel means (Hinton's guide, 8.1),
    /// so that the initial model already has the data's marginals. Gaussian units keep `b = 0`
    /// (their data are standardised).
    pub fn init_visible_bias(&mut self, means: &[f64]) {
        if self.config.visible_kind == VisibleKind::Bernoulli {
            let logits: Vec<f32> = means.iter().map(|&m| logit(m) as f32).collect();
            self.b = Tensor::from_data(
                TensorData::new(logits, [self.config.visible]),
                &self.w.device(),
            );
        }
    }

    /// The architecture.
    pub fn config(&self) -> &RbmConfig {
        &self.config
    }

    /// `W`, `[visible, hidden]`.
    pub fn weight(&self) -> &Tensor<2> {
        &self.w
    }

    /// `b`, `[visible]`.
    pub fn visible_bias(&self) -> &Tensor<1> {
        &self.b
    }

    /// `c`, `[hidden]`.
    pub fn hidden_bias(&self) -> &Tensor<1> {
        &self.c
    }

    /// Move the parameters out (leaving empty tensors) so that their buffers can be updated
    /// in place; put them back with [`Self::set_params`].
    pub(crate) fn take_params(&mut self) -> (Tensor<2>, Tensor<1>, Tensor<1>) {
        let device = self.w.device();
        (
            std::mem::replace(&mut self.w, Tensor::empty([0, 0], &device)),
            std::mem::replace(&mut self.b, Tensor::empty([0], &device)),
            std::mem::replace(&mut self.c, Tensor::empty([0], &device)),
        )
    }

    /// Replace the parameters (same shapes).
    pub(crate) fn set_params(&mut self, w: Tensor<2>, b: Tensor<1>, c: Tensor<1>) {
        self.w = w;
        self.b = b;
        self.c = c;
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.w.device()
    }

    /// `E(v, h)` for each row pair.
    pub fn energy(&self, v: &Tensor<2>, h: &Tensor<2>) -> Tensor<1> {
        let interaction = (ops::matmul(v, &self.w) * h.clone())
            .sum_dim(1)
            .squeeze_dim::<1>(1);
        let hidden = h
            .clone()
            .matmul(self.c.clone().unsqueeze_dim::<2>(1))
            .squeeze_dim::<1>(1);
        let visible = match self.config.visible_kind {
            VisibleKind::Bernoulli => v
                .clone()
                .matmul(self.b.clone().unsqueeze_dim::<2>(1))
                .squeeze_dim::<1>(1)
                .neg(),
            VisibleKind::Gaussian => (v.clone() - self.b.clone().unsqueeze::<2>())
                .powi_scalar(2)
                .sum_dim(1)
                .squeeze_dim::<1>(1)
                .mul_scalar(0.5),
        };
        visible - hidden - interaction
    }

    /// Free energy `F(v) = -log sum_h exp(-E(v, h))` for each row, in f64.
    pub fn free_energy(&self, v: &Tensor<2>) -> Vec<f64> {
        let pre = ops::matmul(v, &self.w);
        let softplus = ops::softplus_row_sums(&pre, &self.c);
        let visible = self.visible_term(v);
        visible.iter().zip(&softplus).map(|(a, s)| a - s).collect()
    }

    /// The visible part of `F(v)`: `-b.v` or `|v - b|^2 / 2`, per row, in f64.
    fn visible_term(&self, v: &Tensor<2>) -> Vec<f64> {
        let t = match self.config.visible_kind {
            VisibleKind::Bernoulli => v.clone().matmul(self.b.clone().unsqueeze_dim::<2>(1)).neg(),
            VisibleKind::Gaussian => (v.clone() - self.b.clone().unsqueeze::<2>())
                .powi_scalar(2)
                .sum_dim(1)
                .mul_scalar(0.5),
        };
        ops::to_f64_vec(t)
    }

    /// `p(h = 1 | v)`.
    pub fn hidden_probs(&self, v: &Tensor<2>) -> Tensor<2> {
        ops::sigmoid_affine(ops::matmul(v, &self.w), 1.0, &self.c)
    }

    /// `p(h = 1 | v)` and a draw `h ~ p(h | v)`.
    pub fn sample_hidden(&self, v: &Tensor<2>, rng: &mut impl Rng) -> (Tensor<2>, Tensor<2>) {
        ops::sigmoid_bernoulli(ops::matmul(v, &self.w), 1.0, &self.c, rng)
    }

    /// `E[v | h]`: `sigmoid(b + W h)` or `b + W h`.
    pub fn visible_mean(&self, h: &Tensor<2>) -> Tensor<2> {
        let pre = ops::matmul(h, &self.w.clone().transpose());
        match self.config.visible_kind {
            VisibleKind::Bernoulli => ops::sigmoid_affine(pre, 1.0, &self.b),
            VisibleKind::Gaussian => pre + self.b.clone().unsqueeze::<2>(),
        }
    }

    /// `E[v | h]` and a draw `v ~ p(v | h)`.
    pub fn sample_visible(&self, h: &Tensor<2>, rng: &mut impl Rng) -> (Tensor<2>, Tensor<2>) {
        let pre = ops::matmul(h, &self.w.clone().transpose());
        match self.config.visible_kind {
            VisibleKind::Bernoulli => ops::sigmoid_bernoulli(pre, 1.0, &self.b, rng),
            VisibleKind::Gaussian => ops::gaussian_affine(pre, 1.0, &self.b, rng),
        }
    }

    /// `steps` sweeps of block Gibbs sampling `v -> h -> v` from `v`; returns the final
    /// `(E[v | h], v)`. On the CPU the chains run in row blocks on the fused engine.
    pub fn gibbs(&self, v: Tensor<2>, steps: usize, rng: &mut impl Rng) -> (Tensor<2>, Tensor<2>) {
        if steps > 0 && ops::is_host(&self.device()) {
            let keys: Vec<(u64, u64)> = (0..steps)
                .map(|_| (rng.next_u64(), rng.next_u64()))
                .collect();
            let dims = v.dims();
            let (mut vh, _) = ops::take_host(v);
            let mut mean = vec![0f32; vh.len()];
            self.with_host(|h| host::gibbs(&h, &mut vh, &mut mean, &keys));
            let device = self.device();
            return (
                ops::from_host(mean, dims, &device),
                ops::from_host(vh, dims, &device),
            );
        }
        self.gibbs_with_tensor_ops(v, steps, rng)
    }

    /// [`Self::gibbs`] with tensor operations (any device; the reference for the CPU engine).
    pub fn gibbs_with_tensor_ops(
        &self,
        v: Tensor<2>,
        steps: usize,
        rng: &mut impl Rng,
    ) -> (Tensor<2>, Tensor<2>) {
        let mut mean = v.clone();
        let mut v = v;
        for _ in 0..steps {
            let (_, h) = self.sample_hidden(&v, rng);
            let (m, s) = self.sample_visible(&h, rng);
            mean = m;
            v = s;
        }
        (mean, v)
    }

    /// Run `f` on host views of the parameters (copies them off a non-CPU device).
    pub(crate) fn with_host<R>(&self, f: impl FnOnce(host::HostRbm<'_>) -> R) -> R {
        let w = ops::to_f32_vec(self.w.clone());
        let b = ops::to_f32_vec(self.b.clone());
        let c = ops::to_f32_vec(self.c.clone());
        f(host::HostRbm {
            w: &w,
            b: &b,
            c: &c,
            nv: self.config.visible,
            nh: self.config.hidden,
            kind: self.config.visible_kind,
        })
    }

    /// Mean-field reconstruction `E[v | h = p(h | v)]`.
    pub fn reconstruct(&self, v: &Tensor<2>) -> Tensor<2> {
        self.visible_mean(&self.hidden_probs(v))
    }

    /// Mean over rows of `sum_i (v_i - reconstruction_i)^2`.
    pub fn reconstruction_error(&self, v: &Tensor<2>) -> f64 {
        let r = self.reconstruct(v);
        squared_error(v, &r)
    }

    /// Name of the first parameter with a NaN or infinity.
    pub fn non_finite_parameter(&self) -> Option<String> {
        if !ops::all_finite(&self.w) {
            return Some("weight".into());
        }
        if !ops::all_finite(&self.b) {
            return Some("visible_bias".into());
        }
        if !ops::all_finite(&self.c) {
            return Some("hidden_bias".into());
        }
        None
    }
}

impl Persist for Rbm {
    crate::api::persist_accessors!(RbmConfig);

    /// `weight` `[visible, hidden]`, `visible_bias` `[visible]`, `hidden_bias` `[hidden]`.
    fn to_file(&self) -> TensorFile {
        let mut file = TensorFile::default();
        file.put("weight", self.weight());
        file.put("visible_bias", self.visible_bias());
        file.put("hidden_bias", self.hidden_bias());
        file
    }

    fn from_file(
        config: RbmConfig,
        file: &TensorFile,
        device: &Device,
        path: &Path,
    ) -> Result<Self> {
        let (v, h) = (config.visible, config.hidden);
        Rbm::from_parts(
            config,
            file.get("weight", [v, h], device, path)?,
            file.get("visible_bias", [v], device, path)?,
            file.get("hidden_bias", [h], device, path)?,
        )
    }
}

/// Mean over rows of the summed squared difference.
pub(crate) fn squared_error(a: &Tensor<2>, b: &Tensor<2>) -> f64 {
    let rows = a.dims()[0].max(1) as f64;
    let s: f64 = (a.clone() - b.clone())
        .powi_scalar(2)
        .cast(burn::tensor::DType::F64)
        .sum()
        .into_scalar();
    s / rows
}

/// `log(p / (1 - p))` with `p` kept inside [1e-3, 1 - 1e-3] so constant pixels get finite biases.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-3, 1.0 - 1e-3);
    (p / (1.0 - p)).ln()
}
