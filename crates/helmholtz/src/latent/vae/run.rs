//! Whole runs: train into a run directory, resume, evaluate, sample. The CLI calls these.

use std::path::Path;
use std::time::Instant;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::bounds::{elbo_per_example, iw_bound};
use super::config::Likelihood;
use super::fit::VaeFit;
use super::model::Vae;
use super::params::VaeParams;
use super::pictures::{PictureData, SAMPLE_TILES, samples};
use crate::data::{Binarize, DataConfig, Dataset, PreparedSplit};
use crate::error::{Error, Result, check};
use crate::io::RunDir;
use crate::kernels::runtime::DeviceKind;
use crate::report::Shade;
use crate::rng::rng_for;
use crate::run::{
    CodesRequest, CodesSummary, EvalTarget, Family, SampleRequest, SampleSummary, family,
    open_model, record_eval, write_codes,
};
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "vae";

/// Test examples kept for the pictures (reconstructions, latent scatter).
const PICTURE_EXAMPLES: usize = 1000;

/// Everything that defines a VAE run; saved as config.json (inside the run envelope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeRunConfig {
    /// How the VAE is trained (`model`, `objective`, `train`, `device` in the JSON).
    #[serde(flatten)]
    pub params: VaeParams,
    /// Where the data come from and how they are binarised.
    pub data: DataConfig,
    /// A class left out of the training data (for anomaly detection).
    #[serde(default)]
    pub holdout_class: Option<u32>,
    /// Importance samples per test example in the final evaluation.
    pub eval_k: usize,
}

impl VaeRunConfig {
    /// The PyTorch reference VAE on `data`: 784-400-20, Bernoulli decoder, Adam 1e-3, batch
    /// 128, 50 epochs; the final evaluation with k = 1000 importance samples.
    pub fn new(data: DataConfig) -> Self {
        Self {
            params: VaeParams::default(),
            data,
            holdout_class: None,
            eval_k: 1000,
        }
    }

    /// Check every part (the data width is checked when the data are loaded).
    pub fn validate(&self) -> Result<()> {
        self.params.validate(self.params.model.input.max(1))?;
        check::positive_count("eval-k", self.eval_k)?;
        let binarized = self.data.binarize != Binarize::None;
        match self.params.model.likelihood {
            Likelihood::Gaussian if binarized || self.params.objective.dynamic_binarization => {
                Err(Error::param(
                    "binarize",
                    "a Gaussian likelihood models real values; must be none",
                ))
            }
            Likelihood::Bernoulli if binarized && self.params.objective.dynamic_binarization => {
                Err(Error::param(
                    "binarize",
                    "dynamic binarisation needs the intensities, not binarised data",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The data as the VAE sees them: train (without the hold-out class and the validation
/// examples), validation and test, binarised or standardised.
pub type PreparedData = PreparedSplit;

impl PreparedSplit {
    /// Examples and the undo-standardisation for pictures.
    pub fn picture_data(&self) -> PictureData {
        PictureData {
            examples: self.split.test.head(PICTURE_EXAMPLES),
            unstandardize: self.standardize.clone(),
        }
    }
}

/// Validation examples held out of the training data at most.
const VALIDATION_EXAMPLES: usize = 500;

/// Check `cfg`, load and prepare its data (leave out the hold-out class, hold validation
/// examples out of the training data, binarise or standardise) and size the model's input to
/// their width.
pub fn prepare_data(cfg: &mut VaeRunConfig) -> Result<PreparedData> {
    cfg.validate()?;
    let seed = cfg.params.train.seed;
    let mut split = cfg.data.load(seed)?;
    if let Some(c) = cfg.holdout_class {
        split.train = without_class(&split.train, c)?;
    }
    let v = Dataset::validation_size(split.train.len(), VALIDATION_EXAMPLES);
    let mut prepared = PreparedSplit::hold_out(split, v);
    match cfg.params.model.likelihood {
        Likelihood::Bernoulli => {
            let why =
                "a Bernoulli decoder needs (set `likelihood` to `gaussian` for real-valued data)";
            prepared.require_unit_interval(why)?;
            if cfg.params.objective.dynamic_binarization {
                // Training batches are binarised afresh; held-out data once, with fixed seeds.
                let test = &mut prepared.split.test;
                test.binarize(Binarize::Stochastic, &mut rng_for(seed, &[0x5445_5354]));
                if let Some(v) = prepared.validation.as_mut() {
                    v.binarize(Binarize::Stochastic, &mut rng_for(seed, &[0x5641_4c49]));
                }
            }
        }
        Likelihood::Gaussian => prepared.standardize(),
    }
    cfg.params.model.input = prepared.split.dim()?;
    cfg.params.model.validate()?;
    check_batch(cfg, prepared.split.train.len())?;
    Ok(prepared)
}

/// `data` without the examples labelled `class`.
fn without_class(data: &Dataset, class: u32) -> Result<Dataset> {
    let labels = data.labels().ok_or_else(|| {
        Error::param(
            "holdout-class",
            format!("{} has no labels to hold a class out of", data.name()),
        )
    })?;
    let keep: Vec<usize> = (0..data.len()).filter(|&i| labels[i] != class).collect();
    if keep.len() == data.len() {
        return Err(Error::param(
            "holdout-class",
            format!("class {class} does not occur in {}", data.name()),
        ));
    }
    if keep.is_empty() {
        return Err(Error::param(
            "holdout-class",
            format!("every example of {} is of class {class}", data.name()),
        ));
    }
    Ok(data.select(&keep))
}

family!(Vae: FAMILY, VaeRunConfig[VaeParams], PreparedData, VaeFit, EvalReport);

impl Family for Vae {
    fn prepare(cfg: &mut VaeRunConfig) -> Result<PreparedData> {
        prepare_data(cfg)
    }

    fn build(cfg: &VaeRunConfig, prepared: &PreparedData, device: &Device) -> Result<VaeFit> {
        cfg.params
            .build(prepared.split.dim()?, prepared.picture_data(), device)
    }

    fn evaluate(
        cfg: &VaeRunConfig,
        fit: &mut VaeFit,
        prepared: &PreparedData,
        _run: &RunDir,
        progress: &dyn Progress,
    ) -> Result<EvalReport> {
        let request = EvalRequest {
            k: Some(cfg.eval_k),
            ..EvalRequest::default()
        };
        evaluate(
            fit.vae(),
            prepared,
            &request,
            cfg.params.train.seed,
            progress,
        )
    }
}

/// Test-set bounds on the log-likelihood of a VAE, nats per example.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Mean test ELBO (one sample of `q` per example; analytic KL), a lower bound on `log p(x)`.
    pub test_elbo: f64,
    /// Standard error of `test_elbo` over examples.
    pub test_elbo_se: f64,
    /// Mean reconstruction term `-E_q log p(x | z)` of the test ELBO.
    pub test_recon: f64,
    /// Mean KL term of the test ELBO.
    pub test_kl: f64,
    /// Test negative log-likelihood from the importance-weighted bound: `-mean L_k`, an upper
    /// bound on the true NLL in expectation (positive nats per example).
    pub test_nll_iw: f64,
    /// Standard error of `test_nll_iw` over examples.
    pub test_nll_iw_se: f64,
    /// Importance samples per example.
    pub k: usize,
    /// Test examples evaluated.
    pub test_examples: usize,
    /// The latent variables (`gaussian:D` or `categorical:NxK`).
    pub latent: String,
    /// Wall-clock seconds of the evaluation.
    pub eval_seconds: f64,
    /// Which bounds these are.
    pub bound: String,
}

/// What `vae eval` should do differently from the run's own settings.
#[derive(Debug, Clone, Default)]
pub struct EvalRequest {
    /// Importance samples per example [default: the run's `eval_k`].
    pub k: Option<usize>,
    /// Evaluate on the first `limit` test examples only.
    pub limit: Option<usize>,
    /// Data, seed of the samples and device.
    pub target: EvalTarget,
}

/// The test ELBO and the importance-weighted bound with `request.k` samples.
pub fn evaluate(
    vae: &Vae,
    prepared: &PreparedData,
    request: &EvalRequest,
    seed: u64,
    progress: &dyn Progress,
) -> Result<EvalReport> {
    let t0 = Instant::now();
    let k = request.k.unwrap_or(1000);
    check::positive_count("k", k)?;
    if request.limit == Some(0) {
        return Err(Error::param("examples", "must be at least 1 (got 0)"));
    }
    let test = match request.limit {
        Some(n) => prepared.split.test.head(n),
        None => prepared.split.test.clone(),
    };
    let x = test.to_tensor(&vae.device());
    let jacobian = prepared.log_jacobian();
    let (elbo, recon, kl) = elbo_per_example(vae, &x, &mut rng_for(seed, &[0x454c_424f]));
    let iw = iw_bound(vae, &x, k, &mut rng_for(seed, &[0x4957_4145]), progress)?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let grey = vae.config().likelihood == Likelihood::Bernoulli
        && test.features().iter().any(|&v| v != 0.0 && v != 1.0);
    let units = if jacobian != 0.0 {
        "; a density of the data in their original units"
    } else if grey {
        "; the data are grey levels scored with Bernoulli pixels (the PyTorch reference's BCE), \
         not a normalised likelihood: binarise the data for comparable nats"
    } else {
        ""
    };
    Ok(EvalReport {
        test_elbo: elbo.mean() - jacobian,
        test_elbo_se: elbo.se(),
        test_recon: mean(&recon) + jacobian,
        test_kl: mean(&kl),
        test_nll_iw: -iw.mean() + jacobian,
        test_nll_iw_se: iw.se(),
        k,
        test_examples: test.len(),
        latent: vae.config().latent.to_string(),
        eval_seconds: t0.elapsed().as_secs_f64(),
        bound: format!(
            "test_elbo: one-sample ELBO E_q[log p(x|z)] - KL(q||p), nats/example; test_nll_iw: \
             -log (1/k) sum_i p(x, z_i)/q(z_i|x) with k = {k} samples z_i ~ q(z|x) (Burda et al. 2016), \
             positive nats/example{}{units}",
            if vae.config().latent.is_categorical() {
                "; exact one-hot samples of q and the uniform categorical prior"
            } else {
                ""
            }
        ),
    })
}

/// Open a run's model on `device_kind`.
pub fn open_run(dir: &Path, device_kind: DeviceKind) -> Result<(RunDir, VaeRunConfig, Vae)> {
    open_model::<Vae, Vae>(dir, device_kind, |cfg| cfg.params.model.clone())
}

/// The run's data, or other data (`data`) checked to have the model's width.
pub(crate) fn data_for(
    run: &RunDir,
    cfg: &VaeRunConfig,
    vae: &Vae,
    data: Option<&DataConfig>,
) -> Result<PreparedData> {
    let mut cfg = cfg.clone();
    if let Some(d) = data {
        cfg.data = d.clone();
    }
    let prepared = prepare_data(&mut cfg.clone())?;
    let width = vae.config().input;
    EvalTarget::check_width(&cfg.data, prepared.split.dim()?, width, run)?;
    Ok(prepared)
}

/// `vae eval`: evaluate the run in `dir` and record the result beside the training's own
/// evaluation (`evals/eval-<UTC timestamp>.json`, listed in the report).
pub fn evaluate_run(
    dir: &Path,
    request: &EvalRequest,
    progress: &dyn Progress,
) -> Result<EvalReport> {
    if request.k == Some(0) {
        return Err(Error::param(
            "k",
            "needs at least 1 importance sample (got 0)",
        ));
    }
    let (run, cfg, vae) = open_run(dir, request.target.device)?;
    let data = request.target.data_or(&cfg.data);
    let prepared = data_for(&run, &cfg, &vae, Some(&data))?;
    let request = EvalRequest {
        k: Some(request.k.unwrap_or(cfg.eval_k)),
        ..request.clone()
    };
    let seed = request.target.seed_or(cfg.params.train.seed);
    let report = evaluate(&vae, &prepared, &request, seed, progress)?;
    record_eval(&run, "eval", &report)?;
    Ok(report)
}

/// `vae encode`: the posterior means `E_q[z | x]` (categorical latents: the most probable
/// categories, one-hot) of the run's test set (or of `data`, of the same width) as a
/// `[n, code width]` `.npy` array (default `RUN/codes.npy`).
pub fn encode_run(dir: &Path, request: &CodesRequest) -> Result<CodesSummary> {
    let (run, cfg, vae) = open_run(dir, request.device)?;
    let data = request.source.clone().map(|source| DataConfig {
        source,
        ..cfg.data.clone()
    });
    let prepared = data_for(&run, &cfg, &vae, data.as_ref())?;
    let file = run.output(request.out.as_deref(), "codes.npy")?;
    write_codes(&vae, &prepared.split.test, &file)
}

/// `vae sample`: decode `n` draws from the prior into a grid (default `RUN/samples-<n>.png`).
pub fn sample_run(dir: &Path, request: &SampleRequest) -> Result<SampleSummary> {
    check::positive_count("n", request.n)?;
    let (run, cfg, vae) = open_run(dir, request.device)?;
    request.check(cfg.params.model.input)?;
    let standardize = match cfg.params.model.likelihood {
        Likelihood::Gaussian => prepare_data(&mut cfg.clone())?.standardize,
        Likelihood::Bernoulli => None,
    };
    let d = cfg.params.model.input;
    let pictures = PictureData {
        examples: Dataset::new("none", vec![0.0; d], d, None)?,
        unstandardize: standardize,
    };
    let mut rng = rng_for(request.seed, &[0x5341_4d50]);
    let values = samples(&vae, &pictures, request.n, &mut rng);
    let shade = match cfg.params.model.likelihood {
        Likelihood::Bernoulli => Shade::Unit,
        Likelihood::Gaussian => Shade::MinMax,
    };
    request.save(
        &run,
        &values,
        d,
        shade,
        ["`vae sample`: E[x | z]", "z ~ p(z)"],
    )
}

/// The model and a training batch (of at most `examples` rows) against the memory budget:
/// per row the encoder's and the decoder's activations.
fn check_batch(cfg: &VaeRunConfig, examples: usize) -> Result<()> {
    use crate::budget::{ACTIVATION_BYTES, bytes, units};
    let m = &cfg.params.model;
    let rows = cfg.params.train.batch_size.min(examples);
    let per_row = units(&[units(&m.hidden), m.input, m.latent_width()]).saturating_mul(2);
    let mut costs = m.costs();
    costs.push(("batch-size", bytes(&[rows, per_row, ACTIVATION_BYTES])));
    crate::budget::check_parts(&costs)
}

/// Default number of samples of `vae sample`.
pub const DEFAULT_SAMPLES: usize = SAMPLE_TILES;
