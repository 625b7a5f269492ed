//! Moving a VAE with a Bernoulli decoder between burn tensors ([`Vae`], Adam states) and the
//! host engine ([`HostVae`]), which trains it two to three times as fast on the CPU.
//!
//! Parameter lists are in [`Vae::tensors`] order: per encoder hidden layer `(W, b)`, then the
//! heads (`mu` and `log_var`, or the categorical `logits`), the decoder hidden layers and the
//! output layer. The host keeps the two Gaussian heads as one `[H, 2Z]` layer whose first `Z`
//! columns are `mu`; Adam moments follow the same layout, flattened per layer as `[W..., b...]`.

use burn::optim::{AdamState, AdaptiveMomentumState};
use burn::prelude::*;
use burn::tensor::TensorData;

use super::config::{Latent, Likelihood};
use super::host::{Dense, HostVae};
use super::model::Vae;
use crate::kernels::ops;

/// True when the host engine can train `vae`: flex CPU tensors and a Bernoulli decoder
/// (Gaussian or categorical latents).
pub fn host_eligible(vae: &Vae) -> bool {
    ops::is_host(&vae.device()) && vae.config().likelihood == Likelihood::Bernoulli
}

/// `(rows, cols)` and values of every parameter, in [`Vae::tensors`] order.
fn flat(ts: &[&Tensor<2>]) -> Vec<(usize, usize, Vec<f32>)> {
    ts.iter()
        .map(|t| {
            let [r, c] = t.dims();
            (r, c, ops::to_f32_vec((*t).clone()))
        })
        .collect()
}

/// Columns of `a` (`[rows, ca]`) then of `b` (`[rows, cb]`), row by row.
fn side_by_side(a: &[f32], b: &[f32], rows: usize) -> Vec<f32> {
    let (ca, cb) = (a.len() / rows, b.len() / rows);
    (0..rows)
        .flat_map(|r| {
            a[r * ca..(r + 1) * ca]
                .iter()
                .chain(&b[r * cb..(r + 1) * cb])
        })
        .copied()
        .collect()
}

/// The inverse of [`side_by_side`] with `ca` columns on the left.
fn split_columns(x: &[f32], rows: usize, ca: usize) -> (Vec<f32>, Vec<f32>) {
    let c = x.len() / rows;
    let (mut a, mut b) = (
        Vec::with_capacity(rows * ca),
        Vec::with_capacity(rows * (c - ca)),
    );
    for row in x.chunks_exact(c) {
        a.extend_from_slice(&row[..ca]);
        b.extend_from_slice(&row[ca..]);
    }
    (a, b)
}

/// Host layers `(inp, out, W, b)` from a parameter list in [`Vae::tensors`] order, where the
/// encoder has `enc` hidden layers (the heads of `latent` follow them).
fn host_layers(
    p: &[(usize, usize, Vec<f32>)],
    enc: usize,
    latent: Latent,
) -> (Vec<Dense>, Vec<Dense>) {
    let dense = |k: usize| Dense {
        inp: p[2 * k].0,
        out: p[2 * k].1,
        w: p[2 * k].2.clone(),
        b: p[2 * k + 1].2.clone(),
    };
    let mut encoder: Vec<Dense> = (0..enc).map(dense).collect();
    let heads = match latent {
        Latent::Gaussian { .. } => {
            let (mu, lv) = (dense(enc), dense(enc + 1));
            encoder.push(Dense {
                inp: mu.inp,
                out: mu.out + lv.out,
                w: side_by_side(&mu.w, &lv.w, mu.inp),
                b: [mu.b, lv.b].concat(),
            });
            2
        }
        Latent::Categorical { .. } => {
            encoder.push(dense(enc));
            1
        }
    };
    let decoder = (enc + heads..p.len() / 2).map(dense).collect();
    (encoder, decoder)
}

/// Build the engine from `vae` and its Adam states (zeros where a state is missing).
pub fn to_host(vae: &Vae, states: &[Option<AdamState<2>>]) -> HostVae {
    let (enc, latent) = (vae.config().hidden.len(), vae.config().latent);
    let params = flat(&vae.tensors());
    let (encoder, decoder) = host_layers(&params, enc, latent);
    let mut host = HostVae::new(latent, encoder, decoder, true);
    if let Some(time) = states.iter().flatten().map(|s| s.momentum.time).next() {
        let moment = |pick: fn(&AdamState<2>) -> &Tensor<2>| -> Vec<Vec<f32>> {
            let shaped: Vec<(usize, usize, Vec<f32>)> = params
                .iter()
                .zip(states)
                .map(|((r, c, _), s)| {
                    let v = s
                        .as_ref()
                        .map_or_else(|| vec![0.0; r * c], |s| ops::to_f32_vec(pick(s).clone()));
                    (*r, *c, v)
                })
                .collect();
            let (e, d) = host_layers(&shaped, enc, latent);
            e.into_iter()
                .chain(d)
                .map(|l| [l.w, l.b].concat())
                .collect()
        };
        let m1 = moment(|s| &s.momentum.moment_1);
        let m2 = moment(|s| &s.momentum.moment_2);
        host.set_moments(m1.into_iter().zip(m2).collect(), time as u64);
    }
    host
}

/// Parameter list (values only, [`Vae::tensors`] order) from host layers with `[W..., b...]`
/// per layer taken from `values` (the layers themselves, or their Adam moments).
fn from_layers(host: &HostVae, values: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let layers: Vec<&Dense> = host.encoder.iter().chain(&host.decoder).collect();
    let head = host.encoder.len() - 1;
    let mut out = Vec::new();
    for (k, (layer, v)) in layers.iter().zip(values).enumerate() {
        let (w, b) = v.split_at(layer.w.len());
        match host.latent() {
            Latent::Gaussian { dim } if k == head => {
                let (wm, wl) = split_columns(w, layer.inp, dim);
                out.extend([wm, b[..dim].to_vec(), wl, b[dim..].to_vec()]);
            }
            _ => out.extend([w.to_vec(), b.to_vec()]),
        }
    }
    out
}

/// Write the engine's parameters into `vae` and its Adam moments into `states`.
pub fn from_host(host: &HostVae, vae: &mut Vae, states: &mut [Option<AdamState<2>>]) {
    let device = vae.device();
    let values: Vec<Vec<f32>> = host
        .encoder
        .iter()
        .chain(&host.decoder)
        .map(|l| [l.w.clone(), l.b.clone()].concat())
        .collect();
    let params = from_layers(host, &values);
    let to_tensor =
        |v: Vec<f32>, dims: [usize; 2]| Tensor::from_data(TensorData::new(v, dims), &device);
    let dims: Vec<[usize; 2]> = vae.tensors().iter().map(|t| t.dims()).collect();
    for ((t, v), d) in vae.tensors_mut().into_iter().zip(params).zip(&dims) {
        *t = to_tensor(v, *d);
    }
    if host.steps == 0 {
        return;
    }
    let (m1, m2): (Vec<Vec<f32>>, Vec<Vec<f32>>) = host.moments().iter().cloned().unzip();
    let (m1, m2) = (from_layers(host, &m1), from_layers(host, &m2));
    for (((s, a), b), d) in states.iter_mut().zip(m1).zip(m2).zip(&dims) {
        *s = Some(AdamState::new(AdaptiveMomentumState::new(
            host.steps as usize,
            to_tensor(a, *d),
            to_tensor(b, *d),
        )));
    }
}
