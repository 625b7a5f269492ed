//! xoshiro256++ (Blackman & Vigna 2019): the fast generator of the Ising samplers and the
//! annealer, one scalar stream per row block of the checkerboard sweep and per Wolff chain, and
//! eight streams side by side ([`Xoshiro8`]) for the multi-spin-coded sweep and the annealer's
//! SIMD lanes, where one call fills a vector register.
//!
//! Every stream is seeded from the user seed through [`crate::rng::derive_seed`]; the four
//! state words are the first four outputs of SplitMix64 from that seed, as the authors advise.

use crate::rng::{GOLDEN_GAMMA, derive_seed, splitmix64};

/// One xoshiro256++ stream.
#[derive(Debug, Clone)]
pub(crate) struct Xoshiro256pp {
    s: [u64; 4],
}

/// The four state words SplitMix64 gives for `seed` (never all zero: SplitMix64 is a bijection
/// of consecutive distinct inputs).
fn expand(seed: u64) -> [u64; 4] {
    let mut z = seed;
    std::array::from_fn(|_| {
        z = z.wrapping_add(GOLDEN_GAMMA);
        splitmix64(z)
    })
}

impl Xoshiro256pp {
    /// The stream named by `path` under the user `seed`.
    pub(crate) fn stream(seed: u64, path: &[u64]) -> Self {
        Self::from_state(expand(derive_seed(seed, path)))
    }

    /// A generator with the given raw state (for the reference test vector).
    pub(crate) fn from_state(s: [u64; 4]) -> Self {
        Self { s }
    }

    /// The next 64 random bits.
    #[inline(always)]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// A uniform number in `[0, 1)` with 53 random bits.
    #[inline(always)]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (`n >= 1`), by Lemire's multiply-shift (bias below `n / 2^64`).
    #[inline(always)]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// Lanes of [`Xoshiro8`]: one AVX-512 register of 64-bit words.
pub(crate) const LANES: usize = 8;

/// Eight independent xoshiro256++ streams stored lane-wise, so that one step of all eight
/// compiles to a handful of vector instructions.
#[derive(Debug, Clone)]
pub(crate) struct Xoshiro8 {
    s: [[u64; LANES]; 4],
}

impl Xoshiro8 {
    /// Lane `l` is the scalar stream `path ++ [l]`.
    pub(crate) fn stream(seed: u64, path: &[u64]) -> Self {
        let mut s = [[0u64; LANES]; 4];
        let mut lane_path = path.to_vec();
        lane_path.push(0);
        let last = path.len();
        for l in 0..LANES {
            lane_path[last] = l as u64;
            let state = expand(derive_seed(seed, &lane_path));
            for (row, word) in s.iter_mut().zip(state) {
                row[l] = word;
            }
        }
        Self { s }
    }

    /// Lane `l` seeded from `seeds[l]` (expanded to 256 bits by SplitMix64).
    pub(crate) fn from_seeds(seeds: [u64; LANES]) -> Self {
        let mut s = [[0u64; LANES]; 4];
        for (l, &seed) in seeds.iter().enumerate() {
            for (row, word) in s.iter_mut().zip(expand(seed)) {
                row[l] = word;
            }
        }
        Self { s }
    }

    /// Uniform in `[0, 1)` with 52 random bits per lane: the top bits as the mantissa of a
    /// number in `[1, 2)`, minus one (integer operations only, so it vectorises).
    #[inline(always)]
    pub(crate) fn uniform(&mut self) -> [f64; LANES] {
        self.next()
            .map(|x| f64::from_bits((x >> 12) | 0x3ff0_0000_0000_0000) - 1.0)
    }

    /// The next 64 random bits of each lane.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> [u64; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0u64; LANES];
        for l in 0..LANES {
            out[l] = s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_outputs_match_the_reference_algorithm() {
        // xoshiro256plusplus.c with s = {1, 2, 3, 4}: the first output is
        // rotl(s0 + s3, 23) + s0 = (5 << 23) + 1 = 41943041; the state then becomes
        // {7, 0, 262146, 211106232532992} (t = 2 << 17; s2 = 3^1 ^ t; s3 = rotl(4^2, 45)).
        let mut g = Xoshiro256pp::from_state([1, 2, 3, 4]);
        assert_eq!(g.next_u64(), 41_943_041);
        assert_eq!(g.s, [7, 0, 262_146, 211_106_232_532_992]);
    }

    #[test]
    fn lanes_equal_their_scalar_streams() {
        let mut v = Xoshiro8::stream(9, &[4, 5]);
        let mut scalars: Vec<Xoshiro256pp> = (0..LANES as u64)
            .map(|l| Xoshiro256pp::stream(9, &[4, 5, l]))
            .collect();
        for _ in 0..3 {
            let got = v.next();
            for (l, g) in scalars.iter_mut().enumerate() {
                assert_eq!(got[l], g.next_u64());
            }
        }
    }

    #[test]
    fn uniform_and_below_stay_in_range_with_the_right_mean() {
        // The mean of n uniforms has standard deviation 1 / sqrt(12 n) = 0.0009 for n = 1e5.
        let mut g = Xoshiro256pp::stream(1, &[]);
        let n = 100_000;
        let mean = (0..n).map(|_| g.uniform()).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((0..1000).all(|_| g.below(7) < 7));
    }
}
