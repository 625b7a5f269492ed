//! A multilayer perceptron on host buffers with a hand-written backward pass and Adam, for
//! CPU training engines of MLP models (the GAN's generator and discriminator, in progress).
//!
//! Layer `l` computes `y_l = f_l(y_{l-1} W_l + b_l)` with `f_l` one of [`Activation`]; the
//! backward pass takes `dL/dy_L` and returns the parameter gradients and, on request,
//! `dL/dx`. Every activation's derivative is a function of its output
//! (`relu: y > 0`, `leaky relu: 1 or a`, `sigmoid: y (1 - y)`, `tanh: 1 - y^2`), so only
//! outputs are kept.
//!
//! Inverted dropout (training only): after layer `l`'s activation each unit is kept with
//! probability `1 - p_l` and scaled by `1 / (1 - p_l)`; the scale of every unit (0 when
//! dropped) is kept in the trace and the backward pass multiplies by it.
//!
//! # Shapes
//! `W_l`: `[in, out]` row-major; `b_l`: `[out]`; inputs `[B, in]`; outputs `[B, out]`.

use std::path::Path;

use rayon::prelude::*;

use super::dense::{AdamSettings, CHUNK, Dense, LayerGrad, adam_layers, row_major, transposed};
use crate::error::{Error, Result};
use crate::io::{Blob, TensorFile};
use crate::kernels::gemm::gemm_into;
use crate::kernels::math::sigmoid;
use crate::kernels::{multiversion, noise};

/// The non-linearity after a layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `y = a`.
    Identity,
    /// `y = max(a, 0)`.
    Relu,
    /// `y = a` for `a > 0`, else `slope * a` (`0 < slope < 1`).
    LeakyRelu(f32),
    /// `y = 1 / (1 + e^-a)`.
    Sigmoid,
    /// `y = tanh(a) = 2 sigmoid(2a) - 1`.
    Tanh,
}

/// `tanh(a)` through the logistic function.
#[inline(always)]
fn tanh(a: f32) -> f32 {
    2.0 * sigmoid(2.0 * a) - 1.0
}

multiversion! {
    /// Apply `act` in place.
    pub(crate) fn activate_block(y: &mut [f32], act: Activation) {
        match act {
            Activation::Identity => {}
            Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::LeakyRelu(a) => y.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { a * *v }),
            Activation::Sigmoid => y.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Tanh => y.iter_mut().for_each(|v| *v = tanh(*v)),
        }
    }
}

multiversion! {
    /// `d <- d f'(a)`, with `f'` written in terms of the output `y = f(a)`.
    pub(crate) fn derivative_block(d: &mut [f32], y: &[f32], act: Activation) {
        match act {
            Activation::Identity => {}
            Activation::Relu => d.iter_mut().zip(y).for_each(|(d, y)| *d = if *y > 0.0 { *d } else { 0.0 }),
            Activation::LeakyRelu(a) => d.iter_mut().zip(y).for_each(|(d, y)| *d = if *y > 0.0 { *d } else { a * *d }),
            Activation::Sigmoid => d.iter_mut().zip(y).for_each(|(d, y)| *d *= y * (1.0 - y)),
            Activation::Tanh => d.iter_mut().zip(y).for_each(|(d, y)| *d *= 1.0 - y * y),
        }
    }
}

multiversion! {
    /// Inverted dropout on a block starting at element `first` of stream `stream`: the scale
    /// `s` of every unit (0 with probability `p`, else `1 / (1 - p)`) and `y <- y s`.
    fn dropout_block(s: &mut [f32], y: &mut [f32], p: f32, stream: u64, first: u64) {
        let keep = 1.0 / (1.0 - p);
        for (i, (s, y)) in s.iter_mut().zip(y.iter_mut()).enumerate() {
            *s = if noise::uniform(stream, first + i as u64) < p { 0.0 } else { keep };
            *y *= *s;
        }
    }
}

multiversion! {
    /// `d <- d s f'(a)` through a dropout scale `s` (0 for a dropped unit, else `1 / keep`),
    /// `f'` from the output before dropout `y keep` (`keep = 1 - p`).
    fn dropout_derivative_block(d: &mut [f32], y: &[f32], s: &[f32], act: Activation, keep: f32) {
        #[inline(always)]
        fn pass(d: &mut [f32], y: &[f32], s: &[f32], keep: f32, slope: impl Fn(f32) -> f32) {
            for ((d, &y), &s) in d.iter_mut().zip(y).zip(s) {
                *d *= s * slope(y * keep);
            }
        }
        match act {
            Activation::Identity => pass(d, y, s, keep, |_| 1.0),
            Activation::Relu => pass(d, y, s, keep, |y| if y > 0.0 { 1.0 } else { 0.0 }),
            Activation::LeakyRelu(a) => pass(d, y, s, keep, |y| if y > 0.0 { 1.0 } else { a }),
            Activation::Sigmoid => pass(d, y, s, keep, |y| y * (1.0 - y)),
            Activation::Tanh => pass(d, y, s, keep, |y| 1.0 - y * y),
        }
    }
}

/// An MLP with Adam state.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// The layers, input first.
    pub layers: Vec<Dense>,
    /// The activation after each layer.
    pub activations: Vec<Activation>,
    /// Dropout probability after each layer (0 = none), applied by [`Mlp::forward_train`].
    pub dropout: Vec<f32>,
    /// Adam `(m, v)` per layer, flattened as `[W..., b...]`.
    moments: Vec<(Vec<f32>, Vec<f32>)>,
    /// Adam steps taken.
    pub steps: u64,
}

/// The outputs of every layer for one batch (what the backward pass needs).
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Rows in the batch.
    pub batch: usize,
    /// `y_l` for every layer, `[batch, out_l]` (after dropout).
    pub outputs: Vec<Vec<f32>>,
    /// The dropout scale of every unit of layer `l` (`0` or `1 / (1 - p_l)`); empty where the
    /// layer had no dropout.
    pub scales: Vec<Vec<f32>>,
}

impl Trace {
    /// The network's output `[batch, out]`.
    pub fn output(&self) -> &[f32] {
        self.outputs.last().map_or(&[], Vec::as_slice)
    }
}

impl Mlp {
    /// A network of `layers` with one activation each and fresh Adam state.
    pub fn new(layers: Vec<Dense>, activations: Vec<Activation>) -> Self {
        assert_eq!(layers.len(), activations.len(), "one activation per layer");
        let moments = layers
            .iter()
            .map(|l| {
                let n = l.w.len() + l.b.len();
                (vec![0.0; n], vec![0.0; n])
            })
            .collect();
        let dropout = vec![0.0; layers.len()];
        Self {
            layers,
            activations,
            dropout,
            moments,
            steps: 0,
        }
    }

    /// The same network with dropout probability `rates[l]` after layer `l` in training.
    pub fn with_dropout(mut self, rates: Vec<f32>) -> Self {
        assert_eq!(rates.len(), self.layers.len(), "one dropout rate per layer");
        self.dropout = rates;
        self
    }

    /// Adam moments per layer (`[W..., b...]` each), for checkpoints.
    pub fn moments(&self) -> &[(Vec<f32>, Vec<f32>)] {
        &self.moments
    }

    /// Restore Adam state.
    pub fn set_moments(&mut self, moments: Vec<(Vec<f32>, Vec<f32>)>, steps: u64) {
        self.moments = moments;
        self.steps = steps;
    }

    /// Zero gradients shaped like the parameters.
    pub fn zero_grads(&self) -> Vec<LayerGrad> {
        self.layers
            .iter()
            .map(|l| (vec![0.0; l.w.len()], vec![0.0; l.b.len()]))
            .collect()
    }

    /// Run the network on `x` (`[batch, in]`) without dropout (evaluation).
    pub fn forward(&self, x: &[f32], batch: usize) -> Trace {
        self.run(x, batch, None)
    }

    /// Run the network on `x` in training mode: dropout masks drawn from the counter-based
    /// stream `key`.
    pub fn forward_train(&self, x: &[f32], batch: usize, key: u64) -> Trace {
        self.run(x, batch, Some(key))
    }

    fn run(&self, x: &[f32], batch: usize, dropout_key: Option<u64>) -> Trace {
        let mut outputs: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        let mut scales = Vec::with_capacity(self.layers.len());
        for (l, (layer, &act)) in self.layers.iter().zip(&self.activations).enumerate() {
            let input: &[f32] = outputs.last().map_or(x, Vec::as_slice);
            let mut y = vec![0f32; batch * layer.out];
            for row in y.chunks_exact_mut(layer.out) {
                row.copy_from_slice(&layer.b);
            }
            gemm_into(
                &mut y,
                row_major(input, batch, layer.inp),
                row_major(&layer.w, layer.inp, layer.out),
                1.0,
                1.0,
                true,
            );
            y.par_chunks_mut(CHUNK).for_each(|c| activate_block(c, act));
            let p = self.dropout[l];
            let scale = match dropout_key {
                Some(key) if p > 0.0 => {
                    let stream = key ^ (l as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let mut s = vec![0f32; y.len()];
                    s.par_chunks_mut(CHUNK)
                        .zip(y.par_chunks_mut(CHUNK))
                        .enumerate()
                        .for_each(|(c, (s, y))| dropout_block(s, y, p, stream, (c * CHUNK) as u64));
                    s
                }
                _ => Vec::new(),
            };
            scales.push(scale);
            outputs.push(y);
        }
        Trace {
            batch,
            outputs,
            scales,
        }
    }

    /// Backward pass from `d_out = dL/dy_L` (`[batch, out]`): adds the parameter gradients to
    /// `grads` (when given) and returns `dL/dx` when `want_input_grad`.
    pub fn backward(
        &self,
        x: &[f32],
        trace: &Trace,
        d_out: &[f32],
        mut grads: Option<&mut [LayerGrad]>,
        want_input_grad: bool,
    ) -> Option<Vec<f32>> {
        let batch = trace.batch;
        let mut delta = d_out.to_vec();
        for l in (0..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let act = self.activations[l];
            match trace.scales.get(l).filter(|s| !s.is_empty()) {
                None => delta
                    .par_chunks_mut(CHUNK)
                    .zip(trace.outputs[l].par_chunks(CHUNK))
                    .for_each(|(d, y)| derivative_block(d, y, act)),
                Some(s) => {
                    let keep = 1.0 - self.dropout[l];
                    delta
                        .par_chunks_mut(CHUNK)
                        .zip(trace.outputs[l].par_chunks(CHUNK))
                        .zip(s.par_chunks(CHUNK))
                        .for_each(|((d, y), s)| dropout_derivative_block(d, y, s, act, keep))
                }
            }
            let input: &[f32] = if l == 0 { x } else { &trace.outputs[l - 1] };
            if let Some(g) = grads.as_deref_mut() {
                let (gw, gb) = &mut g[l];
                gemm_into(
                    gw,
                    transposed(input, batch, layer.inp),
                    row_major(&delta, batch, layer.out),
                    1.0,
                    1.0,
                    true,
                );
                for row in delta.chunks_exact(layer.out) {
                    gb.iter_mut().zip(row).for_each(|(g, d)| *g += d);
                }
            }
            if l == 0 && !want_input_grad {
                return None;
            }
            let mut dx = vec![0f32; batch * layer.inp];
            gemm_into(
                &mut dx,
                row_major(&delta, batch, layer.out),
                transposed(&layer.w, layer.inp, layer.out),
                0.0,
                1.0,
                false,
            );
            delta = dx;
        }
        Some(delta)
    }

    /// One Adam step of the mean softmax cross-entropy of the logits (the output) against
    /// class `targets` (`[batch]`) for inputs `x`: `dL/dlogits = (softmax - onehot(y)) / n`.
    pub fn cross_entropy_step(&mut self, x: &[f32], targets: &[usize], adam: AdamSettings) {
        let n = targets.len();
        let trace = self.forward(x, n);
        let mut delta = trace.output().to_vec();
        let classes = delta.len() / n;
        for (row, &y) in delta.chunks_exact_mut(classes).zip(targets) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            row.iter_mut().for_each(|a| *a = (*a - max).exp());
            let sum: f32 = row.iter().sum();
            row.iter_mut().for_each(|a| *a /= sum * n as f32);
            row[y] -= 1.0 / n as f32;
        }
        let mut grads = self.zero_grads();
        self.backward(x, &trace, &delta, Some(&mut grads), false);
        self.adam_step(&grads, adam);
    }

    /// One Adam step with `grads`.
    pub fn adam_step(&mut self, grads: &[LayerGrad], s: AdamSettings) {
        self.steps += 1;
        adam_layers(
            self.layers.iter_mut(),
            grads,
            &mut self.moments,
            s,
            self.steps,
        );
    }

    /// Put the layers into `model` (`{prefix}.{l}.weight` `[in, out]`, `{prefix}.{l}.bias`)
    /// and the Adam moments into `trainer` (`adam.{prefix}.{l}.m`, `.v`, flattened `[W..., b...]`;
    /// the step count as metadata `adam.{prefix}.steps`).
    pub fn put(&self, model: &mut TensorFile, trainer: &mut TensorFile, prefix: &str) {
        for (l, (layer, (m, v))) in self.layers.iter().zip(&self.moments).enumerate() {
            let blob = |shape: Vec<usize>, data: &[f32]| Blob {
                shape,
                data: data.to_vec(),
            };
            model.put_blob(
                &format!("{prefix}.{l}.weight"),
                blob(vec![layer.inp, layer.out], &layer.w),
            );
            model.put_blob(
                &format!("{prefix}.{l}.bias"),
                blob(vec![layer.out], &layer.b),
            );
            trainer.put_blob(&format!("adam.{prefix}.{l}.m"), blob(vec![m.len()], m));
            trainer.put_blob(&format!("adam.{prefix}.{l}.v"), blob(vec![v.len()], v));
        }
        trainer
            .metadata
            .insert(format!("adam.{prefix}.steps"), self.steps.to_string());
    }

    /// Read back what [`Mlp::put`] wrote, every name and shape checked against this network's
    /// (`trainer`: `None` keeps fresh Adam state). `path` names the model file in errors.
    pub fn get(
        &mut self,
        model: &TensorFile,
        trainer: Option<(&TensorFile, &Path)>,
        prefix: &str,
        path: &Path,
    ) -> Result<()> {
        let read = |file: &TensorFile, name: &str, shape: Vec<usize>, path: &Path| {
            file.blob(name, &shape, path).map(|b| b.data.clone())
        };
        for l in 0..self.layers.len() {
            let (inp, out) = (self.layers[l].inp, self.layers[l].out);
            self.layers[l].w = read(model, &format!("{prefix}.{l}.weight"), vec![inp, out], path)?;
            self.layers[l].b = read(model, &format!("{prefix}.{l}.bias"), vec![out], path)?;
            if let Some((t, tp)) = trainer {
                let n = inp * out + out;
                self.moments[l] = (
                    read(t, &format!("adam.{prefix}.{l}.m"), vec![n], tp)?,
                    read(t, &format!("adam.{prefix}.{l}.v"), vec![n], tp)?,
                );
            }
        }
        if let Some((t, tp)) = trainer {
            self.steps = t
                .meta::<u64>(&format!("adam.{prefix}.steps"))
                .ok_or_else(|| {
                    Error::bad_file(tp, format!("metadata `adam.{prefix}.steps` is missing"))
                })?;
        }
        Ok(())
    }

    /// Name (`layer.{l}`) of the first layer holding a NaN or infinity.
    pub fn non_finite_layer(&self) -> Option<String> {
        self.layers
            .iter()
            .position(|l| l.w.iter().chain(&l.b).any(|v| !v.is_finite()))
            .map(|l| format!("layer.{l}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::noise;

    fn layer(inp: usize, out: usize, seed: u64) -> Dense {
        Dense::gaussian(inp, out, 1.0, 0.1, seed)
    }

    #[test]
    fn backward_matches_central_differences() {
        check_gradients(&[0.0; 5], None);
    }

    #[test]
    fn backward_with_dropout_matches_central_differences() {
        // The same masks (same key) in every forward pass make the loss a smooth function.
        check_gradients(&[0.3, 0.0, 0.5, 0.25, 0.0], Some(17));
    }

    #[test]
    fn dropout_keeps_the_expected_fraction_and_scale() {
        let net =
            Mlp::new(vec![layer(4, 1000, 5)], vec![Activation::Identity]).with_dropout(vec![0.3]);
        let x = vec![1.0; 8 * 4];
        let t = net.forward_train(&x, 8, 3);
        let kept = t.scales[0].iter().filter(|&&s| s > 0.0).count() as f64 / 8000.0;
        // Binomial(8000, 0.7): s.e. 0.005.
        assert!((kept - 0.7).abs() < 0.02, "kept {kept}");
        assert!(
            t.scales[0]
                .iter()
                .all(|&s| s == 0.0 || (s - 1.0 / 0.7).abs() < 1e-6)
        );
        assert!(net.forward(&x, 8).scales[0].is_empty());
    }

    /// `L = sum_k c_k y_k` with fixed `c`, through every activation kind, against central
    /// differences. (The seeds matter: with seeds 1..4 one leaky-ReLU pre-activation lies 2e-4
    /// from its kink, inside the step.)
    fn check_gradients(dropout: &[f32], key: Option<u64>) {
        let net = Mlp::new(
            vec![
                layer(5, 6, 21),
                layer(6, 4, 32),
                layer(4, 4, 43),
                layer(4, 3, 65),
                layer(3, 2, 54),
            ],
            vec![
                Activation::LeakyRelu(0.2),
                Activation::Relu,
                Activation::Tanh,
                Activation::Sigmoid,
                Activation::Identity,
            ],
        )
        .with_dropout(dropout.to_vec());
        let batch = 3;
        let forward = |n: &Mlp, x: &[f32]| match key {
            Some(k) => n.forward_train(x, batch, k),
            None => n.forward(x, batch),
        };
        let x: Vec<f32> = (0..batch * 5).map(|i| noise::normal(9, i as u64)).collect();
        let c: Vec<f32> = (0..batch * 2)
            .map(|i| noise::normal(10, i as u64))
            .collect();
        let loss = |n: &Mlp, x: &[f32]| -> f64 {
            forward(n, x)
                .output()
                .iter()
                .zip(&c)
                .map(|(y, c)| f64::from(y * c))
                .sum()
        };
        let trace = forward(&net, &x);
        let mut grads = net.zero_grads();
        let dx = net
            .backward(&x, &trace, &c, Some(&mut grads), true)
            .expect("dx");
        let eps = 1e-2f32;
        // Central difference of the loss in parameter `i` of layer `l` (`bias` picks b over W).
        let numeric = |l: usize, bias: bool, i: usize| -> f64 {
            let shifted = |delta: f32| {
                let mut n = net.clone();
                let p = if bias {
                    &mut n.layers[l].b
                } else {
                    &mut n.layers[l].w
                };
                p[i] += delta;
                loss(&n, &x)
            };
            (shifted(eps) - shifted(-eps)) / (2.0 * f64::from(eps))
        };
        for (l, (gw, gb)) in grads.iter().enumerate() {
            for (bias, g) in [(false, gw), (true, gb)] {
                for (i, &analytic) in g.iter().enumerate() {
                    let (num, got) = (numeric(l, bias, i), f64::from(analytic));
                    assert!(
                        (num - got).abs() < 2e-3 * (1.0 + got.abs()),
                        "layer {l} {} [{i}]: {num} vs {got}",
                        if bias { "b" } else { "W" }
                    );
                }
            }
        }
        for (i, &analytic) in dx.iter().enumerate() {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += eps;
            xm[i] -= eps;
            let numeric = (loss(&net, &xp) - loss(&net, &xm)) / (2.0 * f64::from(eps));
            assert!(
                (numeric - f64::from(analytic)).abs() < 2e-3 * (1.0 + numeric.abs()),
                "x[{i}]"
            );
        }
    }
}
