//! The binary Hopfield network of the seed: states `u_i in {0, 1}`, symmetric weights with
//! zero diagonal, external input `s_i` and threshold `theta_i`.
//!
//! Update rule: `u_i <- 1` if `I_i > 0`, `0` if `I_i < 0`, unchanged if `I_i = 0`, with the input
//! `I_i = sum_j w_ij u_j + s_i - theta_i`. Energy: `E = -sum_{i<j} w_ij u_i u_j - sum_i (s_i - theta_i) u_i`.
//! Changing `u_i` to `u_i'` changes the energy by `dE = -(u_i' - u_i) I_i <= 0` (the seed's
//! derivation), so asynchronous updates never raise `E` and recall ends in a local minimum.
//!
//! With thresholds `theta_i = sum_j w_ij / 2` ([`Threshold::Balanced`]) the 0/1 network is the
//! classical ±1 network `x_i <- sign(sum_j w_ij x_j)` (substitute `u = (x + 1) / 2`), whose
//! Hebbian capacity is 0.138 N; with zero thresholds a 0/1 network is biased towards the all-on
//! state.
//!
//! # Shapes
//! `w`: `[n, n]` row-major; `theta`, `input`, states: `[n]`.

use crate::keywords::keywords;
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::rules::{LearningRule, learn};
use crate::error::{Error, Result};

/// How thresholds are set when patterns are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Threshold {
    /// `theta_i = sum_j w_ij / 2`: the 0/1 network behaves as the ±1 network.
    #[default]
    Balanced,
    /// `theta_i = 0`.
    Zero,
}

keywords!(Threshold, "threshold", {
    Balanced => "balanced",
    Zero => "zero",
});

/// Order of updates during recall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateOrder {
    /// One unit at a time, in a fresh random order each sweep (energy never rises).
    #[default]
    Asynchronous,
    /// All units at once from the previous state (may end in a 2-cycle).
    Synchronous,
}

keywords!(UpdateOrder, "order", {
    Asynchronous => "async" | "asynchronous",
    Synchronous => "sync" | "synchronous",
});

/// Most snapshots a recall keeps (plus the final state).
const MAX_SNAPSHOTS: usize = 24;

/// A binary Hopfield network.
#[derive(Debug, Clone, PartialEq)]
pub struct Hopfield {
    n: usize,
    w: Vec<f32>,
    theta: Vec<f32>,
    input: Vec<f32>,
}

/// What a recall did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recall {
    /// Sweeps run (a sweep visits every unit once).
    pub sweeps: usize,
    /// Units that changed.
    pub flips: usize,
    /// True when the last sweep changed nothing (a fixed point).
    pub converged: bool,
    /// Energy before the first update and after every single-unit update (asynchronous), or
    /// after every sweep (synchronous).
    pub energies: Vec<f64>,
    /// Snapshots of the state: every `n/8` updates (asynchronous) or at the start of each sweep
    /// (synchronous), at most 24, and the final state.
    pub snapshots: Vec<Vec<u8>>,
}

impl Hopfield {
    /// A network from weights (symmetric, zero diagonal), thresholds and external input.
    pub fn new(w: Vec<f32>, theta: Vec<f32>, input: Vec<f32>) -> Result<Self> {
        let n = theta.len();
        if n == 0 || w.len() != n * n || input.len() != n {
            return Err(Error::ShapeMismatch {
                what: "Hopfield weights/thresholds/input".into(),
                expected: vec![n * n, n, n],
                got: vec![w.len(), theta.len(), input.len()],
            });
        }
        for i in 0..n {
            if w[i * n + i] != 0.0 {
                return Err(Error::data(
                    "Hopfield weights",
                    format!("w[{i}][{i}] = {} must be 0", w[i * n + i]),
                ));
            }
            for j in 0..i {
                if w[i * n + j] != w[j * n + i] {
                    return Err(Error::data(
                        "Hopfield weights",
                        format!("w[{i}][{j}] != w[{j}][{i}]: weights must be symmetric"),
                    ));
                }
            }
        }
        Ok(Self { n, w, theta, input })
    }

    /// Store 0/1 `patterns` (`[p, n]`) with `rule`; thresholds by `threshold`, no external input.
    pub fn store(
        patterns: &[f32],
        n: usize,
        rule: LearningRule,
        threshold: Threshold,
    ) -> Result<Self> {
        let w = learn(rule, patterns, n)?;
        let theta = match threshold {
            Threshold::Balanced => w
                .chunks_exact(n)
                .map(|row| row.iter().sum::<f32>() / 2.0)
                .collect(),
            Threshold::Zero => vec![0.0; n],
        };
        Self::new(w, theta, vec![0.0; n])
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True for a network without units (never, once constructed).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The weights, `[n, n]`.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }

    /// The thresholds `theta`.
    pub fn thresholds(&self) -> &[f32] {
        &self.theta
    }

    /// The external input `s`.
    pub fn input(&self) -> &[f32] {
        &self.input
    }

    /// Set the external input `s` (e.g. a cue).
    pub fn set_input(&mut self, input: Vec<f32>) -> Result<()> {
        if input.len() != self.n {
            return Err(Error::ShapeMismatch {
                what: "Hopfield external input".into(),
                expected: vec![self.n],
                got: vec![input.len()],
            });
        }
        self.input = input;
        Ok(())
    }

    /// `E(u) = -sum_{i<j} w_ij u_i u_j - sum_i (s_i - theta_i) u_i`, in f64.
    pub fn energy(&self, u: &[u8]) -> f64 {
        let n = self.n;
        let mut pair = 0f64;
        let mut single = 0f64;
        for i in 0..n {
            if u[i] == 0 {
                continue;
            }
            let row = &self.w[i * n..(i + 1) * n];
            pair += (i + 1..n)
                .filter(|&j| u[j] != 0)
                .map(|j| row[j] as f64)
                .sum::<f64>();
            single += (self.input[i] - self.theta[i]) as f64;
        }
        -pair - single
    }

    /// Inputs `I_i = sum_j w_ij u_j + s_i - theta_i` for every unit.
    pub fn inputs(&self, u: &[u8]) -> Vec<f32> {
        let n = self.n;
        (0..n)
            .map(|i| {
                let row = &self.w[i * n..(i + 1) * n];
                let s: f32 = row
                    .iter()
                    .zip(u)
                    .filter(|(_, x)| **x != 0)
                    .map(|(w, _)| *w)
                    .sum();
                s + self.input[i] - self.theta[i]
            })
            .collect()
    }

    /// Recall from `u` (in place) for at most `max_sweeps` sweeps.
    pub fn recall(
        &self,
        u: &mut [u8],
        order: UpdateOrder,
        max_sweeps: usize,
        rng: &mut impl Rng,
    ) -> Recall {
        match order {
            UpdateOrder::Asynchronous => self.recall_async(u, max_sweeps, rng),
            UpdateOrder::Synchronous => self.recall_sync(u, max_sweeps),
        }
    }

    /// Asynchronous updates from `u` until a fixed point or `max_sweeps`, without recording a
    /// trace; `input` must hold [`Self::inputs`] of `u` and is kept up to date. Returns
    /// `(sweeps, converged)`.
    pub fn settle(
        &self,
        u: &mut [u8],
        input: &mut [f32],
        max_sweeps: usize,
        rng: &mut impl Rng,
    ) -> (usize, bool) {
        let n = self.n;
        let mut order: Vec<usize> = (0..n).collect();
        for sweep in 1..=max_sweeps {
            order.shuffle(rng);
            let mut changed = false;
            for &i in &order {
                let new = if input[i] > 0.0 {
                    1u8
                } else if input[i] < 0.0 {
                    0u8
                } else {
                    u[i]
                };
                if new != u[i] {
                    let delta = new as f32 - u[i] as f32;
                    u[i] = new;
                    let row = &self.w[i * n..(i + 1) * n];
                    input.iter_mut().zip(row).for_each(|(x, w)| *x += delta * w);
                    changed = true;
                }
            }
            if !changed {
                return (sweep, true);
            }
        }
        (max_sweeps, false)
    }

    /// Asynchronous recall: inputs are kept up to date incrementally, so a sweep costs `O(n)`
    /// plus `O(n)` per change.
    fn recall_async(&self, u: &mut [u8], max_sweeps: usize, rng: &mut impl Rng) -> Recall {
        let n = self.n;
        let mut input = self.inputs(u);
        let mut energy = self.energy(u);
        let mut out = Recall {
            sweeps: 0,
            flips: 0,
            converged: false,
            energies: vec![energy],
            snapshots: Vec::new(),
        };
        let mut order: Vec<usize> = (0..n).collect();
        // A snapshot every n/8 updates of the first sweeps, as in the seed's recall figure.
        let stride = (n / 8).max(1);
        while out.sweeps < max_sweeps {
            order.shuffle(rng);
            let mut changed = 0;
            for (k, &i) in order.iter().enumerate() {
                if k % stride == 0 && out.snapshots.len() < MAX_SNAPSHOTS {
                    out.snapshots.push(u.to_vec());
                }
                let new = match input[i] {
                    x if x > 0.0 => 1u8,
                    x if x < 0.0 => 0u8,
                    _ => u[i],
                };
                if new != u[i] {
                    let delta = new as f32 - u[i] as f32;
                    energy -= delta as f64 * input[i] as f64;
                    u[i] = new;
                    let row = &self.w[i * n..(i + 1) * n];
                    input.iter_mut().zip(row).for_each(|(x, w)| *x += delta * w);
                    changed += 1;
                }
                out.energies.push(energy);
            }
            out.sweeps += 1;
            out.flips += changed;
            if changed == 0 {
                out.converged = true;
                break;
            }
        }
        out.snapshots.push(u.to_vec());
        out
    }

    /// Synchronous recall: every unit from the previous state; stops at a fixed point.
    fn recall_sync(&self, u: &mut [u8], max_sweeps: usize) -> Recall {
        let mut out = Recall {
            sweeps: 0,
            flips: 0,
            converged: false,
            energies: vec![self.energy(u)],
            snapshots: Vec::new(),
        };
        while out.sweeps < max_sweeps {
            if out.snapshots.len() < MAX_SNAPSHOTS {
                out.snapshots.push(u.to_vec());
            }
            let input = self.inputs(u);
            let mut changed = 0;
            for (ui, x) in u.iter_mut().zip(&input) {
                let new = if *x > 0.0 {
                    1
                } else if *x < 0.0 {
                    0
                } else {
                    *ui
                };
                changed += usize::from(new != *ui);
                *ui = new;
            }
            out.sweeps += 1;
            out.flips += changed;
            out.energies.push(self.energy(u));
            if changed == 0 {
                out.converged = true;
                break;
            }
        }
        out.snapshots.push(u.to_vec());
        out
    }
}

/// Overlap `m = (1/n) sum_i x_i y_i` of two 0/1 states in ±1 form (1 = identical, -1 = inverse).
pub fn overlap(a: &[u8], b: &[u8]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    (2.0 * same as f64 - a.len() as f64) / a.len().max(1) as f64
}
