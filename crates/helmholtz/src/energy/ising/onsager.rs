//! Exact results for the infinite square-lattice Ising model at `h = 0` (`k_B = 1`, `J > 0`).
//!
//! With `K = J / T`:
//! - critical temperature (Kramers & Wannier 1941, Onsager 1944): `sinh(2 Kc) = 1`, i.e.
//!   `Tc = 2J / ln(1 + sqrt 2) = 2.269185... J`;
//! - spontaneous magnetisation (Onsager 1949, proved by Yang 1952):
//!   `M = (1 - sinh(2K)^-4)^(1/8)` for `T < Tc`, 0 above;
//! - internal energy per spin (Onsager 1944, in the form of Huang, *Statistical Mechanics*):
//!   `u = -J coth(2K) [1 + (2/pi) kappa' K1(kappa)]`,
//!   with `kappa = 2 sinh(2K) / cosh^2(2K)`, `kappa' = 2 tanh^2(2K) - 1`;
//! - specific heat per spin, `c = du/dT`:
//!   `c = (4/pi) (K coth 2K)^2 {K1(kappa) - E1(kappa) - (1 - tanh^2 2K) [pi/2 + kappa' K1(kappa)]}`,
//!   which diverges as `-(8/pi) Kc^2 ln|1 - T/Tc|` at `Tc` (the tests check it against a
//!   numerical derivative of `u`);
//!
//! where `K1(k) = int_0^{pi/2} (1 - k^2 sin^2 t)^(-1/2) dt` and
//! `E1(k) = int_0^{pi/2} (1 - k^2 sin^2 t)^(1/2) dt` are the complete elliptic integrals of the
//! first and second kind (modulus `k`), computed by the arithmetic-geometric mean:
//! `K1(k) = pi / (2 AGM(1, sqrt(1 - k^2)))`, `E1(k) = K1(k) (1 - sum_n 2^(n-1) c_n^2)` with
//! `c_0 = k`, `c_{n+1} = (a_n - b_n) / 2` (Abramowitz & Stegun 17.6). At `Tc`, `kappa = 1` and
//! `K1` diverges logarithmically while `kappa' = 0`; their product vanishes, so `u(Tc) = -sqrt(2) J`.

use std::f64::consts::{FRAC_PI_2, PI, SQRT_2};

/// `Tc / J = 2 / ln(1 + sqrt 2)`.
pub fn critical_temperature(coupling: f64) -> f64 {
    2.0 * coupling / (1.0 + SQRT_2).ln()
}

/// Spontaneous magnetisation per spin `M(T)` (Yang): `(1 - sinh(2J/T)^-4)^(1/8)` below `Tc`.
pub fn spontaneous_magnetization(temperature: f64, coupling: f64) -> f64 {
    let s = (2.0 * coupling / temperature).sinh();
    if s <= 1.0 {
        0.0
    } else {
        (1.0 - s.powi(-4)).powf(0.125)
    }
}

/// Exact internal energy per spin `u(T)` of the infinite lattice.
pub fn internal_energy(temperature: f64, coupling: f64) -> f64 {
    let k2 = 2.0 * coupling / temperature;
    let (kappa, kappa_prime) = moduli(k2);
    coupling * -(1.0 / k2.tanh()) * (1.0 + 2.0 / PI * vanishing_product(kappa_prime, kappa))
}

/// Exact specific heat per spin `c(T)` of the infinite lattice (`+inf` at `Tc`).
pub fn specific_heat(temperature: f64, coupling: f64) -> f64 {
    let k = coupling / temperature;
    let k2 = 2.0 * k;
    let (kappa, kappa_prime) = moduli(k2);
    let (big_k, big_e) = (elliptic_k(kappa), elliptic_e(kappa));
    let t2 = k2.tanh().powi(2);
    let bracket = big_k - big_e - (1.0 - t2) * (FRAC_PI_2 + vanishing_product(kappa_prime, kappa));
    4.0 / PI * (k / k2.tanh()).powi(2) * bracket
}

/// `(kappa, kappa')` for `2K`.
fn moduli(k2: f64) -> (f64, f64) {
    let kappa = (2.0 * k2.sinh() / k2.cosh().powi(2)).min(1.0);
    (kappa, 2.0 * k2.tanh().powi(2) - 1.0)
}

/// `kappa' K1(kappa)`, taken as its limit 0 where `kappa = 1` (there `kappa' = 0` and `K1`
/// diverges only logarithmically).
fn vanishing_product(kappa_prime: f64, kappa: f64) -> f64 {
    let big_k = elliptic_k(kappa);
    if big_k.is_finite() {
        kappa_prime * big_k
    } else {
        0.0
    }
}

/// Arithmetic-geometric mean iterates from `(1, sqrt(1 - k^2))`: returns `(AGM, sum 2^(n-1) c_n^2)`
/// with `c_0 = k`; `c_{n+1} = c_n^2 / (4 a_{n+1})` is `(a_n - b_n) / 2` without its cancellation.
fn agm(k: f64) -> (f64, f64) {
    let (mut a, mut b, mut c) = (1.0f64, (1.0 - k * k).max(0.0).sqrt(), k);
    let mut sum = 0.5 * k * k;
    let mut weight = 0.5;
    for _ in 0..64 {
        if c <= 1e-17 * a {
            break;
        }
        let next = 0.5 * (a + b);
        c = c * c / (4.0 * next);
        (a, b) = (next, (a * b).sqrt());
        weight *= 2.0;
        sum += weight * c * c;
    }
    (a, sum)
}

/// Complete elliptic integral of the first kind `K1(k)`, modulus `0 <= k <= 1` (`inf` at 1).
pub fn elliptic_k(k: f64) -> f64 {
    if k >= 1.0 {
        return f64::INFINITY;
    }
    FRAC_PI_2 / agm(k).0
}

/// Complete elliptic integral of the second kind `E1(k)`, modulus `0 <= k <= 1` (1 at `k = 1`).
pub fn elliptic_e(k: f64) -> f64 {
    if k >= 1.0 {
        return 1.0;
    }
    let (a, sum) = agm(k);
    FRAC_PI_2 / a * (1.0 - sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agm_reproduces_the_lemniscate_values() {
        // K(1/sqrt 2) = Gamma(1/4)^2 / (4 sqrt pi) = 1.8540746773013719 and, by Legendre's
        // relation 2 E K - K^2 = pi/2 at k = 1/sqrt 2, E(1/sqrt 2) = 1.3506438810476755.
        let k = 1.0 / SQRT_2;
        assert!((elliptic_k(k) - 1.854_074_677_301_371_9).abs() < 1e-14);
        assert!((elliptic_e(k) - 1.350_643_881_047_675_5).abs() < 1e-14);
        assert!(
            (elliptic_k(0.0) - FRAC_PI_2).abs() < 1e-15
                && (elliptic_e(0.0) - FRAC_PI_2).abs() < 1e-15
        );
    }
}
