//! Whole runs: train into a run directory, resume, sample, evaluate. The CLI calls these.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::fit::GanFit;
use super::model::Gan;
use super::params::GanParams;
use super::pictures::{NEAREST_CAPTION, write_nearest};
use crate::data::{DataConfig, PreparedSplit};
use crate::error::{Error, Result, check};
use crate::eval::classifier::{Classifier, missing_classes, mode_coverage};
use crate::eval::parzen::{default_sigmas, parzen_estimate};
use crate::io::RunDir;
use crate::kernels::runtime::DeviceKind;
use crate::report::{Bars, Shade, image_shape, save_bars};
use crate::rng::rng_for;
use crate::run::{
    EvalTarget, Family, SAMPLE_BYTES, SampleRequest, SampleSummary, eval_stem, family, open_model,
    record_eval_at,
};
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "gan";

/// Everything that defines a GAN run; saved as config.json (inside the run envelope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanRunConfig {
    /// How the GAN is trained (`model`, `objective`, `train`, `device` in the JSON).
    #[serde(flatten)]
    pub params: GanParams,
    /// Where the data come from.
    pub data: DataConfig,
    /// Training examples held out (from the end) to choose the Parzen bandwidth.
    pub validation_examples: usize,
    /// Generated samples for the Parzen window and the class histogram.
    pub eval_samples: usize,
}

impl GanRunConfig {
    /// The paper's MNIST setting (MLPs) with DCGAN's Adam, batch 64, on `data`.
    pub fn new(data: DataConfig) -> Self {
        Self {
            params: GanParams::default(),
            data,
            validation_examples: 1000,
            eval_samples: 10_000,
        }
    }

    /// Check every part (the data width is checked when the data are loaded).
    pub fn validate(&self) -> Result<()> {
        self.params.validate(self.params.model.input.max(1))?;
        check::positive_count("eval-samples", self.eval_samples)?;
        Ok(())
    }
}

/// The data as the GAN sees them: training examples, the validation examples held out of
/// them (for the Parzen bandwidth; always some), and the test set.
pub type PreparedData = PreparedSplit;

/// Check `cfg`, load its data, check they lie in [0, 1], hold out the validation examples,
/// and size the networks to the data's width.
pub fn prepare_data(cfg: &mut GanRunConfig) -> Result<PreparedData> {
    cfg.validate()?;
    let split = cfg.data.load(cfg.params.train.seed)?;
    let n = split.train.len();
    if n < 2 {
        return Err(Error::param(
            "train-examples",
            format!("need at least 2 training examples (got {n})"),
        ));
    }
    let prepared = PreparedSplit::hold_out(split, cfg.validation_examples.min(n / 10).max(1));
    prepared.require_unit_interval("the generator's output range")?;
    cfg.params.model.input = prepared.split.dim()?;
    cfg.params.model.validate()?;
    check_eval_samples("eval-samples", cfg.eval_samples, cfg.params.model.input)?;
    check_batch(cfg, prepared.split.train.len())?;
    Ok(prepared)
}

/// The networks and a training batch (of at most `examples` rows) against the memory budget:
/// per row the generator's and the discriminator's activations, on generated and real rows.
fn check_batch(cfg: &GanRunConfig, examples: usize) -> Result<()> {
    use crate::budget::{ACTIVATION_BYTES, bytes, units};
    let m = &cfg.params.model;
    if m.arch != crate::adversarial::gan::Arch::Mlp {
        return Ok(());
    }
    let rows = cfg.params.train.batch_size.min(examples);
    let per_row = units(&[
        m.noise_dim,
        units(&m.generator_hidden),
        m.input.saturating_mul(2),
        units(&m.discriminator_hidden).saturating_mul(2),
    ]);
    let mut costs = m.costs();
    costs.push(("batch-size", bytes(&[rows, per_row, ACTIVATION_BYTES])));
    crate::budget::check_parts(&costs)
}

/// The generated samples of an evaluation, `width` values each, and the classifier features
/// and Parzen terms computed from them, against the memory budget.
fn check_eval_samples(name: &'static str, n: usize, width: usize) -> Result<()> {
    crate::budget::check(
        name,
        crate::budget::bytes(&[n, width.saturating_add(EVAL_FEATURES), SAMPLE_BYTES]),
    )
}

/// Per-sample values of an evaluation besides the sample: classifier features and Parzen
/// terms.
const EVAL_FEATURES: usize = 256;

family!(Gan: FAMILY, GanRunConfig[GanParams], PreparedData, GanFit, EvalReport);

impl Family for Gan {
    fn prepare(cfg: &mut GanRunConfig) -> Result<PreparedData> {
        prepare_data(cfg)
    }

    fn build(cfg: &GanRunConfig, prepared: &PreparedData, device: &Device) -> Result<GanFit> {
        cfg.params.build(prepared.split.dim()?, device)
    }

    fn evaluate(
        cfg: &GanRunConfig,
        fit: &mut GanFit,
        prepared: &PreparedData,
        run: &RunDir,
        _progress: &dyn Progress,
    ) -> Result<EvalReport> {
        evaluate_in(
            run,
            Pictures::Run(run),
            cfg,
            fit.gan(),
            prepared,
            &EvalRequest::default(),
        )
    }
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
    /// Classes with no sample at all (with at least ten samples per class).
    #[serde(default)]
    pub missing_classes: Vec<usize>,
    /// Whether the samples look mode-collapsed (entropy < ln(classes)/2, one class > 50%, or a
    /// class missing).
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
    /// Data (the test set scored, the held-out examples the bandwidth is chosen on), seed of
    /// the samples and device.
    pub target: EvalTarget,
}

/// Where an evaluation's pictures go.
enum Pictures<'a> {
    /// The training's own evaluation: into the run directory, shown in the report.
    Run(&'a RunDir),
    /// A later evaluation: beside its JSON, `<stem>-nearest.png`, `<stem>-classes.png`.
    Beside(&'a Path),
}

impl Pictures<'_> {
    fn file(&self, name: &str) -> PathBuf {
        match self {
            Self::Run(run) => run.file(name),
            Self::Beside(stem) => PathBuf::from(format!("{}-{name}", stem.display())),
        }
    }

    fn caption(&self, name: &str, caption: &str) -> Result<()> {
        match self {
            Self::Run(run) => run.add_figure(name, caption),
            Self::Beside(_) => Ok(()),
        }
    }
}

fn evaluate_in(
    run: &RunDir,
    pictures: Pictures<'_>,
    cfg: &GanRunConfig,
    gan: &Gan,
    prepared: &PreparedData,
    request: &EvalRequest,
) -> Result<EvalReport> {
    let t0 = Instant::now();
    let n = request.samples.unwrap_or(cfg.eval_samples);
    check::positive_count("samples", n)?;
    let seed = request.target.seed_or(cfg.params.train.seed);
    let d = gan.config().input;
    let samples = gan.sample_values(n, &mut rng_for(seed, &[0x4556_414c]));
    // The bandwidth is chosen on the held-out training examples (always some, see
    // `prepare_data`; the training examples themselves otherwise).
    let held_out = prepared
        .validation
        .as_ref()
        .unwrap_or(&prepared.split.train);
    let parzen = parzen_estimate(
        &samples,
        held_out.features(),
        prepared.split.test.features(),
        d,
        &default_sigmas(),
    )?;
    if prepared.split.train.image_shape().is_some() || image_shape(d)[0] > 1 {
        write_nearest(
            &samples,
            prepared.split.train.features(),
            d,
            &pictures.file("nearest.png"),
        )?;
        pictures.caption("nearest.png", NEAREST_CAPTION)?;
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
                let c = Classifier::train(&prepared.split.train, &device, cfg.params.train.seed)?;
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
        report.missing_classes = missing_classes(&coverage.histogram);
        report.collapsed = coverage.collapsed;
        report.classifier_accuracy = classifier.accuracy(&prepared.split.test, &device);
        save_bars(
            &pictures.file("classes.png"),
            &Bars {
                title: format!(
                    "classes of {n} samples (entropy {:.3} nats)",
                    coverage.entropy
                ),
                x_label: "predicted class".into(),
                y_label: "samples (count)".into(),
                reference: Some((n as f64 / counts.len() as f64, "uniform".into())),
                integer_y: true,
                ..Bars::single(
                    counts
                        .iter()
                        .enumerate()
                        .map(|(c, &k)| (c.to_string(), k as f64)),
                )
            },
            640,
            400,
        )?;
        pictures.caption(
            "classes.png",
            "predicted classes of the generated samples (a small MLP classifier trained on the labelled training data); a flat histogram means every mode is covered",
        )?;
        report.class_histogram = counts;
    }
    report.eval_seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

/// Open a run's networks on `device_kind`.
pub fn open_run(dir: &Path, device_kind: DeviceKind) -> Result<(RunDir, GanRunConfig, Gan)> {
    open_model::<Gan, Gan>(dir, device_kind, |cfg| cfg.params.model.clone())
}

/// `gan eval`: Parzen log-likelihood, mode coverage and Fréchet distance of the run in `dir`,
/// recorded beside the training's own evaluation (`evals/eval-<UTC timestamp>.json`, with its
/// pictures `…-nearest.png` and `…-classes.png`).
pub fn evaluate_run(dir: &Path, request: &EvalRequest) -> Result<EvalReport> {
    // The command line asks for the samples as `n`.
    if request.samples == Some(0) {
        return Err(Error::param("n", "must be at least 1 (got 0)"));
    }
    let (run, mut cfg, gan) = open_run(dir, request.target.device)?;
    cfg.data = request.target.data_or(&cfg.data);
    let prepared = prepare_data(&mut cfg.clone())?;
    let width = cfg.params.model.input;
    EvalTarget::check_width(&cfg.data, prepared.split.dim()?, width, &run)?;
    let samples = request.samples.unwrap_or(cfg.eval_samples);
    check_eval_samples("n", samples, width)?;
    let stem = eval_stem(&run, "eval")?;
    let report = evaluate_in(
        &run,
        Pictures::Beside(&stem),
        &cfg,
        &gan,
        &prepared,
        request,
    )?;
    record_eval_at(&run, &stem, &report)?;
    Ok(report)
}

/// `gan sample`: `G(z)` for `n` noise draws as a grid (default `RUN/samples-<n>.png`).
pub fn sample_run(dir: &Path, request: &SampleRequest) -> Result<SampleSummary> {
    check::positive_count("n", request.n)?;
    let (run, cfg, gan) = open_run(dir, request.device)?;
    request.check(cfg.params.model.input)?;
    let values = gan.sample_values(request.n, &mut rng_for(request.seed, &[0x5341_4d50]));
    let caption = ["`gan sample`: G(z)", "z ~ N(0, I)"];
    let width = cfg.params.model.input;
    request.save(&run, &values, width, Shade::Unit, caption)
}
