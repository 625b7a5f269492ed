//! Quadratic unconstrained binary optimisation: minimise `x^T Q x + c` over `x in {0, 1}^n`.
//!
//! Since `x_i^2 = x_i`, `x^T Q x = sum_i Q_ii x_i + sum_{i<j} q_ij x_i x_j` with
//! `q_ij = Q_ij + Q_ji`. Substituting `x_i = (1 + s_i) / 2` gives an Ising problem with the
//! same value in every state:
//!
//! `J_ij = q_ij / 4`, `h_i = Q_ii / 2 + sum_j q_ij / 4`,
//! `c_ising = c + sum_i Q_ii / 2 + sum_{i<j} q_ij / 4`,
//!
//! and back, with `s_i = 2 x_i - 1`: `q_ij = 4 J_ij`, `Q_ii = 2 h_i - 2 sum_j J_ij`,
//! `c = c_ising + sum_{i<j} J_ij - sum_i h_i`.
//!
//! # Shapes
//! `Q_ii`: `[n]`; `q_ij`: `[m]` pairs `(i, j, q_ij)`, `i < j`; states `[n]` of 0/1 (`u8`).

use std::path::Path;

use super::problem::{IsingProblem, MAX_SPINS, merge_pairs};
use super::read::{Entries, FileFormat, read_entries};
use crate::error::{Error, Result};

/// A QUBO `x^T Q x + c`.
#[derive(Debug, Clone, PartialEq)]
pub struct Qubo {
    linear: Vec<f64>,
    quadratic: Vec<(u32, u32, f64)>,
    offset: f64,
}

impl Qubo {
    /// The QUBO on `n` variables with matrix entries `(i, j, Q_ij)`; repeated entries and the two
    /// triangles add up.
    pub fn new(n: usize, entries: impl IntoIterator<Item = (usize, usize, f64)>) -> Result<Self> {
        if n == 0 || n > MAX_SPINS {
            return Err(Error::data(
                "QUBO",
                format!("needs 1 to {MAX_SPINS} variables (got {n})"),
            ));
        }
        let mut linear = vec![0.0; n];
        let mut pairs = Vec::new();
        for (i, j, q) in entries {
            if i == j && i < n {
                linear[i] += q;
            } else {
                pairs.push((i, j, q));
            }
        }
        if let Some(i) = linear.iter().position(|q| !q.is_finite()) {
            return Err(Error::data("QUBO", format!("Q_{i}{i} is not finite")));
        }
        let quadratic = merge_pairs(n, pairs, "QUBO")?;
        Ok(Self {
            linear,
            quadratic,
            offset: 0.0,
        })
    }

    /// Read an edge list (`i j Q_ij` lines, `i i Q_ii` on the diagonal) or a dense matrix `Q`.
    pub fn read(path: &Path, format: FileFormat) -> Result<Self> {
        let Entries { n, entries, .. } = read_entries(path, format)?;
        Self::new(n, entries.iter().map(|e| (e.i, e.j, e.w)))
            .map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// The QUBO with the same value as `ising` in every state (`x = (1 + s) / 2`).
    pub fn from_ising(ising: &IsingProblem) -> Self {
        let mut linear: Vec<f64> = ising.fields().iter().map(|h| 2.0 * h).collect();
        let mut offset = ising.offset() - ising.fields().iter().sum::<f64>();
        let quadratic = ising
            .edges()
            .iter()
            .map(|&(i, j, w)| {
                linear[i as usize] -= 2.0 * w;
                linear[j as usize] -= 2.0 * w;
                offset += w;
                (i, j, 4.0 * w)
            })
            .collect();
        Self {
            linear,
            quadratic,
            offset,
        }
    }

    /// The Ising problem with the same value in every state (`s = 2x - 1`).
    pub fn to_ising(&self) -> Result<IsingProblem> {
        let mut fields: Vec<f64> = self.linear.iter().map(|q| q / 2.0).collect();
        let mut offset = self.offset + self.linear.iter().sum::<f64>() / 2.0;
        for &(i, j, q) in &self.quadratic {
            fields[i as usize] += q / 4.0;
            fields[j as usize] += q / 4.0;
            offset += q / 4.0;
        }
        let pairs = self
            .quadratic
            .iter()
            .map(|&(i, j, q)| (i as usize, j as usize, q / 4.0));
        Ok(IsingProblem::new(fields, pairs)?.with_offset(offset))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.linear.len()
    }

    /// Always false: a QUBO has at least one variable.
    pub fn is_empty(&self) -> bool {
        self.linear.is_empty()
    }

    /// `x^T Q x + c`; `x` must hold `n` values, each 0 or 1.
    pub fn energy(&self, x: &[u8]) -> Result<f64> {
        if x.len() != self.len() {
            return Err(Error::ShapeMismatch {
                what: "QUBO state".into(),
                expected: vec![self.len()],
                got: vec![x.len()],
            });
        }
        if let Some(i) = x.iter().position(|&b| b > 1) {
            return Err(Error::data(
                "QUBO state",
                format!("x_{i} = {} is not 0 or 1", x[i]),
            ));
        }
        let linear: f64 = self
            .linear
            .iter()
            .zip(x)
            .map(|(q, &b)| q * f64::from(b))
            .sum();
        let pairs: f64 = self
            .quadratic
            .iter()
            .map(|&(i, j, q)| q * f64::from(x[i as usize] * x[j as usize]))
            .sum();
        Ok(linear + pairs + self.offset)
    }
}

/// `x_i = (1 + s_i) / 2`.
pub fn spins_to_bits(spins: &[i8]) -> Vec<u8> {
    spins.iter().map(|&s| u8::from(s > 0)).collect()
}

/// `s_i = 2 x_i - 1`.
pub fn bits_to_spins(bits: &[u8]) -> Vec<i8> {
    bits.iter().map(|&b| if b > 0 { 1 } else { -1 }).collect()
}
