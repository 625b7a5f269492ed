//! Whole runs: train into a run directory, resume, sample, evaluate. The CLI calls these.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{GanConfig, GanObjective};
use super::fit::GanFit;
use super::model::Gan;
use super::pictures::{FIXED_TILES, image_shape_of, write_nearest};
use crate::adversarial::classifier::{Classifier, mode_coverage};
use crate::adversarial::parzen::{default_sigmas, parzen_estimate};
use crate::data::{DataConfig, DataSplit, Dataset};
use crate::error::{Error, Result, check};
use crate::kernels::runtime::DeviceKind;
use crate::report::{Bars, GridSpec, Shade, save_bars, save_grid, write_run_report};
use crate::rng::rng_for;
use crate::train::{Position, Progress, RunDir, TensorFile, TrainConfig, Trainer, resume};

/// Family name in config.json.
pub const FAMILY: &str = "gan";

/// Everything that defines a GAN run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanRunConfig {
    /// Always `gan`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// The networks (`input` is filled in from the data).
    pub model: GanConfig,
    /// Losses and optimiser.
    pub objective: GanObjective,
    /// Epochs, batch size, seed.
    pub train: TrainConfig,
    /// Where the data come from.
    pub data: DataConfig,
    /// Train on the first `n` training examples only.
    #[serde(default)]
    pub train_examples: Option<usize>,
    /// Training examples held out (from the end) to choose the Parzen bandwidth.
    pub validation_examples: usize,
    /// Generated samples for the Parzen window and the class histogram.
    pub eval_samples: usize,
    /// Device the run trained on.
    pub device: DeviceKind,
}

impl GanRunConfig {
    /// The paper's MNIST setting (MLPs) with DCGAN's Adam, batch 64.
    pub fn new(data: DataConfig) -> Self {
        Self {
            family: FAMILY.into(),
            helmholtz_version: String::new(),
            model: GanConfig::new(0),
            objective: GanObjective::default(),
            train: TrainConfig {
                epochs: 30,
                batch_size: 64,
                seed: 0,
            },
            data,
            train_examples: None,
            validation_examples: 1000,
            eval_samples: 10_000,
            device: DeviceKind::Cpu,
        }
    }

    /// Check every part (the data width is checked when the data are loaded).
    pub fn validate(&self) -> Result<()> {
        let mut m = self.model.clone();
        m.input = m.input.max(1);
        m.validate()?;
        self.objective.validate()?;
        self.train.validate()?;
        check::positive_count("eval-samples", self.eval_samples)?;
        if self.train_examples == Some(0) {
            return Err(Error::param("train-examples", "must be at least 1 (got 0)"));
        }
        Ok(())
    }
}

/// The data as the GAN sees them: training examples, the validation examples held out of
/// them (for the Parzen bandwidth), and the test set.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// Train (without the validation examples) and test split.
    pub split: DataSplit,
    /// Held-out training examples.
    pub validation: Dataset,
}

/// Load the run's data, check they lie in [0, 1], hold out the validation examples.
pub fn prepare_data(cfg: &GanRunConfig) -> Result<PreparedData> {
    let mut split = cfg.data.load(cfg.train.seed)?;
    if let Some(n) = cfg.train_examples {
        split.train = split.train.head(n);
    }
    let why = "the generator's output range";
    split.train.require_unit_interval(why)?;
    split.test.require_unit_interval(why)?;
    let n = split.train.len();
    let v = cfg.validation_examples.min(n / 10).max(1);
    if n < 2 {
        return Err(Error::param(
            "train-examples",
            format!("need at least 2 training examples (got {n})"),
        ));
    }
    let validation = split.train.select(&(n - v..n).collect::<Vec<_>>());
    split.train = split.train.head(n - v);
    Ok(PreparedData { split, validation })
}

/// Options that are not part of the model: where to report, when to stop.
pub struct RunOptions<'a> {
    /// Progress sink.
    pub progress: &'a dyn Progress,
    /// Set by Ctrl-C.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Stop after this many epochs (the run stays resumable).
    pub stop_after: Option<usize>,
    /// Skip the final evaluation.
    pub skip_eval: bool,
}

/// What `gan train` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Epochs trained in total.
    pub epochs: usize,
    /// Seconds spent training in this call (evaluation excluded).
    pub train_seconds: f64,
    /// The final evaluation (absent with `skip_eval`).
    pub eval: Option<EvalReport>,
    /// Metrics of the last epoch.
    pub last_epoch: serde_json::Map<String, serde_json::Value>,
}

/// Train a new GAN into `out` (or `runs/gan-<timestamp>`), then evaluate it.
pub fn train(
    mut cfg: GanRunConfig,
    out: Option<&Path>,
    opts: &RunOptions<'_>,
) -> Result<TrainSummary> {
    cfg.validate()?;
    let prepared = prepare_data(&cfg)?;
    cfg.model.input = prepared.split.dim()?;
    cfg.family = FAMILY.into();
    cfg.helmholtz_version = env!("CARGO_PKG_VERSION").into();
    cfg.model.validate()?;
    let device = cfg.device.device(cfg.train.seed)?;
    let mut fit = build_fit(&cfg, &device)?;
    let run = match out {
        Some(p) => RunDir::create(p)?,
        None => RunDir::create_default("runs", FAMILY)?,
    };
    run.write_json("config.json", &cfg)?;
    let result = finish(
        &cfg,
        &run,
        &mut fit,
        &prepared,
        Position::default(),
        &device,
        opts,
    );
    crate::train::discard_if_unsaved(&run, result)
}

/// Continue the run in `dir` from its last checkpoint; `epochs` may raise the total.
pub fn resume_run(
    dir: &Path,
    epochs: Option<usize>,
    opts: &RunOptions<'_>,
) -> Result<TrainSummary> {
    let run = RunDir::open(dir, FAMILY)?;
    let mut cfg: GanRunConfig = run.read_json("config.json")?;
    let pos = run.position()?;
    if let Some(e) = crate::train::resume_epochs(pos.epochs_done, epochs)? {
        cfg.train.epochs = e;
        run.write_json("config.json", &cfg)?;
    }
    cfg.validate()?;
    let prepared = prepare_data(&cfg)?;
    let device = cfg.device.device(cfg.train.seed)?;
    let mut fit = build_fit(&cfg, &device)?;
    let pos = resume(&mut fit, &run)?;
    finish(&cfg, &run, &mut fit, &prepared, pos, &device, opts)
}

fn build_fit(cfg: &GanRunConfig, device: &Device) -> Result<GanFit> {
    let gan = Gan::new(
        cfg.model.clone(),
        device,
        &mut rng_for(cfg.train.seed, &[0x494e_4954]),
    )?;
    let fixed = gan.noise(FIXED_TILES, &mut rng_for(cfg.train.seed, &[0x4649_5845]));
    GanFit::new(gan, cfg.objective.clone(), fixed)
}

fn finish(
    cfg: &GanRunConfig,
    run: &RunDir,
    fit: &mut GanFit,
    prepared: &PreparedData,
    start: Position,
    device: &Device,
    opts: &RunOptions<'_>,
) -> Result<TrainSummary> {
    let mut trainer =
        Trainer::new(cfg.train.clone(), device.clone(), opts.progress)?.with_run_dir(run);
    if let Some(flag) = &opts.interrupt {
        trainer = trainer.with_interrupt(flag.clone());
    }
    if let Some(n) = opts.stop_after {
        trainer = trainer.stop_after(n);
    }
    let report = trainer.fit(fit, &prepared.split, start)?;
    let eval = if opts.skip_eval {
        None
    } else {
        Some(evaluate_in(
            run,
            cfg,
            fit.gan(),
            prepared,
            &EvalRequest::default(),
        )?)
    };
    let last_epoch = run
        .metrics()?
        .last()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    Ok(TrainSummary {
        run_dir: run.path().to_path_buf(),
        epochs: run.position()?.epochs_done,
        train_seconds: report.seconds,
        eval,
        last_epoch,
    })
}

/// What `gan eval` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Mean Gaussian Parzen-window log-likelihood of the test set (nats per example).
    pub parzen_ll: f64,
    /// Its standard error over test examples.
    pub parzen_se: f64,
    /// The Parzen bandwidth, chosen on held-out training examples.
    pub sigma: f64,
    /// `(sigma, mean validation log-likelihood)` over the bandwidth grid.
    pub sigma_grid: Vec<(f64, f64)>,
    /// Generated samples behind the estimates.
    pub samples: usize,
    /// Test examples scored.
    pub test_examples: usize,
    /// Entropy (nats) of the classifier's predicted classes of the samples (absent without labels).
    pub class_entropy: Option<f64>,
    /// Samples per predicted class.
    pub class_histogram: Vec<usize>,
    /// Largest fraction of samples in one class.
    pub max_class_fraction: Option<f64>,
    /// Whether the samples look mode-collapsed (entropy < ln(classes)/2 or one class > 50%).
    pub collapsed: bool,
    /// Fréchet distance between the classifier features of samples and of the test set.
    pub frechet_distance: Option<f64>,
    /// Test accuracy of the classifier.
    pub classifier_accuracy: Option<f64>,
    /// Wall-clock seconds of the evaluation.
    pub eval_seconds: f64,
}

/// What `gan eval` should do differently from the run's own settings.
#[derive(Debug, Clone, Default)]
pub struct EvalRequest {
    /// Generated samples [default: the run's `eval_samples`].
    pub samples: Option<usize>,
    /// Seed of the samples [default: the run's seed].
    pub seed: Option<u64>,
    /// Device to evaluate on.
    pub device: DeviceKind,
}

fn evaluate_in(
    run: &RunDir,
    cfg: &GanRunConfig,
    gan: &Gan,
    prepared: &PreparedData,
    request: &EvalRequest,
) -> Result<EvalReport> {
    let t0 = Instant::now();
    let n = request.samples.unwrap_or(cfg.eval_samples);
    check::positive_count("samples", n)?;
    let seed = request.seed.unwrap_or(cfg.train.seed);
    let d = gan.config().input;
    let samples = gan.sample_values(n, &mut rng_for(seed, &[0x4556_414c]));
    let parzen = parzen_estimate(
        &samples,
        prepared.validation.features(),
        prepared.split.test.features(),
        d,
        &default_sigmas(),
    )?;
    if prepared.split.train.image_shape().is_some() || image_shape_of(d)[0] > 1 {
        write_nearest(&samples, prepared.split.train.features(), d, run)?;
    }
    let mut report = EvalReport {
        parzen_ll: parzen.mean,
        parzen_se: parzen.se,
        sigma: parzen.sigma,
        sigma_grid: parzen.validation,
        samples: n,
        test_examples: prepared.split.test.len(),
        ..EvalReport::default()
    };
    if prepared.split.train.labels().is_some() {
        let device = gan.device();
        let path = run.file("classifier.safetensors");
        let classifier = match Classifier::load(&path, d, &device) {
            Ok(c) if path.exists() => c,
            _ => {
                let c = Classifier::train(&prepared.split.train, &device, cfg.train.seed)?;
                c.save(&path)?;
                c
            }
        };
        let coverage = mode_coverage(
            &classifier,
            &samples,
            prepared.split.test.features(),
            &device,
        );
        let counts = coverage.histogram.clone();
        report.frechet_distance = Some(coverage.frechet_distance);
        report.class_entropy = Some(coverage.entropy);
        report.max_class_fraction = Some(coverage.max_class_fraction);
        report.collapsed = coverage.collapsed;
        report.classifier_accuracy = classifier.accuracy(&prepared.split.test, &device);
        save_bars(
            &run.file("classes.png"),
            &Bars {
                title: format!(
                    "classes of {n} samples (entropy {:.3} nats)",
                    coverage.entropy
                ),
                x_label: "predicted class".into(),
                y_label: "samples".into(),
                bars: counts
                    .iter()
                    .enumerate()
                    .map(|(c, &k)| (c.to_string(), k as f64))
                    .collect(),
                y_range: None,
                reference: Some((n as f64 / counts.len() as f64, "uniform".into())),
            },
            640,
            400,
        )?;
        run.add_figure(
            "classes.png",
            "predicted classes of the generated samples (a small MLP classifier trained on the labelled training data); a flat histogram means every mode is covered",
        )?;
        report.class_histogram = counts;
    }
    report.eval_seconds = t0.elapsed().as_secs_f64();
    run.write_json("eval.json", &report)?;
    write_run_report(run)?;
    Ok(report)
}

/// Open a run's networks on `device_kind`.
pub fn open_run(dir: &Path, device_kind: DeviceKind) -> Result<(RunDir, GanRunConfig, Gan)> {
    let run = RunDir::open(dir, FAMILY)?;
    let cfg: GanRunConfig = run.read_json("config.json")?;
    let device = device_kind.device(cfg.train.seed)?;
    let path = run.file("model.safetensors");
    let file = TensorFile::load(&path)?;
    let gan = Gan::from_file(cfg.model.clone(), &file, &device, &path)?;
    Ok((run, cfg, gan))
}

/// `gan eval`: Parzen log-likelihood, mode coverage and Fréchet distance of the run in `dir`,
/// recorded in its eval.json and report.
pub fn evaluate_run(dir: &Path, request: &EvalRequest) -> Result<EvalReport> {
    if request.samples == Some(0) {
        return Err(Error::param("samples", "must be at least 1 (got 0)"));
    }
    let (run, cfg, gan) = open_run(dir, request.device)?;
    let prepared = prepare_data(&cfg)?;
    evaluate_in(&run, &cfg, &gan, &prepared, request)
}

/// What `gan sample` runs.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    /// Samples (tiles in the picture).
    pub n: usize,
    /// Seed of the noise.
    pub seed: u64,
    /// Device to sample on.
    pub device: DeviceKind,
}

/// What `gan sample` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SampleSummary {
    /// The PNG written.
    pub file: PathBuf,
    /// Samples drawn.
    pub n: usize,
}

/// `gan sample`: `G(z)` for `n` noise draws as a grid (default `RUN/samples-<n>.png`).
pub fn sample_run(
    dir: &Path,
    request: &SampleRequest,
    out: Option<&Path>,
) -> Result<SampleSummary> {
    check::positive_count("n", request.n)?;
    let (run, cfg, gan) = open_run(dir, request.device)?;
    let values = gan.sample_values(request.n, &mut rng_for(request.seed, &[0x5341_4d50]));
    let file = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run.file(&format!("samples-{}.png", request.n)));
    save_grid(
        &file,
        &values,
        GridSpec::for_count(request.n, image_shape_of(cfg.model.input)),
        Shade::Unit,
    )?;
    Ok(SampleSummary { file, n: request.n })
}
