//! Dense layers on host buffers: `y = x W + b` with the split sgemm, ReLU / leaky-ReLU /
//! sigmoid activations and their derivatives, and Adam, shared by everything on the host path
//! ([`mlp`](super::mlp), [`bayes_dense`](super::bayes_dense) and the models composed of them).
//!
//! # Shapes
//! `W`: `[inp, out]` row-major (burn's `Linear` layout); `b`: `[out]`; batches `[B, inp]`.

use rayon::prelude::*;

use crate::kernels::gemm::{MatRef, gemm_into};
use crate::kernels::multiversion;

/// Elements per parallel task of the element-wise passes.
pub(crate) const CHUNK: usize = 1 << 14;

multiversion! {
    /// `y <- max(y, 0)`.
    pub(crate) fn relu_block(y: &mut [f32]) {
        for v in y.iter_mut() {
            *v = v.max(0.0);
        }
    }
}

multiversion! {
    /// `d <- d` where `a > 0`, else 0 (the ReLU derivative at the saved activation).
    pub(crate) fn relu_mask_block(d: &mut [f32], a: &[f32]) {
        for (d, a) in d.iter_mut().zip(a) {
            *d = if *a > 0.0 { *d } else { 0.0 };
        }
    }
}

multiversion! {
    /// Adam on one block; `c = (beta1, beta2, lr / (1 - beta1^t), sqrt(1 - beta2^t), epsilon)`.
    pub(crate) fn adam_block(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: [f32; 5]) {
        let [b1, b2, step, sqrt_c2, eps] = c;
        for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() / sqrt_c2 + eps);
        }
    }
}

/// Gradients of one layer: `(dW, db)`.
pub type LayerGrad = (Vec<f32>, Vec<f32>);

/// One dense layer `y = x W + b` (`W` is `[inp, out]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Input width.
    pub inp: usize,
    /// Output width.
    pub out: usize,
    /// `[inp, out]` row-major.
    pub w: Vec<f32>,
    /// `[out]`.
    pub b: Vec<f32>,
}

impl Dense {
    /// A layer with weights `scale · N(0, 1/inp)` and biases `bias_scale · N(0, 1)`, drawn from
    /// the counter-based streams `seed` and `seed + 1` (test networks, reproducible anywhere).
    pub fn gaussian(inp: usize, out: usize, scale: f32, bias_scale: f32, seed: u64) -> Self {
        let normal = |key: u64, i: usize| crate::kernels::noise::normal(key, i as u64);
        Self {
            inp,
            out,
            w: (0..inp * out)
                .map(|i| scale * normal(seed, i) / (inp as f32).sqrt())
                .collect(),
            b: (0..out).map(|i| bias_scale * normal(seed + 1, i)).collect(),
        }
    }
}

/// Adam's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamSettings {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Added to `sqrt(v_hat)`.
    pub epsilon: f32,
}

impl AdamSettings {
    /// The settings a model's objective holds (in f64): learning rate, decays, epsilon.
    pub fn new(lr: f64, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        Self {
            lr: lr as f32,
            beta1: beta1 as f32,
            beta2: beta2 as f32,
            epsilon: epsilon as f32,
        }
    }

    /// burn's Adam with the same decays and epsilon, for the tensor path (the learning rate
    /// is given at every step there).
    pub fn tensor_optimizer(self) -> burn::optim::Adam {
        burn::optim::AdamConfig::new()
            .with_beta_1(self.beta1)
            .with_beta_2(self.beta2)
            .with_epsilon(self.epsilon)
            .build()
    }
}

impl Default for AdamSettings {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }
}

pub(crate) fn row_major(data: &[f32], rows: usize, cols: usize) -> MatRef<'_> {
    MatRef {
        data,
        offset: 0,
        rows,
        cols,
        row_stride: cols,
        col_stride: 1,
    }
}

pub(crate) fn transposed(data: &[f32], rows: usize, cols: usize) -> MatRef<'_> {
    // The `[rows, cols]` row-major buffer read as its `[cols, rows]` transpose.
    MatRef {
        data,
        offset: 0,
        rows: cols,
        cols: rows,
        row_stride: 1,
        col_stride: cols,
    }
}

/// `y = x W + b`, then ReLU when `relu`.
pub(crate) fn dense_forward(layer: &Dense, x: &[f32], y: &mut [f32], batch: usize, relu: bool) {
    for row in y.chunks_exact_mut(layer.out) {
        row.copy_from_slice(&layer.b);
    }
    gemm_into(
        y,
        row_major(x, batch, layer.inp),
        row_major(&layer.w, layer.inp, layer.out),
        1.0,
        1.0,
        true,
    );
    if relu {
        y.par_chunks_mut(CHUNK).for_each(relu_block);
    }
}

/// `dW = x^T delta`, `db = colsum(delta)`; and `dx = delta W^T` masked by `x > 0` if wanted.
pub(crate) fn dense_backward(
    layer: &Dense,
    x: &[f32],
    delta: &[f32],
    grad: &mut (Vec<f32>, Vec<f32>),
    dx: Option<&mut [f32]>,
    batch: usize,
) {
    gemm_into(
        &mut grad.0,
        transposed(x, batch, layer.inp),
        row_major(delta, batch, layer.out),
        0.0,
        1.0,
        false,
    );
    grad.1.iter_mut().for_each(|g| *g = 0.0);
    for row in delta.chunks_exact(layer.out) {
        grad.1.iter_mut().zip(row).for_each(|(g, d)| *g += d);
    }
    if let Some(dx) = dx {
        gemm_into(
            dx,
            row_major(delta, batch, layer.out),
            transposed(&layer.w, layer.inp, layer.out),
            0.0,
            1.0,
            false,
        );
        // ReLU mask of the input activation (x > 0 exactly where the pre-activation was).
        dx.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(d, a)| relu_mask_block(d, a));
    }
}

/// The `t`-th Adam step on every layer, as one parallel pass over all their weights and biases
/// (one wake-up of the threads per step instead of one per tensor); `moments` holds `(m, v)`
/// per layer, flattened as `[W..., b...]`.
pub(crate) fn adam_layers<'a>(
    layers: impl Iterator<Item = &'a mut Dense>,
    grads: &[LayerGrad],
    moments: &mut [(Vec<f32>, Vec<f32>)],
    s: AdamSettings,
    t: u64,
) {
    let t = t as i32;
    let (c1, c2) = (1.0 - s.beta1.powi(t), 1.0 - s.beta2.powi(t));
    let c = [s.beta1, s.beta2, s.lr / c1, c2.sqrt(), s.epsilon];
    let mut blocks = Vec::new();
    for ((layer, (gw, gb)), (m, v)) in layers.zip(grads).zip(moments) {
        let nw = layer.w.len();
        let (mw, mb) = m.split_at_mut(nw);
        let (vw, vb) = v.split_at_mut(nw);
        for (p, g, m, v) in [(&mut layer.w, gw, mw, vw), (&mut layer.b, gb, mb, vb)] {
            blocks.extend(
                p.chunks_mut(CHUNK)
                    .zip(g.chunks(CHUNK))
                    .zip(m.chunks_mut(CHUNK))
                    .zip(v.chunks_mut(CHUNK)),
            );
        }
    }
    blocks
        .into_par_iter()
        .for_each(|(((p, g), m), v)| adam_block(p, g, m, v, c));
}
