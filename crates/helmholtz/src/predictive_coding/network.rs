//! A hierarchical predictive-coding network (Rao & Ballard 1999; Whittington & Bogacz 2017):
//! value nodes `v_k` in layers `0..=L`, each layer predicting the next through a dense layer,
//! inference by gradient descent on the free energy, learning by local Hebbian updates.
//!
//! ```text
//! μ_k   = φ_{k-1}(v_{k-1}) W_{k-1} + b_{k-1}          k = 1..L     (φ_0 = identity, φ_k = f)
//! ε_k   = v_k - μ_k,  ξ_k = ε_k / σ²_k                k = 1..L-1   (Gaussian layers, diagonal σ²_k)
//! F     = ½ |v_0|^2 [prior source]  +  Σ_{k=1}^{L-1} (½ ε_k·ξ_k + ½ Σ_i ln σ²_ki)  +  E_L(μ_L)
//! E_L   = β CE(y, softmax(μ_L))           labels clamped at layer L (classifier), or
//!         Σ_i m_i [softplus(μ_Li) - x_i μ_Li]   Bernoulli pixels (generative, mask m)
//! e_L   = -∂E_L/∂μ_L = β (onehot(y) - softmax(μ_L))   or   m (x - sigmoid(μ_L))
//! ∂F/∂v_k = ξ_k - φ'_k(v_k) ⊙ (e_{k+1} W_k^T)          (e_k = ξ_k below the top)
//! inference: v_k <- v_k - η_r σ²_k ⊙ ∂F/∂v_k             (σ²_0 = 1; descent preconditioned by σ²;
//!            a step that would raise row r's F is undone and η_r halved, so F never rises)
//! ∂F/∂W_k = -φ_k(v_k)^T e_{k+1},  ∂F/∂b_k = -Σ_rows e_{k+1}       (local: pre- times post-synaptic)
//! ```
//!
//! Two directions share the code. The classifier clamps the input at layer 0 and (while
//! learning) the label at layer `L`: with the value nodes started at the feed-forward pass, the
//! errors settle near backpropagation's, and with the label free the network is exactly the
//! MLP `f(... f(x W_0 + b_0) ...) W_{L-1} + b_{L-1}`. The generative model puts a `N(0, I)`
//! prior on layer 0 (the top cause) and Bernoulli pixels at layer `L`:
//! `p(x, v) = N(v_0; 0, I) Π_k N(v_k; μ_k, diag σ²_k) Π_i Bern(x_i; sigmoid(μ_Li))`, so
//! `ln p(x, v) = -F - (d/2) ln 2π` with `d` the number of latent units.
//!
//! # Shapes
//! Row-major batches: `v_k`, `μ_k`, `ε_k`: `[B, n_k]`; `W_k`: `[n_k, n_{k+1}]`; `b_k`: `[n_{k+1}]`.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernels::gemm::{gemm_into, gemm_single};
use crate::kernels::linalg::{cholesky, lower_inverse};
use crate::kernels::math::{sigmoid, softplus};
use crate::kernels::{multiversion, noise};
use crate::nn::dense::{AdamSettings, Dense, LayerGrad, dense_forward, row_major, transposed};
use crate::nn::mlp::{Activation, Mlp, activate_block, derivative_block};

/// Layer 0: clamped to data, or a free cause under a standard normal prior.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// `v_0 = x` (`[B, n_0]`), never updated.
    Clamped(&'a [f32]),
    /// `v_0 ~ N(0, I)`, inferred.
    Prior,
}

/// Layer `L`: what the last prediction is compared with.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Class labels through a softmax, the energy weighted by `precision` (β).
    Labels {
        /// `[B]` class indices.
        y: &'a [usize],
        /// β.
        precision: f32,
    },
    /// Binary pixels through a sigmoid; a pixel with mask 0 is unobserved.
    Pixels {
        /// `[B, n_L]` values in {0, 1} (or probabilities).
        x: &'a [f32],
        /// `[B, n_L]` 1 observed / 0 unobserved; `None`: all observed.
        mask: Option<&'a [f32]>,
    },
}

/// The value nodes of a batch after inference, with the free energy along the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// Rows.
    pub batch: usize,
    /// `v_k` for `k = 0..L` (layer `L` is the target).
    pub values: Vec<Vec<f32>>,
    /// `F` summed over the batch before the first step and after each step (nats).
    pub energies: Vec<f64>,
    /// `F` per row at the end (nats).
    pub row_energies: Vec<f64>,
    /// `φ_k(v_k)` at the end, `k = 1..L` (`[0]` is empty: `φ_0` is the identity).
    phis: Vec<Vec<f32>>,
    /// The errors at the end: `[0]` the prior's `v_0` (empty when clamped), `[k]` the
    /// precision-weighted `ξ_k`, `[L]` `e_L`.
    errors: Vec<Vec<f32>>,
    /// `μ_L` at the end.
    top: Vec<f32>,
}

impl Inference {
    /// `μ_L` at the end of inference (logits).
    pub fn prediction(&self) -> &[f32] {
        &self.top
    }
}

/// A predictive-coding network: its dense layers (with Adam state) and the non-linearity `f`.
#[derive(Debug, Clone, PartialEq)]
pub struct PcNetwork {
    /// Layer `k` maps `φ_k(v_k)` to `μ_{k+1}`; activations `[f, ..., f, identity]`, so that
    /// [`Mlp::forward`] is the feed-forward pass.
    pub mlp: Mlp,
    /// `f`.
    pub activation: Activation,
    /// `ln σ²_k` per unit of the Gaussian layers `k = 1..L-1` (index `k - 1`): the layer's
    /// precision `1 / σ²_k` weights its prediction errors. 0 (unit variance) unless set.
    /// Not learned: under point-estimate inference a hidden layer's variance collapses
    /// (`v_k = μ_k` makes `ε_k = 0`, and `F -> -∞` as `σ²_k -> 0`); Bogacz's variance rule
    /// ([`super::tutorial::VarianceLearning`]) is for errors between clamped values.
    pub log_variance: Vec<Vec<f32>>,
}

/// How a batch is learned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Learning {
    /// Inference steps.
    pub steps: usize,
    /// Step size of inference.
    pub rate: f32,
    /// Adam for the weights and biases.
    pub adam: AdamSettings,
    /// Record `F` after every inference step (otherwise only at the end).
    pub trace: bool,
}

/// `d f(v) / dv` at `v`.
fn slope(act: Activation, v: f32) -> f32 {
    match act {
        Activation::Identity => 1.0,
        Activation::Relu => f32::from(v > 0.0),
        Activation::LeakyRelu(a) => {
            if v > 0.0 {
                1.0
            } else {
                a
            }
        }
        Activation::Sigmoid => {
            let s = sigmoid(v);
            s * (1.0 - s)
        }
        Activation::Tanh => {
            let t = 2.0 * sigmoid(2.0 * v) - 1.0;
            1.0 - t * t
        }
    }
}

multiversion! {
    /// `e = x - sigmoid(μ)`: minus the gradient of the Bernoulli energy in the logits.
    fn bernoulli_error_block(e: &mut [f32], mu: &[f32], x: &[f32]) {
        for ((e, &a), &x) in e.iter_mut().zip(mu).zip(x) {
            *e = x - sigmoid(a);
        }
    }
}

multiversion! {
    /// `softplus(μ) - x μ = -ln Bern(x; sigmoid(μ))` per pixel.
    fn bernoulli_energy_block(out: &mut [f32], mu: &[f32], x: &[f32]) {
        for ((o, &a), &x) in out.iter_mut().zip(mu).zip(x) {
            *o = softplus(a) - x * a;
        }
    }
}

impl PcNetwork {
    /// Layers of `sizes[0] -> sizes[1] -> ... -> sizes[L]` with weights `N(0, 1/n_in)` and zero
    /// biases from the counter-based streams of `seed`.
    pub fn new(sizes: &[usize], activation: Activation, seed: u64) -> Result<Self> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(Error::param(
                "sizes",
                format!("{sizes:?}: at least two layers, none empty"),
            ));
        }
        let layers: Vec<Dense> = sizes
            .windows(2)
            .enumerate()
            .map(|(k, w)| Dense::gaussian(w[0], w[1], 1.0, 0.0, seed.wrapping_add(2 * k as u64)))
            .collect();
        let mut acts = vec![activation; layers.len()];
        if let Some(last) = acts.last_mut() {
            *last = Activation::Identity;
        }
        let log_variance = sizes[1..sizes.len() - 1]
            .iter()
            .map(|&n| vec![0.0; n])
            .collect();
        Ok(Self {
            mlp: Mlp::new(layers, acts),
            activation,
            log_variance,
        })
    }

    /// `[n_0, ..., n_L]`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.mlp.layers[0].inp];
        s.extend(self.mlp.layers.iter().map(|l| l.out));
        s
    }

    /// `L`, the number of dense layers.
    pub fn depth(&self) -> usize {
        self.mlp.layers.len()
    }

    /// Latent units of the generative model (layers `0..L`).
    pub fn latent_units(&self) -> usize {
        self.sizes()[..self.depth()].iter().sum()
    }

    /// `φ_k(v_k)` (a copy; `φ_0` is the identity).
    fn activated(&self, k: usize, v: &[f32]) -> Vec<f32> {
        let mut y = v.to_vec();
        if k > 0 {
            activate_block(&mut y, self.activation);
        }
        y
    }

    fn act(&self, k: usize) -> Activation {
        if k == 0 {
            Activation::Identity
        } else {
            self.activation
        }
    }

    /// `φ_k(v_k) W_k + b_k`.
    fn predict(&self, k: usize, phi: &[f32], batch: usize) -> Vec<f32> {
        let layer = &self.mlp.layers[k];
        let mut mu = vec![0f32; batch * layer.out];
        dense_forward(layer, phi, &mut mu, batch, false);
        mu
    }

    /// The feed-forward start: `v_0` from the source, `v_k = μ_k` above it.
    pub fn initial_values(&self, source: Source<'_>, batch: usize) -> Result<Vec<Vec<f32>>> {
        let n0 = self.sizes()[0];
        let v0 = match source {
            Source::Clamped(x) => {
                if x.len() != batch * n0 {
                    return Err(Error::data(
                        "input",
                        format!("{} values for [{batch}, {n0}]", x.len()),
                    ));
                }
                x.to_vec()
            }
            Source::Prior => vec![0.0; batch * n0],
        };
        let mut values = vec![v0];
        for k in 0..self.depth() - 1 {
            let phi = self.activated(k, &values[k]);
            values.push(self.predict(k, &phi, batch));
        }
        Ok(values)
    }

    /// `φ_k(v_k)`, the errors and `μ_L` at `values`, and `F` per row.
    /// `mu1`: `μ_1` when it is known (a clamped source below a hidden layer: it never changes
    /// during inference).
    #[allow(clippy::type_complexity)]
    fn errors(
        &self,
        values: &[Vec<f32>],
        source: Source<'_>,
        target: Target<'_>,
        batch: usize,
        mu1: Option<&[f32]>,
    ) -> (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<f32>, Vec<f64>) {
        let depth = self.depth();
        let sizes = self.sizes();
        // φ_0 is the identity: left empty, read from `values[0]`.
        let phis: Vec<Vec<f32>> = (0..depth)
            .map(|k| {
                if k == 0 {
                    Vec::new()
                } else {
                    self.activated(k, &values[k])
                }
            })
            .collect();
        let phi = |k: usize| -> &[f32] { if k == 0 { &values[0] } else { &phis[k] } };
        let mut rows = vec![0f64; batch];
        let mut errors = Vec::with_capacity(depth + 1);
        match source {
            Source::Prior => {
                for (r, row) in values[0].chunks_exact(sizes[0]).enumerate() {
                    rows[r] += 0.5 * row.iter().map(|&v| f64::from(v * v)).sum::<f64>();
                }
                errors.push(values[0].clone());
            }
            Source::Clamped(_) => errors.push(Vec::new()),
        }
        for k in 1..depth {
            let fresh;
            let mu = match mu1 {
                Some(m) if k == 1 => m,
                _ => {
                    fresh = self.predict(k - 1, phi(k - 1), batch);
                    &fresh
                }
            };
            // ξ_k = (v_k - μ_k) / σ²_k; the energy ½ ε ξ + ½ ln σ² per unit.
            let log_var = &self.log_variance[k - 1];
            let precision: Vec<f32> = log_var.iter().map(|&l| (-l).exp()).collect();
            let mut xi: Vec<f32> = values[k].iter().zip(mu).map(|(v, m)| v - m).collect();
            let half_log_det = 0.5 * log_var.iter().map(|&l| f64::from(l)).sum::<f64>();
            for (r, row) in xi.chunks_exact(sizes[k]).enumerate() {
                let quad: f64 = row
                    .iter()
                    .zip(&precision)
                    .map(|(&e, &p)| f64::from(e * e * p))
                    .sum();
                rows[r] += 0.5 * quad + half_log_det;
            }
            for row in xi.chunks_exact_mut(sizes[k]) {
                row.iter_mut().zip(&precision).for_each(|(e, p)| *e *= p);
            }
            errors.push(xi);
        }
        let top = self.predict(depth - 1, phi(depth - 1), batch);
        let n = sizes[depth];
        let mut e_top = vec![0f32; batch * n];
        match target {
            Target::Labels { y, precision } => {
                for (r, (mu, e)) in top
                    .chunks_exact(n)
                    .zip(e_top.chunks_exact_mut(n))
                    .enumerate()
                {
                    let max = mu.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let z: f64 = mu.iter().map(|&a| f64::from(a - max).exp()).sum();
                    let lse = f64::from(max) + z.ln();
                    rows[r] += f64::from(precision) * (lse - f64::from(mu[y[r]]));
                    for (j, (e, &a)) in e.iter_mut().zip(mu).enumerate() {
                        let p = (f64::from(a) - lse).exp() as f32;
                        *e = precision * (f32::from(j == y[r]) - p);
                    }
                }
            }
            Target::Pixels { x, mask } => {
                bernoulli_error_block(&mut e_top, &top, x);
                if let Some(m) = mask {
                    e_top.iter_mut().zip(m).for_each(|(e, m)| *e *= m);
                }
                let mut terms = vec![0f32; top.len()];
                bernoulli_energy_block(&mut terms, &top, x);
                if let Some(m) = mask {
                    terms.iter_mut().zip(m).for_each(|(t, m)| *t *= m);
                }
                for (r, row) in terms.chunks_exact(n).enumerate() {
                    rows[r] += row.iter().map(|&t| f64::from(t)).sum::<f64>();
                }
            }
        }
        errors.push(e_top);
        (phis, errors, top, rows)
    }

    /// Infer the free value nodes of a batch: `steps` gradient-descent steps of size `rate` on
    /// `F`, from the feed-forward start.
    pub fn infer(
        &self,
        source: Source<'_>,
        target: Target<'_>,
        batch: usize,
        steps: usize,
        rate: f32,
    ) -> Result<Inference> {
        let values = self.initial_values(source, batch)?;
        self.infer_from(values, source, target, batch, steps, rate, true)
    }

    /// [`PcNetwork::infer`] from given values (`v_k`, `k = 0..L`). With `trace` the energies
    /// hold `F` before the first step and after each; without, only the final `F`.
    #[allow(clippy::too_many_arguments)]
    pub fn infer_from(
        &self,
        mut values: Vec<Vec<f32>>,
        source: Source<'_>,
        target: Target<'_>,
        batch: usize,
        steps: usize,
        rate: f32,
        trace: bool,
    ) -> Result<Inference> {
        let sizes = self.sizes();
        let depth = self.depth();
        let n_top = sizes[depth];
        let want = match target {
            Target::Labels { y, .. } => {
                if let Some(&bad) = y.iter().find(|&&c| c >= n_top) {
                    return Err(Error::data(
                        "labels",
                        format!("class {bad} with {n_top} output units"),
                    ));
                }
                y.len()
            }
            Target::Pixels { x, mask } => {
                if mask.is_some_and(|m| m.len() != x.len()) {
                    return Err(Error::data("mask", "not the shape of the pixels"));
                }
                x.len() / n_top
            }
        };
        if want != batch {
            return Err(Error::data(
                "target",
                format!("{want} rows for a batch of {batch}"),
            ));
        }
        let first_free = usize::from(matches!(source, Source::Clamped(_)));
        let mu1 = (first_free == 1 && depth > 1).then(|| self.predict(0, &values[0], batch));
        let (mut phis, mut errors, mut top, mut rows) =
            self.errors(&values, source, target, batch, mu1.as_deref());
        let mut energies = Vec::with_capacity(if trace { steps + 1 } else { 1 });
        if trace || steps == 0 {
            energies.push(rows.iter().sum::<f64>());
        }
        // Each row's own step size: halved (and the step undone) whenever a step would raise
        // that row's free energy, so F never rises (beyond f32 rounding, 1e-6 relative).
        let mut rates = vec![rate; batch];
        for step in 0..steps {
            let before = values.clone();
            for k in first_free..depth {
                let layer = &self.mlp.layers[k];
                // back = e_{k+1} W_k^T
                let mut back = vec![0f32; batch * layer.inp];
                gemm_into(
                    &mut back,
                    row_major(&errors[k + 1], batch, layer.out),
                    transposed(&layer.w, layer.inp, layer.out),
                    0.0,
                    1.0,
                    false,
                );
                if k > 0 {
                    // f'(v_k) from the output φ_k(v_k).
                    derivative_block(&mut back, &phis[k], self.activation);
                }
                // Preconditioned by the layer's variance (σ²_0 = 1): the step is `rate` in
                // units of σ²_k, so a precise layer settles as fast as a loose one.
                let n = sizes[k];
                let var: Vec<f32> = if k == 0 {
                    vec![1.0; n]
                } else {
                    self.log_variance[k - 1].iter().map(|l| l.exp()).collect()
                };
                for (((v, b), own), r) in values[k]
                    .chunks_exact_mut(n)
                    .zip(back.chunks_exact(n))
                    .zip(errors[k].chunks_exact(n))
                    .zip(&rates)
                {
                    for (((v, b), own), s) in v.iter_mut().zip(b).zip(own).zip(&var) {
                        *v -= r * s * (own - b);
                    }
                }
            }
            let mut next = self.errors(&values, source, target, batch, mu1.as_deref());
            let mut undone = false;
            for r in 0..batch {
                // Rises within float rounding of the f32 terms (1e-6 relative) are kept.
                if next.3[r] > rows[r] + 1e-6 * rows[r].abs() {
                    undone = true;
                    rates[r] *= 0.5;
                    for k in first_free..depth {
                        let n = sizes[k];
                        values[k][r * n..(r + 1) * n]
                            .copy_from_slice(&before[k][r * n..(r + 1) * n]);
                    }
                }
            }
            if undone {
                next = self.errors(&values, source, target, batch, mu1.as_deref());
            }
            (phis, errors, top, rows) = next;
            if trace || step + 1 == steps {
                energies.push(rows.iter().sum::<f64>());
            }
        }
        Ok(Inference {
            batch,
            values,
            energies,
            row_energies: rows,
            phis,
            errors,
            top,
        })
    }

    /// `∂F/∂W_k = -φ_k(v_k)^T e_{k+1}`, `∂F/∂b_k = -Σ e_{k+1}`, averaged over the batch: each
    /// weight's change needs only the activity on its two sides.
    pub fn weight_gradients(&self, inf: &Inference) -> Vec<LayerGrad> {
        let scale = -1.0 / inf.batch as f32;
        self.mlp
            .layers
            .iter()
            .enumerate()
            .map(|(k, layer)| {
                let e = &inf.errors[k + 1];
                let mut gw = vec![0f32; layer.w.len()];
                gemm_into(
                    &mut gw,
                    transposed(
                        if k == 0 { &inf.values[0] } else { &inf.phis[k] },
                        inf.batch,
                        layer.inp,
                    ),
                    row_major(e, inf.batch, layer.out),
                    0.0,
                    scale,
                    false,
                );
                let mut gb = vec![0f32; layer.out];
                for row in e.chunks_exact(layer.out) {
                    gb.iter_mut().zip(row).for_each(|(g, d)| *g += scale * d);
                }
                (gw, gb)
            })
            .collect()
    }

    /// One learning step on a batch: inference, then Adam on the local weight gradients.
    /// Returns the inference (traced: its energies show the settling; otherwise only the final
    /// `F`).
    pub fn learn(
        &mut self,
        source: Source<'_>,
        target: Target<'_>,
        batch: usize,
        how: &Learning,
    ) -> Result<Inference> {
        let values = self.initial_values(source, batch)?;
        let inf = self.infer_from(
            values, source, target, batch, how.steps, how.rate, how.trace,
        )?;
        let grads = self.weight_gradients(&inf);
        self.mlp.adam_step(&grads, how.adam);
        Ok(inf)
    }

    /// The feed-forward prediction `μ_L` of a clamped input `[B, n_0]` (logits).
    pub fn feed_forward(&self, x: &[f32], batch: usize) -> Vec<f32> {
        self.mlp.forward(x, batch).output().to_vec()
    }

    /// Ancestral samples of the generative model: `v_0 ~ N(0, I)`, `v_k ~ N(μ_k, σ²_k)` (or
    /// `v_k = μ_k` without `hidden_noise`: the cause's picture alone), and the pixel
    /// probabilities `sigmoid(μ_L)` (`[n, n_L]`), from the counter-based stream `seed`.
    pub fn sample(&self, n: usize, seed: u64, hidden_noise: bool) -> Vec<f32> {
        let sizes = self.sizes();
        let mut v: Vec<f32> = (0..n * sizes[0])
            .map(|i| noise::normal(seed, i as u64))
            .collect();
        for k in 0..self.depth() {
            let phi = self.activated(k, &v);
            let mu = self.predict(k, &phi, n);
            v = if k + 1 < self.depth() && !hidden_noise {
                mu
            } else if k + 1 < self.depth() {
                let key = seed.wrapping_add(k as u64 + 1);
                let lv = &self.log_variance[k];
                mu.iter()
                    .enumerate()
                    .map(|(i, m)| m + (0.5 * lv[i % lv.len()]).exp() * noise::normal(key, i as u64))
                    .collect()
            } else {
                mu.iter().map(|&m| sigmoid(m)).collect()
            };
        }
        v
    }

    /// `ln p(x, v)` per row of `latents` (`[S, d]`: `v_0, ..., v_{L-1}` side by side) for one
    /// binary image `x` (`[n_L]`).
    fn log_joint_rows(&self, latents: &[f32], x: &[f32], rows: usize) -> Vec<f64> {
        let sizes = self.sizes();
        let depth = self.depth();
        let d = self.latent_units();
        let values: Vec<Vec<f32>> = (0..depth)
            .map(|k| {
                let off: usize = sizes[..k].iter().sum();
                latents
                    .chunks_exact(d)
                    .flat_map(|r| r[off..off + sizes[k]].iter().copied())
                    .collect()
            })
            .collect();
        let xs: Vec<f32> = (0..rows).flat_map(|_| x.iter().copied()).collect();
        let target = Target::Pixels { x: &xs, mask: None };
        let (_, _, _, energies) = self.errors(&values, Source::Prior, target, rows, None);
        let c = 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
        energies.iter().map(|f| -f - c).collect()
    }

    /// The Gauss-Newton approximation of `∂²F/∂v²` (`[d, d]`, f64) at the latents of one row
    /// of `inf`: the exact Hessian of each squared error and of the Bernoulli term with the
    /// second derivatives of the predictions dropped, so positive definite.
    fn gauss_newton(&self, inf: &Inference, r: usize) -> Vec<f64> {
        let sizes = self.sizes();
        let depth = self.depth();
        let d = self.latent_units();
        let off = |k: usize| -> usize { sizes[..k].iter().sum() };
        let mut h = vec![0f64; d * d];
        for i in 0..sizes[0] {
            h[i * d + i] += 1.0;
        }
        for k in 1..=depth {
            // A = ∂μ_k/∂v_{k-1} = diag(φ'(v_{k-1})) W_{k-1}, as [n_{k-1}, n_k] (rows: inputs).
            let layer = &self.mlp.layers[k - 1];
            let (ni, no) = (layer.inp, layer.out);
            let v = &inf.values[k - 1][r * ni..(r + 1) * ni];
            let act = self.act(k - 1);
            // Weights of the residual: 1 / σ² for a Gaussian layer, s (1 - s) for the pixels.
            let weight: Vec<f32> = if k < depth {
                self.log_variance[k - 1]
                    .iter()
                    .map(|&l| (-l).exp())
                    .collect()
            } else {
                inf.top[r * no..(r + 1) * no]
                    .iter()
                    .map(|&a| {
                        let s = sigmoid(a);
                        s * (1.0 - s)
                    })
                    .collect()
            };
            // B = A diag(sqrt(weight)); the block is B B^T.
            let mut b = vec![0f32; ni * no];
            for i in 0..ni {
                let s = slope(act, v[i]);
                for j in 0..no {
                    b[i * no + j] = s * layer.w[i * no + j] * weight[j].sqrt();
                }
            }
            let mut bbt = vec![0f32; ni * ni];
            gemm_single(
                &mut bbt,
                row_major(&b, ni, no),
                transposed(&b, ni, no),
                0.0,
                1.0,
                false,
            );
            let o = off(k - 1);
            for i in 0..ni {
                for j in 0..ni {
                    h[(o + i) * d + o + j] += f64::from(bbt[i * ni + j]);
                }
            }
            if k < depth {
                // ε_k = v_k - μ_k: +diag(1/σ²) on v_k and -A diag(1/σ²) on the cross blocks.
                let ok = off(k);
                for j in 0..no {
                    let p = f64::from(weight[j]);
                    h[(ok + j) * d + ok + j] += p;
                    for i in 0..ni {
                        let a = p * f64::from(slope(act, v[i]) * layer.w[i * no + j]);
                        h[(o + i) * d + ok + j] -= a;
                        h[(ok + j) * d + o + i] -= a;
                    }
                }
            }
        }
        h
    }

    /// The importance-weighted lower bound on `ln p(x)` (nats) of each row of binary images
    /// `x` (`[n, n_L]`), with `k` samples from the Laplace proposal `N(v*, H^-1)` at the mode
    /// `v*` found by `steps` inference steps of size `rate` (`H`: [`Self::gauss_newton`]):
    /// `ln (1/k) Σ_s p(x, v_s) / q(v_s)`, accumulated in f64. Sample `s` of row `i` draws from
    /// the counter-based stream `seed` at `(i, s)`, so the result does not depend on the batch
    /// or the thread count.
    pub fn log_likelihood(
        &self,
        x: &[f32],
        n: usize,
        k: usize,
        steps: usize,
        rate: f32,
        seed: u64,
    ) -> Result<Vec<f64>> {
        let n_top = self.sizes()[self.depth()];
        let d = self.latent_units();
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let mut out = Vec::with_capacity(n);
        for start in (0..n).step_by(256) {
            let b = (n - start).min(256);
            let xb = &x[start * n_top..(start + b) * n_top];
            let target = Target::Pixels { x: xb, mask: None };
            let inf = self.infer(Source::Prior, target, b, steps, rate)?;
            let part: Vec<Result<f64>> = (0..b)
                .into_par_iter()
                .map(|r| {
                    let mut h = self.gauss_newton(&inf, r);
                    let l = cholesky(&mut h, d, 0.0)
                        .ok_or_else(|| {
                            Error::data("log-likelihood", "Laplace Hessian not positive definite")
                        })?
                        .to_vec();
                    let mode: Vec<f64> = (0..self.depth())
                        .flat_map(|kk| {
                            let nk = self.sizes()[kk];
                            inf.values[kk][r * nk..(r + 1) * nk]
                                .iter()
                                .map(|&v| f64::from(v))
                        })
                        .collect();
                    let half_log_det: f64 = (0..d).map(|i| l[i * d + i].ln()).sum();
                    let key = seed ^ ((start + r) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    // z = v* + L^-T ξ: as rows, z^T = v*^T + ξ^T L^-1; q(z) = N(v*, (L L^T)^-1).
                    let inv: Vec<f32> = lower_inverse(&l, d).iter().map(|&v| v as f32).collect();
                    let xi: Vec<f32> = (0..k * d).map(|i| noise::normal(key, i as u64)).collect();
                    let mut latents: Vec<f32> = (0..k)
                        .flat_map(|_| mode.iter().map(|&m| m as f32))
                        .collect();
                    gemm_single(
                        &mut latents,
                        row_major(&xi, k, d),
                        row_major(&inv, d, d),
                        1.0,
                        1.0,
                        true,
                    );
                    let log_q: Vec<f64> = xi
                        .chunks_exact(d)
                        .map(|x| {
                            let q2: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                            -0.5 * d as f64 * ln2pi + half_log_det - 0.5 * q2
                        })
                        .collect();
                    let xr = &xb[r * n_top..(r + 1) * n_top];
                    let log_p = self.log_joint_rows(&latents, xr, k);
                    let w: Vec<f64> = log_p.iter().zip(&log_q).map(|(p, q)| p - q).collect();
                    Ok(crate::kernels::special::log_sum_exp(&w) - (k as f64).ln())
                })
                .collect();
            for v in part {
                out.push(v?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_rows(n: usize, d: usize, key: u64, binary: bool) -> Vec<f32> {
        (0..n * d)
            .map(|i| {
                let u = noise::uniform(key, i as u64);
                if binary { f32::from(u < 0.4) } else { u }
            })
            .collect()
    }

    fn total(
        net: &PcNetwork,
        values: &[Vec<f32>],
        source: Source<'_>,
        target: Target<'_>,
        batch: usize,
    ) -> f64 {
        net.errors(values, source, target, batch, None)
            .3
            .iter()
            .sum()
    }

    /// One inference step moves every free value by `-rate ∂F/∂v`; the local weight update is
    /// `∂F/∂W` (mean over the batch): both against central differences of `F`, in f64 over
    /// the f32 network (steps of 1e-2 on values of order 1).
    fn check_gradients(source: Source<'_>, target: Target<'_>, net: &PcNetwork, batch: usize) {
        let mut values = net.initial_values(source, batch).expect("values");
        // Move off the feed-forward point so every error is non-zero.
        for (k, v) in values.iter_mut().enumerate() {
            if k > 0 || matches!(source, Source::Prior) {
                for (i, x) in v.iter_mut().enumerate() {
                    *x += 0.3 * noise::normal(77 + k as u64, i as u64);
                }
            }
        }
        let rate = 1e-3f32;
        let inf = net
            .infer_from(values.clone(), source, target, batch, 1, rate, true)
            .expect("one step");
        let first = usize::from(matches!(source, Source::Clamped(_)));
        let h = 1e-2f32;
        for k in first..net.depth() {
            for i in [0, values[k].len() / 2, values[k].len() - 1] {
                let mut plus = values.clone();
                plus[k][i] += h;
                let mut minus = values.clone();
                minus[k][i] -= h;
                let fd = (total(net, &plus, source, target, batch)
                    - total(net, &minus, source, target, batch))
                    / (2.0 * f64::from(h));
                // The step is preconditioned by the layer's variance.
                let var = if k == 0 {
                    1.0
                } else {
                    let lv = &net.log_variance[k - 1];
                    f64::from(lv[i % lv.len()]).exp()
                };
                let step = f64::from(values[k][i] - inf.values[k][i]) / f64::from(rate) / var;
                assert!(
                    (step - fd).abs() < 2e-3 * (1.0 + fd.abs()),
                    "dF/dv[{k}][{i}]: step {step} vs differences {fd}"
                );
            }
        }
        // Weight gradients at the start values.
        let at = net
            .infer_from(values.clone(), source, target, batch, 0, rate, true)
            .expect("zero steps");
        let grads = net.weight_gradients(&at);
        for (k, (gw, gb)) in grads.iter().enumerate() {
            for (j, is_bias) in [(0usize, false), (gw.len() / 3, false), (gb.len() - 1, true)] {
                let shifted = |d: f32| {
                    let mut m = net.clone();
                    if is_bias {
                        m.mlp.layers[k].b[j] += d;
                    } else {
                        m.mlp.layers[k].w[j] += d;
                    }
                    total(&m, &values, source, target, batch)
                };
                let fd = (shifted(h) - shifted(-h)) / (2.0 * f64::from(h)) / batch as f64;
                let g = f64::from(if is_bias { gb[j] } else { gw[j] });
                assert!(
                    (g - fd).abs() < 2e-3 * (1.0 + fd.abs()),
                    "dF/d{}[{k}][{j}]: {g} vs differences {fd}",
                    if is_bias { "b" } else { "W" }
                );
            }
        }
    }

    /// Log-variances drawn around 0 so that precision weighting is exercised.
    fn with_variances(mut net: PcNetwork, key: u64) -> PcNetwork {
        for (j, lv) in net.log_variance.iter_mut().enumerate() {
            for (i, l) in lv.iter_mut().enumerate() {
                *l = 0.6 * noise::normal(key + j as u64, i as u64);
            }
        }
        net
    }

    #[test]
    fn inference_and_learning_follow_the_free_energy_gradient_in_both_directions() {
        let batch = 3;
        let net = PcNetwork::new(&[6, 5, 4, 3], Activation::Tanh, 11).expect("net");
        let net = with_variances(net, 50);
        let x = random_rows(batch, 6, 1, false);
        let y = [0usize, 2, 1];
        let target = Target::Labels {
            y: &y,
            precision: 0.7,
        };
        check_gradients(Source::Clamped(&x), target, &net, batch);

        let net = PcNetwork::new(&[3, 5, 8], Activation::Tanh, 12).expect("net");
        let net = with_variances(net, 60);
        let pixels = random_rows(batch, 8, 2, true);
        let mask = random_rows(batch, 8, 3, true);
        let target = Target::Pixels {
            x: &pixels,
            mask: Some(&mask),
        };
        check_gradients(Source::Prior, target, &net, batch);
    }

    #[test]
    fn with_a_weak_label_the_settled_errors_give_backpropagations_gradients() {
        // Whittington & Bogacz (2017): as the label's precision β goes to 0, the equilibrium
        // errors divided by β are the errors of backpropagation of the cross-entropy.
        let (batch, beta) = (5, 1e-3f32);
        let net = PcNetwork::new(&[7, 6, 5, 4], Activation::Tanh, 21).expect("net");
        let x = random_rows(batch, 7, 4, false);
        let y = [3usize, 0, 1, 2, 3];
        let target = Target::Labels {
            y: &y,
            precision: beta,
        };
        let inf = net
            .infer(Source::Clamped(&x), target, batch, 400, 0.2)
            .expect("settle");
        let pc = net.weight_gradients(&inf);
        // Backprop of the mean cross-entropy on the same MLP.
        let trace = net.mlp.forward(&x, batch);
        let mut delta = trace.output().to_vec();
        for (row, &c) in delta.chunks_exact_mut(4).zip(&y) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            row.iter_mut().for_each(|a| *a = (*a - max).exp());
            let s: f32 = row.iter().sum();
            row.iter_mut().for_each(|a| *a /= s * batch as f32);
            row[c] -= 1.0 / batch as f32;
        }
        let mut bp = net.mlp.zero_grads();
        net.mlp.backward(&x, &trace, &delta, Some(&mut bp), false);
        for (k, ((pw, pb), (bw, bb))) in pc.iter().zip(&bp).enumerate() {
            for (p, b) in pw.iter().chain(pb).zip(bw.iter().chain(bb)) {
                let p = p / beta;
                assert!(
                    (p - b).abs() < 2e-3 * (1.0 + b.abs()) + 1e-4,
                    "layer {k}: {p} vs {b}"
                );
            }
        }
    }

    /// `ln p(x)` of a model with one latent layer of 2 units, by the midpoint rule on a grid
    /// of the prior's ±7 standard deviations.
    fn quadrature(net: &PcNetwork, x: &[f32]) -> f64 {
        let m = 400;
        let h = 14.0 / m as f64;
        let mut logs = Vec::with_capacity(m * m);
        for a in 0..m {
            for b in 0..m {
                let v = [
                    (-7.0 + (a as f64 + 0.5) * h) as f32,
                    (-7.0 + (b as f64 + 0.5) * h) as f32,
                ];
                logs.push(net.log_joint_rows(&v, x, 1)[0] + 2.0 * h.ln());
            }
        }
        crate::kernels::special::log_sum_exp(&logs)
    }

    #[test]
    fn the_importance_weighted_bound_approaches_the_exact_log_likelihood_from_below() {
        // Two latent units: one layer of 2, or a cause and a hidden unit of 1 each (with a
        // variance of 0.3), both small enough for quadrature. A wrong constant in either
        // density (½ ln σ² = -0.6 here, ½ ln 2π = 0.92) would be far outside the slack.
        let mut one_layer = PcNetwork::new(&[2, 12], Activation::Tanh, 31).expect("net");
        // Sharper weights, so that the posterior is far from the prior.
        one_layer.mlp.layers[0].w.iter_mut().for_each(|w| *w *= 2.5);
        let mut two_layers = PcNetwork::new(&[1, 1, 12], Activation::Tanh, 32).expect("net");
        two_layers.mlp.layers[0].w[0] = 1.5;
        two_layers.mlp.layers[1]
            .w
            .iter_mut()
            .for_each(|w| *w *= 1.5);
        two_layers.log_variance[0][0] = 0.3f32.ln();
        // The tolerance below the exact value at k = 4000 (by quadrature: the skewed posterior of
        // the two-layer model closes to 0.045 nats only at k = 128,000).
        for (net, slack) in [(one_layer, 0.02), (two_layers, 0.15)] {
            let n = 4;
            let x = random_rows(n, 12, 5, true);
            let exact: Vec<f64> = x.chunks_exact(12).map(|r| quadrature(&net, r)).collect();
            let many = net
                .log_likelihood(&x, n, 4000, 300, 0.1, 9)
                .expect("k = 4000");
            // k = 1 estimates the ELBO, ln p(x) - KL(q || p(v | x)): averaged over 64 draws it
            // lies below the k = 4000 bound.
            let mut elbo = vec![0f64; n];
            for seed in 0..64 {
                let one = net
                    .log_likelihood(&x, n, 1, 300, 0.1, 100 + seed)
                    .expect("k = 1");
                elbo.iter_mut().zip(&one).for_each(|(e, o)| *e += o / 64.0);
            }
            let sizes = net.sizes();
            for i in 0..n {
                assert!(
                    many[i] <= exact[i] + 0.01,
                    "{sizes:?} row {i}: {} > exact {}",
                    many[i],
                    exact[i]
                );
                assert!(
                    many[i] > exact[i] - slack,
                    "{sizes:?} row {i}: {} far below exact {}",
                    many[i],
                    exact[i]
                );
                assert!(
                    elbo[i] < many[i],
                    "{sizes:?} row {i}: ELBO {} above the bound {}",
                    elbo[i],
                    many[i]
                );
            }
        }
    }

    #[test]
    fn the_free_energy_never_rises_during_inference() {
        let batch = 16;
        let net = PcNetwork::new(&[784, 64, 32, 10], Activation::Tanh, 41).expect("net");
        let x = random_rows(batch, 784, 6, false);
        let y: Vec<usize> = (0..batch).map(|i| i % 10).collect();
        let labels = Target::Labels {
            y: &y,
            precision: 1.0,
        };
        let px = random_rows(batch, 784, 7, true);
        let pixels = Target::Pixels { x: &px, mask: None };
        let generative = PcNetwork::new(&[8, 64, 784], Activation::Tanh, 42).expect("net");
        // Weights four times larger: plain steps of 0.1 overshoot here, so the step halving
        // is what keeps F from rising.
        let mut sharp = generative.clone();
        sharp
            .mlp
            .layers
            .iter_mut()
            .for_each(|l| l.w.iter_mut().for_each(|w| *w *= 4.0));
        let runs = [
            net.infer(Source::Clamped(&x), labels, batch, 50, 0.1)
                .expect("infer"),
            generative
                .infer(Source::Prior, pixels, batch, 100, 0.1)
                .expect("infer"),
            sharp
                .infer(Source::Prior, pixels, batch, 100, 0.1)
                .expect("infer"),
        ];
        for inf in &runs {
            let e = &inf.energies;
            assert!(e.last() < e.first(), "{e:?}");
            for w in e.windows(2) {
                assert!(w[1] <= w[0] + 1e-6 * w[0].abs(), "{} -> {}", w[0], w[1]);
            }
        }
    }
}
