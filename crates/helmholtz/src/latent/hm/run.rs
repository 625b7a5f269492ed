//! `hm train` on the run driver: the data (binarised, validation held out), the fit (one
//! wake-sleep or reweighted wake-sleep update per batch), the final evaluation (the
//! importance-weighted bound on the test set).
//!
//! ```text
//! model.safetensors    gen.{i}.weight/bias (gen.0: the top prior), rec.{l}.weight/bias
//! trainer.safetensors  Adam moments of both networks
//! metrics.jsonl        per epoch: elbo (L_1) and iw_bound_k10 of the validation examples
//! samples.png          data-layer probabilities of ancestral samples
//! eval.json            test_log_likelihood: L_k on the test set, k = eval_k
//! ```

use std::path::{Path, PathBuf};

use burn::prelude::*;
use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::{HelmholtzMachine, HmConfig, Method};
use crate::api::{FitControl, fit_in_memory, trainable};
use crate::data::{DataConfig, Dataset, PreparedSplit};
use crate::error::{Error, Result, check};
use crate::io::{RunDir, TensorFile};
use crate::kernels::runtime::DeviceKind;
use crate::nn::dense::AdamSettings;
use crate::report::{GridSpec, Shade, save_grid};
use crate::run::{Family, family};
use crate::train::{EpochData, Fit, Metrics, PictureAt, Progress, Step, TrainConfig};

/// Family name in config.json.
pub const FAMILY: &str = "hm";

/// Validation examples held out of the training data at most (the per-epoch bound).
const VALIDATION_EXAMPLES: usize = 500;

/// How a Helmholtz machine is built and trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HmParams {
    /// The layer sizes (`visible` from the data).
    pub model: HmConfig,
    /// Wake-sleep or reweighted wake-sleep.
    pub method: Method,
    /// Importance samples per example (reweighted).
    pub samples: usize,
    /// Adam's learning rate for both networks.
    pub lr: f64,
    /// Epochs, batch size, seed.
    pub train: TrainConfig,
    /// Device (the CPU: the machine runs on the host kit).
    pub device: DeviceKind,
}

trainable!(HmParams);

impl Default for HmParams {
    fn default() -> Self {
        Self {
            model: HmConfig {
                visible: 0,
                layers: vec![200, 50],
            },
            method: Method::Reweighted,
            samples: 5,
            lr: 1e-3,
            train: TrainConfig {
                epochs: 10,
                batch_size: 100,
                seed: 0,
            },
            device: DeviceKind::Cpu,
        }
    }
}

impl HmParams {
    /// Train on `data` (`[n, visible]`, values in [0, 1]) in memory, reporting to and
    /// stoppable through `control`, and return the machine; writes no file.
    pub fn fit_with(&self, data: &Dataset, control: FitControl<'_>) -> Result<HelmholtzMachine> {
        let mut params = self.clone();
        params.model.visible = data.dim();
        params.validate()?;
        data.require_unit_interval("the Helmholtz machine's binary units need")?;
        let fit = fit_in_memory(&params, data, control, |_| {
            let mut hm = HelmholtzMachine::new(params.model.clone(), params.train.seed)?;
            hm.set_data_bias(&data.column_means());
            Ok(HmFit {
                hm,
                params: params.clone(),
                image_shape: None,
            })
        })?;
        Ok(fit.hm)
    }

    /// Check every value.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        check::positive_count("samples", self.samples)?;
        check::positive("lr", self.lr)?;
        self.train.validate()
    }
}

/// Everything that defines an `hm train` run; saved as config.json (inside the run envelope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HmRunConfig {
    /// How the machine is trained.
    #[serde(flatten)]
    pub params: HmParams,
    /// The data (binarised).
    pub data: DataConfig,
    /// Importance samples per test example in the final evaluation.
    pub eval_k: usize,
}

/// The final evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HmEval {
    /// Mean `L_k` over the test examples (nats per example).
    pub test_log_likelihood: f64,
    /// Its standard error.
    pub test_log_likelihood_se: f64,
    /// Importance samples per example.
    pub k: usize,
    /// Test examples.
    pub test_examples: usize,
    /// What kind of number it is.
    pub kind: String,
}

/// The model with its training settings, as the trainer drives it.
pub struct HmFit {
    /// The machine.
    pub hm: HelmholtzMachine,
    params: HmParams,
    image_shape: Option<[usize; 2]>,
}

/// The Helmholtz machine as a family of the run driver.
#[derive(Debug, Clone, Copy)]
pub struct Hm;

family!(Hm: FAMILY, HmRunConfig[HmParams], PreparedSplit, HmFit, HmEval);

impl Family for Hm {
    fn prepare(cfg: &mut HmRunConfig) -> Result<PreparedSplit> {
        cfg.params.validate()?;
        check::positive_count("eval-k", cfg.eval_k)?;
        let split = cfg.data.load(cfg.params.train.seed)?;
        let v = Dataset::validation_size(split.train.len(), VALIDATION_EXAMPLES);
        let prepared = PreparedSplit::hold_out(split, v);
        prepared.require_unit_interval("the Helmholtz machine's binary units need")?;
        cfg.params.model.visible = prepared.split.dim()?;
        let m = &cfg.params.model;
        let weights: usize = m.sizes().windows(2).map(|w| w[0] * w[1]).sum();
        crate::budget::check_parts(&[
            ("layers", crate::budget::bytes(&[weights, 24])),
            (
                "samples",
                crate::budget::bytes(&[
                    cfg.params.train.batch_size,
                    cfg.params.samples,
                    m.sizes().iter().sum(),
                    24,
                ]),
            ),
        ])?;
        Ok(prepared)
    }

    fn build(cfg: &HmRunConfig, data: &PreparedSplit, _device: &Device) -> Result<HmFit> {
        let mut hm = HelmholtzMachine::new(cfg.params.model.clone(), cfg.params.train.seed)?;
        hm.set_data_bias(&data.split.train.column_means());
        Ok(HmFit {
            hm,
            params: cfg.params.clone(),
            image_shape: data.split.train.image_shape(),
        })
    }

    fn evaluate(
        cfg: &HmRunConfig,
        fit: &mut HmFit,
        data: &PreparedSplit,
        _run: &RunDir,
        progress: &dyn Progress,
    ) -> Result<HmEval> {
        progress.start("importance-weighted bound", 1);
        let eval = evaluate(&fit.hm, &data.split.test, cfg.eval_k, cfg.params.train.seed);
        progress.finish();
        Ok(eval)
    }
}

/// `L_k` on `data` (every row).
pub fn evaluate(hm: &HelmholtzMachine, data: &Dataset, k: usize, seed: u64) -> HmEval {
    let b = hm.iw_bound(
        data.features(),
        data.len(),
        k,
        crate::rng::derive_seed(seed, &[0x4957]),
    );
    let (mean, se) = crate::eval::parzen::mean_se(&b);
    HmEval {
        test_log_likelihood: mean,
        test_log_likelihood_se: se,
        k,
        test_examples: data.len(),
        kind: format!(
            "importance-weighted lower bound (k = {k}, the recognition network as proposal)"
        ),
    }
}

impl Fit for HmFit {
    fn live_metric(&self) -> &'static str {
        "bound"
    }

    fn train_batch(&mut self, x: Option<Tensor<2>>, _: &Step, rng: &mut StdRng) -> Result<f64> {
        let x = x.ok_or_else(|| Error::Internal("a batch is needed".into()))?;
        let batch = x.dims()[0];
        let x = crate::kernels::ops::to_f32_vec(x);
        let p = &self.params;
        let adam = AdamSettings::new(p.lr, 0.9, 0.999, 1e-8);
        Ok(self
            .hm
            .step(&x, batch, p.method, p.samples, adam, rng.random::<u64>()))
    }

    fn epoch_metrics(&mut self, at: EpochData<'_>, rng: &mut StdRng) -> Result<Metrics> {
        let data = at.validation.unwrap_or(at.train);
        let n = data.len().min(VALIDATION_EXAMPLES);
        let x = &data.features()[..n * data.dim()];
        let mean = |k: usize, key: u64| {
            self.hm.iw_bound(x, n, k, key).iter().sum::<f64>() / n.max(1) as f64
        };
        // L_1 (one sample of q: the ELBO) and L_10.
        Ok(vec![
            ("elbo", mean(1, rng.random::<u64>())),
            ("iw_bound_k10", mean(10, rng.random::<u64>())),
        ])
    }

    fn write_pictures(&mut self, at: PictureAt<'_>, rng: &mut StdRng) -> Result<()> {
        let Some(shape) = self.image_shape else {
            return Ok(());
        };
        if !at.last {
            return Ok(());
        }
        let (_, _, probs) = self.hm.dream(64, rng.random::<u64>());
        save_grid(
            &at.run.file("samples.png"),
            &probs,
            GridSpec::for_count(64, shape),
            Shade::Unit,
        )?;
        crate::run::register_picture(
            at.run,
            &at.run.file("samples.png"),
            "Ancestral samples: the data layer's probabilities given sampled latent layers",
        )
    }

    fn state(&self) -> Result<(TensorFile, TensorFile)> {
        let (mut model, mut trainer) = (TensorFile::default(), TensorFile::default());
        self.hm.generative.put(&mut model, &mut trainer, "gen");
        self.hm.recognition.put(&mut model, &mut trainer, "rec");
        Ok((model, trainer))
    }

    fn load_state(&mut self, model: &TensorFile, trainer: &TensorFile, run: &RunDir) -> Result<()> {
        let (mp, tp) = run.checkpoint_paths();
        load(&mut self.hm, model, Some((trainer, &tp)), &mp)
    }

    fn non_finite_parameter(&self) -> Option<String> {
        self.hm.non_finite()
    }
}

fn load(
    hm: &mut HelmholtzMachine,
    model: &TensorFile,
    trainer: Option<(&TensorFile, &Path)>,
    path: &Path,
) -> Result<()> {
    hm.generative.get(model, trainer, "gen", path)?;
    hm.recognition.get(model, trainer, "rec", path)
}

/// The machine as the bytes of a safetensors file, its layer sizes under the metadata key
/// `config` (as `Persist::to_bytes` writes the other families' models).
pub fn to_bytes(hm: &HelmholtzMachine) -> Result<Vec<u8>> {
    let (mut model, mut trainer) = (TensorFile::default(), TensorFile::default());
    hm.generative.put(&mut model, &mut trainer, "gen");
    hm.recognition.put(&mut model, &mut trainer, "rec");
    let config = serde_json::to_string(&hm.config).map_err(|e| Error::Internal(e.to_string()))?;
    model.metadata.insert("config".into(), config);
    model.to_bytes()
}

/// A machine from the bytes [`to_bytes`] gives; `path` names them in errors.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<HelmholtzMachine> {
    let file = TensorFile::from_bytes(bytes, path)?;
    let config = file
        .metadata
        .get("config")
        .ok_or_else(|| Error::bad_file(path, "no model `config` in the metadata"))?;
    let config: HmConfig = serde_json::from_str(config)
        .map_err(|e| Error::bad_file(path, format!("model `config`: {e}")))?;
    let mut hm = HelmholtzMachine::new(config, 0)?;
    load(&mut hm, &file, None, path)?;
    Ok(hm)
}

/// Open the machine of a finished (or checkpointed) run.
pub fn open(dir: &Path) -> Result<(RunDir, HmRunConfig, HelmholtzMachine)> {
    let (run, envelope) = crate::run::open::<Hm>(dir)?;
    let cfg = envelope.config;
    let path = run.file("model.safetensors");
    let mut hm = HelmholtzMachine::new(cfg.params.model.clone(), 0)?;
    load(&mut hm, &TensorFile::load(&path)?, None, &path)?;
    if let Some(p) = hm.non_finite() {
        return Err(Error::bad_file(
            &path,
            format!("parameter `{p}` holds NaN or infinity"),
        ));
    }
    Ok((run, cfg, hm))
}

/// `hm sample`: the data layer's probabilities of `request.n` ancestral samples of the run in
/// `dir`.
pub fn sample_run(
    dir: &Path,
    request: &crate::run::SampleRequest,
) -> Result<crate::run::SampleSummary> {
    check::positive_count("n", request.n)?;
    let (run, cfg, hm) = open(dir)?;
    request.check(cfg.params.model.visible)?;
    let (_, _, probs) = hm.dream(request.n, crate::rng::derive_seed(request.seed, &[0x5341]));
    request.save(
        &run,
        &probs,
        cfg.params.model.visible,
        Shade::Unit,
        ["`hm sample`: p(x | h)", "h ~ p(h)"],
    )
}

/// `hm eval`: `L_k` on the run's test data, recorded beside the training's own evaluation
/// (`evals/eval-<time>.json`).
pub fn evaluate_run(dir: &Path, k: usize, seed: u64) -> Result<(HmEval, PathBuf)> {
    check::positive_count("k", k)?;
    let (run, cfg, hm) = open(dir)?;
    let split = cfg.data.load(cfg.params.train.seed)?;
    let eval = evaluate(&hm, &split.test, k, seed);
    let path = crate::run::record_eval(&run, "eval", &eval)?;
    Ok((eval, path))
}
