//! The fit loop shared by every family.
//!
//! The trainer owns epochs, seeded mini-batches, progress, per-epoch metrics, checkpoints and
//! the run report; a family supplies a [`Fit`] implementation (one mini-batch update, the
//! end-of-epoch metrics and pictures, and its state for checkpoints).
//!
//! Determinism: batch `b` of epoch `e` uses the shuffle of `(seed, e)`, a CPU generator derived
//! from `(seed, e, b)`, and re-seeds the device's generator with the same path. A checkpoint
//! records `(epochs done, batches done)`, so `--resume` replays exactly what an uninterrupted
//! run would have done. Checkpoints are written after every epoch (or, for a fit with short
//! epochs, every few seconds: [`Fit::save_seconds`]), after the last one, and on Ctrl-C.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::prelude::*;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::progress::Progress;
use crate::data::{BatchOrder, Dataset};
use crate::error::{Error, Result, check};
use crate::io::{Position, RunDir, TensorFile};
use crate::rng::{derive_seed, rng_for};

/// Seconds between per-epoch lines for a fit whose epochs are short.
const LINE_SECONDS: f64 = 1.0;

/// Epoch-level settings common to every family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// The run's seed.
    pub seed: u64,
}

impl TrainConfig {
    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("epochs", self.epochs)?;
        check::positive_count("batch-size", self.batch_size)?;
        Ok(())
    }
}

/// Where a mini-batch update stands in training.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Epoch, 1-based.
    pub epoch: usize,
    /// Batch within the epoch, 0-based.
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Total epochs.
    pub epochs: usize,
}

impl Step {
    /// Fraction of training completed before this step, in [0, 1).
    pub fn progress(&self) -> f64 {
        ((self.epoch - 1) * self.batches + self.batch) as f64 / (self.epochs * self.batches) as f64
    }
}

/// How the trainer cuts an epoch into updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updates {
    /// One update per mini-batch of the training data, in a seeded order (the default).
    Batches,
    /// Updates that draw their own data (exact expectations, persistent chains, SVI and
    /// SG-MCMC steps, ...); they get no mini-batch. An epoch is `per_epoch` of them (a block
    /// between metrics rows and checkpoints); with a `total`, training stops after that many
    /// and the last epoch may be shorter.
    Steps {
        /// Updates per epoch.
        per_epoch: usize,
        /// All updates of the run (`None`: epochs x `per_epoch`).
        total: Option<usize>,
    },
}

impl Updates {
    /// Updates per (full) epoch over `examples` in batches of `batch_size`.
    fn per_epoch(self, examples: usize, batch_size: usize) -> usize {
        match self {
            Updates::Batches => examples.div_ceil(batch_size),
            Updates::Steps { per_epoch, .. } => per_epoch,
        }
    }

    /// All updates of `epochs` epochs of `per_epoch`.
    fn total(self, epochs: usize, per_epoch: usize) -> usize {
        match self {
            Updates::Steps { total: Some(t), .. } => t.min(epochs * per_epoch),
            _ => epochs * per_epoch,
        }
    }
}

/// The mini-batch of an update under [`Updates::Batches`] (an internal error otherwise).
pub fn mini_batch(x: Option<Tensor<2>>) -> Result<Tensor<2>> {
    x.ok_or_else(|| Error::Internal("an update by mini-batches was given no mini-batch".into()))
}

/// What the end-of-epoch metrics may look at: the epoch (1-based), a subset-worthy training
/// set, and the validation examples held out of it (when there are any).
#[derive(Debug, Clone, Copy)]
pub struct EpochData<'a> {
    /// Epoch, 1-based.
    pub epoch: usize,
    /// The training examples.
    pub train: &'a Dataset,
    /// Validation examples held out of the training data, if any.
    pub validation: Option<&'a Dataset>,
}

/// Where and when [`Fit::write_pictures`] draws.
#[derive(Debug, Clone, Copy)]
pub struct PictureAt<'a> {
    /// The run directory.
    pub run: &'a RunDir,
    /// Epoch, 1-based.
    pub epoch: usize,
    /// True after the last epoch of this call, so that costly pictures can be drawn only every
    /// few epochs and at the end.
    pub last: bool,
}

/// Per-epoch metrics: name -> value (reported in metrics.jsonl and the report).
pub type Metrics = Vec<(&'static str, f64)>;

/// A model together with its training objective, as the trainer drives it.
pub trait Fit {
    /// Name of the value [`Fit::train_batch`] returns, shown live in the progress bar.
    fn live_metric(&self) -> &'static str {
        "loss"
    }

    /// How an epoch is cut into updates.
    fn updates(&self) -> Updates {
        Updates::Batches
    }

    /// One update; returns the live metric. `x` is the mini-batch (`[batch, dim]`) under
    /// [`Updates::Batches`] and `None` under [`Updates::Steps`].
    fn train_batch(&mut self, x: Option<Tensor<2>>, step: &Step, rng: &mut StdRng) -> Result<f64>;

    /// Metrics after epoch `epoch` (1-based), e.g. on a subset of the training data and of the
    /// validation data held out of it (when there are any). The test set is never seen here:
    /// it is kept for the final evaluation.
    fn epoch_metrics(&mut self, at: EpochData<'_>, rng: &mut StdRng) -> Result<Metrics>;

    /// Write the pictures of the epoch `at` describes into its run directory (and register them
    /// there).
    fn write_pictures(&mut self, at: PictureAt<'_>, rng: &mut StdRng) -> Result<()>;

    /// Model parameters (model.safetensors) and optimiser/sampler state (trainer.safetensors).
    fn state(&self) -> Result<(TensorFile, TensorFile)>;

    /// Restore what [`Fit::state`] saved.
    fn load_state(&mut self, model: &TensorFile, trainer: &TensorFile, run: &RunDir) -> Result<()>;

    /// Name of the first parameter holding a NaN or infinity, if any.
    fn non_finite_parameter(&self) -> Option<String>;

    /// Seconds to let pass between checkpoints (0: after every epoch, the default). A fit
    /// whose epochs are short blocks of steps sets a few seconds, so that it does not spend its
    /// time writing files; its per-epoch lines are then at most one a second. The last epoch
    /// and Ctrl-C are always saved; a divergence keeps the last checkpoint written.
    fn save_seconds(&self) -> f64 {
        0.0
    }
}

/// What a finished (or resumed-and-finished) fit reports.
#[derive(Debug, Clone)]
pub struct FitReport {
    /// Metrics of the last epoch.
    pub last_metrics: Metrics,
    /// Wall-clock seconds spent in this call.
    pub seconds: f64,
    /// Epochs run in this call.
    pub epochs_run: usize,
}

/// Drives a [`Fit`] over training data.
pub struct Trainer<'a> {
    config: TrainConfig,
    device: Device,
    run: Option<&'a RunDir>,
    progress: &'a dyn Progress,
    interrupt: Option<Arc<AtomicBool>>,
    stop_after_epochs: Option<usize>,
}

impl<'a> Trainer<'a> {
    /// A trainer for `config` on `device`, reporting to `progress`.
    pub fn new(config: TrainConfig, device: Device, progress: &'a dyn Progress) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            device,
            run: None,
            progress,
            interrupt: None,
            stop_after_epochs: None,
        })
    }

    /// Checkpoint into (and report in) `run` after every epoch.
    pub fn with_run_dir(mut self, run: &'a RunDir) -> Self {
        self.run = Some(run);
        self
    }

    /// Stop with [`Error::Interrupted`] (after saving) once `flag` is set, e.g. by Ctrl-C.
    pub fn with_interrupt(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Stop cleanly after this many epochs of the configured total (the rest can be resumed).
    pub fn stop_after(mut self, epochs: usize) -> Self {
        self.stop_after_epochs = Some(epochs);
        self
    }

    /// Train from `start` (zero for a new run) to the configured number of epochs on `train`,
    /// monitoring `validation` after every epoch.
    pub fn fit(
        &self,
        model: &mut dyn Fit,
        train: &Dataset,
        validation: Option<&Dataset>,
        start: Position,
    ) -> Result<FitReport> {
        let t0 = Instant::now();
        let cfg = &self.config;
        let updates = model.updates();
        let batches = updates.per_epoch(train.len(), cfg.batch_size);
        let total = updates.total(cfg.epochs, batches);
        self.progress.start("train", total as u64);
        self.progress
            .set_position((start.epochs_done * batches + start.batches_done) as u64);
        let mut metrics_rows = match self.run {
            Some(run) => run.metrics()?.into_iter().take(start.epochs_done).collect(),
            None => Vec::new(),
        };
        let mut last_metrics = Vec::new();
        let last_epoch = self
            .stop_after_epochs
            .map_or(cfg.epochs, |s| s.min(cfg.epochs));
        let mut epochs_run = 0;
        let (save_seconds, mut saved, mut said) = (model.save_seconds(), Instant::now(), None);
        let line_seconds = if save_seconds > 0.0 {
            LINE_SECONDS
        } else {
            0.0
        };
        for epoch in start.epochs_done + 1..=last_epoch {
            let te = Instant::now();
            let first = if epoch == start.epochs_done + 1 {
                start.batches_done
            } else {
                0
            };
            let count = batches.min(total.saturating_sub((epoch - 1) * batches));
            let update_seconds = match self.run_epoch(model, train, epoch, (count, batches), first)
            {
                Err(e @ Error::Interrupted { .. }) => {
                    // The checkpoint is inside this epoch: keep every finished epoch's row.
                    if let Some(run) = self.run {
                        run.write_metrics(&metrics_rows)?;
                    }
                    return Err(e);
                }
                other => other?,
            };
            let mut rng = rng_for(cfg.seed, &[epoch as u64, u64::MAX]);
            let at = EpochData {
                epoch,
                train,
                validation,
            };
            let metrics = model.epoch_metrics(at, &mut rng)?;
            self.check_finite(model, epoch, batches, &metrics)?;
            let row = metrics_row(epoch, te.elapsed().as_secs_f64(), update_seconds, &metrics);
            let interrupted = epoch < last_epoch
                && self
                    .interrupt
                    .as_ref()
                    .is_some_and(|f| f.load(Ordering::SeqCst));
            let last = epoch == last_epoch || interrupted;
            if last || said.is_none_or(|t: Instant| t.elapsed().as_secs_f64() >= line_seconds) {
                self.progress.line(&epoch_line(
                    epoch,
                    cfg.epochs,
                    &metrics,
                    te.elapsed().as_secs_f64(),
                ));
                said = Some(Instant::now());
            }
            metrics_rows.push(row);
            if let Some(run) = self.run {
                let at = PictureAt {
                    run,
                    epoch,
                    last: epoch == last_epoch,
                };
                model.write_pictures(at, &mut rng)?;
                if last || saved.elapsed().as_secs_f64() >= save_seconds {
                    run.write_metrics(&metrics_rows)?;
                    self.checkpoint(
                        model,
                        run,
                        Position {
                            epochs_done: epoch,
                            batches_done: 0,
                        },
                    )?;
                    saved = Instant::now();
                }
            }
            last_metrics = metrics;
            epochs_run += 1;
            if interrupted {
                self.progress.finish();
                return Err(match self.run {
                    Some(run) => Error::Interrupted {
                        epoch: epoch + 1,
                        batch: 0,
                        path: run.path().to_path_buf(),
                    },
                    None => Error::Stopped {
                        epoch: epoch + 1,
                        batch: 0,
                    },
                });
            }
        }
        self.progress.finish();
        Ok(FitReport {
            last_metrics,
            seconds: t0.elapsed().as_secs_f64(),
            epochs_run,
        })
    }

    /// Run the updates `first..count` of `epoch` (of `batches` in a full epoch); returns the
    /// seconds spent in updates.
    fn run_epoch(
        &self,
        model: &mut dyn Fit,
        train: &Dataset,
        epoch: usize,
        (count, batches): (usize, usize),
        first: usize,
    ) -> Result<f64> {
        let cfg = &self.config;
        let t0 = Instant::now();
        let order = (model.updates() == Updates::Batches)
            .then(|| BatchOrder::new(train.len(), cfg.batch_size, cfg.seed, epoch));
        for b in first..count {
            let path = [epoch as u64, b as u64];
            self.device.seed(derive_seed(cfg.seed, &path));
            let mut rng = rng_for(cfg.seed, &path);
            let x = order
                .as_ref()
                .map(|o| train.batch_tensor(o.batch(b), &self.device));
            let step = Step {
                epoch,
                batch: b,
                batches,
                epochs: cfg.epochs,
            };
            let live = model.train_batch(x, &step, &mut rng)?;
            if !live.is_finite() {
                return Err(self.diverged(epoch, b + 1, model.live_metric()));
            }
            self.progress.advance(1);
            if b % 10 == 0 || b + 1 == count {
                self.progress.message(format!(
                    "epoch {epoch}/{} {} {live:.4}",
                    cfg.epochs,
                    model.live_metric()
                ));
            }
            if self
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::SeqCst))
                && b + 1 < count
            {
                return self.interrupted(model, epoch, b + 1);
            }
        }
        Ok(t0.elapsed().as_secs_f64())
    }

    fn interrupted(&self, model: &mut dyn Fit, epoch: usize, batches_done: usize) -> Result<f64> {
        self.progress.finish();
        match self.run {
            Some(run) => {
                self.checkpoint(
                    model,
                    run,
                    Position {
                        epochs_done: epoch - 1,
                        batches_done,
                    },
                )?;
                Err(Error::Interrupted {
                    epoch,
                    batch: batches_done,
                    path: run.path().to_path_buf(),
                })
            }
            None => Err(Error::Stopped {
                epoch,
                batch: batches_done,
            }),
        }
    }

    fn check_finite(
        &self,
        model: &dyn Fit,
        epoch: usize,
        batches: usize,
        metrics: &Metrics,
    ) -> Result<()> {
        if let Some(name) = model.non_finite_parameter() {
            return Err(self.diverged(epoch, batches, &format!("parameter `{name}`")));
        }
        if let Some((name, _)) = metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(self.diverged(epoch, batches, &format!("metric `{name}`")));
        }
        Ok(())
    }

    fn diverged(&self, epoch: usize, batch: usize, what: &str) -> Error {
        self.progress.finish();
        Error::Diverged {
            epoch,
            batch,
            what: what.to_owned(),
            kept: self.run.map(|r| r.path().to_path_buf()),
        }
    }

    /// Save model and trainer state and the position as one checkpoint generation
    /// ([`RunDir::commit_checkpoint`]); the position is also stamped into both tensor files, so
    /// that files from different checkpoints are never resumed together.
    fn checkpoint(&self, model: &dyn Fit, run: &RunDir, pos: Position) -> Result<()> {
        let (mut m, mut t) = model.state()?;
        let family = run.family();
        let stamp = format!("{}:{}", pos.epochs_done, pos.batches_done);
        for f in [&mut m, &mut t] {
            if let Some(family) = &family {
                f.metadata.insert("family".into(), family.clone());
            }
            f.metadata.insert("position".into(), stamp.clone());
        }
        run.commit_checkpoint(&m, &t, pos)?;
        crate::report::write_run_report(run)
    }
}

/// Load the checkpoint of `run` into `model` and return its position.
pub fn resume(model: &mut dyn Fit, run: &RunDir) -> Result<Position> {
    let pos = run.position()?;
    let model_path = run.file("model.safetensors");
    let trainer_path = run.file("trainer.safetensors");
    let m = TensorFile::load(&model_path)?;
    let t = TensorFile::load(&trainer_path)?;
    let stamp = format!("{}:{}", pos.epochs_done, pos.batches_done);
    for (f, p) in [(&m, &model_path), (&t, &trainer_path)] {
        if f.metadata.get("position") != Some(&stamp) {
            return Err(Error::bad_file(
                p,
                format!(
                    "checkpoint position {:?} does not match checkpoint.json ({stamp}); the checkpoint is torn",
                    f.metadata.get("position")
                ),
            ));
        }
    }
    // Every tensor read back must be one the model has, with its shape, and finite.
    let (model_now, trainer_now) = model.state()?;
    check_layout(&model_now, &m, &model_path, false)?;
    // Trainer state made by the first update (persistent chains, moments) is not there yet.
    check_layout(&trainer_now, &t, &trainer_path, true)?;
    model.load_state(&m, &t, run)?;
    if let Some(p) = model.non_finite_parameter() {
        return Err(Error::bad_file(
            &model_path,
            format!("parameter `{p}` holds NaN or infinity; the checkpoint cannot be resumed"),
        ));
    }
    Ok(pos)
}

/// `found` (read from `path`) holds the tensors of `expected` with their shapes (any length
/// where `expected` has none) and no others unless `more` allows them, and only finite values.
fn check_layout(expected: &TensorFile, found: &TensorFile, path: &Path, more: bool) -> Result<()> {
    if let Some((name, _)) = found
        .tensors
        .iter()
        .find(|(_, b)| b.data.iter().any(|v| !v.is_finite()))
    {
        return Err(Error::bad_file(
            path,
            format!("tensor `{name}` holds NaN or infinity; the checkpoint cannot be resumed"),
        ));
    }
    for (name, blob) in &expected.tensors {
        let Some(got) = found.tensors.get(name) else {
            return Err(Error::bad_file(
                path,
                format!("tensor `{name}` is missing; the checkpoint cannot be resumed"),
            ));
        };
        // An empty dimension is a collection that grows in training (posterior draws).
        let fits = got.shape.len() == blob.shape.len()
            && got
                .shape
                .iter()
                .zip(&blob.shape)
                .all(|(g, e)| g == e || *e == 0);
        if !fits {
            return Err(Error::bad_file(
                path,
                format!(
                    "tensor `{name}` has shape {:?}, the run's configuration needs {:?}",
                    got.shape, blob.shape
                ),
            ));
        }
    }
    if more {
        return Ok(());
    }
    if let Some(extra) = found
        .tensors
        .keys()
        .find(|k| !expected.tensors.contains_key(*k))
    {
        return Err(Error::bad_file(
            path,
            format!(
                "tensor `{extra}` is not part of this run's model; the checkpoint cannot be resumed"
            ),
        ));
    }
    Ok(())
}

fn metrics_row(epoch: usize, seconds: f64, update_seconds: f64, metrics: &Metrics) -> Value {
    let mut row = Map::new();
    row.insert("epoch".into(), Value::from(epoch));
    for (k, v) in metrics {
        row.insert((*k).into(), Value::from(*v));
    }
    row.insert(
        "seconds".into(),
        Value::from((seconds * 1000.0).round() / 1000.0),
    );
    row.insert(
        "update_seconds".into(),
        Value::from((update_seconds * 1000.0).round() / 1000.0),
    );
    Value::Object(row)
}

fn epoch_line(epoch: usize, epochs: usize, metrics: &Metrics, seconds: f64) -> String {
    let parts: Vec<String> = metrics
        .iter()
        .map(|(k, v)| {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{k} {v:.0}")
            } else {
                format!("{k} {v:.4}")
            }
        })
        .collect();
    format!(
        "epoch {epoch:>3}/{epochs}: {} ({seconds:.1} s)",
        parts.join(", ")
    )
}

/// After a failed first training call: a run that never wrote `model.safetensors` is removed
/// (nothing half-written is left behind) and a divergence then reports no kept checkpoint.
pub fn discard_if_unsaved<T>(run: &RunDir, result: Result<T>) -> Result<T> {
    if result.is_ok() || run.has_checkpoint() {
        return result;
    }
    let _ = std::fs::remove_dir_all(run.path());
    result.map_err(|e| match e {
        Error::Diverged {
            epoch, batch, what, ..
        } => Error::Diverged {
            epoch,
            batch,
            what,
            kept: None,
        },
        other => other,
    })
}
