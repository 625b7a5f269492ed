//! The Bayesian Gaussian mixture by coordinate-ascent variational Bayes (Bishop, PRML 10.2),
//! with scikit-learn's `BayesianGaussianMixture` conventions.
//!
//! Model: `pi ~ Dir(alpha_0)` (or stick-breaking `v_k ~ Beta(1, alpha_0)`), `Lambda_k ~
//! W(W_0, nu_0)`, `mu_k ~ N(m_0, (beta_0 Lambda_k)^-1)`, `z_n ~ Cat(pi)`, `x_n ~ N(mu_z,
//! Lambda_z^-1)`. Mean field `q(Z) q(pi) prod_k q(mu_k, Lambda_k)`; each iteration is one
//! E-step (responsibilities `r_nk ∝ exp(E ln pi_k + ½ E ln|Lambda_k| - D / 2 beta_k - nu_k / 2
//! (x_n - m_k)^T W_k (x_n - m_k))`) and one M-step:
//!
//! ```text
//! N_k = sum_n r_nk + 10 eps      xbar_k = sum_n r_nk x_n / N_k
//! S_k = sum_n r_nk (x_n - xbar_k)(x_n - xbar_k)^T / N_k + reg_covar I
//! beta_k = beta_0 + N_k          m_k = (beta_0 m_0 + N_k xbar_k) / beta_k      nu_k = nu_0 + N_k
//! W_k^-1 = W_0^-1 + N_k S_k + beta_0 N_k / beta_k (xbar_k - m_0)(xbar_k - m_0)^T
//! alpha_k = alpha_0 + N_k        (Dirichlet process: gamma_k1 = 1 + N_k, gamma_k2 = alpha_0 + sum_{j>k} N_j)
//! ```
//!
//! `covariances` are `W_k^-1 / nu_k` (the inverse of `E[Lambda_k]`), as scikit-learn's
//! `covariances_`; with diagonal covariances `q(Lambda_k)` is a Wishart with a diagonal scale
//! (the update keeps the diagonal, `E ln|Lambda|` is the full Wishart's). The lower bound is
//! PRML's 10.70-10.77 in full (the stick-breaking terms for the Dirichlet process), with `S_k`
//! as above: every update is then the exact coordinate maximiser and the bound never
//! decreases.

use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::kernels::linalg::{cholesky, log_det_from_cholesky, lower_inverse};
use crate::kernels::math::exp_f64;
use crate::kernels::multiversion;
use crate::kernels::special::{digamma, ln_beta, ln_gamma};
use crate::rng::rng_for;

/// The least weight of an effective component.
pub const EFFECTIVE_WEIGHT: f64 = 0.01;

/// The prior over mixture weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightPrior {
    /// Truncated stick-breaking (scikit-learn's default).
    DirichletProcess,
    /// A symmetric Dirichlet over `K` weights.
    DirichletDistribution,
}

/// Full or diagonal covariance matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Covariance {
    /// `[D, D]` per component.
    Full,
    /// `[D]` per component.
    Diag,
}

/// How the first responsibilities are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// Hard assignments from k-means (Lloyd, 300 iterations from k-means++ seeds).
    Kmeans,
    /// Uniform random numbers, rows normalised (scikit-learn's `random`).
    Random,
    /// Given responsibilities `[n, K]`, used as they are.
    Resp(Vec<f64>),
}

/// Settings, named and defaulted as scikit-learn's `BayesianGaussianMixture`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmmParams {
    /// `n_components`: the truncation `K`.
    pub components: usize,
    /// `weight_concentration_prior_type`.
    pub weight_prior: WeightPrior,
    /// `weight_concentration_prior` (`None`: `1 / K`).
    pub weight_concentration: Option<f64>,
    /// `mean_precision_prior` `beta_0` (`None`: 1).
    pub mean_precision_prior: Option<f64>,
    /// `mean_prior` `m_0` (`None`: the data mean).
    pub mean_prior: Option<Vec<f64>>,
    /// `degrees_of_freedom_prior` `nu_0` (`None`: `D`).
    pub degrees_of_freedom_prior: Option<f64>,
    /// `covariance_prior` `W_0^-1`: `[D, D]` (full) or `[D]` (diag), or one number (times the
    /// identity) (`None`: the data covariance, ddof 1; its diagonal for diag).
    pub covariance_prior: Option<Vec<f64>>,
    /// `covariance_type`.
    pub covariance: Covariance,
    /// `init_params`.
    pub init: Init,
    /// `max_iter`.
    pub max_iter: usize,
    /// `tol`: stop when the bound changes by less.
    pub tol: f64,
    /// `reg_covar`, added to the diagonal of `S_k`.
    pub reg_covar: f64,
    /// Seed of the initialisation.
    pub seed: u64,
}

impl Default for GmmParams {
    fn default() -> Self {
        Self {
            components: 1,
            weight_prior: WeightPrior::DirichletProcess,
            weight_concentration: None,
            mean_precision_prior: None,
            mean_prior: None,
            degrees_of_freedom_prior: None,
            covariance_prior: None,
            covariance: Covariance::Full,
            init: Init::Kmeans,
            max_iter: 100,
            tol: 1e-3,
            reg_covar: 1e-6,
            seed: 0,
        }
    }
}

/// The priors once the data are known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priors {
    /// `alpha_0`.
    pub alpha: f64,
    /// `beta_0`.
    pub beta: f64,
    /// `m_0`.
    pub mean: Vec<f64>,
    /// `nu_0`.
    pub nu: f64,
    /// `W_0^-1`, `[D, D]` or `[D]`.
    pub scale_inv: Vec<f64>,
}

/// The variational posterior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gmm {
    /// Dimensions.
    pub dim: usize,
    /// Full or diagonal.
    pub covariance: Covariance,
    /// The weight prior.
    pub weight_prior: WeightPrior,
    /// The priors used.
    pub priors: Priors,
    /// `alpha_k` (Dirichlet) or `gamma_k1`.
    pub concentration_a: Vec<f64>,
    /// `gamma_k2` (Dirichlet process; empty otherwise).
    pub concentration_b: Vec<f64>,
    /// `beta_k`.
    pub beta: Vec<f64>,
    /// `m_k`, `[K, D]`.
    pub means: Vec<f64>,
    /// `nu_k`.
    pub nu: Vec<f64>,
    /// `W_k^-1`, `[K, D, D]` or `[K, D]`.
    pub scale_inv: Vec<f64>,
}

/// Sufficient statistics of responsibilities.
struct Stats {
    nk: Vec<f64>,
    xbar: Vec<f64>,
    s: Vec<f64>,
}

/// The outcome of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The posterior.
    pub model: Gmm,
    /// Responsibilities of the training rows, `[n, K]`.
    pub resp: Vec<f64>,
    /// The lower bound after every iteration (nats, summed over rows).
    pub bounds: Vec<f64>,
    /// Whether the bound's change fell below `tol`.
    pub converged: bool,
}

impl GmmParams {
    /// Check the settings against data of `n` rows and `dim` columns.
    pub fn validate(&self, n: usize, dim: usize) -> Result<()> {
        check::positive_count("components", self.components)?;
        check::positive_count("max-iter", self.max_iter)?;
        check::non_negative("tol", self.tol)?;
        check::non_negative("reg-covar", self.reg_covar)?;
        if let Some(a) = self.weight_concentration {
            check::positive("weight-concentration", a)?;
        }
        if let Some(b) = self.mean_precision_prior {
            check::positive("mean-precision-prior", b)?;
        }
        if let Some(nu) = self.degrees_of_freedom_prior
            && !(nu > dim as f64 - 1.0 && nu.is_finite())
        {
            return Err(Error::param(
                "degrees-of-freedom-prior",
                format!(
                    "must be greater than D - 1 = {} (got {nu})",
                    dim as f64 - 1.0
                ),
            ));
        }
        if let Some(m) = &self.mean_prior
            && m.len() != dim
        {
            return Err(Error::param(
                "mean-prior",
                format!("has {} entries; the data have {dim} columns", m.len()),
            ));
        }
        if let Some(c) = &self.covariance_prior.as_ref().map(|c| self.widen(c, dim)) {
            let want = match self.covariance {
                Covariance::Full => dim * dim,
                Covariance::Diag => dim,
            };
            if c.len() != want {
                return Err(Error::param(
                    "covariance-prior",
                    format!("has {} values; {want} are needed", c.len()),
                ));
            }
            let ok = match self.covariance {
                Covariance::Full => {
                    let symmetric = (0..dim).all(|i| {
                        (0..dim).all(|j| {
                            (c[i * dim + j] - c[j * dim + i]).abs()
                                <= 1e-12 * c[i * dim + j].abs().max(1.0)
                        })
                    });
                    symmetric && cholesky(&mut c.clone(), dim, 0.0).is_some()
                }
                Covariance::Diag => c.iter().all(|&v| v > 0.0 && v.is_finite()),
            };
            if !ok {
                return Err(Error::param(
                    "covariance-prior",
                    "must be symmetric positive definite (diag: positive variances)",
                ));
            }
        }
        if let Init::Resp(r) = &self.init {
            if r.len() != n * self.components {
                return Err(Error::param(
                    "init",
                    format!(
                        "the responsibilities have {} values; [n, K] = [{n}, {}] needs {}",
                        r.len(),
                        self.components,
                        n * self.components
                    ),
                ));
            }
            for (i, row) in r.chunks(self.components).enumerate() {
                let sum: f64 = row.iter().sum();
                if row.iter().any(|&v| v < 0.0 || !v.is_finite()) || (sum - 1.0).abs() > 1e-6 {
                    return Err(Error::param(
                        "init",
                        format!(
                            "row {i} of the responsibilities sums to {sum}, not 1 (or has a negative entry)"
                        ),
                    ));
                }
            }
        }
        if n < 2 {
            return Err(Error::data(
                "data",
                format!("{n} rows; at least 2 are needed"),
            ));
        }
        Ok(())
    }

    /// Fit to `x` (`[n, dim]`, row-major, finite).
    pub fn fit(&self, x: &[f64], dim: usize) -> Result<Fitted> {
        let n = x.len() / dim.max(1);
        if dim == 0 || x.len() != n * dim {
            return Err(Error::data(
                "data",
                "rows of equal, non-zero length are needed",
            ));
        }
        crate::data::check_finite("data", x, dim)?;
        self.validate(n, dim)?;
        let priors = self.priors(x, dim);
        let k = self.components;
        let resp = match &self.init {
            Init::Resp(r) => r.clone(),
            Init::Random => {
                let mut rng = rng_for(self.seed, &[0]);
                let mut r: Vec<f64> = (0..n * k).map(|_| rng.random::<f64>()).collect();
                for row in r.chunks_mut(k) {
                    let s: f64 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= s);
                }
                r
            }
            Init::Kmeans => kmeans_resp(x, dim, k, self.seed),
        };
        let mut model = Gmm {
            dim,
            covariance: self.covariance,
            weight_prior: self.weight_prior,
            priors,
            concentration_a: Vec::new(),
            concentration_b: Vec::new(),
            beta: Vec::new(),
            means: Vec::new(),
            nu: Vec::new(),
            scale_inv: Vec::new(),
        };
        let cols = Columns::new(x, dim);
        model.m_step(&stats(&cols, &resp, k, self.covariance, self.reg_covar))?;
        let mut bounds = Vec::new();
        let mut resp = resp;
        let mut log_resp = Vec::new();
        let mut previous = f64::NEG_INFINITY;
        let mut converged = false;
        for _ in 0..self.max_iter {
            model.e_step_into(&cols, &mut log_resp, &mut resp)?;
            let st = stats(&cols, &resp, k, self.covariance, self.reg_covar);
            model.m_step(&st)?;
            let bound = model.lower_bound(&st, &resp, &log_resp)?;
            bounds.push(bound);
            if (bound - previous).abs() < self.tol {
                converged = true;
                break;
            }
            previous = bound;
        }
        Ok(Fitted {
            model,
            resp,
            bounds,
            converged,
        })
    }

    /// One number as that number times the identity.
    fn widen(&self, c: &[f64], dim: usize) -> Vec<f64> {
        match (c, self.covariance) {
            ([v], Covariance::Full) if dim > 1 => (0..dim * dim)
                .map(|k| if k % (dim + 1) == 0 { *v } else { 0.0 })
                .collect(),
            ([v], Covariance::Diag) => vec![*v; dim],
            _ => c.to_vec(),
        }
    }

    fn priors(&self, x: &[f64], dim: usize) -> Priors {
        let n = x.len() / dim;
        let mean: Vec<f64> = (0..dim)
            .map(|j| x.iter().skip(j).step_by(dim).sum::<f64>() / n as f64)
            .collect();
        let cov = |i: usize, j: usize| {
            x.chunks(dim)
                .map(|r| (r[i] - mean[i]) * (r[j] - mean[j]))
                .sum::<f64>()
                / (n as f64 - 1.0)
        };
        let scale_inv = self
            .covariance_prior
            .clone()
            .unwrap_or_else(|| match self.covariance {
                Covariance::Full => (0..dim * dim).map(|k| cov(k / dim, k % dim)).collect(),
                Covariance::Diag => (0..dim).map(|i| cov(i, i)).collect(),
            });
        Priors {
            alpha: self
                .weight_concentration
                .unwrap_or(1.0 / self.components as f64),
            beta: self.mean_precision_prior.unwrap_or(1.0),
            mean: self.mean_prior.clone().unwrap_or(mean),
            nu: self.degrees_of_freedom_prior.unwrap_or(dim as f64),
            scale_inv,
        }
    }
}

/// Rows per block of [`Columns`].
const BLOCK: usize = 512;
/// Rows handled together by the kernels: one AVX-512 vector of f64.
const LANES: usize = 8;

/// The data in blocks of [`BLOCK`] rows, each stored as chunks of [`LANES`] rows by column
/// (`[chunk][D][LANES]`, the last chunk padded with zeros) and shifted by the data mean: the
/// kernels load the `D` coordinates of 8 rows as `D` contiguous vectors, and the second moments
/// lose no precision to a far-away origin. The blocks are fixed by the data, not by the thread
/// count, and their partial sums are added in block order: the same bits on any number of
/// threads.
pub(crate) struct Columns {
    dim: usize,
    rows: usize,
    shift: Vec<f64>,
    /// `(rows in the block, its chunks)`.
    blocks: Vec<(usize, Vec<f64>)>,
}

impl Columns {
    /// Columns of `x` (`[n, dim]`).
    pub(crate) fn new(x: &[f64], dim: usize) -> Self {
        let rows = x.len() / dim;
        let shift: Vec<f64> = (0..dim)
            .map(|j| x.iter().skip(j).step_by(dim).sum::<f64>() / rows.max(1) as f64)
            .collect();
        let blocks = x
            .chunks(BLOCK * dim)
            .map(|chunk| {
                let len = chunk.len() / dim;
                let mut t = vec![0.0; len.div_ceil(LANES) * LANES * dim];
                for (r, row) in chunk.chunks(dim).enumerate() {
                    let (c, lane) = (r / LANES, r % LANES);
                    for (j, v) in row.iter().enumerate() {
                        t[(c * dim + j) * LANES + lane] = v - shift[j];
                    }
                }
                (len, t)
            })
            .collect();
        Self {
            dim,
            rows,
            shift,
            blocks,
        }
    }
}

/// Components per tile of [`moments_block`].
const TILE_K: usize = 4;
/// Columns of `Z` per tile of [`moments_block`] (two vectors of f64).
const TILE_C: usize = 16;

multiversion! {
    /// `out += R^T Z` for one block: `R` its responsibilities padded to `kp` columns
    /// (`[len, kp]`, `kp` a multiple of [`TILE_K`]), `Z` the rows' moment features
    /// (`[len, cz]`: `1, x', x'_p x'_q (p <= q)`, zero-padded to `cz`, a multiple of
    /// [`TILE_C`]); `out` is `[kp, cz]`. Tiles of 4 components x 16 features stay in
    /// registers while the rows stream by, summed in row order.
    fn moments_block(z: &[f64], cz: usize, r: &[f64], kp: usize, len: usize, out: &mut [f64]) {
        for j0 in (0..kp).step_by(TILE_K) {
            for c0 in (0..cz).step_by(TILE_C) {
                let mut acc = [[0.0f64; TILE_C]; TILE_K];
                for n in 0..len {
                    let (Ok(zr), Ok(rr)) = (
                        <&[f64; TILE_C]>::try_from(&z[n * cz + c0..n * cz + c0 + TILE_C]),
                        <&[f64; TILE_K]>::try_from(&r[n * kp + j0..n * kp + j0 + TILE_K]),
                    ) else {
                        continue;
                    };
                    for jj in 0..TILE_K {
                        let w = rr[jj];
                        for c in 0..TILE_C {
                            acc[jj][c] += w * zr[c];
                        }
                    }
                }
                for (jj, a) in acc.iter().enumerate() {
                    let o = &mut out[(j0 + jj) * cz + c0..(j0 + jj) * cz + c0 + TILE_C];
                    for (o, a) in o.iter_mut().zip(a) {
                        *o += a;
                    }
                }
            }
        }
    }
}

multiversion! {
    /// Each row of `log_rho` (`[len, K]`) becomes `ln r = ln ρ - ln Σ_k ρ`, and `r` the
    /// responsibilities `ρ / Σ_k ρ` (one pass of exponentials, shifted by the row's maximum).
    fn normalise_block(log_rho: &mut [f64], r: &mut [f64], k: usize) {
        let mut max = Vec::with_capacity(log_rho.len() / k);
        for (row, r) in log_rho.chunks_exact(k).zip(r.chunks_exact_mut(k)) {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            for (e, v) in r.iter_mut().zip(row) {
                *e = v - m;
            }
            max.push(m);
        }
        // One flat pass of exponentials over the block (vectorised).
        for e in r.iter_mut() {
            *e = exp_f64(*e);
        }
        for ((row, r), m) in log_rho.chunks_exact_mut(k).zip(r.chunks_exact_mut(k)).zip(max) {
            let sum: f64 = r.iter().sum();
            let lse = m + sum.ln();
            row.iter_mut().for_each(|v| *v -= lse);
            r.iter_mut().for_each(|e| *e /= sum);
        }
    }
}

multiversion! {
    /// `ln ρ_nk = const_k - ν_k/2 |P_k (x_n - m_k)|^2` for the rows of one block into `out`
    /// (`[len, K]`): `P_k` lower triangular (`[K][D][D]`; diag: its diagonal is used), `pm`
    /// `= P_k m_k` (`[K][D]`), 8 rows at a time with the coordinates in registers.
    #[allow(clippy::too_many_arguments)]
    fn log_rho_block(chunks: &[f64], len: usize, f: &[f64], pm: &[f64], consts: &[f64], half_nu: &[f64], k: usize, d: usize, full: bool, out: &mut [f64]) {
        for (c, xs) in chunks.chunks_exact(d * LANES).enumerate() {
            let first = c * LANES;
            let live = (len - first).min(LANES);
            for j in 0..k {
                let (p, m) = (&f[j * d * d..(j + 1) * d * d], &pm[j * d..(j + 1) * d]);
                let mut q = [0.0f64; LANES];
                for i in 0..d {
                    let mut y = [-m[i]; LANES];
                    if full {
                        for l in 0..=i {
                            let pil = p[i * d + l];
                            let xl = &xs[l * LANES..(l + 1) * LANES];
                            for lane in 0..LANES {
                                y[lane] += pil * xl[lane];
                            }
                        }
                    } else {
                        let pii = p[i * d + i];
                        let xi = &xs[i * LANES..(i + 1) * LANES];
                        for lane in 0..LANES {
                            y[lane] += pii * xi[lane];
                        }
                    }
                    for lane in 0..LANES {
                        q[lane] += y[lane] * y[lane];
                    }
                }
                for (lane, q) in q.iter().enumerate().take(live) {
                    out[(first + lane) * k + j] = consts[j] - half_nu[j] * q;
                }
            }
        }
    }
}

/// `N_k`, `xbar_k`, `S_k` (with `reg` on the diagonal) of responsibilities `r` (`[n, K]`).
fn stats(cols: &Columns, r: &[f64], k: usize, cov: Covariance, reg: f64) -> Stats {
    let d = cols.dim;
    let full = cov == Covariance::Full;
    let size = if full { d * d } else { d };
    let tri = if full { d * (d + 1) / 2 } else { d };
    // Per block: R^T Z with Z = [1, x', x'_p x'_q] of the shifted x' (upper triangle, or the
    // squares for diag), so that sum r, sum r x' and sum r x' x'^T of every component come out
    // of one register-tiled product; the blocks' sums are added in block order.
    let per = 1 + d + tri;
    let cz = per.div_ceil(TILE_C) * TILE_C;
    let kp = k.div_ceil(TILE_K) * TILE_K;
    let partials: Vec<Vec<f64>> = cols
        .blocks
        .par_iter()
        .enumerate()
        .map(|(b, (len, chunks))| {
            let len = *len;
            let mut z = vec![0.0; len * cz];
            for (n, row) in z.chunks_exact_mut(cz).enumerate() {
                let (c, lane) = (n / LANES, n % LANES);
                let x = |p: usize| chunks[(c * d + p) * LANES + lane];
                row[0] = 1.0;
                let mut t = 1 + d;
                for p in 0..d {
                    let xp = x(p);
                    row[1 + p] = xp;
                    let last = if full { d } else { p + 1 };
                    for q in p..last {
                        row[t] = xp * x(q);
                        t += 1;
                    }
                }
            }
            let mut rp = vec![0.0; len * kp];
            for (dst, src) in rp
                .chunks_exact_mut(kp)
                .zip(r[b * BLOCK * k..(b * BLOCK + len) * k].chunks_exact(k))
            {
                dst[..k].copy_from_slice(src);
            }
            let mut out = vec![0.0; kp * cz];
            moments_block(&z, cz, &rp, kp, len, &mut out);
            out
        })
        .collect();
    let mut sums = vec![0.0; kp * cz];
    for part in &partials {
        for (t, v) in sums.iter_mut().zip(part) {
            *t += v;
        }
    }
    let total: Vec<f64> = sums
        .chunks_exact(cz)
        .take(k)
        .flat_map(|c| c[..per].to_vec())
        .collect();
    // Unpack the triangle into the layout below: [sum r, sum r x, M2 ([D, D] upper or [D])].
    let total: Vec<f64> = total
        .chunks_exact(per)
        .flat_map(|acc| {
            let mut out = acc[..1 + d].to_vec();
            if full {
                let mut m2 = vec![0.0; d * d];
                let mut t = 1 + d;
                for a in 0..d {
                    for b in a..d {
                        m2[a * d + b] = acc[t];
                        t += 1;
                    }
                }
                out.extend(m2);
            } else {
                out.extend_from_slice(&acc[1 + d..]);
            }
            out
        })
        .collect();
    let per = 1 + d + size;
    let mut nk = Vec::with_capacity(k);
    let mut xbar = Vec::with_capacity(k * d);
    let mut s = Vec::with_capacity(k * size);
    for j in 0..k {
        let acc = &total[j * per..(j + 1) * per];
        let (sum_r, s1) = (acc[0], &acc[1..1 + d]);
        let n = sum_r + 10.0 * f64::EPSILON;
        // xbar = (sum r x' + R shift) / N; u = xbar - shift is the mean in shifted coordinates.
        let u: Vec<f64> = s1.iter().map(|v| v / n).collect();
        let mean: Vec<f64> = (0..d).map(|a| u[a] + cols.shift[a] * sum_r / n).collect();
        // sum r (x - xbar)(x - xbar)^T = M2' - v s1^T - s1 v^T + R v v^T with v = xbar - shift.
        let v: Vec<f64> = (0..d).map(|a| mean[a] - cols.shift[a]).collect();
        let centred = |a: usize, b: usize, m2: f64| {
            (m2 - v[a] * s1[b] - s1[a] * v[b] + sum_r * v[a] * v[b]) / n
        };
        nk.push(n);
        xbar.extend_from_slice(&mean);
        if full {
            let m2 = &acc[1 + d..];
            let mut block = vec![0.0; d * d];
            for a in 0..d {
                for b in a..d {
                    let c = centred(a, b, m2[a * d + b]);
                    block[a * d + b] = c;
                    block[b * d + a] = c;
                }
                block[a * d + a] += reg;
            }
            s.extend(block);
        } else {
            let m2 = &acc[1 + d..];
            s.extend((0..d).map(|a| centred(a, a, m2[a]) + reg));
        }
    }
    Stats { nk, xbar, s }
}

/// k-means responsibilities: k-means++ seeds, Lloyd iterations until no label changes (at most
/// 300), one-hot rows.
fn kmeans_resp(x: &[f64], dim: usize, k: usize, seed: u64) -> Vec<f64> {
    let n = x.len() / dim;
    let mut rng = rng_for(seed, &[1]);
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum::<f64>();
    let mut centres: Vec<f64> = x[rng.random_range(0..n) * dim..][..dim].to_vec();
    let mut nearest: Vec<f64> = x.chunks(dim).map(|r| dist(r, &centres[..dim])).collect();
    while centres.len() < k * dim {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut u = rng.random::<f64>() * total;
            nearest
                .iter()
                .position(|&d| {
                    u -= d;
                    u <= 0.0
                })
                .unwrap_or(n - 1)
        } else {
            rng.random_range(0..n)
        };
        let c = x[pick * dim..(pick + 1) * dim].to_vec();
        for (d, r) in nearest.iter_mut().zip(x.chunks(dim)) {
            *d = d.min(dist(r, &c));
        }
        centres.extend(c);
    }
    let mut labels = vec![usize::MAX; n];
    for _ in 0..300 {
        let next: Vec<usize> = x
            .par_chunks(dim)
            .map(|r| {
                (0..k)
                    .min_by(|&a, &b| {
                        dist(r, &centres[a * dim..(a + 1) * dim])
                            .total_cmp(&dist(r, &centres[b * dim..(b + 1) * dim]))
                    })
                    .unwrap_or(0)
            })
            .collect();
        if next == labels {
            break;
        }
        labels = next;
        let mut sums = vec![0.0; k * dim];
        let mut counts = vec![0usize; k];
        for (r, &l) in x.chunks(dim).zip(&labels) {
            counts[l] += 1;
            for (s, v) in sums[l * dim..(l + 1) * dim].iter_mut().zip(r) {
                *s += v;
            }
        }
        for j in 0..k {
            if counts[j] > 0 {
                for d in 0..dim {
                    centres[j * dim + d] = sums[j * dim + d] / counts[j] as f64;
                }
            }
        }
    }
    let mut r = vec![0.0; n * k];
    for (i, &l) in labels.iter().enumerate() {
        r[i * k + l] = 1.0;
    }
    r
}

impl Gmm {
    /// Components.
    pub fn components(&self) -> usize {
        self.beta.len()
    }

    fn square(&self) -> usize {
        match self.covariance {
            Covariance::Full => self.dim * self.dim,
            Covariance::Diag => self.dim,
        }
    }

    /// The M-step from statistics.
    fn m_step(&mut self, st: &Stats) -> Result<()> {
        let (d, p) = (self.dim, &self.priors);
        let k = st.nk.len();
        match self.weight_prior {
            WeightPrior::DirichletDistribution => {
                self.concentration_a = st.nk.iter().map(|n| p.alpha + n).collect();
                self.concentration_b.clear();
            }
            WeightPrior::DirichletProcess => {
                self.concentration_a = st.nk.iter().map(|n| 1.0 + n).collect();
                // alpha_0 + sum_{j>k} N_j, summed from the end as numpy's reversed cumsum.
                let mut tail = vec![0.0; k];
                let mut acc = 0.0;
                for j in (0..k).rev() {
                    tail[j] = acc;
                    acc += st.nk[j];
                }
                self.concentration_b = tail.iter().map(|t| p.alpha + t).collect();
            }
        }
        self.beta = st.nk.iter().map(|n| p.beta + n).collect();
        self.nu = st.nk.iter().map(|n| p.nu + n).collect();
        self.means = (0..k)
            .flat_map(|j| {
                (0..d)
                    .map(|a| (p.beta * p.mean[a] + st.nk[j] * st.xbar[j * d + a]) / self.beta[j])
                    .collect::<Vec<_>>()
            })
            .collect();
        let size = self.square();
        let mut scale_inv = vec![0.0; k * size];
        for j in 0..k {
            let diff: Vec<f64> = (0..d).map(|a| st.xbar[j * d + a] - p.mean[a]).collect();
            let c = st.nk[j] * p.beta / self.beta[j];
            let out = &mut scale_inv[j * size..(j + 1) * size];
            for (idx, o) in out.iter_mut().enumerate() {
                let (a, b) = match self.covariance {
                    Covariance::Full => (idx / d, idx % d),
                    Covariance::Diag => (idx, idx),
                };
                *o = p.scale_inv[idx] + st.nk[j] * st.s[j * size + idx] + c * diff[a] * diff[b];
            }
        }
        self.scale_inv = scale_inv;
        Ok(())
    }

    /// `W_k^-1 / nu_k`: scikit-learn's `covariances_`, `[K, D, D]` or `[K, D]`.
    pub fn covariances(&self) -> Vec<f64> {
        let size = self.square();
        self.scale_inv
            .iter()
            .enumerate()
            .map(|(i, v)| v / self.nu[i / size])
            .collect()
    }

    /// `E[ln pi_k]`.
    pub fn expected_log_weights(&self) -> Vec<f64> {
        match self.weight_prior {
            WeightPrior::DirichletDistribution => {
                let total = digamma(self.concentration_a.iter().sum());
                self.concentration_a
                    .iter()
                    .map(|&a| digamma(a) - total)
                    .collect()
            }
            WeightPrior::DirichletProcess => {
                let mut acc = 0.0;
                self.concentration_a
                    .iter()
                    .zip(&self.concentration_b)
                    .map(|(&a, &b)| {
                        let sum = digamma(a + b);
                        let v = digamma(a) - sum + acc;
                        acc += digamma(b) - sum;
                        v
                    })
                    .collect()
            }
        }
    }

    /// The mixture weights: `E[pi_k]` (Dirichlet), or the expected stick products
    /// renormalised to sum to 1 (Dirichlet process), as scikit-learn's `weights_`.
    pub fn weights(&self) -> Vec<f64> {
        match self.weight_prior {
            WeightPrior::DirichletDistribution => {
                let s: f64 = self.concentration_a.iter().sum();
                self.concentration_a.iter().map(|a| a / s).collect()
            }
            WeightPrior::DirichletProcess => {
                let mut rest = 1.0;
                let w: Vec<f64> = self
                    .concentration_a
                    .iter()
                    .zip(&self.concentration_b)
                    .map(|(&a, &b)| {
                        let v = a / (a + b);
                        let out = v * rest;
                        rest *= b / (a + b);
                        out
                    })
                    .collect();
                let s: f64 = w.iter().sum();
                w.iter().map(|v| v / s).collect()
            }
        }
    }

    /// Per component: the lower Cholesky factor of `W_k^-1` (diag: its square roots) and
    /// `E ln|Lambda_k| = sum_i psi((nu_k + 1 - i) / 2) + D ln 2 + ln|W_k|`.
    fn factors(&self) -> Result<Vec<(Vec<f64>, f64)>> {
        let (d, size) = (self.dim, self.square());
        (0..self.components())
            .map(|j| {
                let w_inv = &self.scale_inv[j * size..(j + 1) * size];
                let (factor, log_det_w_inv) = match self.covariance {
                    Covariance::Full => {
                        let mut l = w_inv.to_vec();
                        cholesky(&mut l, d, 0.0).ok_or_else(|| {
                            Error::data(
                                "covariance",
                                format!("component {j}'s scale matrix is not positive definite; raise --reg-covar"),
                            )
                        })?;
                        let ld = log_det_from_cholesky(&l, d);
                        (lower_inverse(&l, d), ld)
                    }
                    Covariance::Diag => (
                        w_inv.iter().map(|v| 1.0 / v.sqrt()).collect(),
                        w_inv.iter().map(|v| v.ln()).sum(),
                    ),
                };
                let e_log_det = (1..=d)
                    .map(|i| digamma((self.nu[j] + 1.0 - i as f64) / 2.0))
                    .sum::<f64>()
                    + d as f64 * 2f64.ln()
                    - log_det_w_inv;
                Ok((factor, e_log_det))
            })
            .collect()
    }

    /// `ln r_nk` (normalised over `k`), `[n, K]`.
    pub fn log_resp(&self, x: &[f64]) -> Result<Vec<f64>> {
        Ok(self.e_step(&Columns::new(x, self.dim))?.0)
    }

    /// `(ln r, r)`, `[n, K]` each.
    pub(crate) fn e_step(&self, cols: &Columns) -> Result<(Vec<f64>, Vec<f64>)> {
        let (mut log_resp, mut resp) = (Vec::new(), Vec::new());
        self.e_step_into(cols, &mut log_resp, &mut resp)?;
        Ok((log_resp, resp))
    }

    /// `ln r` and `r` into reused buffers, block by block: `|L^-1 (x - m)|^2` for 8 rows at a
    /// time and every component ([`log_rho_block`]), then the normalisation
    /// ([`normalise_block`]).
    pub(crate) fn e_step_into(
        &self,
        cols: &Columns,
        out: &mut Vec<f64>,
        resp: &mut Vec<f64>,
    ) -> Result<()> {
        let (d, k) = (self.dim, self.components());
        let factors = self.factors()?;
        let log_w = self.expected_log_weights();
        let consts: Vec<f64> = (0..k)
            .map(|j| {
                log_w[j] + 0.5 * factors[j].1
                    - 0.5 * d as f64 / self.beta[j]
                    - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
            })
            .collect();
        // The means in shifted coordinates.
        let means: Vec<f64> = self
            .means
            .iter()
            .enumerate()
            .map(|(i, m)| m - cols.shift[i % d])
            .collect();
        // Dense lower factors ([K][D][D]; diag: on the diagonal) and P_k m_k.
        let mut f = vec![0.0; k * d * d];
        let mut pm = vec![0.0; k * d];
        let full = self.covariance == Covariance::Full;
        for j in 0..k {
            let (fac, m) = (&factors[j].0, &means[j * d..(j + 1) * d]);
            for i in 0..d {
                if full {
                    f[(j * d + i) * d..(j * d + i) * d + i + 1]
                        .copy_from_slice(&fac[i * d..=i * d + i]);
                    pm[j * d + i] = (0..=i).map(|l| fac[i * d + l] * m[l]).sum();
                } else {
                    f[(j * d + i) * d + i] = fac[i];
                    pm[j * d + i] = fac[i] * m[i];
                }
            }
        }
        let half_nu: Vec<f64> = self.nu.iter().map(|v| 0.5 * v).collect();
        // Every entry is written below; the buffers only change size with the data.
        out.resize(cols.rows * k, 0.0);
        resp.resize(cols.rows * k, 0.0);
        out.par_chunks_mut(BLOCK * k)
            .zip(resp.par_chunks_mut(BLOCK * k))
            .zip(cols.blocks.par_iter())
            .for_each(|((rows, r_rows), (len, chunks))| {
                log_rho_block(chunks, *len, &f, &pm, &consts, &half_nu, k, d, full, rows);
                normalise_block(rows, r_rows, k);
            });
        Ok(())
    }

    /// `y^T W y` with `W = (L L^T)^-1` from `L^-1` (diag: `1 / sqrt(W^-1)`).
    fn mahalanobis(&self, factor: &[f64], y: &[f64]) -> f64 {
        let d = self.dim;
        match self.covariance {
            Covariance::Full => (0..d)
                .map(|i| {
                    let z: f64 = (0..=i).map(|j| factor[i * d + j] * y[j]).sum();
                    z * z
                })
                .sum(),
            Covariance::Diag => y.iter().zip(factor).map(|(v, f)| (v * f) * (v * f)).sum(),
        }
    }

    /// `ln B(W, nu)`, the Wishart normaliser, from `ln|W^-1|`.
    fn log_wishart_norm(&self, log_det_w_inv: f64, nu: f64) -> f64 {
        let d = self.dim as f64;
        0.5 * nu * log_det_w_inv
            - (0.5 * nu * d * 2f64.ln()
                + 0.25 * d * (d - 1.0) * std::f64::consts::PI.ln()
                + (1..=self.dim)
                    .map(|i| ln_gamma((nu + 1.0 - i as f64) / 2.0))
                    .sum::<f64>())
    }

    /// `ln |M|` and `Tr(A M^-1)`-style helpers for a scale matrix `[D, D]` or `[D]`.
    fn log_det(&self, m: &[f64]) -> Result<f64> {
        match self.covariance {
            Covariance::Full => {
                let mut l = m.to_vec();
                cholesky(&mut l, self.dim, 0.0)
                    .map(|l| log_det_from_cholesky(l, self.dim))
                    .ok_or_else(|| Error::data("covariance-prior", "is not positive definite"))
            }
            Covariance::Diag => Ok(m.iter().map(|v| v.ln()).sum()),
        }
    }

    /// `Tr(A W)` with `W = (W^-1)^-1` given by its `L^-1` factor.
    fn trace_with(&self, a: &[f64], factor: &[f64]) -> f64 {
        let d = self.dim;
        match self.covariance {
            Covariance::Full => {
                // Tr(A L^-T L^-1) = sum_i (L^-1 A L^-T)_ii.
                (0..d)
                    .map(|i| {
                        let row = &factor[i * d..i * d + d];
                        (0..d)
                            .map(|p| row[p] * (0..d).map(|q| a[p * d + q] * row[q]).sum::<f64>())
                            .sum::<f64>()
                    })
                    .sum()
            }
            Covariance::Diag => a.iter().zip(factor).map(|(v, f)| v * f * f).sum(),
        }
    }

    /// The full lower bound `L(q)` (PRML 10.70-10.77), summed over rows.
    fn lower_bound(&self, st: &Stats, resp: &[f64], log_resp: &[f64]) -> Result<f64> {
        let (d, k, p) = (self.dim as f64, self.components(), &self.priors);
        let factors = self.factors()?;
        let log_w = self.expected_log_weights();
        let size = self.square();
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let log_det_w0_inv = self.log_det(&p.scale_inv)?;
        let mut bound = 0.0;
        for j in 0..k {
            let (factor, e_ld) = (&factors[j].0, factors[j].1);
            let (nu, beta, nk) = (self.nu[j], self.beta[j], st.nk[j]);
            let m = &self.means[j * self.dim..(j + 1) * self.dim];
            let xd: Vec<f64> = (0..self.dim)
                .map(|a| st.xbar[j * self.dim + a] - m[a])
                .collect();
            let md: Vec<f64> = (0..self.dim).map(|a| m[a] - p.mean[a]).collect();
            let s = &st.s[j * size..(j + 1) * size];
            // E[ln p(X | Z, mu, Lambda)] (10.71).
            bound += 0.5
                * nk
                * (e_ld
                    - d / beta
                    - nu * self.trace_with(s, factor)
                    - nu * self.mahalanobis(factor, &xd)
                    - d * ln2pi);
            // E[ln p(Z | pi)] (10.72).
            bound += nk * log_w[j];
            // E[ln p(mu, Lambda)] (10.74).
            bound += 0.5
                * (d * (p.beta / (2.0 * std::f64::consts::PI)).ln() + e_ld
                    - d * p.beta / beta
                    - p.beta * nu * self.mahalanobis(factor, &md))
                + self.log_wishart_norm(log_det_w0_inv, p.nu)
                + 0.5 * (p.nu - d - 1.0) * e_ld
                - 0.5 * nu * self.trace_with(&p.scale_inv, factor);
            // - E[ln q(mu, Lambda)] (10.77): - (½ E ln|Lambda| + D/2 ln(beta/2 pi) - D/2 - H[q(Lambda)]).
            let log_det_w_inv = self.log_det(&self.scale_inv[j * size..(j + 1) * size])?;
            let entropy = -self.log_wishart_norm(log_det_w_inv, nu) - 0.5 * (nu - d - 1.0) * e_ld
                + 0.5 * nu * d;
            bound -= 0.5 * e_ld + 0.5 * d * (beta / (2.0 * std::f64::consts::PI)).ln()
                - 0.5 * d
                - entropy;
        }
        // E[ln p(pi)] - E[ln q(pi)] (10.73, 10.76), or the sticks'.
        match self.weight_prior {
            WeightPrior::DirichletDistribution => {
                let kf = k as f64;
                let ln_c0 = ln_gamma(kf * p.alpha) - kf * ln_gamma(p.alpha);
                let a = &self.concentration_a;
                let ln_c = ln_gamma(a.iter().sum()) - a.iter().map(|&v| ln_gamma(v)).sum::<f64>();
                bound += ln_c0 + (p.alpha - 1.0) * log_w.iter().sum::<f64>();
                bound -= ln_c
                    + a.iter()
                        .zip(&log_w)
                        .map(|(a, l)| (a - 1.0) * l)
                        .sum::<f64>();
            }
            WeightPrior::DirichletProcess => {
                for (&a, &b) in self.concentration_a.iter().zip(&self.concentration_b) {
                    let e_ln_v = digamma(a) - digamma(a + b);
                    let e_ln_1v = digamma(b) - digamma(a + b);
                    bound += p.alpha.ln() + (p.alpha - 1.0) * e_ln_1v;
                    bound -= (a - 1.0) * e_ln_v + (b - 1.0) * e_ln_1v - ln_beta(a, b);
                }
            }
        }
        // - E[ln q(Z)] (10.75).
        bound -= resp
            .iter()
            .zip(log_resp)
            .map(|(r, l)| if *r > 0.0 { r * l } else { 0.0 })
            .sum::<f64>();
        Ok(bound)
    }

    /// Components that hold at least [`EFFECTIVE_WEIGHT`] (1%) of the weight.
    pub fn effective_components(&self) -> usize {
        self.weights()
            .iter()
            .filter(|&&w| w >= EFFECTIVE_WEIGHT)
            .count()
    }

    /// The log predictive density of each row of `x` (nats): the mixture of Student-t
    /// distributions `sum_k E[pi_k] St(x | m_k, L_k, nu_k + 1 - D)`,
    /// `L_k = (nu_k + 1 - D) beta_k / (1 + beta_k) W_k` (PRML 10.81-10.82).
    pub fn log_predictive(&self, x: &[f64]) -> Result<Vec<f64>> {
        let (d, k) = (self.dim, self.components());
        let df = d as f64;
        let factors = self.factors()?;
        let log_pi: Vec<f64> = match self.weight_prior {
            WeightPrior::DirichletDistribution => {
                let s: f64 = self.concentration_a.iter().sum();
                self.concentration_a.iter().map(|a| (a / s).ln()).collect()
            }
            WeightPrior::DirichletProcess => self.weights().iter().map(|w| w.ln()).collect(),
        };
        let size = self.square();
        let comps: Vec<(f64, f64, f64)> = (0..k)
            .map(|j| {
                let dof = self.nu[j] + 1.0 - df;
                let scale = dof * self.beta[j] / (1.0 + self.beta[j]);
                let log_det_w = -self
                    .log_det(&self.scale_inv[j * size..(j + 1) * size])
                    .unwrap_or(f64::NAN);
                let c = log_pi[j] + ln_gamma((dof + df) / 2.0) - ln_gamma(dof / 2.0)
                    + 0.5 * (log_det_w + df * scale.ln())
                    - 0.5 * df * (dof * std::f64::consts::PI).ln();
                (c, dof, scale)
            })
            .collect();
        Ok(x.par_chunks(d)
            .map(|xn| {
                let terms: Vec<f64> = (0..k)
                    .map(|j| {
                        let (c, dof, scale) = comps[j];
                        let y: Vec<f64> = (0..d).map(|a| xn[a] - self.means[j * d + a]).collect();
                        let q = scale * self.mahalanobis(&factors[j].0, &y);
                        c - 0.5 * (dof + df) * (q / dof).ln_1p()
                    })
                    .collect();
                let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
            })
            .collect())
    }
}
