//! Exact thermal averages of tiny lattices by enumerating all `2^N` configurations.
//!
//! `<f> = sum_s f(s) exp(-beta H(s)) / Z` over every `s in {-1, +1}^N`, accumulated with the
//! largest exponent factored out so that no term overflows. `N <= 20` (65,536 states for the
//! 4 x 4 lattice).

use serde::{Deserialize, Serialize};

use super::lattice::{IsingModel, Lattice};
use crate::error::{Error, Result, check};

/// Largest number of spins enumerated.
pub const MAX_EXACT_SPINS: usize = 20;

/// Exact canonical averages per spin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExactAverages {
    /// `<e>`, `e = H / N`.
    pub energy: f64,
    /// `<e^2>`.
    pub energy_sq: f64,
    /// `<|m|>`, `m = M / N`.
    pub abs_magnetization: f64,
    /// `<m^2>`.
    pub magnetization_sq: f64,
    /// `<m^4>`.
    pub magnetization_4: f64,
    /// `ln Z`.
    pub log_partition: f64,
}

/// Enumerate the `2^(L^2)` states of `model` at temperature `T`.
pub fn exact_averages(model: &IsingModel, temperature: f64) -> Result<ExactAverages> {
    model.validate()?;
    check::positive("temperature", temperature)?;
    let n = model.spins();
    if n > MAX_EXACT_SPINS {
        return Err(Error::param(
            "size",
            format!("exact enumeration is limited to {MAX_EXACT_SPINS} spins (got {n})"),
        ));
    }
    let beta = 1.0 / temperature;
    let states: Vec<(f64, f64)> = (0u32..1 << n)
        .map(|bits| state_energy(model, bits))
        .collect();
    let nf = n as f64;
    let max_exponent = states
        .iter()
        .map(|&(e, _)| -beta * e)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut sums = [0.0f64; 6];
    for &(e, m) in &states {
        let w = (-beta * e - max_exponent).exp();
        let (e, m) = (e / nf, m / nf);
        let terms = [1.0, e, e * e, m.abs(), m * m, m.powi(4)];
        for (s, t) in sums.iter_mut().zip(terms) {
            *s += w * t;
        }
    }
    let z = sums[0];
    Ok(ExactAverages {
        energy: sums[1] / z,
        energy_sq: sums[2] / z,
        abs_magnetization: sums[3] / z,
        magnetization_sq: sums[4] / z,
        magnetization_4: sums[5] / z,
        log_partition: z.ln() + max_exponent,
    })
}

/// `(H, M)` of the state whose spin `i` is up when bit `i` of `bits` is set.
fn state_energy(model: &IsingModel, bits: u32) -> (f64, f64) {
    let mut lattice = Lattice::ordered(model.size);
    for (i, s) in lattice.spins_mut().iter_mut().enumerate() {
        *s = if bits >> i & 1 == 1 { 1 } else { -1 };
    }
    let m = lattice.magnetization_sum();
    (model.energy_of(lattice.bond_sum(), m), m as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_by_two_partition_function_in_closed_form() -> Result<()> {
        // L = 2 periodic: each site has its two horizontal and two vertical bonds doubled, so
        // H = -2J (s1 s2 + s3 s4 + s1 s3 + s2 s4) over the 2x2 block. The 16 states: all up or
        // all down (E = -8J, 2 states), one spin flipped (E = 0, 8 states), two flipped in a
        // row or column (E = 0, 4 states), two flipped on a diagonal (E = +8J, 2 states):
        // Z = 2 e^{8 beta J} + 12 + 2 e^{-8 beta J}.
        let model = IsingModel {
            size: 2,
            coupling: 1.0,
            field: 0.0,
        };
        let beta: f64 = 0.3;
        let want = (2.0 * (8.0 * beta).exp() + 12.0 + 2.0 * (-8.0 * beta).exp()).ln();
        let got = exact_averages(&model, 1.0 / beta)?;
        assert!(
            (got.log_partition - want).abs() < 1e-12,
            "{} vs {want}",
            got.log_partition
        );
        // <E> = -d ln Z / d beta = -8 (2 e^{8b} - 2 e^{-8b}) / Z, per spin / 4.
        let z = want.exp();
        let e = -8.0 * (2.0 * (8.0 * beta).exp() - 2.0 * (-8.0 * beta).exp()) / z / 4.0;
        assert!((got.energy - e).abs() < 1e-12);
        Ok(())
    }
}
