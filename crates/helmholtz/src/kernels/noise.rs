//! Counter-based random numbers: the `i`-th value of stream `key` is a pure function of
//! `(key, i)` (the SplitMix64 sequence read at position `i`), so any split of a buffer over
//! threads produces the same numbers.

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
}
