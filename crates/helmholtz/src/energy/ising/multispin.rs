//! Multi-spin-coded Metropolis at `h = 0`, `J > 0`: 64 spins per `u64`, updated with bit logic.
//!
//! # Layout
//! The two colours of the checkerboard (see the checkerboard module) are stored as bits, 1 for
//! spin up. Row `y` of colour `c` holds `n = L/2` sites in `nw = n / 64` words, *strided*: site
//! `j` is bit `j / nw` of word `j mod nw`. Then the neighbours of the 64 sites of word `w` are
//! whole words of the other colour: word `w` of rows `y +- 1`, word `w` of row `y`, and word
//! `w - 1` (if `c + y` is even) or `w + 1` (odd) of row `y`; at the row ends this last word is
//! the far end word rotated by one bit (`rotl(W[nw-1], 1)` for `j - 1` at `w = 0`,
//! `rotr(W[0], 1)` for `j + 1` at `w = nw - 1`), which is exactly the periodic wrap. Hence
//! `L` must be a multiple of 128.
//!
//! # Update
//! With `a_k = s XOR n_k` (1 where neighbour `k` is anti-aligned) and `c = sum_k a_k`, flipping
//! costs `dE = 2J (4 - 2c)`: accept always when `c >= 2`, with probability `p4 = e^{-4 beta J}`
//! when `c = 1` and `p8 = e^{-8 beta J}` when `c = 0`. The three classes come from bit-sliced
//! half adders. The random decision compares, for every undecided spin at once, a uniform
//! `U = 0.r1 r2 r3 ...` (bit `k` of the `k`-th random word) with the binary expansion of its
//! threshold `P = 0.t1 t2 ... t32` (`t_k` from `p4` or `p8` by the spin's class), most
//! significant bit first: at the first `k` with `r_k != t_k` the spin is decided (`U < P` iff
//! `t_k = 1`). Each spin is accepted with probability `P`, which differs from `p` by less than
//! `2^-32`, and the loop stops as soon as all spins of eight words are decided (about
//! `log2` of their number of levels, instead of 32 for a fixed-depth mask).
//!
//! Random words come from eight xoshiro256++ streams in lockstep (one vector register), one
//! set per block of rows; blocks are fixed by `L`, so results do not depend on the thread count.

use rayon::prelude::*;

use super::checkerboard::column;
use super::lattice::Lattice;
use crate::kernels::multiversion;
use crate::kernels::xoshiro::{LANES, Xoshiro8};
use crate::sampling::metropolis_acceptance;

/// Bits of the acceptance thresholds (bias below `2^-32`).
const LEVELS: usize = 32;

/// True when the multi-spin layout fits: `L` a positive multiple of 128.
pub fn multispin_supported(size: usize) -> bool {
    size >= 128 && size.is_multiple_of(128)
}

/// Rows per block (and per random stream): about 64k spins a block, at least 16 rows.
fn block_rows(size: usize) -> usize {
    ((1 << 16) / size).clamp(16, size)
}

/// `L x L` spins as bits, by colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackedLattice {
    size: usize,
    nw: usize,
    half: [Vec<u64>; 2],
}

impl PackedLattice {
    /// `lattice.size()` must satisfy [`multispin_supported`].
    pub(crate) fn from_lattice(lattice: &Lattice) -> Self {
        let (l, s) = (lattice.size(), lattice.spins());
        let nw = l / 128;
        let half = std::array::from_fn(|c| {
            let mut words = vec![0u64; l * nw];
            for y in 0..l {
                for j in 0..l / 2 {
                    let up = u64::from(s[y * l + column(c, y, j)] > 0);
                    words[y * nw + j % nw] |= up << (j / nw);
                }
            }
            words
        });
        Self { size: l, nw, half }
    }

    pub(crate) fn to_lattice(&self) -> Lattice {
        let (l, nw) = (self.size, self.nw);
        let mut out = Lattice::ordered(l);
        let spins = out.spins_mut();
        for (c, words) in self.half.iter().enumerate() {
            for y in 0..l {
                for j in 0..l / 2 {
                    let bit = words[y * nw + j % nw] >> (j / nw) & 1;
                    spins[y * l + column(c, y, j)] = if bit == 1 { 1 } else { -1 };
                }
            }
        }
        out
    }

    /// `(sum_<ij> s_i s_j, sum_i s_i)` by popcounts: `2N` bonds, `2N - 2 (anti-aligned)`.
    pub(crate) fn sums(&self) -> (i64, i64) {
        let (l, nw) = (self.size, self.nw);
        let mut side = vec![0u64; nw];
        let mut anti = 0i64;
        for y in 0..l {
            let rows = self.neighbour_rows(0, y, &mut side);
            for w in 0..nw {
                let s = self.half[0][y * nw + w];
                let [up, down, same] = rows.map(|r| r[w]);
                anti += i64::from((s ^ up).count_ones() + (s ^ down).count_ones());
                anti += i64::from((s ^ same).count_ones() + (s ^ side[w]).count_ones());
            }
        }
        let up: i64 = self
            .half
            .iter()
            .flatten()
            .map(|w| i64::from(w.count_ones()))
            .sum();
        let n = (l * l) as i64;
        (2 * n - 2 * anti, 2 * up - n)
    }

    /// Rows `y - 1`, `y + 1` and `y` of the colour opposite to `c`, and the shifted same-row
    /// words written into `side`.
    fn neighbour_rows(&self, c: usize, y: usize, side: &mut [u64]) -> [&[u64]; 3] {
        let (l, nw) = (self.size, self.nw);
        let other = &self.half[1 - c];
        let row = |y: usize| &other[y * nw..(y + 1) * nw];
        shifted_row(row(y), (c + y) & 1 == 1, side);
        [row((y + l - 1) % l), row((y + 1) % l), row(y)]
    }
}

/// The horizontal neighbour that is not at the same index: `j + 1` (odd rows) or `j - 1`.
#[inline(always)]
fn shifted_row(same: &[u64], odd: bool, side: &mut [u64]) {
    let nw = same.len();
    if odd {
        side[..nw - 1].copy_from_slice(&same[1..]);
        side[nw - 1] = same[0].rotate_right(1);
    } else {
        side[1..].copy_from_slice(&same[..nw - 1]);
        side[0] = same[nw - 1].rotate_left(1);
    }
}

/// The binary expansions of `p4` and `p8`: level `k` is all ones where bit `k` is 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    bits4: [u64; LEVELS],
    bits8: [u64; LEVELS],
}

impl Thresholds {
    pub(crate) fn new(coupling: f64, beta: f64) -> Self {
        let expand = |p: f64| -> [u64; LEVELS] {
            let t = ((p * 2f64.powi(LEVELS as i32)).round() as u64).min((1 << LEVELS) - 1);
            std::array::from_fn(|k| {
                if t >> (LEVELS - 1 - k) & 1 == 1 {
                    !0
                } else {
                    0
                }
            })
        };
        Self {
            bits4: expand(metropolis_acceptance(4.0 * coupling, beta)),
            bits8: expand(metropolis_acceptance(8.0 * coupling, beta)),
        }
    }
}

/// Scratch and random streams of one block of rows.
#[derive(Debug, Clone)]
struct Block {
    rng: Xoshiro8,
    /// `[ge2 | eq1 | eq0]`, each padded to whole groups of [`LANES`] words.
    classes: Vec<u64>,
    side: Vec<u64>,
}

/// Multi-spin-coded Metropolis chain.
#[derive(Debug, Clone)]
pub(crate) struct Multispin {
    lattice: PackedLattice,
    thresholds: Thresholds,
    blocks: Vec<Block>,
}

impl Multispin {
    /// Start at `lattice` (side a multiple of 128); block `b` draws from streams `[seed, tag, b, lane]`.
    pub(crate) fn new(lattice: &Lattice, thresholds: Thresholds, seed: u64) -> Self {
        let lattice = PackedLattice::from_lattice(lattice);
        let (l, nw) = (lattice.size, lattice.nw);
        let words = (block_rows(l) * nw).next_multiple_of(LANES);
        let blocks = (0..l.div_ceil(block_rows(l)) as u64)
            .map(|b| Block {
                rng: Xoshiro8::stream(seed, &[0x4d53_4343, b]),
                classes: vec![0; 3 * words],
                side: vec![0; nw],
            })
            .collect();
        Self {
            lattice,
            thresholds,
            blocks,
        }
    }

    /// One sweep: colour 0, then colour 1.
    pub(crate) fn sweep(&mut self) {
        for c in 0..2 {
            let (l, nw) = (self.lattice.size, self.lattice.nw);
            let rows = block_rows(l);
            let [h0, h1] = &mut self.lattice.half;
            let (mine, other) = if c == 0 { (h0, &*h1) } else { (h1, &*h0) };
            let th = &self.thresholds;
            mine.par_chunks_mut(rows * nw)
                .zip(self.blocks.par_iter_mut())
                .enumerate()
                .for_each(|(b, (spins, block))| {
                    let geometry = Geometry {
                        size: l,
                        nw,
                        first_row: b * rows,
                        colour: c,
                    };
                    update_block(spins, other, geometry, block, th);
                });
        }
    }

    pub(crate) fn sums(&self) -> (i64, i64) {
        self.lattice.sums()
    }

    pub(crate) fn lattice(&self) -> Lattice {
        self.lattice.to_lattice()
    }
}

/// Where a block sits.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    size: usize,
    nw: usize,
    first_row: usize,
    colour: usize,
}

multiversion! {
    fn update_block(spins: &mut [u64], other: &[u64], g: Geometry, block: &mut Block, th: &Thresholds) {
        let (l, nw) = (g.size, g.nw);
        let words = block.classes.len() / 3;
        let (ge2, rest) = block.classes.split_at_mut(words);
        let (eq1, eq0) = rest.split_at_mut(words);
        for (r, s) in spins.chunks_exact(nw).enumerate() {
            let y = g.first_row + r;
            let row = |y: usize| &other[y * nw..(y + 1) * nw];
            shifted_row(row(y), (g.colour + y) & 1 == 1, &mut block.side);
            let nb = [row((y + l - 1) % l), row((y + 1) % l), row(y), &block.side[..]];
            let out = r * nw..(r + 1) * nw;
            classify(s, nb, &mut ge2[out.clone()], &mut eq1[out.clone()], &mut eq0[out]);
        }
        let groups = ge2.as_chunks_mut::<LANES>().0.iter_mut();
        for ((g2, e1), e0) in groups.zip(eq1.as_chunks::<LANES>().0).zip(eq0.as_chunks::<LANES>().0) {
            decide(g2, e1, e0, &mut block.rng, th);
        }
        for (s, flip) in spins.iter_mut().zip(ge2.iter()) {
            *s ^= flip;
        }
    }
}

/// Bit-sliced count of anti-aligned neighbours: `ge2` (c >= 2), `eq1` (c = 1), `eq0` (c = 0).
#[inline(always)]
fn classify(s: &[u64], nb: [&[u64]; 4], ge2: &mut [u64], eq1: &mut [u64], eq0: &mut [u64]) {
    let n = s.len();
    // Equal lengths up front let the compiler drop the bounds checks and vectorise.
    let [up, down, same, side] = nb.map(|r| &r[..n]);
    let (ge2, eq1, eq0) = (&mut ge2[..n], &mut eq1[..n], &mut eq0[..n]);
    for w in 0..n {
        let [a, b, c, d] = [up[w], down[w], same[w], side[w]].map(|x| s[w] ^ x);
        let (s1, c1, s2, c2) = (a ^ b, a & b, c ^ d, c & d);
        ge2[w] = c1 | c2 | (s1 & s2);
        eq1[w] = (s1 ^ s2) & !(c1 | c2);
        eq0[w] = !(a | b | c | d);
    }
}

/// Replace `ge2` by the flip mask: `ge2 | [U < P_class]` for the `eq1` and `eq0` spins.
#[inline(always)]
fn decide(
    ge2: &mut [u64; LANES],
    eq1: &[u64; LANES],
    eq0: &[u64; LANES],
    rng: &mut Xoshiro8,
    th: &Thresholds,
) {
    let mut undecided = [0u64; LANES];
    let mut below = [0u64; LANES];
    for l in 0..LANES {
        undecided[l] = eq1[l] | eq0[l];
    }
    for k in 0..LEVELS {
        if undecided.iter().fold(0, |acc, &u| acc | u) == 0 {
            break;
        }
        let r = rng.next();
        let (b4, b8) = (th.bits4[k], th.bits8[k]);
        for l in 0..LANES {
            let t = (eq1[l] & b4) | (eq0[l] & b8);
            below[l] |= undecided[l] & t & !r[l];
            undecided[l] &= !(t ^ r[l]);
        }
    }
    for l in 0..LANES {
        ge2[l] |= below[l];
    }
}

#[cfg(test)]
mod tests {
    use super::super::checkerboard::Sublattices;
    use super::*;

    #[test]
    fn packing_round_trips_and_popcount_sums_match() {
        for l in [128, 256] {
            let lat = Lattice::random(l, 11);
            let packed = PackedLattice::from_lattice(&lat);
            assert_eq!(packed.to_lattice(), lat);
            assert_eq!(packed.sums(), (lat.bond_sum(), lat.magnetization_sum()));
        }
    }

    #[test]
    fn bit_sliced_classes_equal_direct_neighbour_counts() {
        // Every site of a random L = 256 lattice (nw = 2, so both the whole-word and the rotated
        // row-end neighbours occur): the class from the adders must equal the class from the
        // plain neighbour sum, c = (4 - s * sum) / 2 anti-aligned neighbours.
        let lat = Lattice::random(256, 5);
        let (packed, plain) = (
            PackedLattice::from_lattice(&lat),
            Sublattices::from_lattice(&lat),
        );
        let nw = packed.nw;
        let mut side = vec![0u64; nw];
        for c in 0..2 {
            for y in 0..256 {
                let [up, down, same] = packed.neighbour_rows(c, y, &mut side);
                let s = &packed.half[c][y * nw..(y + 1) * nw];
                let (mut ge2, mut eq1, mut eq0) = (vec![0; nw], vec![0; nw], vec![0; nw]);
                classify(s, [up, down, same, &side], &mut ge2, &mut eq1, &mut eq0);
                for j in 0..128 {
                    let bit = |m: &[u64]| m[j % nw] >> (j / nw) & 1;
                    let spin = lat.spins()[y * 256 + column(c, y, j)];
                    let anti = (4 - spin * plain.neighbour_sum(c, y, j)) / 2;
                    let want = [
                        u64::from(anti >= 2),
                        u64::from(anti == 1),
                        u64::from(anti == 0),
                    ];
                    assert_eq!([bit(&ge2), bit(&eq1), bit(&eq0)], want, "c {c} y {y} j {j}");
                }
            }
        }
    }

    #[test]
    fn decisions_accept_with_the_threshold_probabilities() {
        // All spins in class eq1 in lanes 0..4 and eq0 in lanes 4..8, at beta J = 0.3:
        // p4 = e^{-1.2} = 0.3012, p8 = e^{-2.4} = 0.0907. Over 2000 groups each class has
        // 256,000 Bernoulli draws, standard error sqrt(p (1 - p) / n) < 0.001; allow 0.005.
        let th = Thresholds::new(1.0, 0.3);
        let mut rng = Xoshiro8::stream(1, &[]);
        let (eq1, eq0) = ([!0, !0, !0, !0, 0, 0, 0, 0], [0, 0, 0, 0, !0, !0, !0, !0]);
        let (mut ones4, mut ones8) = (0u64, 0u64);
        for _ in 0..2000 {
            let mut flip = [0u64; LANES];
            decide(&mut flip, &eq1, &eq0, &mut rng, &th);
            ones4 += flip[..4]
                .iter()
                .map(|w| u64::from(w.count_ones()))
                .sum::<u64>();
            ones8 += flip[4..]
                .iter()
                .map(|w| u64::from(w.count_ones()))
                .sum::<u64>();
        }
        let n = 2000.0 * 256.0;
        assert!(
            (ones4 as f64 / n - (-1.2f64).exp()).abs() < 0.005,
            "p4 {}",
            ones4 as f64 / n
        );
        assert!(
            (ones8 as f64 / n - (-2.4f64).exp()).abs() < 0.005,
            "p8 {}",
            ones8 as f64 / n
        );
    }

    #[test]
    fn sweeps_do_not_depend_on_the_thread_count() -> crate::Result<()> {
        // L = 512: four blocks of 128 rows.
        let start = Lattice::random(512, 2);
        let run = |threads: usize| -> crate::Result<Lattice> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| crate::Error::Internal(e.to_string()))?;
            let mut chain = Multispin::new(&start, Thresholds::new(1.0, 0.44), 7);
            pool.install(|| (0..4).for_each(|_| chain.sweep()));
            Ok(chain.lattice())
        };
        assert_eq!(run(1)?, run(2)?);
        Ok(())
    }
}
