//! The Fréchet distance between Gaussians fitted to two sets of features (Heusel et al. 2017's
//! FID with a small in-project classifier's features):
//!
//! `FD = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1^{1/2} S_2 S_1^{1/2})^{1/2})`,
//!
//! with the symmetric square roots from a cyclic Jacobi eigendecomposition in f64 (negative
//! round-off eigenvalues clipped to 0). `(S_1^{1/2} S_2 S_1^{1/2})^{1/2}` has the same trace as
//! `(S_1 S_2)^{1/2}`, and is symmetric, so only symmetric eigenproblems are solved.
//!
//! # Shapes
//! Features `[n, d]` row-major; means `[d]`; covariances `[d, d]` row-major.

/// Eigenvalues and eigenvectors (columns of `[n, n]` row-major) of the symmetric `a`.
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        let scale: f64 = (0..n).map(|i| a[i * n + i] * a[i * n + i]).sum::<f64>();
        if off <= 1e-30 * scale.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A <- J^T A J with the rotation J in the (p, q) plane.
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// The symmetric square root of a symmetric positive semi-definite matrix.
pub fn sqrt_psd(a: &[f64], n: usize) -> Vec<f64> {
    let (w, v) = symmetric_eigen(a, n);
    let r: Vec<f64> = w.iter().map(|&l| l.max(0.0).sqrt()).collect();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..n).map(|k| v[i * n + k] * r[k] * v[j * n + k]).sum();
        }
    }
    out
}

fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                c[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    c
}

/// Mean and (unbiased) covariance of the rows of `x` (`[n, d]`).
pub fn mean_cov(x: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = x.len() / d.max(1);
    let mut mu = vec![0.0; d];
    for row in x.chunks(d) {
        for (m, &v) in mu.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mu.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let mut cov = vec![0.0; d * d];
    for row in x.chunks(d) {
        let c: Vec<f64> = row.iter().zip(&mu).map(|(&v, m)| v as f64 - m).collect();
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] += c[i] * c[j];
            }
        }
    }
    cov.iter_mut().for_each(|c| *c /= (n as f64 - 1.0).max(1.0));
    (mu, cov)
}

/// The Fréchet distance between `N(mu1, s1)` and `N(mu2, s2)` in `d` dimensions.
pub fn frechet_distance(mu1: &[f64], s1: &[f64], mu2: &[f64], s2: &[f64], d: usize) -> f64 {
    let mean_term: f64 = mu1.iter().zip(mu2).map(|(a, b)| (a - b).powi(2)).sum();
    let r1 = sqrt_psd(s1, d);
    let m = matmul(&matmul(&r1, s2, d), &r1, d);
    // Symmetrise against round-off before the eigendecomposition.
    let mut sym = m.clone();
    for i in 0..d {
        for j in 0..d {
            sym[i * d + j] = 0.5 * (m[i * d + j] + m[j * d + i]);
        }
    }
    let (w, _) = symmetric_eigen(&sym, d);
    let tr_sqrt: f64 = w.iter().map(|&l| l.max(0.0).sqrt()).sum();
    let tr = |s: &[f64]| (0..d).map(|i| s[i * d + i]).sum::<f64>();
    (mean_term + tr(s1) + tr(s2) - 2.0 * tr_sqrt).max(0.0)
}

/// The Fréchet distance between Gaussians fitted to the rows of `a` and of `b` (`[_, d]`).
pub fn frechet_distance_of(a: &[f32], b: &[f32], d: usize) -> f64 {
    let (m1, s1) = mean_cov(a, d);
    let (m2, s2) = mean_cov(b, d);
    frechet_distance(&m1, &s1, &m2, &s2, d)
}
