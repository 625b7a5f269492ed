//! Test-set bounds on `log p(x)`: the ELBO and the importance-weighted bound (Burda et al. 2016)
//!
//! `L_k(x) = log (1/k) sum_{i=1..k} p(x, z_i) / q(z_i | x)`, `z_i ~ q(z | x)`,
//!
//! with `ELBO = L_1 <= L_k <= L_{k+1} <= log p(x)` in expectation and `L_k -> log p(x)` as
//! `k -> inf`. Samples are batched over examples and samples (about [`ROWS_PER_PASS`] decoder
//! rows per pass); the log-sum-exp over samples is accumulated in f64. For categorical latents
//! the samples are exact one-hot draws from `q` (inverse-CDF) and `log p(z) = -groups log classes`, so the bound
//! is on the discrete model's likelihood.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::{Rng, RngExt};
use rayon::prelude::*;

use super::config::Likelihood;
use super::model::{Posterior, Vae};
use super::objective::{Sampling, elbo};
use crate::api::{Estimate, Scores};
use crate::error::{Error, Result};
use crate::kernels::{math, multiversion, ops};
use crate::train::Progress;

/// Decoder rows evaluated per pass (examples x samples).
pub const ROWS_PER_PASS: usize = 8192;

/// Examples per pass of [`elbo_per_example`].
const ELBO_BATCH: usize = 500;

/// One-sample ELBO estimates per example (hard samples for categorical latents), with the
/// reconstruction and KL terms: `(elbo, recon, kl)`, each one value per example.
pub fn elbo_per_example(
    vae: &Vae,
    x: &Tensor<2>,
    rng: &mut impl Rng,
) -> (Scores, Vec<f64>, Vec<f64>) {
    let [n, d] = x.dims();
    let (mut recon, mut kl) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for start in (0..n).step_by(ELBO_BATCH) {
        let end = (start + ELBO_BATCH).min(n);
        let terms = elbo(
            vae,
            &x.clone().slice([start..end, 0..d]),
            Sampling::Hard,
            rng,
        );
        recon.extend(ops::to_f64_vec(terms.recon));
        kl.extend(ops::to_f64_vec(terms.kl));
    }
    let per_example = recon.iter().zip(&kl).map(|(r, k)| -(r + k)).collect();
    let elbo = Scores {
        per_example,
        estimate: Estimate::Elbo,
    };
    (elbo, recon, kl)
}

/// The importance-weighted bound `L_k` per example of `x: [n, input]`, with `k` samples each.
pub fn iw_bound(
    vae: &Vae,
    x: &Tensor<2>,
    k: usize,
    rng: &mut impl Rng,
    progress: &dyn Progress,
) -> Result<Scores> {
    if k == 0 {
        return Err(Error::param(
            "k",
            "needs at least 1 importance sample (got 0)",
        ));
    }
    let [n, d] = x.dims();
    let device = vae.device();
    let host_x = ops::to_f32_vec(x.clone());
    let per_pass_examples = (ROWS_PER_PASS / k).clamp(1, n.max(1));
    let per_pass_samples = k.min(ROWS_PER_PASS);
    progress.start("iw bound", (n as u64).saturating_mul(k as u64));
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(per_pass_examples) {
        let end = (start + per_pass_examples).min(n);
        let rows = &host_x[start * d..end * d];
        let xs = Tensor::<2>::from_data(TensorData::new(rows.to_vec(), [end - start, d]), &device);
        let post = HostPosterior::new(vae.encode(xs));
        let mut acc = vec![LogSumExp::default(); end - start];
        let mut done = 0;
        while done < k {
            let s = per_pass_samples.min(k - done);
            let (codes, log_ratio) = post.sample(s, rng);
            let log_lik = log_likelihood_rows(vae, codes, rows, s)?;
            for (r, (ll, lr)) in log_lik.iter().zip(&log_ratio).enumerate() {
                acc[r / s].add(ll + lr);
            }
            done += s;
            progress.advance(((end - start) * s) as u64);
        }
        out.extend(acc.iter().map(|a| a.value() - (k as f64).ln()));
    }
    progress.finish();
    Ok(Scores {
        per_example: out,
        estimate: Estimate::IwBound { k },
    })
}

/// A running `log sum_i exp(v_i)` in f64.
#[derive(Debug, Clone, Copy)]
struct LogSumExp {
    max: f64,
    sum: f64,
}

impl Default for LogSumExp {
    fn default() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }
}

impl LogSumExp {
    fn add(&mut self, v: f64) {
        if v > self.max {
            self.sum = self.sum * (self.max - v).exp() + 1.0;
            self.max = v;
        } else {
            self.sum += (v - self.max).exp();
        }
    }

    fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

/// The posterior of a few examples, on the host, ready to draw from.
enum HostPosterior {
    Gaussian {
        mu: Vec<f32>,
        log_var: Vec<f32>,
        dim: usize,
    },
    Categorical {
        /// `log q` per example, group and class (log-softmax of the logits), f64.
        log_q: Vec<f64>,
        groups: usize,
        classes: usize,
    },
}

impl HostPosterior {
    fn new(post: Posterior) -> Self {
        match post {
            Posterior::Gaussian { mu, log_var } => {
                let dim = mu.dims()[1];
                Self::Gaussian {
                    mu: ops::to_f32_vec(mu),
                    log_var: ops::to_f32_vec(log_var),
                    dim,
                }
            }
            Posterior::Categorical { logits } => {
                let [_, groups, classes] = logits.dims();
                let raw = ops::to_f64_vec(logits);
                let mut log_q = Vec::with_capacity(raw.len());
                for g in raw.chunks_exact(classes) {
                    let m = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let lse = m + g.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                    log_q.extend(g.iter().map(|v| v - lse));
                }
                Self::Categorical {
                    log_q,
                    groups,
                    classes,
                }
            }
        }
    }

    /// `s` samples per example, example-major: the codes `[examples * s, code_width]` (host
    /// values) and `log p(z) - log q(z | x)` per row.
    fn sample(&self, s: usize, rng: &mut impl Rng) -> (Codes, Vec<f64>) {
        match self {
            Self::Gaussian { mu, log_var, dim } => {
                let examples = mu.len() / dim;
                let mut z = Vec::with_capacity(examples * s * dim);
                let mut ratio = Vec::with_capacity(examples * s);
                for e in 0..examples {
                    let (m, lv) = (
                        &mu[e * dim..(e + 1) * dim],
                        &log_var[e * dim..(e + 1) * dim],
                    );
                    for _ in 0..s {
                        // log p(z) - log q(z|x) = sum_j -z_j^2/2 + eps_j^2/2 + log_var_j/2
                        // (the 2 pi terms cancel).
                        let mut r = 0f64;
                        for j in 0..*dim {
                            let eps: f64 = rng.sample(rand_distr::StandardNormal);
                            let zj = m[j] as f64 + (0.5 * lv[j] as f64).exp() * eps;
                            r += 0.5 * (eps * eps - zj * zj + lv[j] as f64);
                            z.push(zj as f32);
                        }
                        ratio.push(r);
                    }
                }
                (
                    Codes {
                        values: z,
                        width: *dim,
                    },
                    ratio,
                )
            }
            Self::Categorical {
                log_q,
                groups,
                classes,
            } => {
                let per_example = groups * classes;
                let examples = log_q.len() / per_example;
                let log_prior = -(*groups as f64) * (*classes as f64).ln();
                let mut z = vec![0f32; examples * s * per_example];
                let mut ratio = Vec::with_capacity(examples * s);
                for e in 0..examples {
                    let lq = &log_q[e * per_example..(e + 1) * per_example];
                    // Cumulative probabilities per group, for inverse-CDF draws.
                    let cdf: Vec<f64> = lq
                        .chunks_exact(*classes)
                        .flat_map(|g| {
                            g.iter().scan(0.0, |acc, l| {
                                *acc += l.exp();
                                Some(*acc)
                            })
                        })
                        .collect();
                    for i in 0..s {
                        let row = &mut z[(e * s + i) * per_example..(e * s + i + 1) * per_example];
                        let mut log_qz = 0.0;
                        for g in 0..*groups {
                            let cg = &cdf[g * classes..(g + 1) * classes];
                            // u in [0, total): the last class absorbs rounding of the sum.
                            let u = rng.random::<f64>() * cg[classes - 1];
                            let c = cg.iter().position(|&p| u < p).unwrap_or(classes - 1);
                            row[g * classes + c] = 1.0;
                            log_qz += lq[g * classes + c];
                        }
                        ratio.push(log_prior - log_qz);
                    }
                }
                (
                    Codes {
                        values: z,
                        width: per_example,
                    },
                    ratio,
                )
            }
        }
    }
}

/// Latent codes on the host, row-major `[rows, width]`.
struct Codes {
    values: Vec<f32>,
    width: usize,
}

/// `log p(x_e | z_r)` for every code row `r`, where example `e = r / s` (its `d` values are
/// `x[e * d..]`).
fn log_likelihood_rows(vae: &Vae, codes: Codes, x: &[f32], s: usize) -> Result<Vec<f64>> {
    let device = vae.device();
    let rows = codes.values.len() / codes.width;
    let z = Tensor::<2>::from_data(TensorData::new(codes.values, [rows, codes.width]), &device);
    let d = vae.config().input;
    match vae.config().likelihood {
        Likelihood::Bernoulli => {
            // Fused on the host: one pass over the logits, f64 row sums.
            let out = vae.output_layer();
            let logits = ops::to_f32_vec(ops::matmul(&vae.decode_hidden(z), &out.weight));
            let bias = ops::to_f32_vec(out.bias.clone());
            Ok(logits
                .par_chunks(d)
                .enumerate()
                .map(|(r, l)| bernoulli_row(l, &bias, &x[(r / s) * d..(r / s + 1) * d]))
                .collect())
        }
        Likelihood::Gaussian => {
            let examples = x.len() / d;
            let mut rep = Vec::with_capacity(rows * d);
            for e in 0..examples {
                for _ in 0..s {
                    rep.extend_from_slice(&x[e * d..(e + 1) * d]);
                }
            }
            let xr = Tensor::<2>::from_data(TensorData::new(rep, [rows, d]), &device);
            let decoded = vae.decode(z);
            Ok(ops::to_f64_vec(vae.log_likelihood(xr, decoded)))
        }
    }
}

multiversion! {
    /// `sum_j x_j a_j - softplus(a_j)` with `a = l + bias`, accumulated in f64 lanes; each
    /// term is `-(max(a, 0) - x a + log1p(exp(-|a|)))`, whose first part is exact for binary `x`.
    fn bernoulli_row(l: &[f32], bias: &[f32], x: &[f32]) -> f64 {
        const LANES: usize = 16;
        let mut acc = [0f64; LANES];
        let mut lc = l.chunks_exact(LANES);
        let mut bc = bias.chunks_exact(LANES);
        let mut xc = x.chunks_exact(LANES);
        for ((ls, bs), xs) in (&mut lc).zip(&mut bc).zip(&mut xc) {
            for i in 0..LANES {
                acc[i] += log_bernoulli(xs[i], ls[i] + bs[i]) as f64;
            }
        }
        let tail: f64 = lc
            .remainder()
            .iter()
            .zip(bc.remainder())
            .zip(xc.remainder())
            .map(|((&l, &b), &x)| log_bernoulli(x, l + b) as f64)
            .sum();
        acc.iter().sum::<f64>() + tail
    }
}

/// `log Bernoulli(x; sigmoid(a)) = -bce(x, a)`.
#[inline(always)]
fn log_bernoulli(x: f32, a: f32) -> f32 {
    -((a.max(0.0) - x * a) + math::log1p(math::exp(-a.abs())))
}
