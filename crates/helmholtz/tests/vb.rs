//! Variational Bayes for the Gaussian mixture against closed forms and Monte Carlo.

use helmholtz::vb::{Covariance, GmmParams, Init, WeightPrior};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, ChiSquared, Distribution, Gamma, Normal};

/// `n` rows of `dim` columns from three shifted Gaussian blobs.
fn blobs(n: usize, dim: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).expect("valid");
    (0..n)
        .flat_map(|i| {
            let shift = [0.0, 4.0, -3.0][i % 3];
            (0..dim)
                .map(|d| shift * (1.0 + d as f64 * 0.3) + normal.sample(&mut rng))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_lower_bound_never_decreases() {
    for seed in 0..6 {
        for weight_prior in [
            WeightPrior::DirichletProcess,
            WeightPrior::DirichletDistribution,
        ] {
            for covariance in [Covariance::Full, Covariance::Diag] {
                let dim = 1 + (seed as usize % 3);
                let x = blobs(150, dim, seed);
                let params = GmmParams {
                    components: 5,
                    weight_prior,
                    covariance,
                    init: if seed % 2 == 0 {
                        Init::Random
                    } else {
                        Init::Kmeans
                    },
                    max_iter: 60,
                    tol: 0.0,
                    seed,
                    ..Default::default()
                };
                let fit = params.fit(&x, dim).expect("fits");
                for w in fit.bounds.windows(2) {
                    assert!(
                        w[1] >= w[0] - 1e-9 * w[0].abs(),
                        "seed {seed} {weight_prior:?} {covariance:?}: {} -> {}",
                        w[0],
                        w[1]
                    );
                }
            }
        }
    }
}

#[test]
fn one_component_is_the_conjugate_normal_wishart_posterior() {
    let dim = 3;
    let x = blobs(200, dim, 9);
    let n = 200;
    let (beta0, nu0) = (0.01, dim as f64 + 2.0);
    let m0 = vec![0.5, -1.0, 2.0];
    let w0_inv: Vec<f64> = (0..dim * dim)
        .map(|k| if k % (dim + 1) == 0 { 2.0 } else { 0.3 })
        .collect();
    let params = GmmParams {
        components: 1,
        weight_prior: WeightPrior::DirichletDistribution,
        mean_precision_prior: Some(beta0),
        mean_prior: Some(m0.clone()),
        degrees_of_freedom_prior: Some(nu0),
        covariance_prior: Some(w0_inv.clone()),
        reg_covar: 0.0,
        max_iter: 3,
        tol: 0.0,
        ..Default::default()
    };
    let fit = params.fit(&x, dim).expect("fits");
    // Conjugate update in its raw-moment form (Murphy 2007, eqs. 250-254), with N = n:
    // beta_N = beta_0 + N, m_N = (beta_0 m_0 + sum x) / beta_N, nu_N = nu_0 + N,
    // W_N^-1 = W_0^-1 + sum x x^T + beta_0 m_0 m_0^T - beta_N m_N m_N^T.
    let nf = n as f64;
    let beta_n = beta0 + nf;
    let sum: Vec<f64> = (0..dim)
        .map(|d| x.iter().skip(d).step_by(dim).sum())
        .collect();
    let m_n: Vec<f64> = (0..dim)
        .map(|d| (beta0 * m0[d] + sum[d]) / beta_n)
        .collect();
    let nu_n = nu0 + nf;
    let m = &fit.model;
    for (d, (got, want)) in m.means.iter().zip(&m_n).enumerate() {
        assert!((got - want).abs() < 1e-9, "mean {d}");
    }
    let cov = m.covariances();
    for a in 0..dim {
        for b in 0..dim {
            let sxx: f64 = x.chunks(dim).map(|r| r[a] * r[b]).sum();
            let w_inv =
                w0_inv[a * dim + b] + sxx + beta0 * m0[a] * m0[b] - beta_n * m_n[a] * m_n[b];
            let want = w_inv / nu_n;
            let got = cov[a * dim + b];
            assert!(
                (got - want).abs() < 1e-9 * want.abs().max(1.0),
                "cov[{a},{b}] {got} vs {want}"
            );
        }
    }
}

/// `ln N(x | mu, Lambda^-1)` for a `dim x dim` precision.
fn ln_normal(x: &[f64], mu: &[f64], lambda: &[f64], dim: usize) -> f64 {
    let y: Vec<f64> = x.iter().zip(mu).map(|(a, b)| a - b).collect();
    let q: f64 = (0..dim)
        .map(|a| {
            (0..dim)
                .map(|b| y[a] * lambda[a * dim + b] * y[b])
                .sum::<f64>()
        })
        .sum();
    0.5 * ln_det(lambda, dim) - 0.5 * dim as f64 * (2.0 * std::f64::consts::PI).ln() - 0.5 * q
}

fn ln_det(a: &[f64], dim: usize) -> f64 {
    // 2x2 only (the Monte Carlo case).
    assert_eq!(dim, 2);
    (a[0] * a[3] - a[1] * a[2]).ln()
}

fn inv2(a: &[f64]) -> Vec<f64> {
    let det = a[0] * a[3] - a[1] * a[2];
    vec![a[3] / det, -a[1] / det, -a[2] / det, a[0] / det]
}

fn ln_gamma(x: f64) -> f64 {
    helmholtz::kernels::special::ln_gamma(x)
}

/// `ln W(Lambda | W, nu)` for 2x2 matrices.
fn ln_wishart(lambda: &[f64], w: &[f64], nu: f64) -> f64 {
    let d = 2.0;
    let w_inv = inv2(w);
    let tr: f64 = (0..2)
        .map(|a| {
            (0..2)
                .map(|b| w_inv[a * 2 + b] * lambda[b * 2 + a])
                .sum::<f64>()
        })
        .sum();
    let ln_b = -0.5 * nu * ln_det(w, 2)
        - (0.5 * nu * d * 2f64.ln()
            + 0.25 * d * (d - 1.0) * std::f64::consts::PI.ln()
            + ln_gamma(nu / 2.0)
            + ln_gamma((nu - 1.0) / 2.0));
    ln_b + 0.5 * (nu - d - 1.0) * ln_det(lambda, 2) - 0.5 * tr
}

/// A draw from `W(W, nu)` (2x2) by Bartlett's decomposition.
fn draw_wishart(w: &[f64], nu: f64, rng: &mut StdRng) -> Vec<f64> {
    let l11 = w[0].sqrt();
    let l21 = w[2] / l11;
    let l22 = (w[3] - l21 * l21).sqrt();
    let c1 = ChiSquared::new(nu).expect("valid").sample(rng).sqrt();
    let c2 = ChiSquared::new(nu - 1.0).expect("valid").sample(rng).sqrt();
    let z = Normal::new(0.0, 1.0).expect("valid").sample(rng);
    // A = [[c1, 0], [z, c2]]; Lambda = L A A^T L^T.
    let (a11, a21, a22) = (c1, z, c2);
    let b11 = l11 * a11;
    let b21 = l21 * a11 + l22 * a21;
    let b22 = l22 * a22;
    vec![b11 * b11, b11 * b21, b11 * b21, b21 * b21 + b22 * b22]
}

/// The bound equals `E_q[ln p(x, z, theta) - ln q(z, theta)]` estimated by sampling q.
#[test]
fn the_lower_bound_equals_its_monte_carlo_estimate() {
    for weight_prior in [
        WeightPrior::DirichletDistribution,
        WeightPrior::DirichletProcess,
    ] {
        let dim = 2;
        let x = blobs(24, dim, 4);
        let k = 2;
        let params = GmmParams {
            components: k,
            weight_prior,
            reg_covar: 0.0,
            max_iter: 4,
            tol: 0.0,
            init: Init::Random,
            seed: 3,
            ..Default::default()
        };
        let fit = params.fit(&x, dim).expect("fits");
        let m = &fit.model;
        let bound = *fit.bounds.last().expect("iterations");
        let p = &m.priors;
        let w0 = inv2(&p.scale_inv);
        let mut rng = StdRng::seed_from_u64(11);
        let draws = 40_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..draws {
            let mut lp = 0.0;
            let mut lq = 0.0;
            // Weights.
            let log_pi: Vec<f64> = match weight_prior {
                WeightPrior::DirichletDistribution => {
                    let g: Vec<f64> = m
                        .concentration_a
                        .iter()
                        .map(|&a| Gamma::new(a, 1.0).expect("valid").sample(&mut rng))
                        .collect();
                    let s: f64 = g.iter().sum();
                    let lpi: Vec<f64> = g.iter().map(|v| (v / s).ln()).collect();
                    let ln_dir = |alpha: &[f64]| {
                        ln_gamma(alpha.iter().sum())
                            - alpha.iter().map(|&a| ln_gamma(a)).sum::<f64>()
                            + alpha
                                .iter()
                                .zip(&lpi)
                                .map(|(a, l)| (a - 1.0) * l)
                                .sum::<f64>()
                    };
                    lp += ln_dir(&vec![p.alpha; k]);
                    lq += ln_dir(&m.concentration_a);
                    lpi
                }
                WeightPrior::DirichletProcess => {
                    let mut rest = 0.0;
                    let mut lpi = Vec::new();
                    for (&a, &b) in m.concentration_a.iter().zip(&m.concentration_b) {
                        let v: f64 = Beta::new(a, b).expect("valid").sample(&mut rng);
                        let ln_beta = |a: f64, b: f64| ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
                        lp += -ln_beta(1.0, p.alpha) + (p.alpha - 1.0) * (1.0 - v).ln();
                        lq += -ln_beta(a, b) + (a - 1.0) * v.ln() + (b - 1.0) * (1.0 - v).ln();
                        lpi.push(v.ln() + rest);
                        rest += (1.0 - v).ln();
                    }
                    lpi
                }
            };
            // Components.
            let mut mus = Vec::new();
            let mut lambdas = Vec::new();
            for j in 0..k {
                let w_j = inv2(&m.scale_inv[j * 4..(j + 1) * 4]);
                let lambda = draw_wishart(&w_j, m.nu[j], &mut rng);
                // mu ~ N(m_j, (beta_j Lambda)^-1).
                let cov = inv2(&lambda.iter().map(|v| v * m.beta[j]).collect::<Vec<_>>());
                let l11 = cov[0].sqrt();
                let l21 = cov[2] / l11;
                let l22 = (cov[3] - l21 * l21).sqrt();
                let n = Normal::new(0.0, 1.0).expect("valid");
                let (z1, z2): (f64, f64) = (n.sample(&mut rng), n.sample(&mut rng));
                let mu = vec![
                    m.means[j * 2] + l11 * z1,
                    m.means[j * 2 + 1] + l21 * z1 + l22 * z2,
                ];
                let scaled = |b: f64| lambda.iter().map(|v| v * b).collect::<Vec<_>>();
                lp += ln_wishart(&lambda, &w0, p.nu) + ln_normal(&mu, &p.mean, &scaled(p.beta), 2);
                lq += ln_wishart(&lambda, &w_j, m.nu[j])
                    + ln_normal(&mu, &m.means[j * 2..j * 2 + 2], &scaled(m.beta[j]), 2);
                mus.push(mu);
                lambdas.push(lambda);
            }
            // Assignments and data.
            for (i, row) in x.chunks(dim).enumerate() {
                let r = &fit.resp[i * k..(i + 1) * k];
                let u: f64 = rng.random();
                let z = if u < r[0] { 0 } else { 1 };
                lp += log_pi[z] + ln_normal(row, &mus[z], &lambdas[z], 2);
                lq += r[z].ln();
            }
            let v = lp - lq;
            sum += v;
            sq += v * v;
        }
        let mean = sum / draws as f64;
        let se = ((sq / draws as f64 - mean * mean) / draws as f64).sqrt();
        assert!(
            (mean - bound).abs() < 3.0 * se,
            "{weight_prior:?}: bound {bound}, Monte Carlo {mean} ± {se}"
        );
    }
}

#[test]
fn the_predictive_density_integrates_to_one() {
    let x = blobs(90, 1, 2);
    for weight_prior in [
        WeightPrior::DirichletProcess,
        WeightPrior::DirichletDistribution,
    ] {
        let params = GmmParams {
            components: 4,
            weight_prior,
            ..Default::default()
        };
        let fit = params.fit(&x, 1).expect("fits");
        // x = tan(theta) over (-pi/2, pi/2): the Student-t tails (Cauchy-like for components
        // with little data) stay on a finite grid; midpoint rule in theta.
        let steps = 400_000;
        let h = std::f64::consts::PI / steps as f64;
        let theta: Vec<f64> = (0..steps)
            .map(|i| -std::f64::consts::FRAC_PI_2 + (i as f64 + 0.5) * h)
            .collect();
        let grid: Vec<f64> = theta.iter().map(|t| t.tan()).collect();
        let lp = fit.model.log_predictive(&grid).expect("scores");
        let total: f64 = lp
            .iter()
            .zip(&theta)
            .map(|(v, t)| v.exp() / (t.cos() * t.cos()))
            .sum::<f64>()
            * h;
        assert!((total - 1.0).abs() < 1e-4, "{weight_prior:?}: {total}");
    }
}

#[test]
fn a_dirichlet_process_finds_the_true_number_of_components() {
    // The built-in example's four clusters, from K = 10.
    let (x, truth) = helmholtz::vb::run::mixture2d();
    let params = GmmParams {
        components: 10,
        ..Default::default()
    };
    let fit = params.fit(&x, 2).expect("fits");
    assert_eq!(
        fit.model.effective_components(),
        truth,
        "{:?}",
        fit.model.weights()
    );
}
