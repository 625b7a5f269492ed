//! Models as log-joints over named scalar parameters, and the transforms that let inference
//! work in an unconstrained space.
//!
//! A model supplies `ln p(θ, y) = ln p(θ) + Σ_i ln p(y_i | θ)` and its gradient in `θ`; with a
//! mini-batch `B` the likelihood sum is scaled by `N / |B|`, an unbiased estimate of the full
//! one. Inference ([`super::svi`], [`super::mcmc`]) sees only [`LogJoint`]: it moves
//! `u ∈ R^P` with `θ = T(u)` per parameter ([`Support`]) and adds `ln |dθ/du|`.

use crate::error::Result;

/// Where a parameter lives, and so the bijection `θ = T(u)` from the real line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Support {
    /// `θ = u`.
    Real,
    /// `θ = exp(u)`.
    Positive,
    /// `θ = a + (b - a) sigmoid(u)`.
    Interval(f64, f64),
}

impl Support {
    /// `(θ, ln |dθ/du|, dθ/du, d ln|dθ/du| / du)` at `u`.
    pub fn forward(&self, u: f64) -> (f64, f64, f64, f64) {
        match *self {
            Support::Real => (u, 0.0, 1.0, 0.0),
            Support::Positive => {
                let t = u.exp();
                (t, u, t, 1.0)
            }
            Support::Interval(a, b) => {
                let s = 1.0 / (1.0 + (-u).exp());
                let w = b - a;
                // ln(w s (1 - s)) = ln w - softplus(-u) - softplus(u).
                let log_jac =
                    w.ln() - super::distributions::softplus(-u) - super::distributions::softplus(u);
                (a + w * s, log_jac, w * s * (1.0 - s), 1.0 - 2.0 * s)
            }
        }
    }

    /// `u = T⁻¹(θ)` (clamped just inside an interval).
    pub fn inverse(&self, theta: f64) -> f64 {
        match *self {
            Support::Real => theta,
            Support::Positive => theta.max(1e-300).ln(),
            Support::Interval(a, b) => {
                let s = ((theta - a) / (b - a)).clamp(1e-12, 1.0 - 1e-12);
                s.ln() - (-s).ln_1p()
            }
        }
    }
}

/// A named scalar parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Name as reported (`slope`, `w.0.3`, ...).
    pub name: String,
    /// Its support.
    pub support: Support,
    /// A starting value in the constrained space.
    pub init: f64,
}

impl Param {
    /// A parameter named `name` on `support`, started at `init`.
    pub fn new(name: impl Into<String>, support: Support, init: f64) -> Self {
        Self {
            name: name.into(),
            support,
            init,
        }
    }
}

/// A model as a differentiable log-joint.
pub trait LogJoint {
    /// The parameters, in the order of `theta`.
    fn params(&self) -> Vec<Param>;

    /// Number of observations `N`.
    fn len(&self) -> usize;

    /// Whether there are no observations.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `ln p(θ) + (N/|B|) Σ_{i ∈ B} ln p(y_i | θ)` (all observations when `batch` is `None`);
    /// writes the gradient in `θ` into `grad`.
    fn log_joint(&self, theta: &[f64], batch: Option<&[usize]>, grad: &mut [f64]) -> f64;
}

/// The observations of `batch` (all `n` when `None`) and the factor `n / |B|` that scales
/// their log-likelihood to the whole data set.
pub fn batch_and_scale(batch: Option<&[usize]>, n: usize) -> (std::borrow::Cow<'_, [usize]>, f64) {
    let idx: std::borrow::Cow<'_, [usize]> = match batch {
        Some(b) => b.into(),
        None => (0..n).collect::<Vec<_>>().into(),
    };
    let scale = n as f64 / idx.len() as f64;
    (idx, scale)
}

/// `ln p(T(u), y) + ln |dT/du|` and its gradient in `u`.
pub fn log_density_unconstrained(
    model: &dyn LogJoint,
    supports: &[Support],
    u: &[f64],
    batch: Option<&[usize]>,
    grad: &mut [f64],
) -> f64 {
    let mut theta = vec![0.0; u.len()];
    let mut jac = vec![0.0; u.len()];
    let mut log_jac = 0.0;
    let mut d_log_jac = vec![0.0; u.len()];
    for (j, (s, &uj)) in supports.iter().zip(u).enumerate() {
        let (t, lj, dt, dlj) = s.forward(uj);
        theta[j] = t;
        jac[j] = dt;
        log_jac += lj;
        d_log_jac[j] = dlj;
    }
    let value = model.log_joint(&theta, batch, grad);
    for j in 0..u.len() {
        grad[j] = grad[j] * jac[j] + d_log_jac[j];
    }
    value + log_jac
}

/// Constrained values of `u`.
pub fn constrain(supports: &[Support], u: &[f64]) -> Vec<f64> {
    supports
        .iter()
        .zip(u)
        .map(|(s, &v)| s.forward(v).0)
        .collect()
}

/// Posterior summary of one parameter from samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Parameter name.
    pub name: String,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
    /// 2.5% quantile.
    pub q025: f64,
    /// 97.5% quantile.
    pub q975: f64,
}

/// Draws of `θ` (constrained), one row per draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// Parameter names, the columns.
    pub names: Vec<String>,
    /// `[draws, params]` row-major.
    pub values: Vec<f64>,
}

impl Samples {
    /// Number of draws.
    pub fn len(&self) -> usize {
        self.values.len() / self.names.len().max(1)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Draw `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        let p = self.names.len();
        &self.values[i * p..(i + 1) * p]
    }

    /// Column `j`.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.len()).map(|i| self.row(i)[j]).collect()
    }

    /// Mean, standard deviation and central 95% interval of every parameter.
    pub fn summaries(&self) -> Vec<Summary> {
        (0..self.names.len())
            .map(|j| {
                let c = self.column(j);
                let (mean, std) = mean_std(&c);
                Summary {
                    name: self.names[j].clone(),
                    mean,
                    std,
                    q025: quantile(&c, 0.025),
                    q975: quantile(&c, 0.975),
                }
            })
            .collect()
    }

    /// Write as CSV (header of names).
    pub fn to_csv(&self) -> String {
        let mut s = self.names.join(",");
        s.push('\n');
        for i in 0..self.len() {
            let row: Vec<String> = self.row(i).iter().map(|v| format!("{v}")).collect();
            s.push_str(&row.join(","));
            s.push('\n');
        }
        s
    }
}

/// Mean and (n - 1) standard deviation, accumulated in f64.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// The `q` quantile by linear interpolation between order statistics.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q * (s.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = (lo + 1).min(s.len() - 1);
    s[lo] + frac * (s[hi] - s[lo])
}

/// Check that a model's parameters are usable.
pub fn check_model(model: &dyn LogJoint) -> Result<Vec<Support>> {
    let params = model.params();
    if params.is_empty() {
        return Err(crate::error::Error::param("model", "has no parameters"));
    }
    Ok(params.iter().map(|p| p.support).collect())
}
