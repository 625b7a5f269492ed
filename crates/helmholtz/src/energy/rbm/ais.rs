//! Annealed importance sampling of an RBM's partition function (Salakhutdinov & Murray 2008).
//!
//! Intermediate distributions interpolate from a base-rate model A (no weights, visible biases
//! `b_A` = log-odds of the training pixel means; for Gaussian visibles `N(b_A, I)`) to the RBM B:
//! `p*_k(v) = exp((1 - beta_k) b_A.v + beta_k b.v) prod_j (1 + exp(beta_k (c_j + v.W_j)))`
//! (Gaussian: the visible part is `-|v|^2/2 + v.((1-beta) b_A + beta b) - (1-beta)|b_A|^2/2 - beta|b|^2/2`).
//! At `beta = 0` this is `2^H p*_A(v)`, so `log Z_0 = sum_i softplus(b_A,i) + H log 2`
//! (Gaussian: `D/2 log 2 pi + H log 2`), and at `beta = 1` it is `p*_B`.
//! Each run draws `v_1 ~ p_A`, accumulates `log w = sum_k log p*_k(v_k) - log p*_{k-1}(v_k)` and
//! moves `v_k -> v_{k+1}` with one block Gibbs step that leaves `p_k` invariant:
//! `h ~ sigmoid(beta_k (c + v W))`, `v ~ sigmoid((1 - beta_k) b_A + beta_k (b + W h))`.
//! Then `Z_B / Z_0 ~ mean(w)`; `log Z_B` is estimated by `log Z_0 + log mean w` (in f64, by
//! log-sum-exp). `mean(w)` is unbiased for the ratio, so `log Z` is biased low on average (Jensen):
//! likelihoods computed from it tend to be too high.
//!
//! # Shapes
//! All runs advance together as one `[runs, visible]` batch.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::VisibleKind;
use super::host;
use super::model::Rbm;
use crate::error::{Error, Result, check};
use crate::kernels::ops;
use crate::kernels::rows::{Stream, gaussian_block, lane_dot, sigmoid_bernoulli_block};
use crate::train::Progress;

/// Settings of an AIS estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AisConfig {
    /// Independent annealing runs (100 in Salakhutdinov & Murray).
    pub runs: usize,
    /// Inverse temperatures including 0 and 1 (14,500: 500 on [0, 0.5), 4,000 on [0.5, 0.9),
    /// 10,000 on [0.9, 1]).
    pub betas: usize,
}

impl Default for AisConfig {
    fn default() -> Self {
        Self {
            runs: 100,
            betas: 14_500,
        }
    }
}

impl AisConfig {
    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("ais-runs", self.runs)?;
        if self.betas < 2 {
            return Err(Error::param(
                "ais-betas",
                format!("must be at least 2 (got {})", self.betas),
            ));
        }
        Ok(())
    }
}

/// Bytes per run and unit of the annealed states: visible and hidden values, their
/// pre-activations and probabilities.
const RUN_BYTES_PER_UNIT: usize = 16;
/// Bytes per inverse temperature: the beta and the two keys of its Gibbs step.
const BETA_BYTES: usize = 24;

impl AisConfig {
    /// The memory of the runs and the temperatures on an RBM of `visible` and `hidden` units,
    /// by parameter, for [`crate::budget::check_parts`].
    pub fn costs(&self, visible: usize, hidden: usize) -> [(&'static str, u128); 2] {
        use crate::budget::bytes;
        let units = visible.saturating_add(hidden);
        [
            ("ais-runs", bytes(&[self.runs, units, RUN_BYTES_PER_UNIT])),
            ("ais-betas", bytes(&[self.betas, BETA_BYTES])),
        ]
    }
}

/// An AIS estimate of `log Z`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AisEstimate {
    /// `log Z_0 + log mean(w)`.
    pub log_z: f64,
    /// Standard error of `log Z` by the delta method: `sd(w) / (sqrt(runs) mean(w))`.
    pub log_z_se: f64,
    /// `log(mean(w) - 3 se)` (+ log Z_0), or `None` when that is not positive.
    pub log_z_low: Option<f64>,
    /// `log(mean(w) + 3 se)` (+ log Z_0).
    pub log_z_high: f64,
    /// Log importance weights of the runs.
    pub log_weights: Vec<f64>,
    /// Runs used.
    pub runs: usize,
    /// Inverse temperatures used.
    pub betas: usize,
}

/// Estimate `log Z` of `rbm` by AIS from the base-rate model with visible biases `base_bias`.
pub fn ais_log_z(
    rbm: &Rbm,
    base_bias: &[f32],
    config: &AisConfig,
    rng: &mut impl Rng,
    progress: &dyn Progress,
) -> Result<AisEstimate> {
    config.validate()?;
    let cfg = rbm.config();
    crate::budget::check_parts(&config.costs(cfg.visible, cfg.hidden))?;
    if base_bias.len() != cfg.visible {
        return Err(Error::ShapeMismatch {
            what: "AIS base-rate biases".into(),
            expected: vec![cfg.visible],
            got: vec![base_bias.len()],
        });
    }
    let betas = crate::sampling::ais_betas(config.betas);
    let log_z0 = base_log_z(cfg.visible_kind, base_bias, cfg.hidden);
    if ops::is_host(&rbm.device()) {
        let log_w = ais_host(rbm, base_bias, &betas, config.runs, rng, progress);
        return Ok(summarise(log_w, log_z0, config));
    }
    let device = rbm.device();
    let b_a = Tensor::<1>::from_data(TensorData::new(base_bias.to_vec(), [cfg.visible]), &device);
    let b = rbm.visible_bias().clone();
    let w_t = rbm.weight().clone().transpose();
    let db_col = (b.clone() - b_a.clone()).unsqueeze_dim::<2>(1);
    let (b_norm, ba_norm) = (sq_norm(&b), sq_norm(&b_a));
    let mut v = base_sample(cfg.visible_kind, &b_a, config.runs, rng);
    let mut log_w = vec![0f64; config.runs];
    progress.start("AIS", (betas.len() - 1) as u64);
    for k in 1..betas.len() {
        let (beta_prev, beta) = (betas[k - 1], betas[k]);
        // log p*_k(v) - log p*_{k-1}(v) for the state v entering transition k.
        let x = ops::matmul(&v, rbm.weight());
        let (hidden_delta, h) =
            ops::ais_hidden(x, rbm.hidden_bias(), beta_prev as f32, beta as f32, rng);
        let visible_dot = column(ops::matmul(&v, &db_col));
        let dbeta = beta - beta_prev;
        let constant = match cfg.visible_kind {
            VisibleKind::Bernoulli => 0.0,
            VisibleKind::Gaussian => -0.5 * dbeta * (b_norm - ba_norm),
        };
        for ((lw, hd), vd) in log_w.iter_mut().zip(&hidden_delta).zip(&visible_dot) {
            *lw += hd + dbeta * vd + constant;
        }
        // One Gibbs step at beta_k: h was drawn above, now v ~ p_k(v | h).
        let shift = b_a.clone().mul_scalar(1.0 - beta) + b.clone().mul_scalar(beta);
        let pre = ops::matmul(&h, &w_t);
        v = match cfg.visible_kind {
            VisibleKind::Bernoulli => ops::sigmoid_bernoulli(pre, beta as f32, &shift, rng).1,
            VisibleKind::Gaussian => ops::gaussian_affine(pre, beta as f32, &shift, rng).1,
        };
        if k % 64 == 0 {
            progress.advance(64);
        }
    }
    progress.finish();
    Ok(summarise(log_w, log_z0, config))
}

/// AIS on the CPU engine: the runs are split into row blocks, and each block anneals through
/// every temperature on its own thread (same keys and element numbering as the tensor-op path).
fn ais_host(
    rbm: &Rbm,
    base_bias: &[f32],
    betas: &[f64],
    runs: usize,
    rng: &mut impl Rng,
    progress: &dyn Progress,
) -> Vec<f64> {
    let cfg = rbm.config();
    let (nv, nh, kind) = (cfg.visible, cfg.hidden, cfg.visible_kind);
    let base_key = rng.next_u64();
    let keys: Vec<(u64, u64)> = (1..betas.len())
        .map(|_| (rng.next_u64(), rng.next_u64()))
        .collect();
    let blocks = host::row_blocks(runs, 2 * keys.len() * nv * nh);
    let mut log_w = vec![0f64; runs];
    progress.start("AIS", (betas.len() - 1) as u64);
    rbm.with_host(|hr| {
        let db: Vec<f32> = hr.b.iter().zip(base_bias).map(|(b, a)| b - a).collect();
        let constant = match kind {
            VisibleKind::Bernoulli => 0.0,
            VisibleKind::Gaussian => {
                let sq = |x: &[f32]| x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
                -0.5 * (sq(hr.b) - sq(base_bias))
            }
        };
        host::split_rows(&mut log_w, 1, &blocks)
            .into_par_iter()
            .zip(blocks.par_iter())
            .for_each(|(lw, r)| {
                let n = r.len();
                let (mut v, mut mean) = (vec![0f32; n * nv], vec![0f32; n * nv]);
                let (mut p, mut h, mut delta) =
                    (vec![0f32; n * nh], vec![0f32; n * nh], vec![0f64; n]);
                let mut shift = vec![0f32; nv];
                let base_stream = Stream::new(base_key).at(r.start * nv);
                match kind {
                    VisibleKind::Bernoulli => {
                        sigmoid_bernoulli_block(&mut mean, &mut v, base_bias, 1.0, base_stream)
                    }
                    VisibleKind::Gaussian => {
                        gaussian_block(&mut mean, &mut v, base_bias, 1.0, base_stream)
                    }
                }
                for (k, &(key_h, key_v)) in keys.iter().enumerate() {
                    let (beta_prev, beta) = (betas[k], betas[k + 1]);
                    let betas = (beta_prev as f32, beta as f32);
                    let stream = Stream::new(key_h).at(r.start * nh);
                    hr.ais_hidden(&v, &mut p, &mut h, &mut delta, betas, stream);
                    let dbeta = beta - beta_prev;
                    for ((w, d), row) in lw.iter_mut().zip(&delta).zip(v.chunks_exact(nv)) {
                        let dot = lane_dot(row, &db);
                        *w += d + dbeta * dot + dbeta * constant;
                    }
                    for ((s, a), b) in shift.iter_mut().zip(base_bias).zip(hr.b) {
                        *s = a * (1.0 - beta) as f32 + b * beta as f32;
                    }
                    let map = host::Affine {
                        alpha: beta as f32,
                        shift: &shift,
                    };
                    hr.visible(
                        &h,
                        &mut mean,
                        &mut v,
                        map,
                        Stream::new(key_v).at(r.start * nv),
                    );
                    if r.start == 0 && (k + 1) % 64 == 0 {
                        progress.advance(64);
                    }
                }
            });
    });
    progress.finish();
    log_w
}

fn sq_norm(t: &Tensor<1>) -> f64 {
    t.clone()
        .cast(burn::tensor::DType::F64)
        .powi_scalar(2)
        .sum()
        .into_scalar::<f64>()
}

fn column(t: Tensor<2>) -> Vec<f64> {
    ops::to_f64_vec(t)
}

/// `runs` exact draws from the base-rate model.
fn base_sample(kind: VisibleKind, b_a: &Tensor<1>, runs: usize, rng: &mut impl Rng) -> Tensor<2> {
    let d = b_a.dims()[0];
    let zeros = Tensor::<2>::zeros([runs, d], &b_a.device());
    match kind {
        VisibleKind::Bernoulli => ops::sigmoid_bernoulli(zeros, 1.0, b_a, rng).1,
        VisibleKind::Gaussian => ops::gaussian_affine(zeros, 1.0, b_a, rng).1,
    }
}

/// `log Z_0 = log sum_{v,h} p*_0(v, h)` of the base-rate model with `hidden` free hidden units.
pub fn base_log_z(kind: VisibleKind, base_bias: &[f32], hidden: usize) -> f64 {
    let visible = match kind {
        VisibleKind::Bernoulli => base_bias.iter().map(|&b| softplus64(b as f64)).sum::<f64>(),
        VisibleKind::Gaussian => 0.5 * base_bias.len() as f64 * (2.0 * std::f64::consts::PI).ln(),
    };
    visible + hidden as f64 * std::f64::consts::LN_2
}

pub(crate) fn softplus64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn summarise(log_w: Vec<f64>, log_z0: f64, config: &AisConfig) -> AisEstimate {
    let n = log_w.len() as f64;
    let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let scaled: Vec<f64> = log_w.iter().map(|l| (l - max).exp()).collect();
    let mean = scaled.iter().sum::<f64>() / n;
    let var = if n > 1.0 {
        scaled.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let se = (var / n).sqrt();
    let base = log_z0 + max;
    AisEstimate {
        log_z: base + mean.ln(),
        log_z_se: se / mean,
        log_z_low: (mean - 3.0 * se > 0.0).then(|| base + (mean - 3.0 * se).ln()),
        log_z_high: base + (mean + 3.0 * se).ln(),
        log_weights: log_w,
        runs: config.runs,
        betas: config.betas,
    }
}
