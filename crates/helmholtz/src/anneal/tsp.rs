//! The travelling salesman problem on cities in the plane, annealed by 2-opt moves.
//!
//! A tour `t` visits every city once and returns; its length is
//! `L(t) = sum_k d(t_k, t_{k+1 mod n})` with Euclidean `d`. A 2-opt move removes the edges
//! `(a, b) = (t_i, t_{i+1})` and `(c, d) = (t_j, t_{j+1})` and reverses the path `b .. c`,
//! which changes the length by `dL = d(a, c) + d(b, d) - d(a, b) - d(c, d)`. The energy is the
//! tour length itself and moves are accepted by Metropolis, `min(1, exp(-beta dL))`; a sweep
//! proposes `n` moves (`i` uniform, the second edge uniform among the `n - 3` that do not touch
//! the first). We chose 2-opt over the Hopfield-Tank energy because every state is a valid tour.
//!
//! # Shapes
//! `cities`: `[n]` of `[x, y]`; tours: `[n]` city indices (a permutation).

use std::path::Path;

use rand::Rng;
use rand::rngs::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::annealer::{AnnealOutcome, Annealer, accept, cutoff};
use super::maxcut::below;
use super::read::read_cities;
use crate::budget;
use crate::error::{Error, Result};
use crate::train::Progress;

/// Cities in the plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Cities {
    xy: Vec<[f64; 2]>,
}

/// Bytes held per city besides the tours: coordinates, the nearest-neighbour tree and
/// distances.
pub(crate) const CITY_BYTES: usize = 32;

/// Stream id of the random-cities generator under the user seed.
const RANDOM_CITIES_STREAM: u64 = 0x6369_7479;

impl Cities {
    /// At least 4 cities (fewer have one tour), each with finite coordinates.
    pub fn new(xy: Vec<[f64; 2]>) -> Result<Self> {
        if xy.len() < 4 || xy.len() > u32::MAX as usize {
            return Err(Error::data(
                "cities",
                format!("need at least 4 cities (got {})", xy.len()),
            ));
        }
        if let Some(k) = xy
            .iter()
            .position(|p| !(p[0].is_finite() && p[1].is_finite()))
        {
            return Err(Error::data(
                "cities",
                format!("city {k} has a non-finite coordinate"),
            ));
        }
        Ok(Self { xy })
    }

    /// Read a city file: `x y` per line.
    pub fn read(path: &Path) -> Result<Self> {
        Self::new(read_cities(path)?).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// `n` cities uniform in the unit square, the same for the same `seed`.
    pub fn random(n: usize, seed: u64) -> Result<Self> {
        if n < 4 {
            return Err(Error::param(
                "random",
                format!("needs at least 4 cities (got {n})"),
            ));
        }
        budget::check("random", budget::bytes(&[n, CITY_BYTES]))?;
        let mut rng = crate::rng::rng_for(seed, &[RANDOM_CITIES_STREAM]);
        let unit = |r: &mut rand::rngs::StdRng| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        Self::new((0..n).map(|_| [unit(&mut rng), unit(&mut rng)]).collect())
    }

    /// Number of cities.
    pub fn len(&self) -> usize {
        self.xy.len()
    }

    /// Always false: there are at least 4 cities.
    pub fn is_empty(&self) -> bool {
        self.xy.is_empty()
    }

    /// The coordinates.
    pub fn coordinates(&self) -> &[[f64; 2]] {
        &self.xy
    }

    /// Euclidean distance between cities `a` and `b`.
    #[inline(always)]
    pub fn distance(&self, a: u32, b: u32) -> f64 {
        let (p, q) = (self.xy[a as usize], self.xy[b as usize]);
        (p[0] - q[0]).hypot(p[1] - q[1])
    }

    /// `L(t)`; `tour` must be a permutation of the cities.
    pub fn tour_length(&self, tour: &[u32]) -> Result<f64> {
        let mut seen = vec![false; self.len()];
        if tour.len() != self.len()
            || tour.iter().any(|&c| {
                (c as usize) >= self.len() || std::mem::replace(&mut seen[c as usize], true)
            })
        {
            return Err(Error::data(
                "tour",
                format!("is not a permutation of the {} cities", self.len()),
            ));
        }
        Ok(self.length_unchecked(tour))
    }

    fn length_unchecked(&self, tour: &[u32]) -> f64 {
        (0..tour.len())
            .map(|k| self.distance(tour[k], tour[(k + 1) % tour.len()]))
            .sum()
    }

    /// The beta range in the spirit of dwave-samplers' rule: hot, a move is accepted with
    /// probability at least 1/2 even at the largest possible `dL <= 2 D` (`D` the diagonal of the
    /// bounding box); cold, a move that lengthens the tour by 1% of the mean nearest-neighbour
    /// distance `l` is accepted with probability `1 / (100 n)`: `beta = ln(100 n) / (0.01 l)`.
    /// All cities at one point give `(0.1, 1.0)`.
    pub fn default_beta_range(&self) -> (f64, f64) {
        let (lo, hi) = self.xy.iter().fold(
            ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]),
            |(lo, hi), p| {
                (
                    [lo[0].min(p[0]), lo[1].min(p[1])],
                    [hi[0].max(p[0]), hi[1].max(p[1])],
                )
            },
        );
        let diagonal = (hi[0] - lo[0]).hypot(hi[1] - lo[1]);
        if diagonal == 0.0 {
            return (0.1, 1.0);
        }
        let tree = KdTree::new(&self.xy);
        let nearest: Vec<f64> = (0..self.len() as u32)
            .into_par_iter()
            .filter_map(|a| tree.nearest(self, a))
            .collect();
        if diagonal == 0.0 || nearest.is_empty() {
            return (0.1, 1.0);
        }
        let mean_nearest = nearest.iter().sum::<f64>() / nearest.len() as f64;
        let hot = std::f64::consts::LN_2 / (2.0 * diagonal);
        let cold = (100.0 * self.len() as f64).ln() / (0.01 * mean_nearest);
        (hot, cold)
    }
}

/// A 2-d tree over the cities, for nearest-neighbour distances in `O(n log n)` instead of
/// comparing every pair: the cities of a subtree are a range of `order`, its root the middle
/// one, split on `x` at even depths and `y` at odd ones (smaller or equal values first).
struct KdTree {
    order: Vec<u32>,
}

impl KdTree {
    fn new(xy: &[[f64; 2]]) -> Self {
        let mut order: Vec<u32> = (0..xy.len() as u32).collect();
        Self::build(xy, &mut order, 0);
        Self { order }
    }

    fn build(xy: &[[f64; 2]], range: &mut [u32], depth: usize) {
        if range.len() <= 1 {
            return;
        }
        let (axis, mid) = (depth % 2, range.len() / 2);
        range.select_nth_unstable_by(mid, |&a, &b| {
            xy[a as usize][axis].total_cmp(&xy[b as usize][axis])
        });
        let (left, right) = range.split_at_mut(mid);
        Self::build(xy, left, depth + 1);
        Self::build(xy, &mut right[1..], depth + 1);
    }

    /// The distance from city `a` to the nearest city at a positive distance (`None` when all
    /// coincide with it): the same value as the minimum over all pairs.
    fn nearest(&self, cities: &Cities, a: u32) -> Option<f64> {
        let mut best = f64::INFINITY;
        self.search(cities, a, &self.order, 0, &mut best);
        best.is_finite().then_some(best)
    }

    fn search(&self, cities: &Cities, a: u32, range: &[u32], depth: usize, best: &mut f64) {
        if range.is_empty() {
            return;
        }
        let mid = range.len() / 2;
        let b = range[mid];
        let d = cities.distance(a, b);
        if d > 0.0 && d < *best {
            *best = d;
        }
        let axis = depth % 2;
        let diff = cities.xy[a as usize][axis] - cities.xy[b as usize][axis];
        let (left, right) = (&range[..mid], &range[mid + 1..]);
        let (near, far) = if diff < 0.0 {
            (left, right)
        } else {
            (right, left)
        };
        self.search(cities, a, near, depth + 1, best);
        // Every city of the far side is at least |diff| away along the split axis.
        if diff.abs() < *best {
            self.search(cities, a, far, depth + 1, best);
        }
    }
}

impl Annealer {
    /// Anneal tours of `cities` from `reads` random tours; energies are tour lengths.
    pub fn anneal_tour(&self, cities: &Cities, progress: &dyn Progress) -> AnnealOutcome<Vec<u32>> {
        self.run_batches(1, progress, |r, _| {
            let t =
                anneal_tour::<false>(cities, self.betas(), &mut self.read_rng(r), &mut Vec::new());
            (vec![cities.length_unchecked(&t)], 0, t)
        })
    }

    /// Repeat read `read` of [`Annealer::anneal_tour`], recording the length after every sweep.
    pub fn trace_tour(&self, cities: &Cities, read: usize) -> (Vec<f64>, Vec<u32>) {
        let mut trace = Vec::with_capacity(self.betas().len());
        let t = anneal_tour::<true>(cities, self.betas(), &mut self.read_rng(read), &mut trace);
        (trace, t)
    }
}

/// One read of 2-opt annealing from a random tour.
fn anneal_tour<const TRACE: bool>(
    cities: &Cities,
    betas: &[f64],
    rng: &mut Xoshiro256PlusPlus,
    trace: &mut Vec<f64>,
) -> Vec<u32> {
    let n = cities.len();
    let mut tour: Vec<u32> = (0..n as u32).collect();
    for k in (1..n).rev() {
        tour.swap(k, below(rng, k + 1));
    }
    let mut length = if TRACE {
        cities.length_unchecked(&tour)
    } else {
        0.0
    };
    for &beta in betas {
        let cut = cutoff(beta);
        for _ in 0..n {
            let i = below(rng, n);
            let j = (i + 2 + below(rng, n - 3)) % n;
            let (a, b, c, d) = (tour[i], tour[(i + 1) % n], tour[j], tour[(j + 1) % n]);
            let dl = cities.distance(a, c) + cities.distance(b, d)
                - cities.distance(a, b)
                - cities.distance(c, d);
            if accept(dl, beta, cut, rng) {
                reverse_cyclic(&mut tour, (i + 1) % n, j);
                if TRACE {
                    length += dl;
                }
            }
        }
        if TRACE {
            trace.push(length);
        }
    }
    tour
}

/// Reverse the cyclic segment `from ..= to` of `tour`, or equivalently (the same cycle) its
/// complement, whichever is shorter.
fn reverse_cyclic(tour: &mut [u32], from: usize, to: usize) {
    let n = tour.len();
    let inside = (to + n - from) % n + 1;
    let (mut a, mut b, len) = if 2 * inside <= n {
        (from, to, inside)
    } else {
        ((to + 1) % n, (from + n - 1) % n, n - inside)
    };
    for _ in 0..len / 2 {
        tour.swap(a, b);
        a = if a + 1 == n { 0 } else { a + 1 };
        b = if b == 0 { n - 1 } else { b - 1 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_distances_match_all_pairs() -> Result<()> {
        // Random cities with duplicates and shared coordinates, against the O(n^2) minimum.
        let mut rng = crate::rng::rng_for(7, &[1]);
        let mut xy: Vec<[f64; 2]> = (0..300)
            .map(|_| {
                [
                    (below(&mut rng, 40) as f64) / 8.0,
                    (below(&mut rng, 25) as f64) / 5.0,
                ]
            })
            .collect();
        xy.extend_from_within(..20);
        let cities = Cities::new(xy)?;
        let tree = KdTree::new(cities.coordinates());
        for a in 0..cities.len() as u32 {
            let brute = (0..cities.len() as u32)
                .map(|b| cities.distance(a, b))
                .filter(|&d| d > 0.0)
                .reduce(f64::min);
            assert_eq!(tree.nearest(&cities, a), brute, "city {a}");
        }
        Ok(())
    }

    #[test]
    fn reversal_either_way_gives_the_same_cycle() {
        // Reversing 1..=4 of 0..7 directly, or the complement 5..=0, gives the same cyclic tour
        // up to direction: check the set of undirected edges.
        let edges = |t: &[u32]| {
            let mut e: Vec<(u32, u32)> = (0..t.len())
                .map(|k| {
                    (
                        t[k].min(t[(k + 1) % t.len()]),
                        t[k].max(t[(k + 1) % t.len()]),
                    )
                })
                .collect();
            e.sort_unstable();
            e
        };
        for (from, to) in [(1, 4), (5, 2), (6, 0), (2, 6)] {
            let mut t: Vec<u32> = (0..7).collect();
            reverse_cyclic(&mut t, from, to);
            let mut naive: Vec<u32> = (0..7).collect();
            let seg: Vec<usize> = (0..7)
                .map(|k| (from + k) % 7)
                .take((to + 7 - from) % 7 + 1)
                .collect();
            let vals: Vec<u32> = seg.iter().map(|&k| naive[k]).collect();
            for (k, v) in seg.iter().zip(vals.iter().rev()) {
                naive[*k] = *v;
            }
            assert_eq!(edges(&t), edges(&naive), "segment {from}..={to}");
        }
    }
}
