//! The model `H(s) = -J sum_<ij> s_i s_j - h sum_i s_i` on an `L x L` periodic square lattice,
//! and a spin configuration in row-major order.
//!
//! `sum_<ij>` runs over the `2N` nearest-neighbour bonds (each site's right and lower
//! neighbour), so for `L = 2` the two bonds between a pair of sites across the boundary are both
//! counted, as the periodic lattice demands.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::xoshiro::Xoshiro256pp;

/// The Hamiltonian: lattice side, coupling and field (`k_B = 1`, so `T` is in units of energy).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IsingModel {
    /// Lattice side `L` (even, at least 2): `N = L^2` spins.
    pub size: usize,
    /// Coupling `J` (`J > 0` ferromagnetic).
    pub coupling: f64,
    /// External field `h`.
    pub field: f64,
}

impl Default for IsingModel {
    /// `L = 64`, `J = 1`, `h = 0`.
    fn default() -> Self {
        Self {
            size: 64,
            coupling: 1.0,
            field: 0.0,
        }
    }
}

impl IsingModel {
    /// Largest side accepted (`N = L^2` must index comfortably in `u32`).
    pub const MAX_SIZE: usize = 1 << 15;

    /// `L` even in `2..=32768`; `J` and `h` finite.
    pub fn validate(&self) -> Result<()> {
        let l = self.size;
        if !(2..=Self::MAX_SIZE).contains(&l) {
            return Err(Error::param(
                "size",
                format!("must lie in 2..={} (got {l})", Self::MAX_SIZE),
            ));
        }
        if !l.is_multiple_of(2) {
            return Err(Error::param(
                "size",
                format!(
                    "must be even (got {l}): checkerboard sweeps need two sublattices under periodic boundaries"
                ),
            ));
        }
        crate::budget::check("size", self.memory())?;
        if !self.coupling.is_finite() {
            return Err(Error::param(
                "coupling",
                format!("must be a finite number (got {})", self.coupling),
            ));
        }
        if !self.field.is_finite() {
            return Err(Error::param(
                "field",
                format!("must be a finite number (got {})", self.field),
            ));
        }
        Ok(())
    }

    /// Bytes a chain holds: per spin the lattice, the engine's copy (a byte, or a bit), the
    /// Wolff cluster stack (a `u32`) and a snapshot's copy.
    pub fn memory(&self) -> u128 {
        crate::budget::bytes(&[self.size, self.size, 8])
    }

    /// Number of spins `N = L^2`.
    pub fn spins(&self) -> usize {
        self.size * self.size
    }

    /// `H = -J bonds - h M` for a configuration with bond sum `sum_<ij> s_i s_j` and
    /// magnetisation `M = sum_i s_i`.
    pub fn energy_of(&self, bond_sum: i64, magnetization_sum: i64) -> f64 {
        -self.coupling * bond_sum as f64 - self.field * magnetization_sum as f64
    }
}

/// A spin configuration `s in {-1, +1}^(L x L)`, row-major (`s[y * L + x]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lattice {
    size: usize,
    spins: Vec<i8>,
}

impl Lattice {
    /// All spins up (the ground state for `J > 0`, `h >= 0`).
    pub fn ordered(size: usize) -> Self {
        Self {
            size,
            spins: vec![1; size * size],
        }
    }

    /// Independent fair coin flips (the `T = infinity` state), from stream `seed`.
    pub fn random(size: usize, seed: u64) -> Self {
        let mut rng = Xoshiro256pp::stream(seed, &[0x4c41_5454]);
        let spins = (0..size * size)
            .map(|_| if rng.next_u64() >> 63 == 1 { 1 } else { -1 })
            .collect();
        Self { size, spins }
    }

    /// A configuration from `L^2` values in `{-1, +1}`.
    pub fn from_spins(size: usize, spins: Vec<i8>) -> Result<Self> {
        if spins.len() != size * size {
            return Err(Error::ShapeMismatch {
                what: "Ising spins".into(),
                expected: vec![size, size],
                got: vec![spins.len()],
            });
        }
        if let Some(v) = spins.iter().find(|&&v| v != 1 && v != -1) {
            return Err(Error::data(
                "Ising spins",
                format!("spins must be -1 or +1 (found {v})"),
            ));
        }
        Ok(Self { size, spins })
    }

    /// Lattice side `L`.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The spins, row-major.
    pub fn spins(&self) -> &[i8] {
        &self.spins
    }

    pub(crate) fn spins_mut(&mut self) -> &mut [i8] {
        &mut self.spins
    }

    /// `M = sum_i s_i`.
    pub fn magnetization_sum(&self) -> i64 {
        self.spins.iter().map(|&s| i64::from(s)).sum()
    }

    /// `sum_<ij> s_i s_j` over the `2N` bonds (right and lower neighbour of every site).
    pub fn bond_sum(&self) -> i64 {
        let l = self.size;
        let mut sum = 0i64;
        for y in 0..l {
            let (row, below) = (&self.spins[y * l..(y + 1) * l], (y + 1) % l * l);
            for x in 0..l {
                let right = row[(x + 1) % l];
                let down = self.spins[below + x];
                sum += i64::from(row[x]) * i64::from(right + down);
            }
        }
        sum
    }

    /// Total energy `H(s)` under `model`.
    pub fn energy(&self, model: &IsingModel) -> f64 {
        model.energy_of(self.bond_sum(), self.magnetization_sum())
    }

    /// The lattice as a picture at most `max_side` pixels wide: `(side, intensities)`, each
    /// pixel the fraction of up spins in its `k x k` block (`k = ceil(L / max_side)`; the last
    /// blocks are cut by the edge), so up = 1 (white), down = 0 (black). `k = 1` gives
    /// [`Lattice::unit_values`].
    pub fn unit_picture(&self, max_side: usize) -> (usize, Vec<f32>) {
        let l = self.size;
        let k = l.div_ceil(max_side.max(1));
        if k == 1 {
            return (l, self.unit_values());
        }
        let side = l.div_ceil(k);
        let mut up = vec![0u32; side * side];
        let mut count = vec![0u32; side * side];
        for (y, row) in self.spins.chunks_exact(l).enumerate() {
            for (x, &s) in row.iter().enumerate() {
                let p = (y / k) * side + x / k;
                up[p] += u32::from(s > 0);
                count[p] += 1;
            }
        }
        let values = up
            .iter()
            .zip(&count)
            .map(|(&u, &c)| u as f32 / c.max(1) as f32)
            .collect();
        (side, values)
    }

    /// Spins as picture intensities: up = 1 (white), down = 0 (black).
    pub fn unit_values(&self) -> Vec<f32> {
        self.spins
            .iter()
            .map(|&s| if s > 0 { 1.0 } else { 0.0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_lattices_are_pictured_by_block_means() -> Result<()> {
        // A 6 x 6 lattice whose left half is up, drawn at most 4 wide: 2 x 2 blocks, 3 x 3
        // pixels; the middle column of blocks straddles the halves.
        let spins = (0..36).map(|i| if i % 6 < 3 { 1 } else { -1 }).collect();
        let lat = Lattice::from_spins(6, spins)?;
        let (side, values) = lat.unit_picture(4);
        assert_eq!(side, 3);
        assert_eq!(&values[..3], &[1.0, 0.5, 0.0]);
        assert_eq!(lat.unit_picture(6), (6, lat.unit_values()));
        Ok(())
    }

    #[test]
    fn ground_state_and_checkerboard_energies() -> Result<()> {
        // All up: every one of the 2N bonds is satisfied, H = -2NJ - Nh.
        let model = IsingModel {
            size: 4,
            coupling: 1.5,
            field: 0.25,
        };
        let up = Lattice::ordered(4);
        assert_eq!(up.energy(&model), -2.0 * 16.0 * 1.5 - 16.0 * 0.25);
        // The Neel state s = (-1)^(x + y): every bond broken, M = 0, H = +2NJ.
        let neel: Vec<i8> = (0..16)
            .map(|i| if (i / 4 + i % 4) % 2 == 0 { 1 } else { -1 })
            .collect();
        let neel = Lattice::from_spins(4, neel)?;
        assert_eq!((neel.bond_sum(), neel.magnetization_sum()), (-32, 0));
        assert_eq!(neel.energy(&model), 48.0);
        Ok(())
    }

    #[test]
    fn bad_models_are_usage_errors() {
        for (size, j, h) in [
            (0, 1.0, 0.0),
            (1, 1.0, 0.0),
            (5, 1.0, 0.0),
            (4, f64::NAN, 0.0),
            (4, 1.0, f64::INFINITY),
        ] {
            let err = IsingModel {
                size,
                coupling: j,
                field: h,
            }
            .validate();
            assert!(err.is_err_and(|e| e.is_usage()), "size {size} J {j} h {h}");
        }
        assert!(Lattice::from_spins(2, vec![1, 0, 1, 1]).is_err());
    }
}
