//! The annealing kernel: [`LANES`] independent reads advanced together, one per SIMD lane.
//!
//! Every read visits the spins in the same order, so one pass over the CSR adjacency serves
//! [`LANES`] reads: for spin `i` each lane computes `dE = -2 s_i f_i`, draws `u` from its own
//! xoshiro256++ stream and flips where `dE <= 0` or `u < exp(-beta dE)`; then every neighbour's
//! field moves by `w_ij * step` with `step = -2 s_i` in the lanes that flipped and 0 elsewhere.
//! No branch depends on a lane, so the body compiles to AVX-512 (8 lanes in one register) or
//! AVX2 code. `exp(-x)` is evaluated here as a polynomial (relative error below 1e-15, see the
//! tests) because libm's scalar `exp`, which [`crate::sampling::metropolis_acceptance`] calls,
//! cannot be vectorised; acceptance is otherwise exactly Metropolis, with no cut-off.
//!
//! Lanes never interact, and only basic IEEE operations are used (no fused multiply-add), so a
//! read's result depends on its seed alone: not on the batch it shares, the thread, or the CPU.
//!
//! # Shapes
//! `s`, `f`: `[n]` of [`Lane`] (`[LANES]` `f64`, spins as ±1.0); seeds `[LANES]`.

use super::problem::IsingProblem;
use crate::kernels::multiversion;
use crate::kernels::xoshiro::Xoshiro8;

/// Reads advanced together (one AVX-512 register of `f64`).
pub(crate) use crate::kernels::xoshiro::LANES;

/// One value per read, aligned to a cache line.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(64))]
pub(crate) struct Lane(pub [f64; LANES]);

/// The lane generator: eight xoshiro256++ streams, one per read.
pub(crate) type LaneRng = Xoshiro8;

/// `e^-x` for `x >= 0` (larger `x` clamped to 700, where `e^-x` is still a normal `f64`).
///
/// `x = k ln 2 + r`, `|r| <= ln 2 / 2`, with `k` rounded by the `1.5 * 2^52` trick and `ln 2`
/// split in two (Cody & Waite); `e^-r` by its Taylor series to `r^12` (evaluated by Estrin's scheme), whose remainder
/// `r^13 / 13!` is below `2e-16`; `2^-k` built in the exponent bits.
#[inline(always)]
pub(crate) fn exp_neg(x: f64) -> f64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = x.clamp(0.0, 700.0);
    let shifted = x * std::f64::consts::LOG2_E + SHIFT;
    let k = shifted - SHIFT;
    let k_int = shifted.to_bits() as i64 - SHIFT.to_bits() as i64;
    let r = (k * LN2_HI - x) + k * LN2_LO; // -x + k ln 2, in [-ln2/2, ln2/2]
    // Estrin's scheme: the same polynomial as Horner's with a dependency chain of depth 8, not 24.
    let c = |k: usize| 1.0 / FACTORIALS[k];
    let (r2, q) = (r * r, |k: usize| c(k) + c(k + 1) * r);
    let r4 = r2 * r2;
    let low = (q(0) + q(2) * r2) + (q(4) + q(6) * r2) * r4;
    let high = (q(8) + q(10) * r2) + c(12) * r4;
    let p = low + high * (r4 * r4);
    p * f64::from_bits(((1023 - k_int) as u64) << 52)
}

/// `k!` for `k = 0..=12`.
const FACTORIALS: [f64; 13] = [
    1.0,
    1.0,
    2.0,
    6.0,
    24.0,
    120.0,
    720.0,
    5040.0,
    40_320.0,
    362_880.0,
    3_628_800.0,
    39_916_800.0,
    479_001_600.0,
];

/// Draw the starting spins of every lane.
pub(crate) fn random_spins(n: usize, rng: &mut LaneRng) -> Vec<Lane> {
    (0..n)
        .map(|_| Lane(rng.next().map(|x| if x >> 63 == 0 { 1.0 } else { -1.0 })))
        .collect()
}

/// Local fields `f_i = h_i + sum_j J_ij s_j` of every lane.
pub(crate) fn lane_fields(p: &IsingProblem, s: &[Lane]) -> Vec<Lane> {
    (0..p.len())
        .map(|i| {
            let mut f = [p.fields()[i]; LANES];
            let (nb, w) = p.neighbourhood(i);
            for (&j, &w) in nb.iter().zip(w) {
                for (fl, sl) in f.iter_mut().zip(&s[j as usize].0) {
                    *fl += w * sl;
                }
            }
            Lane(f)
        })
        .collect()
}

/// The Metropolis decision of every lane for a spin with values `s` and local fields `f`:
/// `(step, de)`, where `step = -2 s` and `de` is the energy change in the lanes that flip, and
/// 0 in the others. Element-wise only, so it vectorises.
#[inline(always)]
fn decide(
    s: &[f64; LANES],
    f: &[f64; LANES],
    u: &[f64; LANES],
    beta: f64,
) -> ([f64; LANES], [f64; LANES]) {
    let mut step = [0.0; LANES];
    let mut moved = [0.0; LANES];
    for l in 0..LANES {
        let de = -2.0 * s[l] * f[l];
        let flip = (de <= 0.0) | (u[l] < exp_neg(beta * de));
        step[l] = if flip { -2.0 * s[l] } else { 0.0 };
        moved[l] = if flip { de } else { 0.0 };
    }
    (step, moved)
}

multiversion! {
    /// One Metropolis sweep over the spins in `order` at `beta`; adds each lane's accepted `dE`
    /// to `moved`.
    pub(crate) fn sweep(p: &IsingProblem, s: &mut [Lane], f: &mut [Lane], rng: &mut LaneRng, beta: f64, moved: &mut [f64; LANES], order: &[u32]) {
        let mut total = *moved;
        for &i in order {
            let i = i as usize;
            let u = rng.uniform();
            let (step, de) = decide(&s[i].0, &f[i].0, &u, beta);
            for l in 0..LANES {
                total[l] += de[l];
                s[i].0[l] += step[l];
            }
            // Branch-free: lanes that did not flip add 0 (cheaper than mispredicting a skip).
            let (nb, w) = p.neighbourhood(i);
            for (&j, &w) in nb.iter().zip(w) {
                let fj = &mut f[j as usize].0;
                for l in 0..LANES {
                    fj[l] += w * step[l];
                }
            }
        }
        *moved = total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::metropolis_acceptance;

    #[test]
    fn exp_neg_matches_libm() {
        let mut worst = 0.0f64;
        for k in 0..=70_000 {
            let x = k as f64 * 0.01;
            let (got, want) = (exp_neg(x), (-x).exp());
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
        // The acceptance it gives is the shared Metropolis rule.
        for &(de, beta) in &[(0.5, 2.0), (3.0, 0.1), (10.0, 5.0)] {
            let p: f64 = metropolis_acceptance(de, beta);
            assert!((exp_neg(beta * de) - p).abs() <= 1e-15 * p);
        }
    }

    #[test]
    fn lanes_draw_uniforms_in_the_unit_interval() {
        let mut rng = LaneRng::from_seeds([1, 2, 3, 4, 5, 6, 7, 8]);
        let (mut sum, n) = (0.0, 20_000);
        for _ in 0..n {
            let u = rng.uniform();
            assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
            sum += u.iter().sum::<f64>();
        }
        // Mean of 160,000 uniforms: 0.5 with standard error 1/sqrt(12 * 160000) = 7.2e-4.
        let mean = sum / (n * LANES) as f64;
        assert!((mean - 0.5).abs() < 4.0 * 7.2e-4, "mean {mean}");
    }
}
