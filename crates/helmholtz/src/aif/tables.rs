//! The model in the layout the hot loops read: likelihood rows over joint states, transition
//! matrices per control, log preferences, entropies and novelty weights computed once.
//!
//! Joint hidden states `s = (s_1, ..., s_F)` are indexed row-major (the last factor fastest),
//! so `A[m][o, s]` is row `o` of a `[obs_m, S]` matrix with `S = prod_f s_f`.

pub use crate::kernels::linalg::{dot, matvec};

use super::model::{Array, Pomdp};

/// pymdp's `EPS_VAL`: added inside every logarithm of a probability.
pub const EPS: f64 = 1e-16;
/// pymdp's `spm_MDP_G` threshold and epsilon, `e^-16`.
pub(crate) const EXP_M16: f64 = 1.125_351_747_192_591_2e-7;

/// An index drawn with probability proportional to `p[k]` (never one of weight 0).
pub fn draw(p: &[f64], rng: &mut impl rand::Rng) -> usize {
    use rand::RngExt;
    rand::distr::weighted::WeightedIndex::new(p).map_or(0, |w| rng.sample(w))
}

/// `ln(x + 1e-16)`.
#[inline]
pub fn ln_eps(x: f64) -> f64 {
    (x + EPS).ln()
}

/// `softmax(x)` in place, shifted by the maximum.
pub fn softmax_in_place(x: &mut [f64]) {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in x.iter_mut() {
        *v /= sum;
    }
}

/// `softmax(x)`.
pub fn softmax(x: &[f64]) -> Vec<f64> {
    let mut y = x.to_vec();
    softmax_in_place(&mut y);
    y
}

/// A row-major matrix, with its non-zeros by row when at most a quarter of it is non-zero
/// (the deterministic transitions and near-diagonal likelihoods of grid worlds and mazes), so
/// that `M x` skips the zeros.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    /// `[rows, cols]` values.
    pub dense: Vec<f64>,
    cols: usize,
    /// Per row, `(column, value)` of its non-zeros.
    sparse: Option<Vec<Vec<(u32, f64)>>>,
}

impl Matrix {
    /// A `[rows, cols]` matrix of row-major `dense` values.
    pub fn new(dense: Vec<f64>, cols: usize) -> Self {
        let nonzero = dense.iter().filter(|&&v| v != 0.0).count();
        let sparse = (nonzero * 4 <= dense.len() && cols <= u32::MAX as usize).then(|| {
            dense
                .chunks(cols.max(1))
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .filter(|(_, v)| **v != 0.0)
                        .map(|(j, &v)| (j as u32, v))
                        .collect()
                })
                .collect()
        });
        Self {
            dense,
            cols,
            sparse,
        }
    }

    /// `out = M x`.
    #[inline]
    pub fn apply(&self, x: &[f64], out: &mut [f64]) {
        match &self.sparse {
            Some(rows) => {
                for (o, row) in out.iter_mut().zip(rows) {
                    *o = row.iter().map(|&(j, v)| v * x[j as usize]).sum();
                }
            }
            None => matvec(&self.dense, x, out),
        }
    }

    /// Make this a dense `[len / cols, cols]` matrix and hand out its values to fill.
    pub(crate) fn refill(&mut self, len: usize, cols: usize) -> &mut [f64] {
        self.sparse = None;
        self.cols = cols;
        self.dense.resize(len, 0.0);
        &mut self.dense
    }

    /// Row `r`.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.dense[r * self.cols..(r + 1) * self.cols]
    }
}

/// The joint `q(s) = prod_f q_f(s_f)` over row-major joint states, into `out`.
pub fn joint(qs: &[Vec<f64>], out: &mut Vec<f64>) {
    out.clear();
    out.push(1.0);
    for q in qs {
        let prev = std::mem::take(out);
        out.reserve(prev.len() * q.len());
        for p in &prev {
            for v in q {
                out.push(p * v);
            }
        }
    }
}

/// `sum_{s_{-f}} t(s) prod_{g != f} q_g(s_g)`: the expectation of a joint table `t` over every
/// factor but `f`, a vector over `s_f`.
pub fn marginal_expectation(
    t: &[f64],
    qs: &[Vec<f64>],
    num_states: &[usize],
    f: usize,
) -> Vec<f64> {
    let mut out = vec![0.0; num_states[f]];
    let mut digits = vec![0usize; num_states.len()];
    for &v in t {
        let mut w = v;
        for (g, q) in qs.iter().enumerate() {
            if g != f {
                w *= q[digits[g]];
            }
        }
        out[digits[f]] += w;
        for g in (0..digits.len()).rev() {
            digits[g] += 1;
            if digits[g] < num_states[g] {
                break;
            }
            digits[g] = 0;
        }
    }
    out
}

/// The model's arrays in the layout of the agent's loops.
#[derive(Debug, Clone)]
pub struct Tables {
    /// States per factor.
    pub num_states: Vec<usize>,
    /// Outcomes per modality.
    pub num_obs: Vec<usize>,
    /// Controls per factor.
    pub num_controls: Vec<usize>,
    /// Joint states `S`.
    pub joint: usize,
    /// `A[m]` as `[obs_m, S]`.
    pub a: Vec<Matrix>,
    /// `sum_o A ln(A + e^-16)` per joint state: minus the entropy of each column.
    pub neg_entropy: Vec<Vec<f64>>,
    /// `B[f][u]` as `[next, previous]`.
    pub b: Vec<Vec<Matrix>>,
    /// Marginal message passing's backward matrices: `B[f][u]^T` as `[previous, next]`, each
    /// column normalised after adding `1e-16` (pymdp's `spm_norm(B.T)`).
    pub b_back: Vec<Vec<Vec<f64>>>,
    /// `ln(softmax(C[m]) + 1e-16)`.
    pub ln_c: Vec<Vec<f64>>,
    /// Novelty weights of `pA` (pymdp's `spm_wnorm`, zero where `pA` is 0), `[obs_m, S]`.
    pub w_a: Option<Vec<Vec<f64>>>,
    /// Novelty weights of `pB`, `[f][u]` as `[next, previous]`.
    pub w_b: Option<Vec<Vec<Vec<f64>>>>,
}

/// `B[f][:, :, u]` as `[next, previous]` matrices, one per control.
fn per_control(b: &Array) -> Vec<Vec<f64>> {
    let (s, u) = (b.shape[0], b.shape[2]);
    (0..u)
        .map(|k| {
            let mut m = vec![0.0; s * s];
            for i in 0..s {
                for j in 0..s {
                    m[i * s + j] = b.data[(i * s + j) * u + k];
                }
            }
            m
        })
        .collect()
}

/// `spm_norm(B^T)` of a `[next, previous]` matrix, as `[previous, next]`.
fn backward(b: &[f64], s: usize) -> Vec<f64> {
    let mut m = vec![0.0; s * s];
    for i in 0..s {
        let norm: f64 = (0..s).map(|j| b[i * s + j] + EPS).sum();
        for j in 0..s {
            m[j * s + i] = (b[i * s + j] + EPS) / norm;
        }
    }
    m
}

/// pymdp's `spm_wnorm(p) * (p > 0)`: `1 / sum_col(p + eps) - 1 / (p + eps)` per entry.
fn novelty_weights(p: &Array) -> Array {
    let rows = p.shape[0];
    let cols = p.data.len() / rows;
    let mut w = p.clone();
    for c in 0..cols {
        let sum: f64 = (0..rows).map(|r| p.data[r * cols + c] + EPS).sum();
        for r in 0..rows {
            let x = p.data[r * cols + c];
            w.data[r * cols + c] = if x > 0.0 {
                1.0 / sum - 1.0 / (x + EPS)
            } else {
                0.0
            };
        }
    }
    w
}

impl Tables {
    /// Tables of `model` (its `A`, `B`, `C`; novelty weights from `pA`, `pB` when
    /// `novelty`).
    pub fn new(model: &Pomdp, novelty: bool) -> Self {
        let num_states = model.num_states();
        let joint = num_states.iter().product();
        let m16 = EXP_M16;
        let neg_entropy = model
            .a
            .iter()
            .map(|a| {
                let rows = a.shape[0];
                (0..joint)
                    .map(|s| {
                        (0..rows)
                            .map(|o| {
                                let p = a.data[o * joint + s];
                                p * (p + m16).ln()
                            })
                            .sum()
                    })
                    .collect()
            })
            .collect();
        Self {
            num_obs: model.num_obs(),
            num_controls: model.num_controls(),
            joint,
            a: model
                .a
                .iter()
                .map(|a| Matrix::new(a.data.clone(), joint))
                .collect(),
            neg_entropy,
            b: model
                .b
                .iter()
                .map(|b| {
                    let s = b.shape[0];
                    per_control(b)
                        .into_iter()
                        .map(|m| Matrix::new(m, s))
                        .collect()
                })
                .collect(),
            b_back: model
                .b
                .iter()
                .map(|b| {
                    per_control(b)
                        .iter()
                        .map(|m| backward(m, b.shape[0]))
                        .collect()
                })
                .collect(),
            ln_c: model
                .c
                .iter()
                .map(|c| softmax(c).into_iter().map(ln_eps).collect())
                .collect(),
            w_a: model
                .pa
                .as_ref()
                .filter(|_| novelty)
                .map(|pa| pa.iter().map(|p| novelty_weights(p).data).collect()),
            w_b: model.pb.as_ref().filter(|_| novelty).map(|pb| {
                pb.iter()
                    .map(|p| per_control(&novelty_weights(p)))
                    .collect()
            }),
            num_states,
        }
    }

    /// `A[m][o, :]`: the likelihood of outcome `o` over joint states.
    pub fn likelihood(&self, m: usize, o: usize) -> &[f64] {
        self.a[m].row(o)
    }

    /// `B[f][u] q`.
    pub fn transition(&self, f: usize, u: usize, q: &[f64], out: &mut [f64]) {
        self.b[f][u].apply(q, out);
    }

    /// The beliefs after joint action `u`: `B[f][u_f] q_f` for every factor.
    pub fn predict(&self, qs: &[Vec<f64>], u: &[usize]) -> Vec<Vec<f64>> {
        qs.iter()
            .enumerate()
            .map(|(f, q)| {
                let mut out = vec![0.0; q.len()];
                self.transition(f, u[f], q, &mut out);
                out
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_is_e_to_the_minus_16() {
        assert_eq!(EXP_M16, (-16.0f64).exp());
    }

    #[test]
    fn marginal_expectation_matches_a_direct_sum() {
        let ns = [2, 3];
        let t: Vec<f64> = (0..6).map(|k| k as f64 + 1.0).collect();
        let qs = vec![vec![0.25, 0.75], vec![0.2, 0.3, 0.5]];
        let m0 = marginal_expectation(&t, &qs, &ns, 0);
        let m1 = marginal_expectation(&t, &qs, &ns, 1);
        for i in 0..2 {
            let want: f64 = (0..3).map(|j| t[i * 3 + j] * qs[1][j]).sum();
            assert!((m0[i] - want).abs() < 1e-15);
        }
        for j in 0..3 {
            let want: f64 = (0..2).map(|i| t[i * 3 + j] * qs[0][i]).sum();
            assert!((m1[j] - want).abs() < 1e-15);
        }
        let mut qx = Vec::new();
        joint(&qs, &mut qx);
        assert!((qx[5] - 0.75 * 0.5).abs() < 1e-15);
        assert!((dot(&t, &qx) - (0..6).map(|k| t[k] * qx[k]).sum::<f64>()).abs() < 1e-12);
    }
}
