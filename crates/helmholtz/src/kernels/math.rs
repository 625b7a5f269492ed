//! Branch-free `f32` elementary functions that vectorise (AVX-512 / AVX2) inside our row kernels.
//!
//! `exp` and `ln` are the Cephes single-precision polynomials (S. L. Moshier); `log1p` uses
//! Goldberg's trick `ln(u) * x / (u - 1)` with `u = 1 + x`; `expm1` switches to a Taylor
//! polynomial near zero. Accuracy (checked in the tests against `std`): a few ulp.

/// `e^x`, with the argument clamped to the range where the result is a normal `f32`.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const MAX: f32 = 88.376_26;
    const MIN: f32 = -87.336_55;
    let x = x.clamp(MIN, MAX);
    // n = round(x / ln 2) by the 1.5 * 2^23 trick: adding it leaves n in the low mantissa
    // bits, so both the float and the integer n come out without a conversion instruction
    // (`round` would call libm and `as i32` is a saturating, per-lane scalar conversion).
    let shifted = x * std::f32::consts::LOG2_E + 12_582_912.0;
    let n = shifted - 12_582_912.0;
    let n_int = shifted.to_bits() as i32 - 0x4b40_0000;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((n_int + 127) as u32) << 23)
}

/// Natural logarithm of a positive normal `f32`.
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    // Mantissa scaled into [0.5, 1).
    let mut m = f32::from_bits((bits & 0x807f_ffff) | 0x3f00_0000);
    let small = m < std::f32::consts::FRAC_1_SQRT_2;
    e -= i32::from(small);
    m = if small { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let y = 7.037_683_6e-2f32;
    let y = y * m - 1.151_461e-1;
    let y = y * m + 1.167_699_9e-1;
    let y = y * m - 1.242_014_1e-1;
    let y = y * m + 1.424_932_3e-1;
    let y = y * m - 1.666_805_8e-1;
    let y = y * m + 2.000_071_4e-1;
    let y = y * m - 2.499_999_4e-1;
    let y = y * m + 3.333_333e-1;
    let ef = e as f32;
    let y = y * m * z - 2.121_944_4e-4 * ef - 0.5 * z;
    m + y + 0.693_359_4 * ef
}

/// `ln(1 + x)` for `x > -1`, accurate for tiny `x`.
#[inline(always)]
pub fn log1p(x: f32) -> f32 {
    let u = 1.0 + x;
    let d = u - 1.0;
    if d == 0.0 { x } else { ln(u) * (x / d) }
}

/// `e^x - 1`, accurate near zero.
#[inline(always)]
pub fn expm1(x: f32) -> f32 {
    // |x| < 0.5: Taylor series to x^8 (truncation below 2e-7 relative).
    let t = 1.0 / 40_320.0f32;
    let t = t * x + 1.0 / 5_040.0;
    let t = t * x + 1.0 / 720.0;
    let t = t * x + 1.0 / 120.0;
    let t = t * x + 1.0 / 24.0;
    let t = t * x + 1.0 / 6.0;
    let t = t * x + 0.5;
    let near = (t * x) * x + x;
    if x.abs() < 0.5 { near } else { exp(x) - 1.0 }
}

/// The logistic function `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `ln(1 + e^x)`, stable for large `|x|`.
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + log1p(exp(-x.abs()))
}

/// `softplus(b * a) - softplus(c * a)` for `b >= c >= 0`, without cancellation.
///
/// With `d = (b - c) |a|` and `v = c |a|`:
/// `softplus(b|a|) - softplus(c|a|) = d + log1p(sigmoid(-v) * expm1(-d))`, and for `a < 0` the
/// identity `softplus(x) = x + softplus(-x)` removes the `d`. Every term is accurate relative
/// to the result, which matters in annealed importance sampling where `b - c` is ~1e-5.
#[inline(always)]
pub fn softplus_step(a: f32, c: f32, b: f32) -> f32 {
    let abs = a.abs();
    let d = (b - c) * abs;
    let v = c * abs;
    let tail = log1p(sigmoid(-v) * expm1(-d));
    if a >= 0.0 { d + tail } else { tail }
}

/// `e^x` in f64 for `x <= 709` (0 below -708, where the result would be subnormal), within
/// 2 ulp of `std`'s: `x = n ln 2 + r` with `|r| <= ln 2 / 2` (ln 2 split in two for an exact
/// product), the Taylor series of `e^r` to degree 13 (remainder below 1e-17 relative), and
/// `2^n` written into the exponent bits. Branch-free, so loops over it vectorise.
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let small = x < -708.0;
    let x = x.clamp(-708.0, 709.0);
    // n = round(x / ln 2) by the 1.5 * 2^52 trick (no libm call, no conversion instruction).
    let shifted = x * std::f64::consts::LOG2_E + 6_755_399_441_055_744.0;
    let n = shifted - 6_755_399_441_055_744.0;
    let n_int = shifted.to_bits() as i64 - 0x4338_0000_0000_0000;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let y = p * f64::from_bits(((n_int + 1023) as u64) << 52);
    if small { 0.0 } else { y }
}

/// The standard normal quantile function (Acklam's rational approximation, relative error
/// below 1.2e-9), for `p` in (0, 1).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(lo: f32, hi: f32, n: usize) -> impl Iterator<Item = f32> {
        (0..=n).map(move |i| lo + (hi - lo) * i as f32 / n as f32)
    }

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b.abs().max(1e-30)).abs()
    }

    #[test]
    fn exp_f64_is_within_two_ulp_of_std() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -708.0 + 1417.0 * f64::from(i) / 200_000.0;
            let (a, b) = (exp_f64(x), x.exp());
            worst = worst.max((a - b).abs() / (b * f64::EPSILON));
        }
        assert!(worst <= 2.0, "{worst} ulp");
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(-800.0), 0.0);
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn exp_matches_std() {
        for x in grid(-87.0, 88.0, 100_000) {
            let r = rel(exp(x) as f64, (x as f64).exp());
            assert!(r < 4e-7, "exp({x}): rel err {r}");
        }
    }

    #[test]
    fn ln_matches_std() {
        for x in grid(1e-30, 10.0, 50_000).chain(grid(10.0, 1e30, 50_000)) {
            let err = (ln(x) as f64 - (x as f64).ln()).abs();
            assert!(
                err < 2e-7 * (x as f64).ln().abs().max(1.0),
                "ln({x}): err {err}"
            );
        }
    }

    #[test]
    fn log1p_and_expm1_are_accurate_near_zero() {
        for x in grid(-0.9, 4.0, 50_000).chain(grid(-1e-6, 1e-6, 1000)) {
            if x == 0.0 {
                continue;
            }
            let r = rel(log1p(x) as f64, (x as f64).ln_1p());
            assert!(r < 5e-7, "log1p({x}): rel err {r}");
        }
        for x in grid(-20.0, 5.0, 50_000).chain(grid(-1e-6, 1e-6, 1000)) {
            if x == 0.0 {
                continue;
            }
            let r = rel(expm1(x) as f64, (x as f64).exp_m1());
            assert!(r < 5e-7, "expm1({x}): rel err {r}");
        }
    }

    #[test]
    fn sigmoid_and_softplus_match_f64() {
        for x in grid(-80.0, 80.0, 100_000) {
            let xd = x as f64;
            let s = 1.0 / (1.0 + (-xd).exp());
            assert!(
                rel(sigmoid(x) as f64, s) < 5e-7 || x < -70.0,
                "sigmoid({x})"
            );
            let sp = xd.max(0.0) + (-xd.abs()).exp().ln_1p();
            assert!(
                (softplus(x) as f64 - sp).abs() < 5e-7 * sp.max(1.0),
                "softplus({x})"
            );
        }
    }

    #[test]
    fn softplus_step_matches_f64_difference() {
        let sp = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        for a in grid(-30.0, 30.0, 2_000) {
            for &(c, b) in &[
                (0.0f32, 1e-3f32),
                (0.5, 0.5001),
                (0.9, 0.90001),
                (0.99999, 1.0),
                (0.2, 0.7),
            ] {
                let exact = sp(b as f64 * a as f64) - sp(c as f64 * a as f64);
                let got = softplus_step(a, c, b) as f64;
                assert!(
                    (got - exact).abs() <= 1e-6 * exact.abs() + 1e-12,
                    "a={a} c={c} b={b}: got {got}, exact {exact}"
                );
            }
        }
    }

    #[test]
    fn normal_quantiles_match_tables() {
        // Phi^{-1}(0.975) = 1.959963984540054, Phi^{-1}(0.5) = 0, Phi^{-1}(0.01) = -2.326347874040841.
        assert!((inverse_normal_cdf(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!(inverse_normal_cdf(0.5).abs() < 1e-12);
        assert!((inverse_normal_cdf(0.01) + 2.326_347_874_040_841).abs() < 1e-8);
    }
}
