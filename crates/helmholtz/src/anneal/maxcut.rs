//! Max-Cut: split the nodes of a weighted graph in two so that the edges across weigh most.
//!
//! With `s_i = ±1` naming the side of node `i`, an edge is cut when `s_i s_j = -1`, so the cut
//! weight is `C(s) = sum_{(i,j)} w_ij (1 - s_i s_j) / 2 = (W - E(s)) / 2` with `W = sum w_ij`
//! and the Ising energy `E(s) = sum_{(i,j)} w_ij s_i s_j` (`J_ij = w_ij`, `h = 0`): maximising
//! the cut is minimising `E`. Weights may be negative; parallel edges add up.
//!
//! # Shapes
//! `edges`: `[m]` of `(i, j, w_ij)`; states `[n]` of ±1.

use std::path::Path;

use rand::Rng;

use super::problem::{IsingProblem, MAX_SPINS, check_spins};
use super::read::{BYTES_PER_NODE, Entries, Entry, FileFormat, read_entries};
use crate::budget;
use crate::error::{Error, Result};

/// A weighted graph whose maximum cut is sought.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxCut {
    ising: IsingProblem,
    total_weight: f64,
}

impl MaxCut {
    /// The graph on `n` nodes with weighted edges `(i, j, w_ij)`.
    pub fn new(n: usize, edges: impl IntoIterator<Item = (usize, usize, f64)>) -> Result<Self> {
        let ising = IsingProblem::new(vec![0.0; n], edges)?;
        if ising.edges().is_empty() {
            return Err(Error::data(
                "Max-Cut graph",
                "has no edges (or all weights cancel)",
            ));
        }
        let total_weight = ising.edges().iter().map(|e| e.2).sum();
        Ok(Self {
            ising,
            total_weight,
        })
    }

    /// Read an edge list or a symmetric adjacency matrix with zero diagonal (see [`super::read`]).
    pub fn read(path: &Path, format: FileFormat) -> Result<Self> {
        let Entries {
            n,
            entries,
            dense,
            row_lines,
        } = read_entries(path, format)?;
        if let Some(e) = entries.iter().find(|e| e.i == e.j) {
            let what = if dense {
                format!("diagonal entry ({0}, {0}) is not zero", e.i)
            } else {
                format!("edge {0} {0}", e.i)
            };
            return Err(Error::bad_file(
                path,
                format!("line {}: self-loop: {what} (a cut cannot cut it)", e.line),
            ));
        }
        let edges: Vec<(usize, usize, f64)> = if dense {
            check_symmetric(path, &entries, &row_lines)?;
            entries
                .iter()
                .filter(|e| e.i < e.j)
                .map(|e| (e.i, e.j, e.w))
                .collect()
        } else {
            entries.iter().map(|e| (e.i, e.j, e.w)).collect()
        };
        Self::new(n, edges).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// A random graph `G(n, m)` with `m = round(n * degree / 2)` distinct unit-weight edges,
    /// drawn uniformly from all pairs, the same for the same `seed`.
    pub fn random(n: usize, degree: f64, seed: u64) -> Result<Self> {
        if !(2..=MAX_SPINS).contains(&n) {
            return Err(Error::param(
                "random",
                format!("needs 2 to {MAX_SPINS} nodes (got {n})"),
            ));
        }
        let pairs = n as f64 * (n as f64 - 1.0) / 2.0;
        let m = (n as f64 * degree / 2.0).round();
        if !(degree.is_finite() && m >= 1.0 && m <= pairs) {
            return Err(Error::param(
                "random",
                format!(
                    "average degree {degree} on {n} nodes must give between 1 and {pairs} edges"
                ),
            ));
        }
        // Per edge: the set of drawn pairs, the edge list and the problem's adjacency.
        budget::check(
            "random",
            budget::total(&[
                budget::bytes(&[n, BYTES_PER_NODE]),
                budget::bytes(&[m as usize, 128]),
            ]),
        )?;
        let mut rng = crate::rng::rng_for(seed, &[RANDOM_GRAPH_STREAM]);
        let mut chosen = std::collections::HashSet::with_capacity(m as usize);
        let mut edges = Vec::with_capacity(m as usize);
        while edges.len() < m as usize {
            let (i, j) = (below(&mut rng, n), below(&mut rng, n));
            if i != j && chosen.insert((i.min(j), i.max(j))) {
                edges.push((i.min(j), i.max(j), 1.0));
            }
        }
        Self::new(n, edges)
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.ising.len()
    }

    /// The edges `(i, j, w_ij)`, `i < j`.
    pub fn edges(&self) -> &[(u32, u32, f64)] {
        self.ising.edges()
    }

    /// `W`, the total edge weight.
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// The Ising problem `E(s) = sum w_ij s_i s_j` whose minimum is the maximum cut.
    pub fn ising(&self) -> &IsingProblem {
        &self.ising
    }

    /// `C(s)`, the weight of the edges between the two sides of `sides` (±1 per node).
    pub fn cut_value(&self, sides: &[i8]) -> Result<f64> {
        check_spins(sides, self.nodes())?;
        Ok(self
            .edges()
            .iter()
            .filter(|&&(i, j, _)| sides[i as usize] != sides[j as usize])
            .map(|e| e.2)
            .sum())
    }

    /// The cut of a state with Ising energy `E`: `C = (W - E) / 2`.
    pub fn cut_from_energy(&self, energy: f64) -> f64 {
        (self.total_weight - energy) / 2.0
    }
}

/// Stream id of the random-graph generator under the user seed.
const RANDOM_GRAPH_STREAM: u64 = 0x6d61_7863;

/// Uniform integer in `0..n` (Lemire's multiply-high; bias below n / 2^64).
pub(crate) fn below(rng: &mut impl Rng, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// A dense Max-Cut matrix must be symmetric.
fn check_symmetric(path: &Path, entries: &[Entry], row_lines: &[usize]) -> Result<()> {
    let mut m = std::collections::HashMap::with_capacity(entries.len());
    for e in entries {
        m.insert((e.i, e.j), (e.w, e.line));
    }
    for e in entries {
        let (back, line) = m.get(&(e.j, e.i)).copied().unwrap_or((0.0, row_lines[e.j]));
        if back != e.w {
            return Err(Error::bad_file(
                path,
                format!(
                    "line {}: not symmetric: entry ({}, {}) is {} but entry ({}, {}) on line {line} is {back}",
                    e.line, e.i, e.j, e.w, e.j, e.i
                ),
            ));
        }
    }
    Ok(())
}
