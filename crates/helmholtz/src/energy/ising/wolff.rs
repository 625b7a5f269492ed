//! The Wolff single-cluster update (Wolff 1989), for `h = 0` only.
//!
//! Pick a random seed site; grow a cluster by adding each neighbour `j` of a cluster site `i`
//! whose bond is satisfied (`J s_i s_j > 0`) with probability `p_add = 1 - exp(-2 beta |J|)`;
//! flip the whole cluster. The bond probabilities make the update satisfy detailed balance with
//! acceptance 1 (the Fortuin-Kasteleyn construction), and near `Tc`, where single-spin chains
//! slow down as `tau ~ L^2`, clusters of the size of the correlation length decorrelate the
//! chain in a few updates. A field would make the acceptance of a cluster flip
//! `exp(-2 beta h M_cluster)`, which is not implemented: the configuration rejects `h != 0`.
//!
//! One Wolff *sweep* is a fixed number of cluster updates, `ceil(N / <cluster size>)`, so that
//! a sweep flips about `N` spins and costs about as much as a single-spin sweep at any
//! temperature. The number must not depend on the clusters of the sweep itself: stopping as
//! soon as `N` spins are flipped ends sweeps preferentially after large clusters, i.e. in
//! ordered states, and biases every average (by 100 standard errors on a 4 x 4 lattice).
//! So the first sweeps (part of equilibration: 7 to 15 on small lattices, up to
//! [`MAX_CALIBRATION`] from a random start near `Tc`) flip clusters until `N` spins have
//! flipped and record the mean cluster size until it settles; from then on the count is fixed
//! and the chain is an exact, stationary Markov chain.

use super::lattice::Lattice;

/// At most this many sweeps measure the mean cluster size before the count is fixed.
pub(crate) const MAX_CALIBRATION: usize = 1023;

/// Mean cluster size over windows of 1, 2, 4, 8, ... sweeps; the count per sweep is fixed from
/// the first window (of at least 4 sweeps) whose mean is within 20% of the previous window's.
/// From a random start near `Tc` the clusters grow for hundreds of sweeps while domains
/// coarsen (at `L = 1024`, from 20 spins to 5e4), so a fixed-length calibration would fix a
/// count far too high for equilibrium.
#[derive(Debug, Clone, Default)]
struct Calibration {
    sweeps: usize,
    window: (usize, usize),
    previous_mean: Option<f64>,
}

impl Calibration {
    /// Add a sweep of `clusters` clusters that flipped `flipped` spins; `Some(count)` once the
    /// mean cluster size has settled.
    fn record(&mut self, clusters: usize, flipped: usize, n: usize) -> Option<usize> {
        self.sweeps += 1;
        self.window = (self.window.0 + clusters, self.window.1 + flipped);
        if !(self.sweeps + 1).is_power_of_two() {
            return None;
        }
        let (clusters, flipped) = std::mem::take(&mut self.window);
        let mean = flipped as f64 / clusters as f64;
        let window = self.sweeps.div_ceil(2);
        let settled = self
            .previous_mean
            .is_some_and(|prev| window >= 4 && (mean / prev - 1.0).abs() < 0.2);
        self.previous_mean = Some(mean);
        // clusters * N / flipped = N / <cluster size>, rounded up.
        (settled || self.sweeps >= MAX_CALIBRATION).then(|| (clusters * n).div_ceil(flipped).max(1))
    }
}
use crate::kernels::xoshiro::Xoshiro256pp;

/// A Wolff cluster chain on a row-major lattice.
#[derive(Debug, Clone)]
pub(crate) struct Wolff {
    lattice: Lattice,
    p_add: f64,
    /// `sign(J)`: the satisfied neighbour of a just-flipped spin `s` has value `-sign(J) s`.
    sign: i8,
    rng: Xoshiro256pp,
    stack: Vec<u32>,
    /// Mean cluster size measured so far.
    calibration: Calibration,
    /// Clusters per sweep once calibrated.
    clusters_per_sweep: Option<usize>,
}

impl Wolff {
    /// Start at `lattice`, at `beta` with coupling `J`, drawing from stream `[seed, tag]`.
    pub(crate) fn new(lattice: &Lattice, coupling: f64, beta: f64, seed: u64) -> Self {
        Self {
            lattice: lattice.clone(),
            p_add: -(-2.0 * beta * coupling.abs()).exp_m1(),
            sign: if coupling < 0.0 { -1 } else { 1 },
            rng: Xoshiro256pp::stream(seed, &[0x574f_4c46]),
            stack: Vec::new(),
            calibration: Calibration::default(),
            clusters_per_sweep: None,
        }
    }

    /// Grow and flip one cluster; returns its size.
    pub(crate) fn cluster(&mut self) -> usize {
        let l = self.lattice.size();
        let n = l * l;
        let seed = self.rng.below(n);
        let spins = self.lattice.spins_mut();
        spins[seed] = -spins[seed];
        self.stack.push(seed as u32);
        let mut size = 1;
        while let Some(i) = self.stack.pop() {
            let i = i as usize;
            let (x, y) = (i % l, i / l);
            // Spins are flipped as they join, so a satisfied, unflipped neighbour of the
            // (already flipped) spin s_i has value -sign(J) s_i, and cluster members never match.
            let want = -self.sign * spins[i];
            let row = y * l;
            let neighbours = [
                row + (x + 1) % l,
                row + (x + l - 1) % l,
                (y + 1) % l * l + x,
                (y + l - 1) % l * l + x,
            ];
            for j in neighbours {
                if spins[j] == want && self.rng.uniform() < self.p_add {
                    spins[j] = -spins[j];
                    self.stack.push(j as u32);
                    size += 1;
                }
            }
        }
        size
    }

    /// One sweep: the calibrated number of clusters, or while calibrating, clusters until at
    /// least `N` spins have flipped.
    pub(crate) fn sweep(&mut self) {
        if let Some(clusters) = self.clusters_per_sweep {
            (0..clusters).for_each(|_| {
                self.cluster();
            });
            return;
        }
        let n = self.lattice.spins().len();
        let (mut clusters, mut flipped) = (0, 0);
        while flipped < n {
            flipped += self.cluster();
            clusters += 1;
        }
        self.clusters_per_sweep = self.calibration.record(clusters, flipped, n);
    }

    pub(crate) fn sums(&self) -> (i64, i64) {
        (self.lattice.bond_sum(), self.lattice.magnetization_sum())
    }

    pub(crate) fn lattice(&self) -> &Lattice {
        &self.lattice
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_are_the_whole_ordered_lattice_at_zero_temperature_and_single_spins_at_infinite() {
        // beta -> infinity: p_add = 1, so the cluster of an ordered lattice is all N spins.
        let mut cold = Wolff::new(&Lattice::ordered(8), 1.0, 1e6, 0);
        assert_eq!(cold.cluster(), 64);
        assert_eq!(cold.lattice().magnetization_sum(), -64);
        // beta = 0: p_add = 0, every cluster is one spin.
        let mut hot = Wolff::new(&Lattice::random(8, 1), 1.0, 0.0, 0);
        assert!((0..50).all(|_| hot.cluster() == 1));
    }
}
