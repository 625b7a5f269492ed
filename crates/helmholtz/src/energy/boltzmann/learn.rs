//! Learning: gradient descent on `KL(p_data || q)` with the seed's rule
//! `dw_ij = lambda (<u_i u_j>_data - <u_i u_j>_model)`, with classical momentum.
//!
//! Expectations are exact (enumeration) for machines of at most 20 units. Beyond that both are
//! sampled: the data term by Gibbs sweeps over the hidden units with the visible units clamped
//! to a mini-batch, the model term by persistent chains (PCD).

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::exact::{MAX_EXACT_UNITS, exact_gradient, kl_divergence, visible_marginal};
use super::model::BoltzmannMachine;
use super::targets::TrainingData;
use crate::error::{Error, Result, check};
use crate::rng::rng_for;
use crate::train::Progress;

/// How the expectations are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Expectations {
    /// Exact when the machine has at most 20 units, sampled otherwise.
    #[default]
    Auto,
    /// Enumerate all states.
    Exact,
    /// Gibbs sampling (clamped phase + persistent chains).
    Sampled,
}

impl std::str::FromStr for Expectations {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "exact" => Ok(Self::Exact),
            "sampled" => Ok(Self::Sampled),
            other => Err(Error::param(
                "expectations",
                format!("`{other}` is not one of auto, exact, sampled"),
            )),
        }
    }
}

/// Settings of learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnConfig {
    /// Learning rate `lambda`.
    pub lr: f64,
    /// Gradient steps.
    pub steps: usize,
    /// Momentum of the updates.
    pub momentum: f64,
    /// Temperature `T` of the model.
    pub temperature: f64,
    /// Exact or sampled expectations.
    pub expectations: Expectations,
    /// Persistent chains (sampled model term).
    pub chains: usize,
    /// Gibbs sweeps per step for the chains and the clamped phase.
    pub sweeps: usize,
    /// Examples per step in the clamped phase (sampled).
    pub batch_size: usize,
    /// Record metrics every this many steps.
    pub log_every: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for LearnConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            steps: 2000,
            momentum: 0.5,
            temperature: 1.0,
            expectations: Expectations::Auto,
            chains: 100,
            sweeps: 5,
            batch_size: 100,
            log_every: 20,
            seed: 0,
        }
    }
}

impl LearnConfig {
    /// Check the values (names are CLI flags).
    pub fn validate(&self) -> Result<()> {
        check::positive("lr", self.lr)?;
        check::positive_count("steps", self.steps)?;
        check::unit_interval_open("momentum", self.momentum)?;
        check::positive("temperature", self.temperature)?;
        check::positive_count("chains", self.chains)?;
        check::positive_count("sweeps", self.sweeps)?;
        check::positive_count("batch-size", self.batch_size)?;
        check::positive_count("log-every", self.log_every)?;
        Ok(())
    }

    /// Whether `bm` is trained with exact expectations.
    pub fn exact_for(&self, bm: &BoltzmannMachine) -> Result<bool> {
        match self.expectations {
            Expectations::Exact if bm.units() > MAX_EXACT_UNITS => Err(Error::param(
                "expectations",
                format!(
                    "exact expectations need at most {MAX_EXACT_UNITS} units (have {})",
                    bm.units()
                ),
            )),
            Expectations::Exact => Ok(true),
            Expectations::Sampled => Ok(false),
            Expectations::Auto => Ok(bm.units() <= MAX_EXACT_UNITS),
        }
    }
}

/// One logged point of learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnLog {
    /// Gradient steps done.
    pub step: usize,
    /// `KL(p_data || q)` in nats (exact; `None` for machines too large to enumerate).
    pub kl: Option<f64>,
}

/// Train `bm` on `data`; returns the log (a row every `log_every` steps and at the end).
pub fn learn(
    bm: &mut BoltzmannMachine,
    data: &TrainingData,
    cfg: &LearnConfig,
    progress: &dyn Progress,
) -> Result<Vec<LearnLog>> {
    cfg.validate()?;
    if data.visible != bm.config().visible {
        return Err(Error::ShapeMismatch {
            what: "training data width vs visible units".into(),
            expected: vec![bm.config().visible],
            got: vec![data.visible],
        });
    }
    let exact = cfg.exact_for(bm)?;
    let enumerable = bm.units() <= MAX_EXACT_UNITS;
    let n = bm.units();
    let (mut vw, mut vb) = (vec![0f64; n * n], vec![0f64; n]);
    let mut chains = initial_chains(n, cfg.chains, &mut rng_for(cfg.seed, &[0x4348_4149]));
    let mut log = Vec::new();
    progress.start("learn", cfg.steps as u64);
    for step in 0..cfg.steps {
        let (gw, gb) = if exact {
            exact_gradient(bm, &data.distribution, cfg.temperature)?
        } else {
            sampled_gradient(
                bm,
                data,
                &mut chains,
                cfg,
                &mut rng_for(cfg.seed, &[step as u64]),
            )
        };
        for (v, g) in vw.iter_mut().zip(&gw) {
            *v = cfg.momentum * *v + g;
        }
        for (v, g) in vb.iter_mut().zip(&gb) {
            *v = cfg.momentum * *v + g;
        }
        bm.ascend(&vw, &vb, cfg.lr);
        if bm
            .weights()
            .iter()
            .chain(bm.biases())
            .any(|x| !x.is_finite())
        {
            progress.finish();
            return Err(Error::Diverged {
                epoch: 1,
                batch: step + 1,
                what: "a weight".into(),
                kept: None,
            });
        }
        let done = step + 1;
        if done % cfg.log_every == 0 || done == cfg.steps {
            let kl = enumerable
                .then(|| {
                    visible_marginal(bm, cfg.temperature)
                        .map(|q| kl_divergence(&data.distribution, &q))
                })
                .transpose()?;
            if let Some(k) = kl {
                progress.message(format!("KL {k:.5} nats"));
            }
            log.push(LearnLog { step: done, kl });
        }
        progress.advance(1);
    }
    progress.finish();
    Ok(log)
}

fn initial_chains(n: usize, m: usize, rng: &mut impl Rng) -> Vec<Vec<u8>> {
    (0..m)
        .map(|_| (0..n).map(|_| u8::from(rng.random::<bool>())).collect())
        .collect()
}

/// Sampled `((<uu>_data - <uu>_model) / T, ...)`: the data term from a mini-batch with the hidden
/// units Gibbs-sampled given the clamped visible units, the model term from persistent chains.
fn sampled_gradient(
    bm: &BoltzmannMachine,
    data: &TrainingData,
    chains: &mut [Vec<u8>],
    cfg: &LearnConfig,
    rng: &mut StdRng,
) -> (Vec<f64>, Vec<f64>) {
    let n = bm.units();
    let v = bm.config().visible;
    let t = cfg.temperature;
    let batch: Vec<Vec<u8>> = (0..cfg.batch_size)
        .map(|_| data.rows.choose(rng).cloned().unwrap_or_else(|| vec![0; v]))
        .collect();
    let seeds: Vec<u64> = (0..batch.len() + chains.len())
        .map(|_| rng.next_u64())
        .collect();
    let clamped: Vec<Vec<u8>> = batch
        .into_par_iter()
        .zip(&seeds[..cfg.batch_size])
        .map(|(row, &s)| {
            let mut rng = rng_for(s, &[]);
            let mut u = row;
            u.extend((0..n - v).map(|_| u8::from(rng.random::<bool>())));
            for _ in 0..cfg.sweeps {
                bm.gibbs_sweep(&mut u, t, v, &mut rng);
            }
            u
        })
        .collect();
    chains
        .par_iter_mut()
        .zip(&seeds[cfg.batch_size..])
        .for_each(|(u, &s)| {
            let mut rng = rng_for(s, &[]);
            for _ in 0..cfg.sweeps {
                bm.gibbs_sweep(u, t, 0, &mut rng);
            }
        });
    let d = second_moments(&clamped, n);
    let m = second_moments(chains, n);
    let gw: Vec<f64> = d.iter().zip(&m).map(|(a, b)| (a - b) / t).collect();
    let gb = (0..n).map(|i| gw[i * n + i]).collect();
    (gw, gb)
}

fn second_moments(states: &[Vec<u8>], n: usize) -> Vec<f64> {
    let mut acc = vec![0f64; n * n];
    for u in states {
        for i in (0..n).filter(|&i| u[i] != 0) {
            for j in (0..n).filter(|&j| u[j] != 0) {
                acc[i * n + j] += 1.0;
            }
        }
    }
    let k = states.len().max(1) as f64;
    acc.iter_mut().for_each(|a| *a /= k);
    acc
}
