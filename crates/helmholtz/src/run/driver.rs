//! [`Family`] and the generic train / resume / evaluate driver.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::envelope::Envelope;
use super::summary::Summary;
use crate::api::{Persist, Trainable};
use crate::data::{DataSource, Dataset, PreparedSplit};
use crate::error::{Error, Result};
use crate::io::{Position, RunDir, TensorFile, utc_timestamp};
use crate::kernels::runtime::DeviceKind;
use crate::report::write_run_report;
use crate::train::{Fit, Progress, Silent, Trainer, discard_if_unsaved};

/// A family's run configuration: its `XxxParams` (how the model trains) with the data and
/// evaluation settings beside them. Implemented with [`run_config!`](crate::run::run_config)
/// for a struct with a `params` field.
pub trait RunConfig: Serialize + DeserializeOwned + Clone {
    /// The training parameters, the part that `XxxParams::fit` takes.
    type Params: Trainable;
    /// The training parameters.
    fn params(&self) -> &Self::Params;
    /// The same, to change the number of epochs on resume.
    fn params_mut(&mut self) -> &mut Self::Params;
    /// Train for `epochs` epochs in all (on resume).
    fn set_epochs(&mut self, epochs: usize) {
        self.params_mut().train_config_mut().epochs = epochs;
    }
}

/// `run_config!(RbmRunConfig, RbmParams)`: [`RunConfig`] for a struct whose `params` field
/// holds the training parameters.
macro_rules! run_config {
    ($config:ty, $params:ty) => {
        impl $crate::run::RunConfig for $config {
            type Params = $params;
            fn params(&self) -> &$params {
                &self.params
            }
            fn params_mut(&mut self) -> &mut $params {
                &mut self.params
            }
        }
    };
}
pub(crate) use run_config;

/// What the trainer needs from a family's prepared data.
pub trait TrainingData {
    /// The examples the trainer iterates over.
    fn train(&self) -> &Dataset;
    /// Examples held out of the training data for per-epoch monitoring, if any (never the
    /// test set, which is kept for the final evaluation).
    fn validation(&self) -> Option<&Dataset> {
        None
    }
}

impl TrainingData for PreparedSplit {
    fn train(&self) -> &Dataset {
        &self.split.train
    }

    fn validation(&self) -> Option<&Dataset> {
        self.validation.as_ref()
    }
}

/// The types a trainable family declares, written with [`family!`](crate::run::family).
pub trait FamilyTypes {
    /// The family's name: `config.json`'s `family` and the default run folder `runs/<name>-…`.
    const NAME: &'static str;
    /// Everything that defines a run (saved in `config.json`, inside the [`Envelope`]).
    type Config: RunConfig;
    /// The data as the family sees them (binarised, standardised, split).
    type Data: TrainingData;
    /// The model together with its training objective and optimiser state.
    type Fit: Fit;
    /// The final evaluation (`eval.json`).
    type Eval: Serialize;
}

/// `family!(Rbm: FAMILY, RbmRunConfig[RbmParams], PreparedData, RbmFit, EvalReport)`: the
/// family's [`FamilyTypes`] (name, run configuration, data, fit, evaluation) and the
/// [`RunConfig`] of its run configuration, a struct whose `params` field holds the parameters
/// (written by hand instead when the brackets are left out).
macro_rules! family {
    ($family:ty: $name:expr, $config:ty[$params:ty], $data:ty, $fit:ty, $eval:ty) => {
        $crate::run::run_config!($config, $params);
        $crate::run::family!($family: $name, $config, $data, $fit, $eval);
    };
    ($family:ty: $name:expr, $config:ty, $data:ty, $fit:ty, $eval:ty) => {
        impl $crate::run::FamilyTypes for $family {
            const NAME: &'static str = $name;
            type Config = $config;
            type Data = $data;
            type Fit = $fit;
            type Eval = $eval;
        }
    };
}
pub(crate) use family;

/// A trainable family as the run driver sees it: a run configuration, the data it prepares, the
/// [`Fit`] it trains and the evaluation it reports (their types in [`FamilyTypes`]). Everything
/// else (run directories, `config.json`, checkpoints, resume, metrics, reports, cleanup, the
/// summary) is the driver's.
pub trait Family: FamilyTypes {
    /// Check `cfg`, load and prepare its data, and fill in the sizes that come from the data.
    /// Runs before the run directory exists, so bad input leaves nothing behind.
    fn prepare(cfg: &mut Self::Config) -> Result<Self::Data>;
    /// A freshly initialised model with its optimiser.
    fn build(cfg: &Self::Config, data: &Self::Data, device: &Device) -> Result<Self::Fit>;
    /// The final evaluation of a trained model; pictures it draws go into `run`.
    fn evaluate(
        cfg: &Self::Config,
        fit: &mut Self::Fit,
        data: &Self::Data,
        run: &RunDir,
        progress: &dyn Progress,
    ) -> Result<Self::Eval>;
}

/// Options that are not part of the model: how to report, when to stop, what to record.
pub struct RunOptions<'a> {
    /// Progress sink for training and evaluation.
    pub progress: &'a dyn Progress,
    /// Set by Ctrl-C: training saves a checkpoint and stops with [`Error::Interrupted`].
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Stop after this many epochs (the run stays resumable).
    pub stop_after: Option<usize>,
    /// Skip the final evaluation.
    pub skip_eval: bool,
    /// The command that started the run, recorded in `config.json`.
    pub command_line: Vec<String>,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        Self {
            progress: &Silent,
            interrupt: None,
            stop_after: None,
            skip_eval: false,
            command_line: Vec::new(),
        }
    }
}

/// Train a new run of `F` into `out` (default `runs/<family>-<UTC timestamp>`), then evaluate
/// it. The configuration and the data are checked before the directory is created.
pub fn train<F: Family>(
    mut cfg: F::Config,
    out: Option<&Path>,
    opts: &RunOptions<'_>,
) -> Result<Summary<F::Eval>> {
    let data = F::prepare(&mut cfg)?;
    let seed = cfg.params().train_config().seed;
    let device = cfg.params().device_kind().device(seed)?;
    let mut fit = F::build(&cfg, &data, &device)?;
    let run = RunDir::create_at(out, F::NAME)?;
    let envelope = Envelope::new(F::NAME, seed, opts.command_line.clone(), cfg);
    let result = envelope.write(&run).and_then(|()| {
        finish::<F>(
            &envelope.config,
            &run,
            &mut fit,
            &data,
            Position::default(),
            &device,
            opts,
        )
    });
    discard_if_unsaved(&run, result)
}

/// Continue the run of `F` in `dir` from its last checkpoint; `epochs` may raise the total.
/// The result is the same, bit for bit, as a run that was never interrupted.
pub fn resume<F: Family>(
    dir: &Path,
    epochs: Option<usize>,
    opts: &RunOptions<'_>,
) -> Result<Summary<F::Eval>> {
    let run = RunDir::open_to_resume(dir, F::NAME)?;
    let mut envelope = Envelope::<F::Config>::read(&run)?;
    let done = run.position()?.epochs_done;
    if let Some(e) = epochs {
        if e < done {
            return Err(Error::param(
                "epochs",
                format!("the run already has {done} epochs; cannot resume to {e}"),
            ));
        }
        envelope.config.set_epochs(e);
    }
    let data = F::prepare(&mut envelope.config)?;
    let seed = envelope.config.params().train_config().seed;
    let device = envelope.config.params().device_kind().device(seed)?;
    let mut fit = F::build(&envelope.config, &data, &device)?;
    // A run stopped before its first checkpoint starts again from the beginning.
    let pos = if run.has_checkpoint() {
        crate::train::resume(&mut fit, &run)?
    } else {
        Position::default()
    };
    if epochs.is_some() {
        envelope.write(&run)?;
    }
    finish::<F>(&envelope.config, &run, &mut fit, &data, pos, &device, opts)
}

/// Open a finished (or checkpointed) run of `F`: its directory and its `config.json`.
pub fn open<F: Family>(dir: &Path) -> Result<(RunDir, Envelope<F::Config>)> {
    let run = RunDir::open(dir, F::NAME)?;
    let envelope = Envelope::read(&run)?;
    Ok((run, envelope))
}

/// Write `model`, fitted in memory with `config`, as a run directory at `out` that the family's
/// commands (`eval`, `sample`, `transform`, ...) open: `config.json` and `model.safetensors`.
/// `out` must not exist or be empty; on failure nothing is left behind.
pub fn save_model<F: Family, M: Persist>(out: &Path, config: F::Config, model: &M) -> Result<()> {
    RunDir::create_filled(Some(out), F::NAME, |run| {
        let seed = config.params().train_config().seed;
        Envelope::new(F::NAME, seed, Vec::new(), config).write(run)?;
        model.to_file().save(&run.file("model.safetensors"))
    })
}

/// Open the run of family `F` in `dir` and load its model onto `device_kind`, with the model
/// configuration that `config` takes from the run's.
pub fn open_model<F: Family, M: Persist>(
    dir: &Path,
    device_kind: DeviceKind,
    config: impl FnOnce(&F::Config) -> M::Config,
) -> Result<(RunDir, F::Config, M)> {
    let (run, envelope) = open::<F>(dir)?;
    let cfg = envelope.config;
    let device = device_kind.device(cfg.params().train_config().seed)?;
    let path = run.file("model.safetensors");
    let model = M::from_file(config(&cfg), &TensorFile::load(&path)?, &device, &path)?;
    if let Some(p) = model.non_finite() {
        return Err(Error::bad_file(
            &path,
            format!("parameter `{p}` holds NaN or infinity"),
        ));
    }
    Ok((run, cfg, model))
}

/// Record a later evaluation of a run beside the training's own: `evals/<name>-<UTC
/// timestamp>.json` (suffixed `-2`, `-3`, ... when taken). The training's `eval.json` is never
/// touched; the report lists every evaluation. Returns the file written.
pub fn record_eval(run: &RunDir, name: &str, value: &impl Serialize) -> Result<PathBuf> {
    let stem = eval_stem(run, name)?;
    record_eval_at(run, &stem, value)
}

/// A fresh path `RUN/evals/<name>-<UTC timestamp>` (no extension; suffixed `-2`, `-3`, ...
/// when taken) for a later evaluation's JSON and pictures.
pub fn eval_stem(run: &RunDir, name: &str) -> Result<PathBuf> {
    let dir = run.file("evals");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let base = format!("{name}-{}", utc_timestamp());
    let taken = |stem: &str| {
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(stem))
    };
    let mut stem = base.clone();
    let mut k = 2;
    while taken(&stem) {
        stem = format!("{base}-{k}");
        k += 1;
    }
    Ok(dir.join(stem))
}

/// Write `value` as `<stem>.json` (from [`eval_stem`]) and rebuild the report.
pub fn record_eval_at(run: &RunDir, stem: &Path, value: &impl Serialize) -> Result<PathBuf> {
    refuse_non_finite(run, value)?;
    let file = stem.with_extension("json");
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    crate::io::write_atomic(&file, text.as_bytes())?;
    write_run_report(run)?;
    Ok(file)
}

/// After a command wrote `file` for a run: a PNG inside the run directory is added to the
/// run's figures with `caption` and the report is rebuilt; anything else is left alone.
pub fn register_picture(run: &RunDir, file: &Path, caption: &str) -> Result<()> {
    let png = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    match file.file_name().and_then(|n| n.to_str()) {
        Some(name) if png && file.parent() == Some(run.path()) => {
            run.add_figure(name, caption)?;
            write_run_report(run)
        }
        _ => Ok(()),
    }
}

/// What `encode` / `transform` run: on the run's test set or on the test part of another source
/// of the same width, on a device, into `out` [default: a file in the run directory].
#[derive(Debug, Clone, Default)]
pub struct CodesRequest {
    /// Another source of the same width [default: the run's].
    pub source: Option<DataSource>,
    /// Device to encode on.
    pub device: DeviceKind,
    /// The `.npy` file to write.
    pub out: Option<PathBuf>,
}

/// What `encode` / `transform` report.
#[derive(Debug, Clone, Serialize)]
pub struct CodesSummary {
    /// The `.npy` file written, `[examples, width]` f32.
    pub file: PathBuf,
    /// Examples encoded.
    pub examples: usize,
    /// Width of a code.
    pub width: usize,
}

/// Write the codes of `data` under `model` (RBM hidden probabilities, VAE posterior means) to
/// `out` as a `[n, width]` `.npy` array.
pub fn write_codes(
    model: &impl crate::api::Transform,
    data: &Dataset,
    out: &Path,
) -> Result<CodesSummary> {
    if !out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        return Err(Error::param(
            "out",
            format!("{}: codes are written as a .npy file", out.display()),
        ));
    }
    let codes = model.transform(data)?;
    let width = codes.len() / data.len().max(1);
    crate::data::write_npy_f32(out, &[data.len(), width], &codes)?;
    Ok(CodesSummary {
        file: out.to_path_buf(),
        examples: data.len(),
        width,
    })
}

/// An evaluation holding NaN or infinity is an error, never a result.
/// Refuse a result holding NaN or infinity ([`Error::NonFiniteResult`] naming the first such
/// field and the run).
pub fn refuse_non_finite(run: &RunDir, eval: &impl Serialize) -> Result<()> {
    match super::first_non_finite(eval) {
        Some(what) => Err(Error::NonFiniteResult {
            what,
            run: run.path().to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Write a one-shot run's result as `eval.json`, refusing it when a figure is not finite.
pub fn write_eval(run: &RunDir, eval: &impl Serialize) -> Result<()> {
    refuse_non_finite(run, eval)?;
    run.write_json("eval.json", eval)
}

fn finish<F: Family>(
    cfg: &F::Config,
    run: &RunDir,
    fit: &mut F::Fit,
    data: &F::Data,
    start: Position,
    device: &Device,
    opts: &RunOptions<'_>,
) -> Result<Summary<F::Eval>> {
    let mut trainer = Trainer::new(
        cfg.params().train_config().clone(),
        device.clone(),
        opts.progress,
    )?
    .with_run_dir(run);
    if let Some(flag) = &opts.interrupt {
        trainer = trainer.with_interrupt(flag.clone());
    }
    if let Some(n) = opts.stop_after {
        trainer = trainer.stop_after(n);
    }
    let report = trainer.fit(fit, data.train(), data.validation(), start)?;
    let eval = if opts.skip_eval {
        None
    } else {
        let eval = F::evaluate(cfg, fit, data, run, opts.progress)?;
        refuse_non_finite(run, &eval)?;
        run.write_json("eval.json", &eval)?;
        Some(eval)
    };
    write_run_report(run)?;
    let last_epoch = run
        .metrics()?
        .last()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    Ok(Summary {
        family: F::NAME.to_owned(),
        run_dir: run.path().to_path_buf(),
        epochs: run.position()?.epochs_done,
        train_seconds: report.seconds,
        eval,
        last_epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::boltzmann::{
        BoltzmannConfig, BoltzmannMachine, BoltzmannParams, BoltzmannRunConfig, Target,
        TrainingSource,
    };
    use crate::io::faults;

    fn xor_config() -> BoltzmannRunConfig {
        BoltzmannRunConfig {
            params: BoltzmannParams {
                model: BoltzmannConfig {
                    visible: 0,
                    hidden: 2,
                    init_std: 0.5,
                },
                ..BoltzmannParams::default()
            }
            .epochs(4),
            source: TrainingSource::Target(Target::Xor),
        }
    }

    fn model_bytes(dir: &Path) -> Vec<u8> {
        std::fs::read(dir.join("model.safetensors")).expect("model.safetensors")
    }

    /// Fail each file write of a training run in turn (tensors, position, metrics, pictures,
    /// report, the commit and publication renames): whatever write fails, resuming (or, when
    /// no checkpoint was ever committed and the run was removed, training again) ends with the
    /// same model, bit for bit, as a run where nothing failed.
    #[test]
    fn every_failed_write_leaves_a_run_that_resumes_to_the_same_model() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let reference = tmp.path().join("reference");
        faults::arm(None);
        train::<BoltzmannMachine>(xor_config(), Some(&reference), &RunOptions::default())?;
        let writes = faults::count();
        assert!(writes > 20, "only {writes} writes counted");
        let expected = model_bytes(&reference);
        for k in 1..=writes {
            let dir = tmp.path().join(format!("fail-{k}"));
            faults::arm(Some(k));
            let failed =
                train::<BoltzmannMachine>(xor_config(), Some(&dir), &RunOptions::default());
            faults::arm(None);
            assert!(
                failed.is_err(),
                "write {k} of {writes} was not made to fail"
            );
            if dir.join("config.json").is_file() {
                resume::<BoltzmannMachine>(&dir, None, &RunOptions::default())?;
            } else {
                assert!(
                    !dir.exists(),
                    "write {k}: a run without config.json was left behind"
                );
                train::<BoltzmannMachine>(xor_config(), Some(&dir), &RunOptions::default())?;
            }
            assert!(
                model_bytes(&dir) == expected,
                "write {k}: the resumed model differs"
            );
            let generations: Vec<_> = std::fs::read_dir(dir.join("checkpoints"))
                .map_err(|e| Error::io(&dir, e))?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert_eq!(generations.len(), 1, "write {k}: leftovers {generations:?}");
        }
        Ok(())
    }

    /// A second writer of a run is refused while the first holds it, and admitted after.
    #[test]
    fn a_run_has_one_writer_at_a_time() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let dir = tmp.path().join("run");
        train::<BoltzmannMachine>(xor_config(), Some(&dir), &RunOptions::default())?;
        // Another open file description of the lock stands for another process.
        let other = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(".lock"))
            .map_err(|e| Error::io(&dir, e))?;
        other.try_lock().expect("the finished run is unlocked");
        let err = resume::<BoltzmannMachine>(&dir, Some(5), &RunOptions::default())
            .expect_err("a second writer");
        assert!(err.is_usage(), "{err}");
        assert!(err.to_string().contains("in use"), "{err}");
        other.unlock().map_err(|e| Error::io(&dir, e))?;
        resume::<BoltzmannMachine>(&dir, Some(5), &RunOptions::default())?;
        Ok(())
    }
}
