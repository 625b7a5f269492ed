//! The storage-capacity experiment: how many random patterns a network of `N` units keeps as
//! attractors.
//!
//! For a load `alpha = P / N`, store `P` random ±1 patterns, start asynchronous recall at each of
//! (up to `probes` of) them and measure the overlap `m = (1/N) sum_i x_i xi_i` with the pattern
//! where recall stops. For the Hebbian rule the mean overlap stays near 1 up to the critical load
//! `alpha_c = 0.138` (Amit, Gutfreund & Sompolinsky 1985), where retrieval collapses; we call the
//! critical load the first load at which the mean overlap falls below 0.95 (linear interpolation
//! between grid points).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::network::{Hopfield, Threshold, overlap};
use super::rules::{LearningRule, memory};
use crate::error::{Error, Result, check};
use crate::rng::{derive_seed, rng_for};
use crate::train::Progress;

/// The theoretical Hebbian capacity `alpha_c` (Amit, Gutfreund & Sompolinsky 1985).
pub const HEBBIAN_CAPACITY: f64 = 0.138;

/// Overlap below which retrieval counts as failed.
pub const RETRIEVAL_OVERLAP: f64 = 0.95;

/// Settings of a capacity experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityConfig {
    /// Network sizes `N`.
    pub sizes: Vec<usize>,
    /// Learning rules to measure.
    pub rules: Vec<LearningRule>,
    /// Independent pattern sets per load.
    pub trials: usize,
    /// Stored patterns probed per set (recall started at each).
    pub probes: usize,
    /// Sweeps before recall gives up.
    pub max_sweeps: usize,
    /// The run's seed.
    pub seed: u64,
}

impl Default for CapacityConfig {
    fn default() -> Self {
        Self {
            sizes: vec![100, 200, 500, 1000],
            rules: LearningRule::ALL.to_vec(),
            trials: 4,
            probes: 50,
            max_sweeps: 50,
            seed: 0,
        }
    }
}

impl CapacityConfig {
    /// Check every value.
    pub fn validate(&self) -> Result<()> {
        if self.sizes.is_empty() {
            return Err(Error::param("n", "give at least one network size"));
        }
        if let Some(n) = self.sizes.iter().find(|&&n| n < 10) {
            return Err(Error::param(
                "n",
                format!("network size {n} is too small (at least 10 units)"),
            ));
        }
        if self.rules.is_empty() {
            return Err(Error::param("rules", "give at least one learning rule"));
        }
        check::positive_count("trials", self.trials)?;
        check::positive_count("probes", self.probes)?;
        check::positive_count("max-sweeps", self.max_sweeps)?;
        // The largest network at the highest load (below N patterns), one per running trial.
        let live = self.trials.min(rayon::current_num_threads()) as u128;
        let largest = self.sizes.iter().copied().max().unwrap_or(0);
        let most = self
            .rules
            .iter()
            .map(|&r| memory(r, largest, largest))
            .max()
            .unwrap_or(0);
        crate::budget::check_parts(&[
            ("n", most.saturating_mul(live)),
            // The overlaps of every probe of every trial, kept until the load is summarised.
            (
                "trials",
                crate::budget::bytes(&[self.trials, self.probes.min(largest), 8]),
            ),
        ])
    }
}

/// The loads swept for a rule: around its expected capacity.
pub fn default_loads(rule: LearningRule) -> Vec<f64> {
    let (lo, hi, step): (f64, f64, f64) = match rule {
        LearningRule::Hebbian => (0.02, 0.30, 0.01),
        LearningRule::Storkey => (0.04, 0.60, 0.02),
        LearningRule::PseudoInverse => (0.05, 0.95, 0.05),
    };
    let k = ((hi - lo) / step).round() as usize;
    (0..=k)
        .map(|i| ((lo + step * i as f64) * 1000.0).round() / 1000.0)
        .collect()
}

/// Mean overlap after recall at one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityPoint {
    /// `P / N`.
    pub load: f64,
    /// Stored patterns `P`.
    pub patterns: usize,
    /// Mean overlap with the pattern recall started at.
    pub mean_overlap: f64,
    /// Standard error of that mean (over all probes of all trials).
    pub se: f64,
    /// Fraction of probes ending with overlap >= 0.95.
    pub retrieved: f64,
}

/// A capacity curve of one rule and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityCurve {
    /// The learning rule.
    pub rule: LearningRule,
    /// Units `N`.
    pub n: usize,
    /// One point per load.
    pub points: Vec<CapacityPoint>,
    /// First load where the mean overlap drops below 0.95 (interpolated), if it does.
    pub critical_load: Option<f64>,
}

/// Measure the curve of `rule` with `n` units over `loads`.
pub fn capacity_curve(
    rule: LearningRule,
    n: usize,
    loads: &[f64],
    cfg: &CapacityConfig,
    progress: &dyn Progress,
) -> Result<CapacityCurve> {
    let mut points = Vec::with_capacity(loads.len());
    for (li, &load) in loads.iter().enumerate() {
        let p = ((load * n as f64).round() as usize).max(1);
        let overlaps: Vec<Vec<f64>> = (0..cfg.trials)
            .into_par_iter()
            .map(|trial| {
                probe_set(
                    rule,
                    n,
                    p,
                    cfg,
                    &[rule as u64, n as u64, li as u64, trial as u64],
                )
            })
            .collect::<Result<_>>()?;
        let all: Vec<f64> = overlaps.into_iter().flatten().collect();
        let k = all.len() as f64;
        let mean = all.iter().sum::<f64>() / k;
        let var = all.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (k - 1.0).max(1.0);
        points.push(CapacityPoint {
            load,
            patterns: p,
            mean_overlap: mean,
            se: (var / k).sqrt(),
            retrieved: all.iter().filter(|&&m| m >= RETRIEVAL_OVERLAP).count() as f64 / k,
        });
        progress.advance(1);
    }
    let critical_load = critical_load(&points, RETRIEVAL_OVERLAP);
    Ok(CapacityCurve {
        rule,
        n,
        points,
        critical_load,
    })
}

/// Store `p` random patterns and recall from up to `cfg.probes` of them; the overlaps.
fn probe_set(
    rule: LearningRule,
    n: usize,
    p: usize,
    cfg: &CapacityConfig,
    path: &[u64],
) -> Result<Vec<f64>> {
    use rand::RngExt;
    let mut rng = rng_for(cfg.seed, path);
    let patterns: Vec<f32> = (0..p * n)
        .map(|_| f32::from(rng.random::<bool>()))
        .collect();
    let net = Hopfield::store(&patterns, n, rule, Threshold::Balanced)?;
    let probes = p.min(cfg.probes);
    let seed = derive_seed(cfg.seed, path);
    Ok((0..probes)
        .into_par_iter()
        .map(|k| {
            let target: Vec<u8> = patterns[k * n..(k + 1) * n]
                .iter()
                .map(|&v| v as u8)
                .collect();
            let mut u = target.clone();
            let mut input = net.inputs(&u);
            net.settle(
                &mut u,
                &mut input,
                cfg.max_sweeps,
                &mut rng_for(seed, &[k as u64]),
            );
            overlap(&u, &target)
        })
        .collect())
}

/// The first load where the overlap falls below `level`, interpolated linearly between the last
/// point above and the first below; `None` if it never does.
pub fn critical_load(points: &[CapacityPoint], level: f64) -> Option<f64> {
    let i = points.iter().position(|p| p.mean_overlap < level)?;
    if i == 0 {
        return Some(points[0].load);
    }
    let (a, b) = (&points[i - 1], &points[i]);
    let t = (a.mean_overlap - level) / (a.mean_overlap - b.mean_overlap);
    Some(a.load + t * (b.load - a.load))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(load: f64, m: f64) -> CapacityPoint {
        CapacityPoint {
            load,
            patterns: 0,
            mean_overlap: m,
            se: 0.0,
            retrieved: 0.0,
        }
    }

    #[test]
    fn critical_load_interpolates_the_crossing() {
        let pts = [
            pt(0.10, 0.99),
            pt(0.12, 0.97),
            pt(0.14, 0.93),
            pt(0.16, 0.5),
        ];
        let c = critical_load(&pts, 0.95).expect("crosses");
        assert!((c - 0.13).abs() < 1e-12);
        assert_eq!(critical_load(&pts[..2], 0.95), None);
    }
}
