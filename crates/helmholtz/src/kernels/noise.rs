//! Counter-based random numbers: the `i`-th value of stream `key` is a pure function of
//! `(key, i)` (the SplitMix64 sequence read at position `i`), so any split of a buffer over
//! threads produces the same numbers.

use super::math::ln;
use super::multiversion;
use crate::rng::{GOLDEN_GAMMA, splitmix64};

/// Uniform in [0, 1) with 24 random bits, the `i`-th draw of stream `key`.
#[inline(always)]
pub fn uniform(key: u64, i: u64) -> f32 {
    let bits = splitmix64(key.wrapping_add(i.wrapping_mul(GOLDEN_GAMMA)));
    (bits >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// A standard normal draw for element `i` of stream `key` (Box-Muller on two 24-bit uniforms;
/// uses scalar `ln`/`cos`, so it is for the less hot Gaussian paths).
#[inline]
pub fn normal(key: u64, i: u64) -> f32 {
    let bits = splitmix64(key.wrapping_add(i.wrapping_mul(GOLDEN_GAMMA)));
    // Two independent 32-bit halves; u1 in (0, 1] keeps the log finite.
    let u1 = ((bits >> 32) as f64 + 1.0) / 4_294_967_296.0;
    let u2 = (bits & 0xffff_ffff) as f64 / 4_294_967_296.0;
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// A standard Gumbel draw `-ln(-ln u)` for element `i` of stream `key`, with `u` from 23
/// random bits `k` moved half a step up, `u = (k + 1/2) / 2^23` (exact in `f32`), so that `u`
/// lies strictly inside (0, 1) and the result is finite (between -2.9 and 16.7).
#[inline(always)]
pub fn gumbel(key: u64, i: u64) -> f32 {
    let bits = splitmix64(key.wrapping_add(i.wrapping_mul(GOLDEN_GAMMA)));
    let u = ((bits >> 41) as f32 + 0.5) * (1.0 / 8_388_608.0);
    -ln(-ln(u))
}

multiversion! {
    /// `out[j] = gumbel(key, first + j)`: the Gumbel noise of one block, vectorised. The host
    /// engines and the tensor path fill their noise with this one function, so both see the
    /// same values bit for bit.
    pub fn gumbel_fill(out: &mut [f32], key: u64, first: u64) {
        for (j, g) in out.iter_mut().enumerate() {
            *g = gumbel(key, first + j as u64);
        }
    }
}

multiversion! {
    /// `out[j] = uniform(key, first + j)`, vectorised.
    pub fn uniform_fill(out: &mut [f32], key: u64, first: u64) {
        for (j, u) in out.iter_mut().enumerate() {
            *u = uniform(key, first + j as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_moments() {
        let n = 1_000_000u64;
        let (mut s, mut s2) = (0f64, 0f64);
        for i in 0..n {
            let u = uniform(7, i) as f64;
            assert!((0.0..1.0).contains(&u));
            s += u;
            s2 += u * u;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        // Mean 1/2 with standard error sqrt(1/12 / n) = 2.9e-4; variance 1/12.
        assert!((mean - 0.5).abs() < 5.0 * 2.9e-4, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 1e-3, "var {var}");
    }

    #[test]
    fn normal_moments() {
        let n = 400_000u64;
        let (mut s, mut s2, mut s4) = (0f64, 0f64, 0f64);
        for i in 0..n {
            let z = normal(11, i) as f64;
            s += z;
            s2 += z * z;
            s4 += z * z * z * z;
        }
        let nf = n as f64;
        // Standard errors: mean 1/sqrt(n) = 1.6e-3, E z^2 sqrt(2/n) = 2.2e-3, E z^4 sqrt(96/n) = 0.015.
        assert!((s / nf).abs() < 5.0 * 1.6e-3);
        assert!((s2 / nf - 1.0).abs() < 5.0 * 2.2e-3);
        assert!((s4 / nf - 3.0).abs() < 5.0 * 0.015);
    }

    #[test]
    fn gumbel_moments_and_range() {
        // Standard Gumbel: mean = Euler's gamma 0.5772, variance pi^2 / 6 = 1.6449.
        let n = 1_000_000usize;
        let mut g = vec![0f32; n];
        gumbel_fill(&mut g, 5, 0);
        assert_eq!(g[123], gumbel(5, 123));
        assert!(g.iter().all(|v| (-2.9..16.7).contains(v)));
        let mean = g.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
        let var = g
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        // Standard errors: sqrt(1.645 / n) = 1.3e-3 for the mean, about 4e-3 for the variance.
        assert!((mean - 0.577_215_7).abs() < 5.0 * 1.3e-3, "mean {mean}");
        assert!((var - 1.644_934).abs() < 0.02, "var {var}");
        // The extremes of the grid: k = 0 and k = 2^23 - 1.
        let lo = -ln(-ln(0.5 / 8_388_608.0));
        let hi = -ln(-ln(8_388_607.5 / 8_388_608.0));
        assert!(
            (lo + 2.81).abs() < 0.01 && (hi - 16.64).abs() < 0.01,
            "{lo} {hi}"
        );
    }
}
