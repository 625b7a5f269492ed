//! Exact quantities of small RBMs by enumeration: `log Z`, `log p(v)` over all visible
//! states, and the exact log-likelihood gradient.
//!
//! Summing out the larger layer analytically, `log Z` needs `2^min(V, H)` terms:
//! - over hidden states: `log Z = logsumexp_h [c.h + sum_i softplus(b_i + (W h)_i)]`, and for
//!   Gaussian visibles `log Z = logsumexp_h [c.h + |b + W h|^2/2 - |b|^2/2] + V/2 log 2 pi`;
//! - over visible states (Bernoulli only): `log Z = logsumexp_v [-F(v)]`.

use burn::prelude::*;
use burn::tensor::TensorData;

use super::config::VisibleKind;
use super::model::Rbm;
use crate::error::{Error, Result};
use crate::kernels::ops;

/// Largest layer size that is enumerated.
pub const MAX_ENUMERATED_UNITS: usize = 20;

/// States enumerated per batch.
const CHUNK: usize = 1 << 14;

/// True when [`log_z_exact`] can run.
pub fn exact_possible(rbm: &Rbm) -> bool {
    let c = rbm.config();
    c.hidden <= MAX_ENUMERATED_UNITS
        || (c.visible <= MAX_ENUMERATED_UNITS && c.visible_kind == VisibleKind::Bernoulli)
}

/// The binary states `start..start+count` of `n` units as a `[count, n]` tensor
/// (state `s` has unit `i` on when bit `i` of `s` is set).
pub fn binary_states(n: usize, start: usize, count: usize, device: &Device) -> Tensor<2> {
    let mut data = Vec::with_capacity(count * n);
    for s in start..start + count {
        data.extend((0..n).map(|i| ((s >> i) & 1) as f32));
    }
    Tensor::from_data(TensorData::new(data, [count, n]), device)
}

/// Exact `log Z`, enumerating the smaller layer.
pub fn log_z_exact(rbm: &Rbm) -> Result<f64> {
    let c = rbm.config();
    if c.hidden <= MAX_ENUMERATED_UNITS
        && (c.hidden <= c.visible || c.visible_kind == VisibleKind::Gaussian)
    {
        return Ok(log_z_over_hidden(rbm));
    }
    if c.visible <= MAX_ENUMERATED_UNITS && c.visible_kind == VisibleKind::Bernoulli {
        let log_p = unnormalised_log_p_all_visible(rbm);
        return Ok(log_sum_exp(&log_p));
    }
    if c.hidden <= MAX_ENUMERATED_UNITS {
        return Ok(log_z_over_hidden(rbm));
    }
    Err(Error::param(
        "hidden",
        format!(
            "exact log Z needs min(visible, hidden) <= {MAX_ENUMERATED_UNITS} (have {} visible, {} hidden); use AIS",
            c.visible, c.hidden
        ),
    ))
}

fn log_z_over_hidden(rbm: &Rbm) -> f64 {
    let cfg = rbm.config();
    let device = rbm.device();
    let total = 1usize << cfg.hidden;
    let w_t = rbm.weight().clone().transpose();
    let c_col = rbm.hidden_bias().clone().unsqueeze_dim::<2>(1);
    let b = rbm.visible_bias();
    let b_sq: f64 = b
        .clone()
        .cast(burn::tensor::DType::F64)
        .powi_scalar(2)
        .sum()
        .into_scalar();
    let mut terms = Vec::with_capacity(total);
    for start in (0..total).step_by(CHUNK) {
        let count = CHUNK.min(total - start);
        let h = binary_states(cfg.hidden, start, count, &device);
        let ch = to_f64(h.clone().matmul(c_col.clone()));
        let pre = ops::matmul(&h, &w_t);
        let vis: Vec<f64> = match cfg.visible_kind {
            VisibleKind::Bernoulli => ops::softplus_row_sums(&pre, b),
            VisibleKind::Gaussian => {
                let m = (pre + b.clone().unsqueeze::<2>())
                    .cast(burn::tensor::DType::F64)
                    .powi_scalar(2)
                    .sum_dim(1);
                to_f64(m).iter().map(|s| 0.5 * s - 0.5 * b_sq).collect()
            }
        };
        terms.extend(ch.iter().zip(&vis).map(|(a, v)| a + v));
    }
    let gauss = match cfg.visible_kind {
        VisibleKind::Bernoulli => 0.0,
        VisibleKind::Gaussian => 0.5 * cfg.visible as f64 * (2.0 * std::f64::consts::PI).ln(),
    };
    log_sum_exp(&terms) + gauss
}

/// `-F(v)` for every visible state `v` (index = bit pattern), Bernoulli visibles, `V <= 20`.
pub fn unnormalised_log_p_all_visible(rbm: &Rbm) -> Vec<f64> {
    let cfg = rbm.config();
    let total = 1usize << cfg.visible;
    let mut out = Vec::with_capacity(total);
    for start in (0..total).step_by(CHUNK) {
        let count = CHUNK.min(total - start);
        let v = binary_states(cfg.visible, start, count, &rbm.device());
        out.extend(rbm.free_energy(&v).iter().map(|f| -f));
    }
    out
}

/// `log p(v)` for every visible state (Bernoulli visibles, `V <= 20`).
pub fn log_p_all_visible(rbm: &Rbm) -> Result<Vec<f64>> {
    let cfg = rbm.config();
    if cfg.visible > MAX_ENUMERATED_UNITS || cfg.visible_kind != VisibleKind::Bernoulli {
        return Err(Error::param(
            "visible",
            "enumerating p(v) needs at most 20 Bernoulli visible units",
        ));
    }
    let log_p = unnormalised_log_p_all_visible(rbm);
    let log_z = log_sum_exp(&log_p);
    Ok(log_p.iter().map(|l| l - log_z).collect())
}

/// The exact gradient of the mean log-likelihood of `data` (`[n, V]`, binary) with respect to
/// `(W, b, c)`: `E_data[v p(h|v)^T] - E_model[v p(h|v)^T]` etc., by enumerating all `v`.
pub fn exact_log_likelihood_gradient(
    rbm: &Rbm,
    data: &Tensor<2>,
) -> Result<(Tensor<2>, Tensor<1>, Tensor<1>)> {
    let cfg = rbm.config();
    let p: Vec<f32> = log_p_all_visible(rbm)?
        .iter()
        .map(|l| l.exp() as f32)
        .collect();
    let device = rbm.device();
    let all_v = binary_states(cfg.visible, 0, 1 << cfg.visible, &device);
    let weights = Tensor::<2>::from_data(TensorData::new(p, [1 << cfg.visible, 1]), &device);
    let ph_model = rbm.hidden_probs(&all_v);
    let model_w = all_v
        .clone()
        .mul(weights.clone())
        .transpose()
        .matmul(ph_model.clone());
    let model_b = all_v.mul(weights.clone()).sum_dim(0).squeeze_dim::<1>(0);
    let model_c = ph_model.mul(weights).sum_dim(0).squeeze_dim::<1>(0);
    let n = data.dims()[0] as f32;
    let ph_data = rbm.hidden_probs(data);
    let data_w = data
        .clone()
        .transpose()
        .matmul(ph_data.clone())
        .div_scalar(n);
    let data_b = data.clone().mean_dim(0).squeeze_dim::<1>(0);
    let data_c = ph_data.mean_dim(0).squeeze_dim::<1>(0);
    Ok((data_w - model_w, data_b - model_b, data_c - model_c))
}

fn to_f64(t: Tensor<2>) -> Vec<f64> {
    ops::to_f64_vec(t)
}

pub use crate::kernels::special::log_sum_exp;
