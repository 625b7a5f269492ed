//! Target distributions: the seed's AND system, XOR/parity (which need hidden units), or the
//! empirical distribution of binary data.

use serde::{Deserialize, Serialize};

use super::exact::VisibleDistribution;
use super::model::state_index;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// A built-in target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// The seed's three-unit AND system: `(x1, x2, x1 AND x2)`, the four rows of the truth
    /// table with probability 1/4 each.
    And,
    /// `(x1, x2, x1 XOR x2)`: no pairwise statistics distinguish it from uniform, so a machine
    /// without hidden units cannot learn it.
    Xor,
    /// All `k`-bit vectors of even parity (XOR is `parity:3`).
    Parity(usize),
}

impl std::str::FromStr for Target {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "and" => Ok(Target::And),
            "xor" => Ok(Target::Xor),
            _ => match s
                .strip_prefix("parity:")
                .and_then(|k| k.parse::<usize>().ok())
            {
                Some(k) if (2..=16).contains(&k) => Ok(Target::Parity(k)),
                _ => Err(Error::param(
                    "target",
                    format!("`{s}` is not one of and, xor, parity:K (2 <= K <= 16)"),
                )),
            },
        }
    }
}

impl Target {
    /// The patterns with positive probability (rows of 0/1 units).
    pub fn patterns(self) -> Vec<Vec<u8>> {
        match self {
            Target::And => vec![vec![0, 0, 0], vec![0, 1, 0], vec![1, 0, 0], vec![1, 1, 1]],
            Target::Xor => vec![vec![0, 0, 0], vec![0, 1, 1], vec![1, 0, 1], vec![1, 1, 0]],
            Target::Parity(k) => (0..1u64 << k)
                .filter(|s| s.count_ones() % 2 == 0)
                .map(|s| (0..k).map(|i| ((s >> i) & 1) as u8).collect())
                .collect(),
        }
    }

    /// Default number of hidden units for the target.
    pub fn default_hidden(self) -> usize {
        match self {
            Target::And => 0,
            Target::Xor => 3,
            Target::Parity(k) => k,
        }
    }
}

/// What a machine is trained on: the visible width, the exact target distribution and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingData {
    /// Visible units.
    pub visible: usize,
    /// `p_data(v)` over the distinct visible states.
    pub distribution: VisibleDistribution,
    /// The examples (for sampled learning).
    pub rows: Vec<Vec<u8>>,
}

impl TrainingData {
    /// Uniform over the target's patterns.
    pub fn from_target(target: Target) -> Self {
        Self::from_rows(target.patterns())
    }

    /// The empirical distribution of binary `rows`.
    pub fn from_rows(rows: Vec<Vec<u8>>) -> Self {
        let visible = rows.first().map_or(0, Vec::len);
        let mut counts: std::collections::BTreeMap<u64, f64> = Default::default();
        for r in &rows {
            *counts.entry(state_index(r)).or_default() += 1.0;
        }
        let total = rows.len() as f64;
        Self {
            visible,
            distribution: counts.into_iter().map(|(s, c)| (s, c / total)).collect(),
            rows,
        }
    }

    /// Binary data (every value 0 or 1) from a data set.
    pub fn from_dataset(data: &Dataset) -> Result<Self> {
        if data.dim() > 63 {
            return Err(Error::data(
                data.name(),
                format!(
                    "{} columns: a Boltzmann machine here has at most 63 units",
                    data.dim()
                ),
            ));
        }
        let mut rows = Vec::with_capacity(data.len());
        for r in 0..data.len() {
            let row = data.row(r);
            if let Some(c) = row.iter().position(|&v| v != 0.0 && v != 1.0) {
                return Err(Error::data(
                    data.name(),
                    format!(
                        "row {}, column {} is {}: Boltzmann machine units are binary (set `binarize` to `threshold`)",
                        r + 1,
                        c + 1,
                        row[c]
                    ),
                ));
            }
            rows.push(row.iter().map(|&v| v as u8).collect());
        }
        Ok(Self::from_rows(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_truth_tables() {
        for p in Target::And.patterns() {
            assert_eq!(p[2], p[0] & p[1]);
        }
        for p in Target::Xor.patterns() {
            assert_eq!(p[2], p[0] ^ p[1]);
        }
        // XOR is the even-parity distribution on 3 bits.
        let mut a = Target::Xor.patterns();
        let mut b = Target::Parity(3).patterns();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        let d = TrainingData::from_target(Target::And);
        assert_eq!(d.distribution.len(), 4);
        assert!(
            d.distribution
                .iter()
                .all(|(_, p)| (*p - 0.25).abs() < 1e-15)
        );
    }
}
