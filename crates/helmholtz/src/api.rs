//! What fitted models share: scoring data, drawing samples, transforming data, and saving.
//!
//! Every trainable family has a `XxxParams` (serde, `Default` with the literature's defaults,
//! builder setters) whose `fit(&Dataset)` trains in memory, writes no file and returns the
//! model; the model then implements the traits below where they make sense. Writing a run
//! directory is the run driver's job ([`crate::run`]), not the model's.
//!
//! ```
//! use helmholtz::prelude::*;
//! # fn main() -> helmholtz::Result<()> {
//! let digits = DataConfig::digits().load(0)?;
//! let rbm = RbmParams::default().hidden(12).epochs(1).fit(&digits.train.head(1000))?;
//! let ll = rbm.score(&digits.test.head(200), 0)?;
//! assert_eq!(ll.estimate, Estimate::Exact); // 12 hidden units: log Z by enumeration
//! let samples = rbm.sample(4, 0)?;
//! assert_eq!(samples.len(), 4 * 784);
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::prelude::Device;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::io::{Position, TensorFile};
use crate::kernels::runtime::DeviceKind;
use crate::train::{Fit, Progress, Silent, TrainConfig, Trainer};

/// What every trainable family's `XxxParams` holds besides its model and objective: epochs,
/// batch size and seed, and the device; with the builder setters for them.
pub trait Trainable: Sized {
    /// Epochs, batch size, seed.
    fn train_config(&self) -> &TrainConfig;
    /// The same, to change.
    fn train_config_mut(&mut self) -> &mut TrainConfig;
    /// The device to train on.
    fn device_kind(&self) -> DeviceKind;
    /// Set the device to train on.
    fn set_device_kind(&mut self, device: DeviceKind);

    /// Passes over the training data.
    fn epochs(mut self, n: usize) -> Self {
        self.train_config_mut().epochs = n;
        self
    }

    /// Examples per mini-batch.
    fn batch_size(mut self, n: usize) -> Self {
        self.train_config_mut().batch_size = n;
        self
    }

    /// Seed of every random choice: the same seed gives the same model, bit for bit.
    fn seed(mut self, seed: u64) -> Self {
        self.train_config_mut().seed = seed;
        self
    }

    /// Device to train on.
    fn device(mut self, device: DeviceKind) -> Self {
        self.set_device_kind(device);
        self
    }
}

/// Implement [`Trainable`] for a params struct with fields `train: TrainConfig` and
/// `device: DeviceKind`. `trainable!(VaeParams, input, objective)` also defines
/// `fn validate(&self, width)`: the model (a `model` field whose `input` is set to the data's
/// `width`), the `objective` and the training settings checked together.
macro_rules! trainable {
    ($params:ty, $width:ident, $objective:ident) => {
        $crate::api::trainable!($params);
        impl $params {
            /// Check every value, with the data width `width`.
            pub fn validate(&self, width: usize) -> $crate::error::Result<()> {
                let mut model = self.model.clone();
                model.$width = width;
                model.validate()?;
                self.$objective.validate()?;
                self.train.validate()
            }
        }
    };
    ($params:ty) => {
        impl $crate::api::Trainable for $params {
            fn train_config(&self) -> &$crate::train::TrainConfig {
                &self.train
            }
            fn train_config_mut(&mut self) -> &mut $crate::train::TrainConfig {
                &mut self.train
            }
            fn device_kind(&self) -> $crate::kernels::runtime::DeviceKind {
                self.device
            }
            fn set_device_kind(&mut self, device: $crate::kernels::runtime::DeviceKind) {
                self.device = device;
            }
        }
    };
}
pub(crate) use trainable;

/// How an in-memory fit reports and when it stops early: a progress sink, and a flag that
/// another thread may set (Ctrl-C in Python) to end training after the current batch with
/// [`Error::Stopped`].
#[derive(Clone, Copy)]
pub struct FitControl<'a> {
    /// Where progress goes ([`Silent`] by default).
    pub progress: &'a dyn Progress,
    /// Set to stop training early.
    pub interrupt: Option<&'a Arc<AtomicBool>>,
}

impl Default for FitControl<'_> {
    fn default() -> Self {
        Self {
            progress: &Silent,
            interrupt: None,
        }
    }
}

/// Train the fit that `build` makes on `data` in memory with `params`' training settings, on
/// its device: no file; progress and early stopping as `control` says. What every
/// `XxxParams::fit_with` does after its checks.
pub(crate) fn fit_in_memory<F: Fit>(
    params: &impl Trainable,
    data: &Dataset,
    control: FitControl<'_>,
    build: impl FnOnce(&Device) -> Result<F>,
) -> Result<F> {
    let train = params.train_config().clone();
    let device = params.device_kind().device(train.seed)?;
    let mut fit = build(&device)?;
    controlled_trainer(train, device, control)?.fit(&mut fit, data, None, Position::default())?;
    Ok(fit)
}

/// A trainer for `train` on `device` that reports and stops as `control` says.
pub(crate) fn controlled_trainer<'a>(
    train: TrainConfig,
    device: Device,
    control: FitControl<'a>,
) -> Result<Trainer<'a>> {
    let trainer = Trainer::new(train, device, control.progress)?;
    Ok(match control.interrupt {
        Some(flag) => trainer.with_interrupt(flag.clone()),
        None => trainer,
    })
}

/// Builder setters of a params struct: `setters!(RbmParams { /// doc
/// hidden: usize => model.hidden, ... })` defines `fn hidden(mut self, v: usize) -> Self`.
macro_rules! setters {
    ($params:ty { $($(#[$doc:meta])* $name:ident: $t:ty => $($field:ident).+),+ $(,)? }) => {
        impl $params {
            $(
                $(#[$doc])*
                pub fn $name(mut self, value: $t) -> Self {
                    self.$($field).+ = value;
                    self
                }
            )+
        }
    };
}
pub(crate) use setters;

/// Which quantity a per-example log-likelihood figure is: the number itself, a bound on it, or
/// an estimate of it. Every score says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Estimate {
    /// The exact log-likelihood (normaliser by enumeration).
    Exact,
    /// An estimate through a partition function from annealed importance sampling; not a
    /// bound (AIS tends to underestimate `log Z`, so the estimate tends to be high).
    Ais,
    /// The importance-weighted lower bound `log (1/k) Σ p(x, z_i) / q(z_i | x)` (Burda et al.).
    IwBound {
        /// Importance samples per example.
        k: usize,
    },
    /// The evidence lower bound `E_q[log p(x | z)] - KL(q(z | x) || p(z))`.
    Elbo,
    /// A Gaussian Parzen-window estimate from samples (Goodfellow et al. 2014); not a bound.
    Parzen,
    /// The pseudo-log-likelihood `Σ_i log p(x_i | x_-i)`, not a likelihood.
    PseudoLikelihood,
}

/// Per-example log-likelihoods (or bounds, or estimates) in nats, and what they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// One value per example, nats.
    pub per_example: Vec<f64>,
    /// What the values are.
    pub estimate: Estimate,
}

impl Scores {
    /// The mean over examples, nats per example.
    pub fn mean(&self) -> f64 {
        self.per_example.iter().sum::<f64>() / self.per_example.len().max(1) as f64
    }

    /// The standard error of [`Scores::mean`] over examples (0 with fewer than two).
    pub fn se(&self) -> f64 {
        let n = self.per_example.len() as f64;
        if n < 2.0 {
            return 0.0;
        }
        let m = self.mean();
        let var = self
            .per_example
            .iter()
            .map(|v| (v - m).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        (var / n).sqrt()
    }
}

/// A model that gives (a bound on, or an estimate of) `log p(x)` for each example.
pub trait Score {
    /// Per-example scores of `data` (`[n, dim]`), with random choices keyed by `seed`.
    fn score(&self, data: &Dataset, seed: u64) -> Result<Scores>;
}

/// A model that draws examples.
pub trait Sample {
    /// `n` samples, row-major `[n, dim]` in the data's units, drawn from streams keyed by
    /// `seed`.
    fn sample(&self, n: usize, seed: u64) -> Result<Vec<f32>>;
}

/// A model stored as a safetensors file of its parameters. A run directory keeps the model's
/// configuration (the layer sizes and unit types that fix every name and shape) in
/// `config.json`; [`Persist::save`] puts it into the file's metadata instead, so that one file
/// is the whole model.
///
/// ```
/// use helmholtz::prelude::*;
/// # fn main() -> helmholtz::Result<()> {
/// let digits = DataConfig::digits().load(0)?;
/// let rbm = RbmParams::default().hidden(8).epochs(1).fit(&digits.train.head(500))?;
/// let path = std::env::temp_dir().join("helmholtz-persist-doctest.safetensors");
/// rbm.save(&path)?;
/// let back = Rbm::load(&path, &rbm.device())?;
/// assert_eq!(back.to_file(), rbm.to_file());
/// # std::fs::remove_file(&path).ok();
/// # Ok(())
/// # }
/// ```
pub trait Persist: Sized {
    /// What fixes the parameters' names and shapes.
    type Config: Serialize + DeserializeOwned + Clone;
    /// The model's configuration.
    fn model_config(&self) -> &Self::Config;
    /// The device the parameters are on.
    fn model_device(&self) -> Device;
    /// Name of the first parameter holding a NaN or infinity, if any.
    fn non_finite(&self) -> Option<String>;
    /// The parameters as a file (no metadata).
    fn to_file(&self) -> TensorFile;
    /// The parameters for `config` from `file` onto `device`, every name and shape checked;
    /// `path` names the file in errors.
    fn from_file(
        config: Self::Config,
        file: &TensorFile,
        device: &Device,
        path: &Path,
    ) -> Result<Self>;

    /// The parameters in `file` for a model shaped like this one, on its device (a checkpoint
    /// being resumed); `path` names the file in errors.
    fn reloaded(&self, file: &TensorFile, path: &Path) -> Result<Self> {
        Self::from_file(
            self.model_config().clone(),
            file,
            &self.model_device(),
            path,
        )
    }

    /// Write the parameters to `path` with the configuration as JSON under the metadata key
    /// `config` (atomically: a failed write leaves no file behind).
    fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_atomic(path, &self.to_bytes()?)
    }

    /// The bytes [`Persist::save`] writes.
    fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut file = self.to_file();
        let config = serde_json::to_string(self.model_config())
            .map_err(|e| Error::Internal(e.to_string()))?;
        file.metadata.insert("config".into(), config);
        file.to_bytes()
    }

    /// Load a model written by [`Persist::save`] onto `device`.
    fn load(path: &Path, device: &Device) -> Result<Self> {
        Self::from_file_with_config(&TensorFile::load(path)?, device, path)
    }

    /// A model from the bytes [`Persist::to_bytes`] gives; `path` names them in errors.
    fn from_bytes(bytes: &[u8], device: &Device, path: &Path) -> Result<Self> {
        Self::from_file_with_config(&TensorFile::from_bytes(bytes, path)?, device, path)
    }

    /// A model from a file holding its configuration under the metadata key `config`.
    fn from_file_with_config(file: &TensorFile, device: &Device, path: &Path) -> Result<Self> {
        let text = file
            .metadata
            .get("config")
            .ok_or_else(|| Error::bad_file(path, "no model `config` in the metadata"))?;
        let config = serde_json::from_str(text)
            .map_err(|e| Error::bad_file(path, format!("model `config`: {e}")))?;
        Self::from_file(config, file, device, path)
    }
}

/// The accessors of [`Persist`] for a model whose inherent `config()`, `device()` and
/// `non_finite_parameter()` give them: `persist_accessors!(RbmConfig);` inside the impl.
macro_rules! persist_accessors {
    ($config:ty) => {
        type Config = $config;

        fn model_config(&self) -> &$config {
            self.config()
        }

        fn model_device(&self) -> burn::prelude::Device {
            self.device()
        }

        fn non_finite(&self) -> Option<String> {
            self.non_finite_parameter()
        }
    };
}
pub(crate) use persist_accessors;

/// A model that maps examples to codes (RBM hidden probabilities, VAE posterior means).
pub trait Transform {
    /// Codes of `data`, row-major `[n, code_dim]`.
    fn transform(&self, data: &Dataset) -> Result<Vec<f32>>;
}
