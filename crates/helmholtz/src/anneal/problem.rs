//! The Ising problem every binary optimisation here is mapped to.
//!
//! `E(s) = sum_{i<j} J_ij s_i s_j + sum_i h_i s_i + c`, `s_i in {-1, +1}`: the SPIN convention
//! of D-Wave's `dimod.BinaryQuadraticModel` (`linear = h`, `quadratic = J`, `offset = c`), so
//! energies compare one to one with `dwave-samplers`. Lower is better. Flipping spin `i` changes
//! the energy by `dE_i = -2 s_i f_i`, where `f_i = h_i + sum_j J_ij s_j` is its local field.
//!
//! # Shapes
//! `h`: `[n]`; couplings as a symmetric CSR adjacency: `offsets` `[n + 1]`, `neighbours` and
//! `couplings` `[2m]` (each of the `m` pairs stored at both ends); states `[n]` of `i8` ±1.

use std::collections::HashMap;
use std::path::Path;

use super::read::{Entries, FileFormat, read_entries};
use crate::error::{Error, Result};

/// Largest number of spins a problem may have (ids must fit the `u32` adjacency).
pub const MAX_SPINS: usize = 1 << 28;

/// A sparse Ising problem `E(s) = sum_{i<j} J_ij s_i s_j + sum_i h_i s_i + c`.
#[derive(Debug, Clone, PartialEq)]
pub struct IsingProblem {
    fields: Vec<f64>,
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
    couplings: Vec<f64>,
    edges: Vec<(u32, u32, f64)>,
    offset: f64,
}

impl IsingProblem {
    /// A problem with fields `h` (its length is the number of spins) and couplings `(i, j, J_ij)`.
    ///
    /// Pairs given more than once (as `(i, j)` or `(j, i)`) add up, as in `dimod`; pairs that sum
    /// to zero are dropped. Self-couplings, ids `>= n` and non-finite values are errors.
    pub fn new(
        fields: Vec<f64>,
        couplings: impl IntoIterator<Item = (usize, usize, f64)>,
    ) -> Result<Self> {
        let n = fields.len();
        if n == 0 {
            return Err(Error::data("Ising problem", "has no spins"));
        }
        if n > MAX_SPINS {
            return Err(Error::data(
                "Ising problem",
                format!("{n} spins is more than the {MAX_SPINS} supported"),
            ));
        }
        if let Some(i) = fields.iter().position(|h| !h.is_finite()) {
            return Err(Error::data(
                "Ising problem",
                format!("field h_{i} is not finite"),
            ));
        }
        let edges = merge_pairs(n, couplings, "Ising problem")?;
        // Every energy and local field is a sum of these; it must not overflow.
        let total: f64 = fields.iter().map(|h| h.abs()).sum::<f64>()
            + 2.0 * edges.iter().map(|e| e.2.abs()).sum::<f64>();
        if !total.is_finite() {
            return Err(Error::data(
                "Ising problem",
                "the weights add up to more than floating point can hold; rescale them",
            ));
        }
        let (offsets, neighbours, couplings) = csr(n, &edges);
        Ok(Self {
            fields,
            offsets,
            neighbours,
            couplings,
            edges,
            offset: 0.0,
        })
    }

    /// Read an edge list (`i j J_ij` lines; a line `i i h_i` gives a field) or a dense matrix
    /// `M` read as `E(s) = s^T M s` without its constant: `h_i = M_ii`, `J_ij = M_ij + M_ji`
    /// (so an upper-triangular matrix gives `J` directly). Repeated pairs add up.
    pub fn read(path: &Path, format: FileFormat) -> Result<Self> {
        let Entries { n, entries, .. } = read_entries(path, format)?;
        let mut fields = vec![0.0; n];
        let mut pairs = Vec::with_capacity(entries.len());
        for e in entries {
            if e.i == e.j {
                fields[e.i] += e.w;
            } else {
                pairs.push((e.i, e.j, e.w));
            }
        }
        Self::new(fields, pairs).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// The same problem with constant `c` added to every energy.
    pub fn with_offset(mut self, offset: f64) -> Self {
        self.offset = offset;
        self
    }

    /// Number of spins `n`.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Always false: a problem has at least one spin.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields `h`.
    pub fn fields(&self) -> &[f64] {
        &self.fields
    }

    /// The couplings `(i, j, J_ij)` with `i < j`, one per pair, sorted.
    pub fn edges(&self) -> &[(u32, u32, f64)] {
        &self.edges
    }

    /// The constant `c`.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Neighbours of spin `i < n` and the couplings to them.
    pub(crate) fn neighbourhood(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.neighbours[a..b], &self.couplings[a..b])
    }

    /// `E(s)`; `spins` must hold `n` values, each -1 or +1.
    pub fn energy(&self, spins: &[i8]) -> Result<f64> {
        check_spins(spins, self.len())?;
        Ok(self.energy_unchecked(spins))
    }

    /// `E(s)` for a state known to be valid.
    pub(crate) fn energy_unchecked(&self, s: &[i8]) -> f64 {
        let pairs: f64 = self
            .edges
            .iter()
            .map(|&(i, j, w)| w * f64::from(s[i as usize] * s[j as usize]))
            .sum();
        let linear: f64 = self
            .fields
            .iter()
            .zip(s)
            .map(|(h, &si)| h * f64::from(si))
            .sum();
        pairs + linear + self.offset
    }

    /// Local fields `f_i = h_i + sum_j J_ij s_j`; flipping spin `i` changes `E` by `-2 s_i f_i`.
    pub fn local_fields(&self, spins: &[i8]) -> Result<Vec<f64>> {
        check_spins(spins, self.len())?;
        Ok((0..self.len())
            .map(|i| {
                let (nb, w) = self.neighbourhood(i);
                let coupled: f64 = nb
                    .iter()
                    .zip(w)
                    .map(|(&j, w)| w * f64::from(spins[j as usize]))
                    .sum();
                self.fields[i] + coupled
            })
            .collect())
    }

    /// The inverse-temperature range `(beta_hot, beta_cold)` that `dwave-samplers` 1.x picks by
    /// default (`_default_ising_beta_range`, excitation rate 0.01, `scale_T_with_N`):
    ///
    /// * hot: every flip is accepted with probability at least 1/2 even against the largest
    ///   possible field, `exp(-beta_hot * 2 max_i F_i) = 1/2` with `F_i = |h_i| + sum_j |J_ij|`;
    /// * cold: a spin frustrating its smallest bias `g_i = min(|h_i|, |J_ij|)` (non-zero ones)
    ///   flips with total rate 0.01: `beta_cold = ln(k / 0.01) / (2 g)`, `g = min_i g_i`, `k` the
    ///   number of spins with `g_i = g`.
    ///
    /// A problem with all biases zero gets `(0.1, 1.0)`, as in dwave-samplers.
    pub fn default_beta_range(&self) -> (f64, f64) {
        let mut max_field = 0.0f64;
        let mut gaps = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let (_, w) = self.neighbourhood(i);
            let h = self.fields[i].abs();
            max_field = max_field.max(h + w.iter().map(|w| w.abs()).sum::<f64>());
            let smallest = std::iter::once(h)
                .chain(w.iter().map(|w| w.abs()))
                .filter(|&b| b != 0.0)
                .reduce(f64::min);
            gaps.extend(smallest);
        }
        let Some(gap) = gaps.iter().copied().reduce(f64::min) else {
            return (0.1, 1.0);
        };
        let count = gaps.iter().filter(|&&g| g == gap).count() as f64;
        let hot = std::f64::consts::LN_2 / (2.0 * max_field);
        let cold = (count / 0.01).ln() / (2.0 * gap);
        (hot, cold)
    }
}

/// Spins must number `n` and each be -1 or +1.
pub(crate) fn check_spins(spins: &[i8], n: usize) -> Result<()> {
    if spins.len() != n {
        return Err(Error::ShapeMismatch {
            what: "spin state".into(),
            expected: vec![n],
            got: vec![spins.len()],
        });
    }
    if let Some(i) = spins.iter().position(|&s| s != 1 && s != -1) {
        return Err(Error::data(
            "spin state",
            format!("s_{i} = {} is not -1 or +1", spins[i]),
        ));
    }
    Ok(())
}

/// Sum duplicate pairs into `(i, j, w)` with `i < j`, sorted, zero sums dropped; `what` names
/// the problem in errors.
pub(crate) fn merge_pairs(
    n: usize,
    pairs: impl IntoIterator<Item = (usize, usize, f64)>,
    what: &str,
) -> Result<Vec<(u32, u32, f64)>> {
    let mut sums: HashMap<(u32, u32), f64> = HashMap::new();
    for (i, j, w) in pairs {
        if i >= n || j >= n {
            return Err(Error::data(
                what,
                format!("coupling ({i}, {j}) names a spin >= n = {n}"),
            ));
        }
        if i == j {
            return Err(Error::data(
                what,
                format!("coupling ({i}, {i}) couples a spin to itself"),
            ));
        }
        if !w.is_finite() {
            return Err(Error::data(
                what,
                format!("coupling ({i}, {j}) is not finite"),
            ));
        }
        let key = (i.min(j) as u32, i.max(j) as u32);
        *sums.entry(key).or_insert(0.0) += w;
    }
    if let Some(((i, j), _)) = sums.iter().find(|(_, w)| !w.is_finite()) {
        return Err(Error::data(
            what,
            format!("coupling ({i}, {j}) given more than once adds up to infinity"),
        ));
    }
    let mut edges: Vec<(u32, u32, f64)> = sums
        .into_iter()
        .filter(|&(_, w)| w != 0.0)
        .map(|((i, j), w)| (i, j, w))
        .collect();
    edges.sort_unstable_by_key(|&(i, j, _)| (i, j));
    Ok(edges)
}

/// The symmetric CSR adjacency of `edges`: offsets `[n + 1]`, neighbours and couplings `[2m]`.
fn csr(n: usize, edges: &[(u32, u32, f64)]) -> (Vec<usize>, Vec<u32>, Vec<f64>) {
    let mut degree = vec![0usize; n];
    for &(i, j, _) in edges {
        degree[i as usize] += 1;
        degree[j as usize] += 1;
    }
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0);
    for d in &degree {
        offsets.push(offsets[offsets.len() - 1] + d);
    }
    let mut next = offsets[..n].to_vec();
    let mut neighbours = vec![0u32; 2 * edges.len()];
    let mut couplings = vec![0.0; 2 * edges.len()];
    for &(i, j, w) in edges {
        for (a, b) in [(i, j), (j, i)] {
            let k = next[a as usize];
            neighbours[k] = b;
            couplings[k] = w;
            next[a as usize] += 1;
        }
    }
    (offsets, neighbours, couplings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_fields_give_the_flip_energy() -> Result<()> {
        let p = IsingProblem::new(
            vec![0.5, -1.0, 0.25],
            [(0, 1, 1.5), (2, 1, -2.0), (1, 0, 0.5)],
        )?;
        assert_eq!(p.edges(), &[(0, 1, 2.0), (1, 2, -2.0)]);
        let s = [1i8, -1, 1];
        let f = p.local_fields(&s)?;
        for i in 0..3 {
            let mut t = s;
            t[i] = -t[i];
            let de = p.energy(&t)? - p.energy(&s)?;
            assert!((de - (-2.0 * f64::from(s[i]) * f[i])).abs() < 1e-12);
        }
        Ok(())
    }

    #[test]
    fn beta_range_follows_the_dwave_rule() -> Result<()> {
        // Spin 1 sees |h| + |J| = 1 + 2 + 3 = 6: hot = ln 2 / 12. Smallest biases: spin 0 min(|2|)
        // = 2, spin 1 min(1, 2, 3) = 1, spin 2 min(3) = 3: gap 1, once: cold = ln(100) / 2.
        let p = IsingProblem::new(vec![0.0, 1.0, 0.0], [(0, 1, 2.0), (1, 2, -3.0)])?;
        let (hot, cold) = p.default_beta_range();
        assert!((hot - 2f64.ln() / 12.0).abs() < 1e-15);
        assert!((cold - 100f64.ln() / 2.0).abs() < 1e-15);
        Ok(())
    }
}
