//! Observables of a chain: per-measurement energy and magnetisation, and the estimates built
//! from their series.
//!
//! With `e = H / N` and `m = M / N` measured after every sweep:
//! - `<e>`, `<|m|>`, `<m^2>`, `<m^4>` with autocorrelation-aware standard errors
//!   ([`mean_with_error`]: `sqrt(2 tau var / n)`, `tau` the integrated autocorrelation time);
//! - susceptibility `chi = beta N (<m^2> - <|m|>^2)` (the connected one of a finite lattice,
//!   where `<m> = 0` by symmetry);
//! - specific heat `C = beta^2 N (<e^2> - <e>^2)` per spin (fluctuation-dissipation);
//! - Binder cumulant `U4 = 1 - <m^4> / (3 <m^2>^2)`: 2/3 in the ordered phase, 0 for a
//!   Gaussian `m` above `Tc`, and nearly independent of `L` at `Tc`.
//!
//! The errors of `chi`, `C` and `U4` are from a jackknife over 20 consecutive blocks of the
//! series (blocks much longer than `tau` are nearly independent).

use serde::{Deserialize, Serialize};

use crate::sampling::{Estimate, mean_with_error};

/// One measurement: energy and magnetisation per spin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// `e = H / N`.
    pub energy: f64,
    /// `m = M / N`.
    pub magnetization: f64,
}

/// A derived quantity with its jackknife standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// Estimate from the whole series.
    pub value: f64,
    /// Jackknife standard error.
    pub se: f64,
}

/// Everything estimated from one chain's series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observables {
    /// Measurements used.
    pub samples: usize,
    /// `<e>`.
    pub energy: Estimate,
    /// `<|m|>`.
    pub abs_magnetization: Estimate,
    /// `<m^2>`.
    pub magnetization_sq: Estimate,
    /// `<m^4>`.
    pub magnetization_4: Estimate,
    /// `chi = beta N (<m^2> - <|m|>^2)`.
    pub susceptibility: Derived,
    /// `C = beta^2 N (<e^2> - <e>^2)`.
    pub specific_heat: Derived,
    /// `U4 = 1 - <m^4> / (3 <m^2>^2)`.
    pub binder: Derived,
}

/// Jackknife blocks.
const BLOCKS: usize = 20;

/// Per-sample moments: `e, e^2, |m|, m^2, m^4`.
fn moments(x: &Measurement) -> [f64; 5] {
    let (e, m2) = (x.energy, x.magnetization * x.magnetization);
    [e, e * e, x.magnetization.abs(), m2, m2 * m2]
}

/// `(chi, C, U4)` from the means of [`moments`].
fn derived(mean: &[f64; 5], beta: f64, spins: f64) -> [f64; 3] {
    let [e, e2, am, m2, m4] = *mean;
    [
        beta * spins * (m2 - am * am),
        beta * beta * spins * (e2 - e * e),
        1.0 - m4 / (3.0 * m2 * m2),
    ]
}

/// Estimates from a series measured at inverse temperature `beta` on `spins` sites.
pub fn observables(series: &[Measurement], beta: f64, spins: usize) -> Observables {
    let column = |k: usize| -> Vec<f64> { series.iter().map(|x| moments(x)[k]).collect() };
    let (value, error) = jackknife(series, beta, spins as f64);
    let pack = |k: usize| Derived {
        value: value[k],
        se: error[k],
    };
    Observables {
        samples: series.len(),
        energy: mean_with_error(&column(0)),
        abs_magnetization: mean_with_error(&column(2)),
        magnetization_sq: mean_with_error(&column(3)),
        magnetization_4: mean_with_error(&column(4)),
        susceptibility: pack(0),
        specific_heat: pack(1),
        binder: pack(2),
    }
}

/// Whole-series values of `(chi, C, U4)` and their delete-one-block jackknife errors.
fn jackknife(series: &[Measurement], beta: f64, spins: f64) -> ([f64; 3], [f64; 3]) {
    let n = series.len();
    let blocks = BLOCKS.min(n);
    let mut block_sums = vec![[0.0; 5]; blocks];
    let mut counts = vec![0usize; blocks];
    let mut total = [0.0; 5];
    for (i, x) in series.iter().enumerate() {
        let b = i * blocks / n.max(1);
        counts[b] += 1;
        for (k, v) in moments(x).into_iter().enumerate() {
            block_sums[b][k] += v;
            total[k] += v;
        }
    }
    let whole = derived(&total.map(|t| t / n.max(1) as f64), beta, spins);
    if blocks < 2 {
        return (whole, [f64::NAN; 3]);
    }
    let leave_out: Vec<[f64; 3]> = (0..blocks)
        .map(|b| {
            let rest = (n - counts[b]) as f64;
            let mean = std::array::from_fn(|k| (total[k] - block_sums[b][k]) / rest);
            derived(&mean, beta, spins)
        })
        .collect();
    let error = std::array::from_fn(|k| {
        let avg = leave_out.iter().map(|d| d[k]).sum::<f64>() / blocks as f64;
        let ss = leave_out.iter().map(|d| (d[k] - avg).powi(2)).sum::<f64>();
        ((blocks - 1) as f64 / blocks as f64 * ss).sqrt()
    });
    (whole, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_quantities_of_a_two_state_series() {
        // m alternates between +1 and -1, e between -2 and -1: <|m|> = 1, <m^2> = <m^4> = 1, so
        // chi = 0 and U4 = 1 - 1/3 = 2/3; Var(e) = 1/4, so C = beta^2 N / 4.
        let series: Vec<Measurement> = (0..400)
            .map(|i| Measurement {
                energy: if i % 2 == 0 { -2.0 } else { -1.0 },
                magnetization: if i % 2 == 0 { 1.0 } else { -1.0 },
            })
            .collect();
        let o = observables(&series, 0.5, 16);
        assert!(o.susceptibility.value.abs() < 1e-12);
        assert!((o.binder.value - 2.0 / 3.0).abs() < 1e-12);
        assert!((o.specific_heat.value - 0.25 * 16.0 / 4.0).abs() < 1e-12);
        assert!((o.energy.mean + 1.5).abs() < 1e-12 && o.binder.se < 1e-12);
    }
}
