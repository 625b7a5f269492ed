//! The Helmholtz machine (Dayan, Hinton, Neal & Zemel 1995): a sigmoid belief network `p` of
//! binary latent layers over binary data, and a recognition network `q` that inverts it,
//! trained by the wake-sleep algorithm (Hinton, Dayan, Frey & Neal 1995) or by reweighted
//! wake-sleep (Bornschein & Bengio 2015).
//!
//! ```text
//! p(x, h) = p(h_L) Π_{l<L} p(h_l | h_{l+1}) p(x | h_1)     p(h_L) = Bern(sigmoid(b)),
//!           p(h_l | h_{l+1}) = Bern(sigmoid(h_{l+1} W_l + b_l))           (h_0 = x)
//! q(h | x) = Π_l q(h_l | h_{l-1}),   q(h_l | h_{l-1}) = Bern(sigmoid(h_{l-1} R_l + c_l))
//! wake:   h ~ q(.|x);  ΔW_l ∝ h_{l+1}^T (h_l - sigmoid(h_{l+1} W_l + b_l))   (∇ ln p(x, h))
//! sleep:  (x, h) ~ p;  ΔR_l ∝ h_{l-1}^T (h_l - sigmoid(h_{l-1} R_l + c_l))  (∇ ln q(h | x))
//! reweighted (K samples h_k ~ q):  ŵ_k = softmax_k(ln p(x, h_k) - ln q(h_k | x));
//!   p: Σ_k ŵ_k ∇ ln p(x, h_k);  q: ½ (Σ_k ŵ_k ∇ ln q(h_k | x) + the sleep gradient)
//! bound:  ln p(x) ≥ L_k = E[ln (1/k) Σ_k p(x, h_k) / q(h_k | x)],  L_1 ≤ L_k ≤ L_{k+1} → ln p(x)
//! ```
//!
//! Every update is local: a weight changes by the activity below it times the prediction error
//! above it. Samples come from counter-based streams (the same bits on any thread count).
//!
//! # Shapes
//! `x`: `[B, visible]` in {0, 1}; `h_l`: `[B, n_l]`; `W_l`: `[n_{l+1}, n_l]`; `R_l`:
//! `[n_{l-1}, n_l]` (dense layers' `[in, out]`).

pub mod aevb;
pub mod run;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::gemm::gemm_into;
use crate::kernels::math::{sigmoid, softplus};
use crate::kernels::{multiversion, noise};
use crate::nn::dense::{AdamSettings, Dense, LayerGrad, dense_forward, row_major, transposed};
use crate::nn::mlp::{Activation, Mlp};

/// The layer sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HmConfig {
    /// Data units (set from the data).
    pub visible: usize,
    /// Latent layers `n_1, ..., n_L`, nearest the data first.
    pub layers: Vec<usize>,
}

impl HmConfig {
    /// Check the sizes.
    pub fn validate(&self) -> Result<()> {
        if self.layers.is_empty() || self.layers.contains(&0) {
            return Err(Error::param(
                "layers",
                "at least one latent layer, every size positive",
            ));
        }
        Ok(())
    }

    /// `[visible, n_1, ..., n_L]`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.visible];
        s.extend(&self.layers);
        s
    }
}

/// How the networks learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Wake-sleep: one sample of `q` for the generative update, dreams for the recognition one.
    WakeSleep,
    /// Reweighted wake-sleep with `K` importance samples.
    #[default]
    Reweighted,
}

crate::keywords::keywords!(Method, "method", {
    WakeSleep => "ws" | "wake-sleep",
    Reweighted => "rws" | "reweighted",
});

/// A Helmholtz machine: the generative and the recognition network with their Adam state.
#[derive(Debug, Clone, PartialEq)]
pub struct HelmholtzMachine {
    /// The sizes.
    pub config: HmConfig,
    /// `layers[0]`: the top prior, a `1 -> n_L` layer on a constant 0 input (its bias is the
    /// prior's logits; its weights get no gradient and stay 0); `layers[i]`, `i = 1..=L`:
    /// `h_{L-i+1} -> h_{L-i}` (the last predicts `x`).
    pub generative: Mlp,
    /// `layers[l]`: `h_l -> h_{l+1}` (`h_0 = x`).
    pub recognition: Mlp,
}

multiversion! {
    /// `out = t a - softplus(a)`, elementwise.
    fn log_bernoulli_block(out: &mut [f32], t: &[f32], a: &[f32]) {
        for ((o, &t), &a) in out.iter_mut().zip(t).zip(a) {
            *o = t * a - softplus(a);
        }
    }
}

multiversion! {
    /// `s = 1` where `u < sigmoid(a)`, else 0.
    fn bernoulli_block(s: &mut [f32], a: &[f32], u: &[f32]) {
        for ((s, &a), &u) in s.iter_mut().zip(a).zip(u) {
            *s = if u < sigmoid(a) { 1.0 } else { 0.0 };
        }
    }
}

/// `Σ_j [t_j a_j - softplus(a_j)] = ln Bern(t; sigmoid(a))` per row (f32 terms summed in f64).
fn log_bernoulli(t: &[f32], a: &[f32], width: usize) -> Vec<f64> {
    let mut terms = vec![0f32; a.len()];
    log_bernoulli_block(&mut terms, t, a);
    terms
        .chunks_exact(width)
        .map(|row| row.iter().map(|&v| f64::from(v)).sum())
        .collect()
}

/// Binary samples of `Bern(sigmoid(a))` from the stream `key`.
fn sample(a: &[f32], key: u64) -> Vec<f32> {
    let mut u = vec![0f32; a.len()];
    noise::uniform_fill(&mut u, key, 0);
    let mut s = vec![0f32; a.len()];
    bernoulli_block(&mut s, a, &u);
    s
}

fn logits(layer: &Dense, input: &[f32], rows: usize) -> Vec<f32> {
    let mut out = vec![0f32; rows * layer.out];
    dense_forward(layer, input, &mut out, rows, false);
    out
}

/// Add `-Σ_r w_r u_r^T (t_r - sigmoid(a_r)) / B` (the gradient of `-mean w ln Bern`) to `g`.
fn delta_gradient(
    layer: &Dense,
    input: &[f32],
    target: &[f32],
    a: &[f32],
    weights: &[f32],
    batch: usize,
    g: &mut LayerGrad,
) {
    let rows = weights.len();
    let mut delta: Vec<f32> = target
        .iter()
        .zip(a)
        .map(|(&t, &a)| t - sigmoid(a))
        .collect();
    for (row, w) in delta.chunks_exact_mut(layer.out).zip(weights) {
        row.iter_mut().for_each(|d| *d *= w);
    }
    let scale = -1.0 / batch as f32;
    gemm_into(
        &mut g.0,
        transposed(input, rows, layer.inp),
        row_major(&delta, rows, layer.out),
        1.0,
        scale,
        true,
    );
    for row in delta.chunks_exact(layer.out) {
        g.1.iter_mut().zip(row).for_each(|(g, d)| *g += scale * d);
    }
}

impl HelmholtzMachine {
    /// A machine with weights `0.1 N(0, 1/n_in)`... from the counter-based streams of `seed`.
    pub fn new(config: HmConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let s = config.sizes();
        let top = *s.last().unwrap_or(&1);
        let mut gen_layers = vec![Dense {
            inp: 1,
            out: top,
            w: vec![0.0; top],
            b: vec![0.0; top],
        }];
        for l in (0..s.len() - 1).rev() {
            gen_layers.push(Dense::gaussian(
                s[l + 1],
                s[l],
                0.5,
                0.0,
                seed.wrapping_add(2 * l as u64 + 10),
            ));
        }
        let rec_layers = (0..s.len() - 1)
            .map(|l| {
                Dense::gaussian(
                    s[l],
                    s[l + 1],
                    0.5,
                    0.0,
                    seed.wrapping_add(2 * l as u64 + 100),
                )
            })
            .collect::<Vec<_>>();
        let acts = |n: usize| vec![Activation::Sigmoid; n];
        Ok(Self {
            generative: Mlp::new(gen_layers.clone(), acts(gen_layers.len())),
            recognition: Mlp::new(rec_layers.clone(), acts(rec_layers.len())),
            config,
        })
    }

    /// Latent layers `L`.
    pub fn depth(&self) -> usize {
        self.config.layers.len()
    }

    /// Set the data layer's biases to the logits of the pixel means (a sensible start).
    pub fn set_data_bias(&mut self, means: &[f64]) {
        if let Some(last) = self.generative.layers.last_mut() {
            for (b, &m) in last.b.iter_mut().zip(means) {
                let m = m.clamp(1e-3, 1.0 - 1e-3);
                *b = (m / (1.0 - m)).ln() as f32;
            }
        }
    }

    /// The top prior's logits for `rows` rows (`[rows, n_L]`).
    fn prior_logits(&self, rows: usize) -> Vec<f32> {
        let b = &self.generative.layers[0].b;
        (0..rows).flat_map(|_| b.iter().copied()).collect()
    }

    /// The generative layer that predicts layer `l` (`0` = data) from layer `l + 1`.
    fn gen_layer(&self, l: usize) -> &Dense {
        &self.generative.layers[self.depth() - l]
    }

    /// Samples `h_1, ..., h_L ~ q(. | x)` for `rows` rows, from the streams of `key`.
    pub fn recognise(&self, x: &[f32], rows: usize, key: u64) -> Vec<Vec<f32>> {
        let mut hs: Vec<Vec<f32>> = Vec::with_capacity(self.depth());
        for (l, layer) in self.recognition.layers.iter().enumerate() {
            let input = if l == 0 { x } else { &hs[l - 1] };
            let a = logits(layer, input, rows);
            hs.push(sample(&a, key.wrapping_add(l as u64 * 0x9E37_79B9)));
        }
        hs
    }

    /// `ln q(h | x)` per row.
    pub fn log_q(&self, x: &[f32], hs: &[Vec<f32>], rows: usize) -> Vec<f64> {
        let mut total = vec![0.0; rows];
        for (l, layer) in self.recognition.layers.iter().enumerate() {
            let input = if l == 0 { x } else { &hs[l - 1] };
            let a = logits(layer, input, rows);
            for (t, v) in total.iter_mut().zip(log_bernoulli(&hs[l], &a, layer.out)) {
                *t += v;
            }
        }
        total
    }

    /// `ln p(x, h)` per row.
    pub fn log_p(&self, x: &[f32], hs: &[Vec<f32>], rows: usize) -> Vec<f64> {
        let top = &self.generative.layers[0];
        let l_top = self.depth();
        let prior = self.prior_logits(rows);
        let mut total = log_bernoulli(&hs[l_top - 1], &prior, top.out);
        for l in 0..l_top {
            let layer = self.gen_layer(l);
            let a = logits(layer, &hs[l], rows);
            let target = if l == 0 { x } else { &hs[l - 1] };
            for (t, v) in total.iter_mut().zip(log_bernoulli(target, &a, layer.out)) {
                *t += v;
            }
        }
        total
    }

    /// Ancestral samples `(x, h) ~ p` for `rows` rows; also the data layer's probabilities.
    pub fn dream(&self, rows: usize, key: u64) -> (Vec<f32>, Vec<Vec<f32>>, Vec<f32>) {
        let l_top = self.depth();
        let prior = self.prior_logits(rows);
        let mut hs = vec![Vec::new(); l_top];
        hs[l_top - 1] = sample(&prior, key);
        let mut probs = Vec::new();
        let mut x = Vec::new();
        for l in (0..l_top).rev() {
            let a = logits(self.gen_layer(l), &hs[l], rows);
            let s = sample(&a, key.wrapping_add((l as u64 + 1) * 0x9E37_79B9));
            if l == 0 {
                probs = a.iter().map(|&v| sigmoid(v)).collect();
                x = s;
            } else {
                hs[l - 1] = s;
            }
        }
        (x, hs, probs)
    }

    /// The gradient of `-Σ_r w_r ln p(x_r, h_r) / batch` for every generative layer (the wake
    /// phase, weighted).
    pub fn generative_gradients(
        &self,
        x: &[f32],
        hs: &[Vec<f32>],
        weights: &[f32],
        batch: usize,
    ) -> Vec<LayerGrad> {
        let rows = weights.len();
        let mut g = self.generative.zero_grads();
        let l_top = self.depth();
        let top = &self.generative.layers[0];
        let prior = self.prior_logits(rows);
        let zeros = vec![0f32; rows];
        delta_gradient(
            top,
            &zeros,
            &hs[l_top - 1],
            &prior,
            weights,
            batch,
            &mut g[0],
        );
        for l in 0..l_top {
            let layer = self.gen_layer(l);
            let a = logits(layer, &hs[l], rows);
            let target = if l == 0 { x } else { &hs[l - 1] };
            delta_gradient(layer, &hs[l], target, &a, weights, batch, &mut g[l_top - l]);
        }
        g
    }

    /// The gradient of `-Σ_r w_r ln q(h_r | x_r) / batch` for every recognition layer.
    pub fn recognition_gradients(
        &self,
        x: &[f32],
        hs: &[Vec<f32>],
        weights: &[f32],
        batch: usize,
    ) -> Vec<LayerGrad> {
        let rows = weights.len();
        let mut g = self.recognition.zero_grads();
        for (l, layer) in self.recognition.layers.iter().enumerate() {
            let input = if l == 0 { x } else { &hs[l - 1] };
            let a = logits(layer, input, rows);
            delta_gradient(layer, input, &hs[l], &a, weights, batch, &mut g[l]);
        }
        g
    }

    /// One update on a batch `x` (`[batch, visible]`); returns the batch's bound estimate
    /// (nats per example): `ln p - ln q` of the wake sample (wake-sleep), `L_K` (reweighted).
    pub fn step(
        &mut self,
        x: &[f32],
        batch: usize,
        method: Method,
        k: usize,
        adam: AdamSettings,
        key: u64,
    ) -> f64 {
        let v = self.config.visible;
        let (k, reps) = match method {
            Method::WakeSleep => (1, x.to_vec()),
            Method::Reweighted => (
                k,
                x.chunks_exact(v)
                    .flat_map(|r| (0..k).flat_map(move |_| r.iter().copied()))
                    .collect(),
            ),
        };
        let rows = batch * k;
        let hs = self.recognise(&reps, rows, key);
        let lw: Vec<f64> = self
            .log_p(&reps, &hs, rows)
            .iter()
            .zip(self.log_q(&reps, &hs, rows))
            .map(|(p, q)| p - q)
            .collect();
        // ŵ_k K per row, so that the sums over the batch's B K rows divided by B are weighted
        // means over each example's samples.
        let mut weights = vec![1f32; rows];
        let mut bound = 0.0;
        for (w, l) in weights.chunks_exact_mut(k).zip(lw.chunks_exact(k)) {
            let lse = crate::kernels::special::log_sum_exp(l);
            bound += lse - (k as f64).ln();
            if k > 1 {
                for (w, l) in w.iter_mut().zip(l) {
                    *w = (l - lse).exp() as f32;
                }
            }
        }
        let wake_p = self.generative_gradients(&reps, &hs, &weights, batch);
        let (dx, dh, _) = self.dream(batch, key ^ 0x5EED_D8EA);
        let sleep = self.recognition_gradients(&dx, &dh, &vec![1.0; batch], batch);
        let rec = match method {
            Method::WakeSleep => sleep,
            Method::Reweighted => {
                let wake = self.recognition_gradients(&reps, &hs, &weights, batch);
                wake.into_iter()
                    .zip(sleep)
                    .map(|((w1, b1), (w2, b2))| {
                        let avg = |a: Vec<f32>, b: Vec<f32>| {
                            a.iter().zip(&b).map(|(a, b)| 0.5 * (a + b)).collect()
                        };
                        (avg(w1, w2), avg(b1, b2))
                    })
                    .collect()
            }
        };
        self.generative.adam_step(&wake_p, adam);
        self.recognition.adam_step(&rec, adam);
        bound / batch as f64
    }

    /// `L_k` per row of `x` (`[n, visible]`): `ln (1/k) Σ_s p(x, h_s) / q(h_s | x)` with
    /// `h_s ~ q`, in f64; row `i` draws from the stream `(seed, i)`, so the result does not
    /// depend on how the rows are batched.
    pub fn iw_bound(&self, x: &[f32], n: usize, k: usize, seed: u64) -> Vec<f64> {
        let v = self.config.visible;
        (0..n)
            .map(|i| {
                let row = &x[i * v..(i + 1) * v];
                let reps: Vec<f32> = (0..k).flat_map(|_| row.iter().copied()).collect();
                let key = crate::rng::derive_seed(seed, &[i as u64]);
                let hs = self.recognise(&reps, k, key);
                let lw: Vec<f64> = self
                    .log_p(&reps, &hs, k)
                    .iter()
                    .zip(self.log_q(&reps, &hs, k))
                    .map(|(p, q)| p - q)
                    .collect();
                crate::kernels::special::log_sum_exp(&lw) - (k as f64).ln()
            })
            .collect()
    }

    /// `ln p(x)` per row by enumerating every latent configuration (at most 20 latent units).
    pub fn exact_log_likelihood(&self, x: &[f32], n: usize) -> Result<Vec<f64>> {
        let total: usize = self.config.layers.iter().sum();
        if total > 20 {
            return Err(Error::param(
                "layers",
                format!("{total} latent units; enumeration takes at most 20"),
            ));
        }
        let v = self.config.visible;
        let states = 1usize << total;
        let hs: Vec<Vec<f32>> = {
            let mut off = 0;
            self.config
                .layers
                .iter()
                .map(|&nl| {
                    let layer = (0..states)
                        .flat_map(|s| {
                            (0..nl).map(move |j| f32::from(u8::from(s >> (off + j) & 1 == 1)))
                        })
                        .collect();
                    off += nl;
                    layer
                })
                .collect()
        };
        Ok((0..n)
            .map(|i| {
                let reps: Vec<f32> = (0..states)
                    .flat_map(|_| x[i * v..(i + 1) * v].iter().copied())
                    .collect();
                crate::kernels::special::log_sum_exp(&self.log_p(&reps, &hs, states))
            })
            .collect())
    }

    /// Name of the first layer holding a NaN or infinity.
    pub fn non_finite(&self) -> Option<String> {
        self.generative
            .non_finite_layer()
            .map(|l| format!("generative {l}"))
            .or_else(|| {
                self.recognition
                    .non_finite_layer()
                    .map(|l| format!("recognition {l}"))
            })
    }
}

#[cfg(test)]
mod tests;
