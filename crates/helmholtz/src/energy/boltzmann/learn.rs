//! Learning: gradient descent on `KL(p_data || q)` with the seed's rule
//! `dw_ij = lambda (<u_i u_j>_data - <u_i u_j>_model)`, with classical momentum.
//!
//! Expectations are exact (enumeration) for machines of at most 20 units. Beyond that both are
//! sampled: the data term by Gibbs sweeps over the hidden units with the visible units clamped
//! to a mini-batch, the model term by persistent chains (PCD).

use crate::keywords::keywords;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use std::path::Path;

use burn::prelude::*;

use super::exact::{MAX_EXACT_UNITS, exact_gradient, kl_divergence, visible_marginal};
use super::model::{BoltzmannConfig, BoltzmannMachine};
use super::run::{draw_distribution, state_table};
use super::targets::TrainingData;
use crate::api::trainable;
use crate::data::Dataset;
use crate::error::{Error, Result, check};
use crate::io::{Blob, Position, RunDir, TensorFile};
use crate::kernels::runtime::DeviceKind;
use crate::rng::rng_for;
use crate::train::{
    EpochData, Fit, Metrics, PictureAt, Silent, Step, TrainConfig, Trainer, Updates,
};

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

keywords!(Expectations, "expectations", {
    Auto => "auto",
    Exact => "exact",
    Sampled => "sampled",
});

/// Settings of learning (epochs, seed and the clamped-phase batch size are in the
/// [`TrainConfig`] of [`BoltzmannParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnConfig {
    /// Learning rate `lambda`.
    pub lr: f64,
    /// Gradient steps per epoch (metrics and checkpoints are per epoch).
    pub steps_per_epoch: usize,
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
}

impl Default for LearnConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            steps_per_epoch: 20,
            momentum: 0.5,
            temperature: 1.0,
            expectations: Expectations::Auto,
            chains: 100,
            sweeps: 5,
        }
    }
}

impl LearnConfig {
    /// Check the values (names are CLI flags).
    pub fn validate(&self) -> Result<()> {
        check::positive("lr", self.lr)?;
        check::positive_count("log-every", self.steps_per_epoch)?;
        check::unit_interval_open("momentum", self.momentum)?;
        check::positive("temperature", self.temperature)?;
        check::positive_count("chains", self.chains)?;
        check::positive_count("sweeps", self.sweeps)?;
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

/// Everything that defines how a Boltzmann machine learns, whatever the data: the machine,
/// the learning rule's settings, epochs (of [`LearnConfig::steps_per_epoch`] gradient steps),
/// the clamped-phase batch size and the seed. Defaults: lr 1, momentum 0.5, `T` = 1, 100
/// epochs of 20 steps, exact expectations up to 20 units.
///
/// ```
/// use helmholtz::energy::boltzmann::{BoltzmannConfig, BoltzmannParams, Target, TrainingData};
/// use helmholtz::prelude::*;
/// # fn main() -> helmholtz::Result<()> {
/// // The seed's AND system: three visible units, no hidden units.
/// let data = TrainingData::from_target(Target::And);
/// let params = BoltzmannParams {
///     model: BoltzmannConfig { visible: 3, hidden: 0, init_std: 0.1 },
///     ..BoltzmannParams::default()
/// };
/// let bm = params.epochs(25).fit(&data)?;
/// let kl = helmholtz::energy::boltzmann::kl_of(&bm, &data, 1.0)?; // exact, nats
/// assert!(kl < 0.05, "KL {kl}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoltzmannParams {
    /// The machine (`visible` is taken from the data at `fit`).
    pub model: BoltzmannConfig,
    /// The learning rule's settings.
    pub learn: LearnConfig,
    /// Epochs, the clamped-phase batch size (sampled expectations), seed.
    pub train: TrainConfig,
    /// Device (the machine runs on the host; kept for the run envelope).
    pub device: DeviceKind,
}

impl Default for BoltzmannParams {
    fn default() -> Self {
        Self {
            model: BoltzmannConfig {
                visible: 0,
                hidden: 0,
                init_std: 0.1,
            },
            learn: LearnConfig::default(),
            train: TrainConfig {
                epochs: 100,
                batch_size: 100,
                seed: 0,
            },
            device: DeviceKind::Cpu,
        }
    }
}

trainable!(BoltzmannParams);

impl BoltzmannParams {
    /// A freshly initialised machine for `data`, with its learning state.
    pub fn build(&self, data: &TrainingData) -> Result<BoltzmannFit> {
        let mut config = self.model.clone();
        config.visible = data.visible;
        config.validate()?;
        self.learn.validate()?;
        self.train.validate()?;
        crate::budget::check_parts(&[
            (
                "chains",
                crate::budget::bytes(&[self.learn.chains, super::run::STATE_BYTES]),
            ),
            (
                "batch-size",
                crate::budget::bytes(&[self.train.batch_size, super::run::STATE_BYTES]),
            ),
        ])?;
        let seed = self.train.seed;
        let bm = BoltzmannMachine::new(config, &mut rng_for(seed, &[0x424d_494e]))?;
        let exact = self.learn.exact_for(&bm)?;
        let n = bm.units();
        Ok(BoltzmannFit {
            chains: initial_chains(n, self.learn.chains, &mut rng_for(seed, &[0x4348_4149])),
            velocity_w: vec![0.0; n * n],
            velocity_b: vec![0.0; n],
            bm,
            learn: self.learn.clone(),
            batch_size: self.train.batch_size,
            data: data.clone(),
            exact,
            pictures: false,
        })
    }

    /// Learn `data` in memory and return the machine; writes no file.
    pub fn fit(&self, data: &TrainingData) -> Result<BoltzmannMachine> {
        let mut fit = self.build(data)?;
        let rows = fit.rows_dataset()?;
        let device = self.device.device(self.train.seed)?;
        Trainer::new(self.train.clone(), device, &Silent)?.fit(
            &mut fit,
            &rows,
            None,
            Position::default(),
        )?;
        Ok(fit.bm)
    }
}

/// A Boltzmann machine with its learning state (momentum, persistent chains), as a [`Fit`].
pub struct BoltzmannFit {
    /// The machine.
    pub bm: BoltzmannMachine,
    learn: LearnConfig,
    batch_size: usize,
    data: TrainingData,
    exact: bool,
    velocity_w: Vec<f64>,
    velocity_b: Vec<f64>,
    chains: Vec<Vec<u8>>,
    /// Draw the distribution picture after the last epoch (runs only).
    pub pictures: bool,
}

impl BoltzmannFit {
    /// The training rows as a data set (what the trainer reports against).
    pub fn rows_dataset(&self) -> Result<Dataset> {
        let v = self.data.visible;
        let values = self
            .data
            .rows
            .iter()
            .flat_map(|r| r.iter().map(|&u| f32::from(u)))
            .collect();
        Dataset::new("training rows", values, v, None)
    }

    /// The data the machine learns.
    pub fn data(&self) -> &TrainingData {
        &self.data
    }
}

impl Fit for BoltzmannFit {
    fn live_metric(&self) -> &'static str {
        "gradient rms"
    }

    fn updates(&self) -> Updates {
        Updates::Steps {
            per_epoch: self.learn.steps_per_epoch,
            total: None,
        }
    }

    fn train_batch(
        &mut self,
        _x: Option<Tensor<2>>,
        _step: &Step,
        rng: &mut StdRng,
    ) -> Result<f64> {
        let cfg = &self.learn;
        let (gw, gb) = if self.exact {
            exact_gradient(&self.bm, &self.data.distribution, cfg.temperature)?
        } else {
            sampled_gradient(
                &self.bm,
                &self.data,
                &mut self.chains,
                cfg,
                self.batch_size,
                rng,
            )
        };
        for (v, g) in self.velocity_w.iter_mut().zip(&gw) {
            *v = cfg.momentum * *v + g;
        }
        for (v, g) in self.velocity_b.iter_mut().zip(&gb) {
            *v = cfg.momentum * *v + g;
        }
        self.bm.ascend(&self.velocity_w, &self.velocity_b, cfg.lr);
        let rms = (gw.iter().map(|g| g * g).sum::<f64>() / gw.len().max(1) as f64).sqrt();
        Ok(rms)
    }

    fn epoch_metrics(&mut self, at: EpochData<'_>, _: &mut StdRng) -> Result<Metrics> {
        let EpochData { epoch, .. } = at;
        let mut m: Metrics = vec![("step", (epoch * self.learn.steps_per_epoch) as f64)];
        if self.bm.units() <= MAX_EXACT_UNITS {
            let q = visible_marginal(&self.bm, self.learn.temperature)?;
            m.push(("kl", kl_divergence(&self.data.distribution, &q)));
        }
        Ok(m)
    }

    fn write_pictures(&mut self, at: PictureAt<'_>, _: &mut StdRng) -> Result<()> {
        let PictureAt { run, last, .. } = at;
        if self.pictures && last {
            let table = state_table(&self.bm, &self.data, self.learn.temperature)?;
            draw_distribution(
                run,
                &table,
                "distribution.png",
                "target p_data(v) and learned q(v) over the visible states",
            )?;
        }
        Ok(())
    }

    fn state(&self) -> Result<(TensorFile, TensorFile)> {
        let n = self.bm.units();
        let model = machine_file(&self.bm);
        let mut trainer = TensorFile::default();
        trainer.put_f64("velocity.weight", vec![n, n], &self.velocity_w);
        trainer.put_f64("velocity.bias", vec![n], &self.velocity_b);
        trainer.put_blob(
            "persistent_chains",
            Blob {
                shape: vec![self.chains.len(), n],
                data: self
                    .chains
                    .iter()
                    .flatten()
                    .map(|&u| f32::from(u))
                    .collect(),
            },
        );
        Ok((model, trainer))
    }

    fn load_state(&mut self, model: &TensorFile, trainer: &TensorFile, run: &RunDir) -> Result<()> {
        let n = self.bm.units();
        let mp = run.file("model.safetensors");
        let tp = run.file("trainer.safetensors");
        self.bm = machine_from_file(self.bm.config().clone(), model, &mp)?;
        self.velocity_w = trainer.get_f64("velocity.weight", n * n, &tp)?;
        self.velocity_b = trainer.get_f64("velocity.bias", n, &tp)?;
        let chains = trainer
            .tensors
            .get("persistent_chains")
            .ok_or_else(|| Error::bad_file(&tp, "tensor `persistent_chains` is missing"))?;
        if chains.shape != [self.chains.len(), n] {
            return Err(Error::ShapeMismatch {
                what: format!("{}: tensor `persistent_chains`", tp.display()),
                expected: vec![self.chains.len(), n],
                got: chains.shape.clone(),
            });
        }
        self.chains = chains
            .data
            .chunks_exact(n.max(1))
            .map(|r| r.iter().map(|&u| u8::from(u != 0.0)).collect())
            .collect();
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        if self.bm.weights().iter().any(|x| !x.is_finite()) {
            return Some("weight".into());
        }
        self.bm
            .biases()
            .iter()
            .any(|x| !x.is_finite())
            .then(|| "bias".into())
    }
}

/// The machine's parameters: `weight` `[n, n]` and `bias` `[n]` as f32, and exactly (f64) in
/// the metadata as `weight_f64` and `bias_f64`.
pub fn machine_file(bm: &BoltzmannMachine) -> TensorFile {
    let n = bm.units();
    let mut f = TensorFile::default();
    f.put_f64("weight", vec![n, n], bm.weights());
    f.put_f64("bias", vec![n], bm.biases());
    f
}

/// The machine stored by [`machine_file`].
pub fn machine_from_file(
    config: BoltzmannConfig,
    file: &TensorFile,
    path: &Path,
) -> Result<BoltzmannMachine> {
    let n = config.units();
    let w = file.get_f64("weight", n * n, path)?;
    let b = file.get_f64("bias", n, path)?;
    BoltzmannMachine::from_parts(config, w, b)
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
    batch_size: usize,
    rng: &mut StdRng,
) -> (Vec<f64>, Vec<f64>) {
    let n = bm.units();
    let v = bm.config().visible;
    let t = cfg.temperature;
    let batch: Vec<Vec<u8>> = (0..batch_size)
        .map(|_| data.rows.choose(rng).cloned().unwrap_or_else(|| vec![0; v]))
        .collect();
    let seeds: Vec<u64> = (0..batch.len() + chains.len())
        .map(|_| rng.next_u64())
        .collect();
    let clamped: Vec<Vec<u8>> = batch
        .into_par_iter()
        .zip(&seeds[..batch_size])
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
        .zip(&seeds[batch_size..])
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
