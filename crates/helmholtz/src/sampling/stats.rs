//! Statistics of correlated Markov-chain output: the integrated autocorrelation time and the
//! standard error it implies.

use serde::{Deserialize, Serialize};

/// A mean with its standard error (autocorrelation taken into account).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Standard error `sqrt(2 tau var / n)`.
    pub se: f64,
    /// Integrated autocorrelation time (in samples; 0.5 for independent samples).
    pub tau: f64,
}

/// Integrated autocorrelation time `tau = 1/2 + sum_{t >= 1} rho(t)` with Sokal's automatic
/// window: the sum stops at the first `W` with `W >= c tau(W)`, `c = 5`.
pub fn integrated_autocorrelation_time(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.5;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    if var <= 0.0 {
        return 0.5;
    }
    let mut tau = 0.5;
    for t in 1..n {
        let c: f64 = x[..n - t]
            .iter()
            .zip(&x[t..])
            .map(|(a, b)| (a - mean) * (b - mean))
            .sum::<f64>()
            / (n - t) as f64;
        tau += c / var;
        if t as f64 >= 5.0 * tau {
            break;
        }
    }
    tau.max(0.5)
}

/// Mean and standard error of a correlated series.
pub fn mean_with_error(x: &[f64]) -> Estimate {
    let n = x.len().max(1) as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let tau = integrated_autocorrelation_time(x);
    Estimate {
        mean,
        se: (2.0 * tau * var / n).sqrt(),
        tau,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn tau_of_an_ar1_process_matches_its_closed_form() {
        // x_t = a x_{t-1} + noise has rho(t) = a^t, so tau = 1/2 + a / (1 - a) = (1 + a) / (2 (1 - a)).
        let a: f64 = 0.8;
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let normal = rand_distr::StandardNormal;
        let mut x = vec![0f64; 200_000];
        for t in 1..x.len() {
            x[t] = a * x[t - 1] + rng.sample::<f64, _>(normal);
        }
        let want = (1.0 + a) / (2.0 * (1.0 - a));
        let got = integrated_autocorrelation_time(&x);
        assert!((got - want).abs() < 0.05 * want, "tau {got} vs {want}");
        // Independent samples: tau = 1/2.
        let iid: Vec<f64> = (0..100_000).map(|_| rng.random::<f64>()).collect();
        assert!((integrated_autocorrelation_time(&iid) - 0.5).abs() < 0.05);
    }
}
