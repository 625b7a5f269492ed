//! Single-spin Metropolis and heat-bath updates in checkerboard sweeps.
//!
//! Flipping `s_i` changes the energy by `dE = 2 s_i (J sum_{j ~ i} s_j + h)`. Colour the sites
//! by the parity of `x + y`: every neighbour of a site has the other colour (`L` even), so all
//! sites of one colour can be updated at once and independently, each accepted with
//! [`metropolis_acceptance`]`(dE, beta)` or [`heat_bath_flip`]`(dE, beta)`. A sweep updates
//! colour 0, then colour 1: `N` attempted flips. Both rules satisfy detailed balance for
//! `p(s) ~ exp(-beta H(s))`.
//!
//! # Layout
//! `half[c][y * n + j]` (`n = L / 2`) is site `x = 2j + ((c + y) mod 2)` of row `y`. Its
//! neighbours, all of colour `1 - c`: index `j` in rows `y - 1` and `y + 1`, and indices `j` and
//! `j - 1` (when `c + y` is even) or `j` and `j + 1` (odd) in row `y`, with `j` taken mod `n`.
//!
//! # Parallelism
//! Rows are cut into fixed blocks of [`block_rows`]`(L)` rows, each with its own random stream,
//! so a sweep gives the same result on any number of threads.

use rayon::prelude::*;

use super::lattice::{IsingModel, Lattice};
use crate::kernels::xoshiro::Xoshiro256pp;
use crate::sampling::{Sampler, heat_bath_flip, metropolis_acceptance};

/// Rows per block of the plain checkerboard sweep (and per random stream).
pub(crate) fn block_rows(size: usize) -> usize {
    16.min(size)
}

/// Lattices below this many spins are swept on the calling thread (same result, less overhead).
const PARALLEL_SPINS: usize = 1 << 14;

/// The two colours of a lattice, each `L x L/2`.
#[derive(Debug, Clone)]
pub(crate) struct Sublattices {
    size: usize,
    half: [Vec<i8>; 2],
}

/// Column of the `j`-th site of colour `c` in row `y`.
#[inline(always)]
pub(crate) fn column(c: usize, y: usize, j: usize) -> usize {
    2 * j + ((c + y) & 1)
}

impl Sublattices {
    pub(crate) fn from_lattice(lattice: &Lattice) -> Self {
        let (l, s) = (lattice.size(), lattice.spins());
        let n = l / 2;
        let half = std::array::from_fn(|c| {
            (0..l * n)
                .map(|i| s[i / n * l + column(c, i / n, i % n)])
                .collect()
        });
        Self { size: l, half }
    }

    pub(crate) fn to_lattice(&self) -> Lattice {
        let (l, n) = (self.size, self.size / 2);
        let mut out = Lattice::ordered(l);
        let spins = out.spins_mut();
        for (c, half) in self.half.iter().enumerate() {
            for (i, &v) in half.iter().enumerate() {
                spins[i / n * l + column(c, i / n, i % n)] = v;
            }
        }
        out
    }

    /// Sum of the four neighbours of site `j` of colour `c` in row `y`.
    #[inline(always)]
    pub(crate) fn neighbour_sum(&self, c: usize, y: usize, j: usize) -> i8 {
        neighbour_sum(&self.half[1 - c], self.size, y, j, (c + y) & 1 == 1)
    }

    /// `(sum_<ij> s_i s_j, sum_i s_i)`: every bond joins a colour-0 site to a colour-1 site.
    pub(crate) fn sums(&self) -> (i64, i64) {
        let n = self.size / 2;
        let mut bonds = 0i64;
        for (i, &s) in self.half[0].iter().enumerate() {
            bonds += i64::from(s) * i64::from(self.neighbour_sum(0, i / n, i % n));
        }
        let m = self.half.iter().flatten().map(|&s| i64::from(s)).sum();
        (bonds, m)
    }
}

#[inline(always)]
fn neighbour_sum(other: &[i8], size: usize, y: usize, j: usize, odd: bool) -> i8 {
    let n = size / 2;
    let row = |y: usize| &other[y * n..(y + 1) * n];
    let (up, down, same) = (row((y + size - 1) % size), row((y + 1) % size), row(y));
    let side = match (odd, j) {
        (true, j) if j + 1 == n => 0,
        (true, j) => j + 1,
        (false, 0) => n - 1,
        (false, j) => j - 1,
    };
    up[j] + down[j] + same[j] + same[side]
}

/// Flip probabilities indexed by `5 [s = +1] + (sum of neighbours + 4) / 2`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlipTable([f64; 10]);

impl FlipTable {
    pub(crate) fn new(rule: Sampler, model: &IsingModel, beta: f64) -> Self {
        Self(std::array::from_fn(|i| {
            let s = if i >= 5 { 1.0 } else { -1.0 };
            let nsum = 2.0 * (i % 5) as f64 - 4.0;
            let de = 2.0 * s * (model.coupling * nsum + model.field);
            match rule {
                Sampler::Metropolis => metropolis_acceptance(de, beta),
                Sampler::HeatBath => heat_bath_flip(de, beta),
            }
        }))
    }

    #[inline(always)]
    fn get(&self, s: i8, nsum: i8) -> f64 {
        self.0[usize::from(s > 0) * 5 + ((nsum + 4) / 2) as usize]
    }
}

/// A chain of single-spin updates in checkerboard order.
#[derive(Debug, Clone)]
pub(crate) struct Checkerboard {
    lattice: Sublattices,
    table: FlipTable,
    rngs: Vec<Xoshiro256pp>,
}

impl Checkerboard {
    /// Start at `lattice`; block `b` draws from stream `[seed, tag, b]`.
    pub(crate) fn new(lattice: &Lattice, table: FlipTable, seed: u64) -> Self {
        let l = lattice.size();
        let blocks = l.div_ceil(block_rows(l));
        let rngs = (0..blocks as u64)
            .map(|b| Xoshiro256pp::stream(seed, &[0x4342_5244, b]))
            .collect();
        Self {
            lattice: Sublattices::from_lattice(lattice),
            table,
            rngs,
        }
    }

    /// One sweep: colour 0, then colour 1.
    pub(crate) fn sweep(&mut self) {
        for c in 0..2 {
            self.half_sweep(c);
        }
    }

    fn half_sweep(&mut self, c: usize) {
        let l = self.lattice.size;
        let chunk = block_rows(l) * (l / 2);
        let [h0, h1] = &mut self.lattice.half;
        let (mine, other) = if c == 0 { (h0, &*h1) } else { (h1, &*h0) };
        let table = self.table;
        let work = |(b, (rows, rng)): (usize, (&mut [i8], &mut Xoshiro256pp))| {
            update_rows(rows, other, l, b * block_rows(l), c, &table, rng);
        };
        if l * l >= PARALLEL_SPINS {
            mine.par_chunks_mut(chunk)
                .zip(self.rngs.par_iter_mut())
                .enumerate()
                .for_each(work);
        } else {
            mine.chunks_mut(chunk)
                .zip(self.rngs.iter_mut())
                .enumerate()
                .for_each(work);
        }
    }

    pub(crate) fn sums(&self) -> (i64, i64) {
        self.lattice.sums()
    }

    pub(crate) fn lattice(&self) -> Lattice {
        self.lattice.to_lattice()
    }
}

/// Update colour `c` in the rows `first_row..` held by `rows`, reading the other colour.
fn update_rows(
    rows: &mut [i8],
    other: &[i8],
    size: usize,
    first_row: usize,
    c: usize,
    table: &FlipTable,
    rng: &mut Xoshiro256pp,
) {
    let n = size / 2;
    for (r, row) in rows.chunks_exact_mut(n).enumerate() {
        let y = first_row + r;
        let odd = (c + y) & 1 == 1;
        for (j, s) in row.iter_mut().enumerate() {
            let p = table.get(*s, neighbour_sum(other, size, y, j, odd));
            if rng.uniform() < p {
                *s = -*s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips_and_counts_every_bond_once() {
        for l in [2, 4, 6, 10] {
            let lat = Lattice::random(l, l as u64);
            let sub = Sublattices::from_lattice(&lat);
            assert_eq!(sub.to_lattice(), lat);
            assert_eq!(
                sub.sums(),
                (lat.bond_sum(), lat.magnetization_sum()),
                "L = {l}"
            );
        }
    }

    #[test]
    fn flip_table_holds_the_rules() {
        // Spin up with all four neighbours up at J = 1, h = 0: dE = 8, Metropolis e^{-8 beta},
        // heat bath 1 / (1 + e^{8 beta}); spin down among up neighbours: dE = -8, always / almost.
        let m = IsingModel {
            size: 4,
            coupling: 1.0,
            field: 0.0,
        };
        let beta = 0.4;
        let met = FlipTable::new(Sampler::Metropolis, &m, beta);
        assert!((met.get(1, 4) - (-8.0 * beta).exp()).abs() < 1e-15);
        assert_eq!(met.get(-1, 4), 1.0);
        let hb = FlipTable::new(Sampler::HeatBath, &m, beta);
        assert!((hb.get(1, 4) - 1.0 / (1.0 + (8.0 * beta).exp())).abs() < 1e-15);
        assert!((hb.get(1, 0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn sweeps_do_not_depend_on_the_thread_count() -> crate::Result<()> {
        let m = IsingModel {
            size: 128,
            coupling: 1.0,
            field: 0.1,
        };
        let table = FlipTable::new(Sampler::Metropolis, &m, 0.4);
        let start = Lattice::random(128, 3);
        let run = |threads: usize| -> crate::Result<Lattice> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| crate::Error::Internal(e.to_string()))?;
            let mut chain = Checkerboard::new(&start, table, 5);
            pool.install(|| (0..5).for_each(|_| chain.sweep()));
            Ok(chain.lattice())
        };
        assert_eq!(run(1)?, run(2)?);
        Ok(())
    }
}
