//! Bayesian dense layers on host buffers (Bayes by Backprop, Blundell et al. 2015): every
//! weight and bias has a Gaussian posterior `q(w) = N(μ, σ²)`, `σ = softplus(ρ)`, and a
//! training step minimises the free energy per example
//!
//! `F = (1/B) Σ_i -ln p(y_i | x_i, w) + KL(q ‖ p) / N`
//!
//! with a categorical likelihood (softmax of the last layer) — forward, backward and Adam by
//! hand over the split sgemm and fused element-wise passes, as the other host engines.
//!
//! - Local reparameterisation (Kingma, Salimans & Welling 2015): a layer samples its
//!   pre-activations, `a = h μ_W + μ_b + sqrt(h² σ_W² + σ_b²) ⊙ ε`, one `ε` per example and
//!   unit. Backward: `∂μ_W = hᵀ δ`, `∂v = δ ⊙ ε / (2 s)`, `∂σ_W = 2 σ_W ⊙ (h²)ᵀ ∂v`,
//!   `∂h = δ μ_Wᵀ + 2 h ⊙ (∂v (σ_W²)ᵀ)`.
//! - Weight sampling: `W = μ_W + σ_W ⊙ E`, `a = h W + b`; `∂μ_W = hᵀ δ`, `∂σ_W = ∂μ_W ⊙ E`,
//!   `∂h = δ Wᵀ`.
//! - KL per element: closed form for a Gaussian prior `N(0, s²)`,
//!   `ln(s/σ) + (σ² + μ²)/(2s²) - ½`; for the scale mixture `π N(0, σ₁²) + (1-π) N(0, σ₂²)`
//!   the one-draw estimate `ln q(w) - ln p(w)` at `w = μ + σ ε` (the sampled weights, or a
//!   fresh draw under local reparameterisation), whose gradient is `∂μ = g`,
//!   `∂σ = -1/σ + g ε` with `g = w (r₁/σ₁² + r₂/σ₂²)` and `r` the components'
//!   responsibilities. `∂ρ = ∂σ · sigmoid(ρ)`.
//!
//! Noise comes from keyed counter-based streams ([`noise_key`], [`normal`]), so the tensor
//! path (burn autodiff, the reference) can draw the very same numbers and a conformance test
//! compares the two to 1e-4.
//!
//! # Shapes
//! `μ_W, ρ_W`: `[in, out]` row-major; `μ_b, ρ_b`: `[out]`; inputs `[B, in]`; logits
//! `[B, classes]`.

use rayon::prelude::*;

use super::dense::{AdamSettings, CHUNK, row_major, transposed};
use super::mlp::{Activation, activate_block, derivative_block};
use crate::kernels::gemm::gemm_into;
use crate::kernels::math::{exp, ln, log1p};
use crate::kernels::multiversion;
use crate::kernels::split::ordered_sum;
use crate::rng::{GOLDEN_GAMMA, splitmix64};

/// `½ ln 2π`.
const HALF_LN_2PI: f32 = 0.918_938_5;

/// The prior of every weight (or bias) of a layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScalePrior {
    /// `N(0, sigma²)`.
    Gaussian {
        /// Standard deviation.
        sigma: f32,
    },
    /// `π N(0, σ₁²) + (1 - π) N(0, σ₂²)`.
    Mixture {
        /// Weight of the first component.
        pi: f32,
        /// Standard deviation of the first component.
        sigma1: f32,
        /// Standard deviation of the second component.
        sigma2: f32,
    },
}

impl ScalePrior {
    /// `[kind, a, b, c]` for the element-wise kernels: `[0, s, 0, 0]` or `[1, π, σ₁, σ₂]`.
    fn packed(self) -> [f32; 4] {
        match self {
            ScalePrior::Gaussian { sigma } => [0.0, sigma, 0.0, 0.0],
            ScalePrior::Mixture { pi, sigma1, sigma2 } => [1.0, pi, sigma1, sigma2],
        }
    }

    fn needs_draw(self) -> bool {
        matches!(self, ScalePrior::Mixture { .. })
    }
}

/// How a layer draws its randomness in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Pre-activations (local reparameterisation).
    LocalReparam,
    /// Whole weights, one draw per mini-batch.
    Weights,
}

/// What a noise stream of a layer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseUse {
    /// `E` of the sampled weights `[in, out]`.
    Weight = 1,
    /// `e` of the sampled biases `[out]`.
    Bias = 2,
    /// `ε` of the sampled pre-activations `[B, out]`.
    PreActivation = 3,
    /// The weights' draw for the mixture prior's KL (local reparameterisation).
    KlWeight = 4,
    /// The biases' draw for the mixture prior's KL (local reparameterisation).
    KlBias = 5,
    /// The regression noise's draw.
    Noise = 6,
}

/// The stream of layer `layer`'s noise `what` in the step keyed `key`.
pub fn noise_key(key: u64, layer: usize, what: NoiseUse) -> u64 {
    splitmix64(key ^ splitmix64(((layer as u64) << 8) | what as u64))
}

/// A standard normal draw, element `i` of stream `key`: Box-Muller on two 24-bit uniforms in
/// `f32`, with a polynomial cosine, so that it vectorises (tails reach 5.8 σ).
#[inline(always)]
pub fn normal(key: u64, i: u64) -> f32 {
    let bits = splitmix64(key.wrapping_add(i.wrapping_mul(GOLDEN_GAMMA)));
    let scale = 1.0 / 16_777_216.0f32;
    // u1 in (0, 1], u2 in [0, 1).
    let u1 = (((bits >> 40) as i32) as f32 + 1.0) * scale;
    let u2 = ((((bits >> 8) & 0xff_ffff) as i32) as f32) * scale;
    // cos(2π u2) = -cos(2π x) with x = u2 - ½, folded to θ = 2π w in [0, π/2].
    let y = (u2 - 0.5).abs();
    let flip = y > 0.25;
    let w = if flip { 0.5 - y } else { y };
    let t = std::f32::consts::TAU * w;
    let t2 = t * t;
    let c = 1.0
        + t2 * (-0.5
            + t2 * (1.0 / 24.0 + t2 * (-1.0 / 720.0 + t2 * (1.0 / 40_320.0 - t2 / 3_628_800.0))));
    let cos = if flip { c } else { -c };
    (-2.0 * ln(u1)).sqrt() * cos
}

multiversion! {
    /// `out[j] = normal(key, first + j)`.
    fn normal_block(out: &mut [f32], key: u64, first: u64) {
        for (j, v) in out.iter_mut().enumerate() {
            *v = normal(key, first + j as u64);
        }
    }
}

/// `n` draws of stream `key` (the same whatever the thread count).
pub fn normals(key: u64, n: usize) -> Vec<f32> {
    let mut out = vec![0f32; n];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, block)| normal_block(block, key, (c * CHUNK) as u64));
    out
}

/// `σ = softplus(ρ)` and `sigmoid(ρ)` with one `exp`.
#[inline(always)]
fn softplus_sigmoid(rho: f32) -> (f32, f32) {
    let e = exp(-rho.abs());
    let inv = 1.0 / (1.0 + e);
    (
        rho.max(0.0) + log1p(e),
        if rho >= 0.0 { inv } else { e * inv },
    )
}

/// A prior's constants for [`kl_element`]: `[kind, ...]` — Gaussian `[0, 1/s², ln s, 0, 0,
/// 0]`; mixture `[1, 1/σ₁², 1/σ₂², ln(1-π) - ln σ₂ - ½ ln 2π, ln(π/(1-π)) - ln(σ₁/σ₂), 0]`.
fn kl_constants(prior: [f32; 4]) -> [f32; 6] {
    if prior[0] == 0.0 {
        let s = prior[1];
        [0.0, 1.0 / (s * s), s.ln(), 0.0, 0.0, 0.0]
    } else {
        let [_, pi, s1, s2] = prior;
        [
            1.0,
            1.0 / (s1 * s1),
            1.0 / (s2 * s2),
            (1.0 - pi).ln() - s2.ln() - HALF_LN_2PI,
            (pi / (1.0 - pi)).ln() - (s1 / s2).ln(),
            0.0,
        ]
    }
}

/// `KL` of one element and its gradients `(kl, ∂μ, ∂σ)` under a Gaussian prior (`k` from
/// [`kl_constants`]).
#[inline(always)]
fn kl_gaussian(mu: f32, sigma: f32, k: [f32; 6]) -> (f32, f32, f32) {
    let inv = k[1];
    let kl = k[2] - ln(sigma) + 0.5 * (sigma * sigma + mu * mu) * inv - 0.5;
    (kl, mu * inv, -1.0 / sigma + sigma * inv)
}

/// The same under the scale mixture, at `w = μ + σ ε`.
#[inline(always)]
fn kl_mixture(mu: f32, sigma: f32, eps: f32, k: [f32; 6]) -> (f32, f32, f32) {
    let (i1, i2) = (k[1], k[2]);
    let w = mu + sigma * eps;
    let ww = 0.5 * w * w;
    let log_q = -0.5 * eps * eps - ln(sigma) - HALF_LN_2PI;
    let a2 = -ww * i2 + k[3];
    let d = -ww * (i1 - i2) + k[4];
    let e = exp(-d.abs());
    let log_p = a2 + d.max(0.0) + log1p(e);
    let inv = 1.0 / (1.0 + e);
    let r1 = if d >= 0.0 { inv } else { e * inv };
    let g = w * (r1 * i1 + (1.0 - r1) * i2);
    (log_q - log_p, g, -1.0 / sigma + g * eps)
}

multiversion! {
    /// One block of [`update_posterior`]: the KL's value and gradients added to the data's,
    /// `∂ρ = ∂σ sigmoid(ρ)`, then Adam on `μ` and `ρ`. `gs` is `(h²)ᵀ ∂v` (local
    /// reparameterisation, `∂σ = 2σ gs`) or `E` (weight sampling, `∂σ = ∂μ E`); `eps` the KL's
    /// draw (empty for a Gaussian prior). `k` is the prior's [`kl_constants`] followed by
    /// `[kl scale, weights?, b1, b2, lr/(1-b1^t), sqrt(1-b2^t), eps]`.
    fn posterior_block(mu: &mut [f32], rho: &mut [f32], gm: &[f32], gs: &[f32], eps: &[f32], mo: &mut [f32], k: [f32; 13]) -> f64 {
        let prior = [k[0], k[1], k[2], k[3], k[4], k[5]];
        let [scale, weights, b1, b2, step, sqrt_c2, adam_eps] = [k[6], k[7], k[8], k[9], k[10], k[11], k[12]];
        let n = mu.len();
        let (m_mu, rest) = mo.split_at_mut(n);
        let (v_mu, rest) = rest.split_at_mut(n);
        let (m_rho, v_rho) = rest.split_at_mut(n);
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        fn one(mu: &mut f32, rho: &mut f32, gm: f32, gs: f32, kl: (f32, f32, f32), sigma: f32, sig: f32, mo: [&mut f32; 4], c: [f32; 7]) {
            let [scale, weights, b1, b2, step, sqrt_c2, adam_eps] = c;
            let (_, kl_mu, kl_sigma) = kl;
            let g_sigma = if weights > 0.0 { gm * gs } else { 2.0 * sigma * gs };
            let g_mu = gm + scale * kl_mu;
            let g_rho = (g_sigma + scale * kl_sigma) * sig;
            let [m1, v1, m2, v2] = mo;
            *m1 = b1 * *m1 + (1.0 - b1) * g_mu;
            *v1 = b2 * *v1 + (1.0 - b2) * g_mu * g_mu;
            *mu -= step * *m1 / (v1.sqrt() / sqrt_c2 + adam_eps);
            *m2 = b1 * *m2 + (1.0 - b1) * g_rho;
            *v2 = b2 * *v2 + (1.0 - b2) * g_rho * g_rho;
            *rho -= step * *m2 / (v2.sqrt() / sqrt_c2 + adam_eps);
        }
        let c = [scale, weights, b1, b2, step, sqrt_c2, adam_eps];
        // One zipped pass without a reduction (so that it vectorises), the KL of every element
        // into `kl`, then its sum.
        let mut kl_out = vec![0f32; n];
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        fn run<const MIX: bool>(mu: &mut [f32], rho: &mut [f32], gm: &[f32], gs: &[f32], eps: &[f32], mo: [&mut [f32]; 4], kl_out: &mut [f32], prior: [f32; 6], c: [f32; 7]) {
            let [m_mu, v_mu, m_rho, v_rho] = mo;
            for (((((((((mu, rho), gm), gs), e), m1), v1), m2), v2), out) in mu
                .iter_mut()
                .zip(rho.iter_mut())
                .zip(gm)
                .zip(gs)
                .zip(eps)
                .zip(m_mu.iter_mut())
                .zip(v_mu.iter_mut())
                .zip(m_rho.iter_mut())
                .zip(v_rho.iter_mut())
                .zip(kl_out.iter_mut())
            {
                let (sigma, sig) = softplus_sigmoid(*rho);
                let kl = if MIX {
                    kl_mixture(*mu, sigma, *e, prior)
                } else {
                    kl_gaussian(*mu, sigma, prior)
                };
                *out = kl.0;
                one(mu, rho, *gm, *gs, kl, sigma, sig, [m1, v1, m2, v2], c);
            }
        }
        let mo = [m_mu, v_mu, m_rho, v_rho];
        if prior[0] != 0.0 && !eps.is_empty() {
            run::<true>(mu, rho, gm, gs, eps, mo, &mut kl_out, prior, c);
        } else {
            run::<false>(mu, rho, gm, gs, gs, mo, &mut kl_out, prior, c);
        }
        crate::kernels::rows::lane_sum(&kl_out)
    }
}

/// The Adam moments of one parameter pair `(μ, ρ)` of `n` elements, stored per block of
/// [`CHUNK`] as `[m_μ | v_μ | m_ρ | v_ρ]` so one pass updates both.
#[derive(Debug, Clone, PartialEq)]
pub struct PairMoments {
    n: usize,
    data: Vec<f32>,
}

impl PairMoments {
    fn new(n: usize) -> Self {
        Self {
            n,
            data: vec![0.0; 4 * n],
        }
    }

    fn block_range(&self, c: usize) -> (usize, usize) {
        let start = c * CHUNK;
        (start, (start + CHUNK).min(self.n))
    }

    /// `(m_μ, v_μ, m_ρ, v_ρ)` in parameter order.
    pub fn unpack(&self) -> [Vec<f32>; 4] {
        let mut out: [Vec<f32>; 4] = Default::default();
        for c in 0..self.n.div_ceil(CHUNK) {
            let (s, e) = self.block_range(c);
            let block = &self.data[4 * s..4 * e];
            for (k, o) in out.iter_mut().enumerate() {
                o.extend_from_slice(&block[k * (e - s)..(k + 1) * (e - s)]);
            }
        }
        out
    }

    /// Restore what [`PairMoments::unpack`] gave.
    pub fn pack(parts: &[Vec<f32>; 4]) -> Self {
        let n = parts[0].len();
        let mut me = Self::new(n);
        for c in 0..n.div_ceil(CHUNK) {
            let (s, e) = me.block_range(c);
            for (k, p) in parts.iter().enumerate() {
                me.data[4 * s + k * (e - s)..4 * s + (k + 1) * (e - s)].copy_from_slice(&p[s..e]);
            }
        }
        me
    }
}

/// Add the KL (scaled by `scale`) to the data gradients `gm` (for `μ`) and `gs`, and take one
/// Adam step on `μ` and `ρ`; returns the unscaled KL of these elements.
#[allow(clippy::too_many_arguments)]
fn update_posterior(
    mu: &mut [f32],
    rho: &mut [f32],
    gm: &[f32],
    gs: &[f32],
    eps: &[f32],
    moments: &mut PairMoments,
    prior: ScalePrior,
    c: [f32; 7],
) -> f64 {
    let p = kl_constants(prior.packed());
    let k = [
        p[0], p[1], p[2], p[3], p[4], p[5], c[0], c[1], c[2], c[3], c[4], c[5], c[6],
    ];
    let eps_block = |k: usize| {
        if eps.is_empty() {
            &eps[..0]
        } else {
            &eps[k * CHUNK..((k + 1) * CHUNK).min(eps.len())]
        }
    };
    // Blocks' KLs added in order (rayon's `sum` adds in an order that follows the threads).
    ordered_sum(
        mu.par_chunks_mut(CHUNK)
            .zip(rho.par_chunks_mut(CHUNK))
            .zip(gm.par_chunks(CHUNK))
            .zip(gs.par_chunks(CHUNK))
            .zip(moments.data.par_chunks_mut(4 * CHUNK))
            .enumerate()
            .map(|(b, ((((mu, rho), gm), gs), mo))| {
                posterior_block(mu, rho, gm, gs, eps_block(b), mo, k)
            }),
    )
}

/// One Bayesian dense layer: posterior means and softplus-scales of `W` (`[inp, out]`) and `b`.
#[derive(Debug, Clone, PartialEq)]
pub struct BayesDense {
    /// Input width.
    pub inp: usize,
    /// Output width.
    pub out: usize,
    /// `μ_W`, `[inp, out]`.
    pub w_mu: Vec<f32>,
    /// `ρ_W`, `[inp, out]`.
    pub w_rho: Vec<f32>,
    /// `μ_b`, `[out]`.
    pub b_mu: Vec<f32>,
    /// `ρ_b`, `[out]`.
    pub b_rho: Vec<f32>,
}

/// What a layer's backward pass needs from its forward pass.
enum LayerTrace {
    Local {
        /// `h²`, `[B, in]`.
        sq_in: Vec<f32>,
        /// `σ_W²`, `[in, out]`.
        var_w: Vec<f32>,
        /// `s = sqrt(v)`, `[B, out]`.
        sd: Vec<f32>,
        /// `ε`, `[B, out]`.
        eps: Vec<f32>,
    },
    Weights {
        /// The sampled `W`, `[in, out]`.
        w: Vec<f32>,
        /// `E`, `[in, out]`.
        e_w: Vec<f32>,
        /// `e`, `[out]`.
        e_b: Vec<f32>,
    },
}

multiversion! {
    /// `σ² = softplus(ρ)²`.
    fn variance_block(out: &mut [f32], rho: &[f32]) {
        for (o, &r) in out.iter_mut().zip(rho) {
            let s = softplus_sigmoid(r).0;
            *o = s * s;
        }
    }
}

multiversion! {
    /// `W = μ + softplus(ρ) E`.
    fn sample_block(w: &mut [f32], mu: &[f32], rho: &[f32], e: &[f32]) {
        for i in 0..w.len() {
            w[i] = mu[i] + softplus_sigmoid(rho[i]).0 * e[i];
        }
    }
}

multiversion! {
    /// `a <- a + sqrt(v) ε`, keeping `s = sqrt(v)` in `v`.
    fn local_block(a: &mut [f32], v: &mut [f32], eps: &[f32]) {
        for i in 0..a.len() {
            let s = v[i].sqrt();
            v[i] = s;
            a[i] += s * eps[i];
        }
    }
}

multiversion! {
    /// `dv = δ ε / (2 s)`.
    fn dv_block(dv: &mut [f32], delta: &[f32], eps: &[f32], sd: &[f32]) {
        for i in 0..dv.len() {
            dv[i] = delta[i] * eps[i] / (2.0 * sd[i]);
        }
    }
}

multiversion! {
    /// `dh <- dh + 2 h t`.
    fn input_grad_block(dh: &mut [f32], h: &[f32], t: &[f32]) {
        for i in 0..dh.len() {
            dh[i] += 2.0 * h[i] * t[i];
        }
    }
}

fn par_map2(out: &mut [f32], a: &[f32], f: impl Fn(&mut [f32], &[f32]) + Sync) {
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .for_each(|(o, a)| f(o, a));
}

fn par_map3(out: &mut [f32], a: &[f32], b: &[f32], f: impl Fn(&mut [f32], &[f32], &[f32]) + Sync) {
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .zip(b.par_chunks(CHUNK))
        .for_each(|((o, a), b)| f(o, a, b));
}

/// `a <- bias + h W` for `h` `[B, inp]`, `W` `[inp, out]` (`a` is `[B, out]`).
fn affine(a: &mut [f32], h: &[f32], w: &[f32], bias: &[f32], inp: usize) {
    let out = bias.len();
    for row in a.chunks_exact_mut(out) {
        row.copy_from_slice(bias);
    }
    let batch = a.len() / out;
    gemm_into(
        a,
        row_major(h, batch, inp),
        row_major(w, inp, out),
        1.0,
        1.0,
        true,
    );
}

/// `d Wᵀ` for `d` `[B, out]`, `W` `[inp, out]`: `[B, inp]`.
fn times_transposed(d: &[f32], w: &[f32], inp: usize, out: usize) -> Vec<f32> {
    let batch = d.len() / out;
    let mut r = vec![0f32; batch * inp];
    gemm_into(
        &mut r,
        row_major(d, batch, out),
        transposed(w, inp, out),
        0.0,
        1.0,
        false,
    );
    r
}

/// `hᵀ d` for `h` `[B, inp]`, `d` `[B, out]`: `[inp, out]`.
fn transposed_times(h: &[f32], d: &[f32], inp: usize, out: usize) -> Vec<f32> {
    let batch = d.len() / out;
    let mut r = vec![0f32; inp * out];
    gemm_into(
        &mut r,
        transposed(h, batch, inp),
        row_major(d, batch, out),
        0.0,
        1.0,
        false,
    );
    r
}

fn col_sums(m: &[f32], cols: usize) -> Vec<f32> {
    let mut s = vec![0f32; cols];
    for row in m.chunks_exact(cols) {
        s.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    s
}

/// A Bayesian MLP classifier with Adam state: hidden layers with `activation`, a softmax
/// output.
#[derive(Debug, Clone, PartialEq)]
pub struct BayesNet {
    /// The layers, input first.
    pub layers: Vec<BayesDense>,
    /// The hidden non-linearity (`Relu` or `Tanh`).
    pub activation: Activation,
    /// How training draws its noise.
    pub sampling: Sampling,
    /// Prior of the weights.
    pub weight_prior: ScalePrior,
    /// Prior of the biases.
    pub bias_prior: ScalePrior,
    /// Adam moments of `(μ_W, ρ_W)` and `(μ_b, ρ_b)` per layer.
    moments: Vec<[PairMoments; 2]>,
    /// Adam steps taken.
    pub steps: u64,
}

/// What one training step measured (before its update), nats per example.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLoss {
    /// `nll + kl`.
    pub loss: f64,
    /// Mean negative log-likelihood of the batch under the sampled network.
    pub nll: f64,
    /// `KL(q ‖ p) / N`.
    pub kl: f64,
}

impl BayesNet {
    /// A network of `layers` with fresh Adam state.
    pub fn new(
        layers: Vec<BayesDense>,
        activation: Activation,
        sampling: Sampling,
        weight_prior: ScalePrior,
        bias_prior: ScalePrior,
    ) -> Self {
        let moments = layers
            .iter()
            .map(|l| {
                [
                    PairMoments::new(l.w_mu.len()),
                    PairMoments::new(l.b_mu.len()),
                ]
            })
            .collect();
        Self {
            layers,
            activation,
            sampling,
            weight_prior,
            bias_prior,
            moments,
            steps: 0,
        }
    }

    /// Adam moments per layer: `[(m, v) of μ_W, of ρ_W, of μ_b, of ρ_b]`.
    pub fn moments(&self) -> Vec<[(Vec<f32>, Vec<f32>); 4]> {
        self.moments
            .iter()
            .map(|[w, b]| {
                let [wm_m, wm_v, wr_m, wr_v] = w.unpack();
                let [bm_m, bm_v, br_m, br_v] = b.unpack();
                [(wm_m, wm_v), (wr_m, wr_v), (bm_m, bm_v), (br_m, br_v)]
            })
            .collect()
    }

    /// Restore what [`BayesNet::moments`] gave, after `steps` Adam steps.
    pub fn set_moments(&mut self, moments: Vec<[(Vec<f32>, Vec<f32>); 4]>, steps: u64) {
        self.moments = moments
            .into_iter()
            .map(|[wm, wr, bm, br]| {
                [
                    PairMoments::pack(&[wm.0, wm.1, wr.0, wr.1]),
                    PairMoments::pack(&[bm.0, bm.1, br.0, br.1]),
                ]
            })
            .collect();
        self.steps = steps;
    }

    /// One training step on the rows `x` (`[B, in]`) with class `labels` out of `n` training
    /// examples: free energy, gradients, Adam; noise from the streams of `key`.
    pub fn train_step(
        &mut self,
        x: &[f32],
        labels: &[u32],
        n: usize,
        key: u64,
        adam: AdamSettings,
    ) -> StepLoss {
        let batch = labels.len();
        let (outputs, traces) = self.forward_train(x, batch, key);
        let logits = outputs.last().map_or(&[][..], Vec::as_slice);
        let classes = self.layers.last().map_or(0, |l| l.out);
        let (nll, mut delta) = softmax_nll(logits, labels, classes);
        self.steps += 1;
        let t = self.steps as i32;
        let (c1, c2) = (1.0 - adam.beta1.powi(t), 1.0 - adam.beta2.powi(t));
        let mut kl = 0.0;
        for l in (0..self.layers.len()).rev() {
            let input: &[f32] = if l == 0 { x } else { &outputs[l - 1] };
            let c = [
                1.0 / n as f32,
                f32::from(u8::from(self.sampling == Sampling::Weights)),
                adam.beta1,
                adam.beta2,
                adam.lr / c1,
                c2.sqrt(),
                adam.epsilon,
            ];
            let (dh, layer_kl) = self.backward_layer(l, input, &delta, &traces[l], l > 0, key, c);
            kl += layer_kl;
            if let Some(mut dh) = dh {
                let act = self.activation;
                par_map2(&mut dh, &outputs[l - 1], |d, y| derivative_block(d, y, act));
                delta = dh;
            }
        }
        let kl = kl / n as f64;
        StepLoss {
            loss: nll + kl,
            nll,
            kl,
        }
    }

    fn forward_train(&self, x: &[f32], batch: usize, key: u64) -> (Vec<Vec<f32>>, Vec<LayerTrace>) {
        let mut outputs: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        let mut traces = Vec::with_capacity(self.layers.len());
        let last = self.layers.len().saturating_sub(1);
        for (l, layer) in self.layers.iter().enumerate() {
            let h: &[f32] = outputs.last().map_or(x, Vec::as_slice);
            let (inp, out) = (layer.inp, layer.out);
            let mut a = vec![0f32; batch * out];
            let trace = match self.sampling {
                Sampling::LocalReparam => {
                    affine(&mut a, h, &layer.w_mu, &layer.b_mu, inp);
                    let mut var_w = vec![0f32; inp * out];
                    par_map2(&mut var_w, &layer.w_rho, variance_block);
                    let mut var_b = vec![0f32; out];
                    variance_block(&mut var_b, &layer.b_rho);
                    let mut sq_in = h.to_vec();
                    sq_in
                        .par_chunks_mut(CHUNK)
                        .for_each(|c| c.iter_mut().for_each(|v| *v *= *v));
                    let mut v = vec![0f32; batch * out];
                    affine(&mut v, &sq_in, &var_w, &var_b, inp);
                    let eps = normals(noise_key(key, l, NoiseUse::PreActivation), batch * out);
                    a.par_chunks_mut(CHUNK)
                        .zip(v.par_chunks_mut(CHUNK))
                        .zip(eps.par_chunks(CHUNK))
                        .for_each(|((a, v), e)| local_block(a, v, e));
                    LayerTrace::Local {
                        sq_in,
                        var_w,
                        sd: v,
                        eps,
                    }
                }
                Sampling::Weights => {
                    let e_w = normals(noise_key(key, l, NoiseUse::Weight), inp * out);
                    let e_b = normals(noise_key(key, l, NoiseUse::Bias), out);
                    let mut w = vec![0f32; inp * out];
                    w.par_chunks_mut(CHUNK)
                        .zip(layer.w_mu.par_chunks(CHUNK))
                        .zip(layer.w_rho.par_chunks(CHUNK))
                        .zip(e_w.par_chunks(CHUNK))
                        .for_each(|(((w, m), r), e)| sample_block(w, m, r, e));
                    let mut b = vec![0f32; out];
                    sample_block(&mut b, &layer.b_mu, &layer.b_rho, &e_b);
                    affine(&mut a, h, &w, &b, inp);
                    LayerTrace::Weights { w, e_w, e_b }
                }
            };
            if l < last {
                let act = self.activation;
                a.par_chunks_mut(CHUNK).for_each(|c| activate_block(c, act));
            }
            outputs.push(a);
            traces.push(trace);
        }
        (outputs, traces)
    }

    /// Gradients of layer `l` from `delta = ∂F/∂a_l`, its update, and `∂F/∂h` (before the
    /// activation's derivative) when `want_input`. Returns the layer's KL (unscaled).
    #[allow(clippy::too_many_arguments)]
    fn backward_layer(
        &mut self,
        l: usize,
        h: &[f32],
        delta: &[f32],
        trace: &LayerTrace,
        want_input: bool,
        key: u64,
        c: [f32; 7],
    ) -> (Option<Vec<f32>>, f64) {
        let layer = &self.layers[l];
        let (inp, out) = (layer.inp, layer.out);
        let batch = delta.len() / out;
        let g_mu = transposed_times(h, delta, inp, out);
        let g_bmu = col_sums(delta, out);
        let (dh, gs_w, gs_b, eps_w, eps_b) = match trace {
            LayerTrace::Local {
                sq_in,
                var_w,
                sd,
                eps,
            } => {
                let mut dv = vec![0f32; batch * out];
                dv.par_chunks_mut(CHUNK)
                    .zip(delta.par_chunks(CHUNK))
                    .zip(eps.par_chunks(CHUNK))
                    .zip(sd.par_chunks(CHUNK))
                    .for_each(|(((o, d), e), s)| dv_block(o, d, e, s));
                let g_var = transposed_times(sq_in, &dv, inp, out);
                let dh = want_input.then(|| {
                    let mut dh = times_transposed(delta, &layer.w_mu, inp, out);
                    let t = times_transposed(&dv, var_w, inp, out);
                    par_map3(&mut dh, h, &t, input_grad_block);
                    dh
                });
                let draw = |what: NoiseUse, len: usize, prior: ScalePrior| {
                    if prior.needs_draw() {
                        normals(noise_key(key, l, what), len)
                    } else {
                        Vec::new()
                    }
                };
                (
                    dh,
                    g_var,
                    col_sums(&dv, out),
                    draw(NoiseUse::KlWeight, inp * out, self.weight_prior),
                    draw(NoiseUse::KlBias, out, self.bias_prior),
                )
            }
            LayerTrace::Weights { w, e_w, e_b } => {
                let dh = want_input.then(|| times_transposed(delta, w, inp, out));
                let keep = |e: &Vec<f32>, prior: ScalePrior| {
                    if prior.needs_draw() {
                        e.clone()
                    } else {
                        Vec::new()
                    }
                };
                (
                    dh,
                    e_w.clone(),
                    e_b.clone(),
                    keep(e_w, self.weight_prior),
                    keep(e_b, self.bias_prior),
                )
            }
        };
        let (wp, bp) = (self.weight_prior, self.bias_prior);
        let layer = &mut self.layers[l];
        let [mw, mb] = &mut self.moments[l];
        let kl_w = update_posterior(
            &mut layer.w_mu,
            &mut layer.w_rho,
            &g_mu,
            &gs_w,
            &eps_w,
            mw,
            wp,
            c,
        );
        let kl_b = update_posterior(
            &mut layer.b_mu,
            &mut layer.b_rho,
            &g_bmu,
            &gs_b,
            &eps_b,
            mb,
            bp,
            c,
        );
        (dh, kl_w + kl_b)
    }

    /// Name (`layer.{l}`) of the first layer holding a NaN or infinity.
    pub fn non_finite_layer(&self) -> Option<String> {
        self.layers
            .iter()
            .position(|l| {
                [&l.w_mu, &l.w_rho, &l.b_mu, &l.b_rho]
                    .iter()
                    .any(|v| v.iter().any(|x| !x.is_finite()))
            })
            .map(|l| format!("layer.{l}"))
    }
}

/// Mean `-ln softmax(a)[y]` over the rows and `∂/∂a = (softmax - onehot) / B`.
fn softmax_nll(logits: &[f32], labels: &[u32], classes: usize) -> (f64, Vec<f32>) {
    let batch = labels.len();
    let mut delta = vec![0f32; logits.len()];
    let mut nll = 0f64;
    for ((row, d), &y) in logits
        .chunks_exact(classes)
        .zip(delta.chunks_exact_mut(classes))
        .zip(labels)
    {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut sum = 0f32;
        for (d, &a) in d.iter_mut().zip(row) {
            *d = exp(a - max);
            sum += *d;
        }
        nll += f64::from(max + ln(sum) - row[y as usize]);
        for (k, d) in d.iter_mut().enumerate() {
            *d = (*d / sum - f32::from(u8::from(k == y as usize))) / batch as f32;
        }
    }
    (nll / batch.max(1) as f64, delta)
}
