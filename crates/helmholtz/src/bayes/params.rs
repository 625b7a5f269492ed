//! [`BnnParams`]: how a Bayesian model is inferred (the method and its settings), with the
//! defaults of each built-in data set; and [`BnnRunConfig`], the params with the data and the
//! evaluation settings of a run.
//!
//! Every method trains through the shared trainer. SVI, SGLD and SGHMC count *steps*; their
//! epochs are blocks of [`BnnParams::steps_per_epoch`] steps (100 for SVI, 1000 for a chain)
//! between metrics rows and checkpoints, the last one shorter when the steps do not divide.
//! Bayes by Backprop counts epochs (passes over the training rows in mini-batches).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::bbb::{Activation, BbbConfig, Prior};
use super::mcmc::{ChainConfig, Dynamics, SghmcParams, StepSchedule};
use super::svi::SviConfig;
use crate::api::{setters, trainable};
use crate::error::{Error, Result, check};
use crate::kernels::runtime::DeviceKind;
use crate::keywords::keywords;
use crate::nn::Engine;
use crate::run::RunConfig;
use crate::train::TrainConfig;

/// Which inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// SVI with a mean-field Gaussian guide.
    Svi,
    /// Bayes by Backprop.
    Bbb,
    /// Stochastic-gradient Langevin dynamics.
    Sgld,
    /// Stochastic-gradient HMC.
    Sghmc,
}

keywords!(Method, "method", {
    Svi => "svi",
    Bbb => "bbb",
    Sgld => "sgld",
    Sghmc => "sghmc",
});

/// Where the data come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BnnData {
    /// The seed's 100 points of `y = 3x + 2 + 0.5 ε` on `[-5, 5]` (held out: 100 more).
    Seed,
    /// A nonlinear 1-D regression with a gap in the inputs
    /// ([`gap_example`](super::run::gap_example)).
    Gap,
    /// A CSV file with a target column (every other column a feature); a seeded fraction of
    /// the rows is held out.
    Csv {
        /// The file.
        path: PathBuf,
        /// Target column.
        target: String,
    },
    /// The embedded digits (classification, 8000 train / 2000 test).
    Digits,
}

impl BnnData {
    /// Whether the task is classification.
    pub fn is_classification(&self) -> bool {
        matches!(self, BnnData::Digits)
    }
}

/// The Bayes-by-Backprop network besides its widths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BbbSettings {
    /// Hidden non-linearity.
    pub activation: Activation,
    /// Prior of the weights.
    pub weight_prior: Prior,
    /// Prior of the biases.
    pub bias_prior: Prior,
    /// Local reparameterisation.
    pub local_reparam: bool,
    /// Initial posterior standard deviation.
    pub init_std: f64,
    /// Adam learning rate.
    pub lr: f64,
    /// Standardise inputs and (regression) the target; the priors then refer to standardised
    /// units.
    pub standardize: bool,
}

/// How a Bayesian model is inferred. [`BnnParams::for_data`] gives each built-in data set's
/// defaults:
///
/// | data   | hidden        | BBB priors (weights / biases)  | BBB epochs | batch | BBB lr |
/// |--------|---------------|--------------------------------|------------|-------|--------|
/// | seed   | none          | N(0, 1) / N(0, 10²), raw units | 1000       | 100   | 0.01   |
/// | gap    | 50 tanh       | N(0, 1), standardised          | 3000       | 200   | 0.01   |
/// | CSV    | none          | N(0, 1), standardised          | 500        | 64    | 0.01   |
/// | digits | 400, 400 relu | Blundell's mixture             | 10         | 100   | 0.001  |
///
/// SVI: the seed's 1000 steps of Adam 0.01 with one particle, all rows per step. Chains:
/// 50,000 steps (10,000 burn-in, thinning 10) on all rows, SGLD `a = 5e-5` and SGHMC
/// `η = 5e-5`, `α = 0.1` (the `gap` network: `a = 2e-5`, `η = 1e-5`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BnnParams {
    /// The inference.
    pub method: Method,
    /// Hidden widths (empty: a linear model). SVI, SGLD and SGHMC take at most one (tanh)
    /// hidden layer.
    pub hidden: Vec<usize>,
    /// Epochs (Bayes by Backprop; for the step methods derived from the steps), BBB's batch
    /// size, and the seed.
    pub train: TrainConfig,
    /// Device (the CPU: these models are small).
    #[serde(default)]
    pub device: DeviceKind,
    /// Bayes by Backprop's engine: `auto` trains a classifier on the CPU with the host kit
    /// ([`crate::nn::bayes_dense`]), `tensor` with burn's autodiff (the reference; regression
    /// always).
    #[serde(default)]
    pub engine: Engine,
    /// SVI settings.
    pub svi: SviConfig,
    /// SGLD / SGHMC chain.
    pub chain: ChainConfig,
    /// SGLD step sizes.
    pub sgld: StepSchedule,
    /// SGHMC settings.
    pub sghmc: SghmcParams,
    /// Bayes by Backprop.
    pub bbb: BbbSettings,
    /// Draws from a fitted guide (SVI, BBB) for the posterior summaries and the band.
    pub posterior_samples: usize,
}

trainable!(BnnParams);

setters!(BnnParams {
    /// The inference.
    method: Method => method,
    /// Hidden widths.
    hidden: Vec<usize> => hidden,
    /// SVI steps.
    svi_steps: usize => svi.steps,
    /// Chain steps.
    chain_steps: usize => chain.steps,
    /// Steps discarded at the start of a chain.
    burn_in: usize => chain.burn_in,
    /// Bayes by Backprop's learning rate.
    bbb_lr: f64 => bbb.lr,
    /// Bayes by Backprop's engine.
    engine: Engine => engine,
});

impl Default for BnnParams {
    /// The seed's linear regression by SVI.
    fn default() -> Self {
        Self::for_data(&BnnData::Seed, Method::Svi)
    }
}

impl BnnParams {
    /// SVI steps per epoch.
    pub const SVI_STEPS_PER_EPOCH: usize = 100;
    /// SGLD / SGHMC steps per epoch.
    pub const CHAIN_STEPS_PER_EPOCH: usize = 1000;

    /// The defaults for `data` (the table above) inferred by `method`.
    pub fn for_data(data: &BnnData, method: Method) -> Self {
        let network = *data == BnnData::Gap;
        let gaussian = Prior::Gaussian { sigma: 1.0 };
        let (hidden, epochs, batch_size, lr) = match data {
            BnnData::Seed => (Vec::new(), 1000, 100, 0.01),
            BnnData::Gap => (vec![50], 3000, 200, 0.01),
            BnnData::Csv { .. } => (Vec::new(), 500, 64, 0.01),
            BnnData::Digits => (vec![400, 400], 10, 100, 1e-3),
        };
        let (weight_prior, bias_prior) = match data {
            BnnData::Seed => (gaussian, Prior::Gaussian { sigma: 10.0 }),
            BnnData::Digits => (Prior::blundell(), Prior::blundell()),
            _ => (gaussian, gaussian),
        };
        let mut params = Self {
            method,
            hidden,
            train: TrainConfig {
                epochs,
                batch_size,
                seed: 0,
            },
            device: DeviceKind::Cpu,
            engine: Engine::Auto,
            svi: SviConfig::default(),
            chain: ChainConfig {
                steps: 50_000,
                burn_in: 10_000,
                thin: 10,
                batch_size: None,
            },
            sgld: StepSchedule {
                a: if network { 2e-5 } else { 5e-5 },
                b: 1.0,
                gamma: 0.0,
            },
            sghmc: SghmcParams {
                lr: if network { 1e-5 } else { 5e-5 },
                friction: 0.1,
            },
            bbb: BbbSettings {
                activation: if network {
                    Activation::Tanh
                } else {
                    Activation::Relu
                },
                weight_prior,
                bias_prior,
                local_reparam: true,
                init_std: 1e-2,
                lr,
                standardize: *data != BnnData::Seed && !data.is_classification(),
            },
            posterior_samples: 1000,
        };
        params.sync_epochs();
        params
    }

    /// Updates per epoch: SVI and chain steps per block, or `None` for Bayes by Backprop
    /// (one per mini-batch).
    pub fn steps_per_epoch(&self) -> Option<usize> {
        match self.method {
            Method::Svi => Some(Self::SVI_STEPS_PER_EPOCH),
            Method::Sgld | Method::Sghmc => Some(Self::CHAIN_STEPS_PER_EPOCH),
            Method::Bbb => None,
        }
    }

    /// All steps of a step method.
    pub fn steps(&self) -> Option<usize> {
        match self.method {
            Method::Svi => Some(self.svi.steps),
            Method::Sgld | Method::Sghmc => Some(self.chain.steps),
            Method::Bbb => None,
        }
    }

    /// For a step method, set the epochs to cover its steps.
    pub fn sync_epochs(&mut self) {
        if let (Some(steps), Some(k)) = (self.steps(), self.steps_per_epoch()) {
            self.train.epochs = steps.div_ceil(k).max(1);
        }
    }

    /// The chain's dynamics (SGLD or SGHMC).
    pub fn dynamics(&self) -> Option<Dynamics> {
        match self.method {
            Method::Sgld => Some(Dynamics::Sgld(self.sgld)),
            Method::Sghmc => Some(Dynamics::Sghmc(self.sghmc)),
            _ => None,
        }
    }

    /// The Bayes-by-Backprop network for inputs of width `input`: a regression, or with
    /// `classes` a classifier.
    pub fn bbb_config(&self, input: usize, classes: Option<usize>) -> BbbConfig {
        let base = match classes {
            Some(k) => BbbConfig::classifier(input, self.hidden.clone(), k),
            None => BbbConfig::regression(input, self.hidden.clone()),
        };
        BbbConfig {
            activation: self.bbb.activation,
            weight_prior: self.bbb.weight_prior,
            bias_prior: self.bbb.bias_prior,
            local_reparam: self.bbb.local_reparam,
            init_std: self.bbb.init_std,
            standardize: self.bbb.standardize,
            ..base
        }
    }

    /// Check every part that the method uses.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        check::positive_count("samples", self.posterior_samples)?;
        if self.hidden.contains(&0) {
            return Err(Error::param(
                "hidden",
                "every hidden width must be at least 1",
            ));
        }
        if self.method != Method::Bbb && self.hidden.len() > 1 {
            return Err(Error::param(
                "hidden",
                "svi, sgld and sghmc take at most one hidden layer (bbb takes any number)",
            ));
        }
        match self.method {
            Method::Svi => self.svi.validate(),
            Method::Bbb => {
                check::positive("lr", self.bbb.lr)?;
                self.bbb_config(1, None).validate()
            }
            Method::Sgld | Method::Sghmc => {
                self.chain.validate()?;
                self.dynamics().map_or(Ok(()), |d| d.validate())
            }
        }
    }
}

/// Everything `bnn train` needs: the params, the data and the evaluation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BnnRunConfig {
    /// How the model is inferred.
    #[serde(flatten)]
    pub params: BnnParams,
    /// The data.
    pub data: BnnData,
    /// Posterior draws behind the held-out metrics and predictions.
    pub eval_draws: usize,
    /// Fraction of a CSV file's rows held out for the evaluation.
    pub test_fraction: f64,
}

impl BnnRunConfig {
    /// The defaults for `data` inferred by `method` ([`BnnParams::for_data`]), 100 evaluation
    /// draws, 20% of a CSV file held out.
    pub fn new(data: BnnData, method: Method) -> Self {
        Self {
            params: BnnParams::for_data(&data, method),
            data,
            eval_draws: 100,
            test_fraction: 0.2,
        }
    }

    /// Check every part.
    pub fn validate(&self) -> Result<()> {
        // First what the data ask of the method: the digits' default widths would otherwise
        // be blamed on a --hidden nobody gave.
        if self.data.is_classification() && self.params.method != Method::Bbb {
            return Err(Error::param(
                "method",
                "svi, sgld and sghmc fit the linear regression; classifying digits needs bbb",
            ));
        }
        self.params.validate()?;
        check::positive_count("eval-draws", self.eval_draws)?;
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(Error::param(
                "test-fraction",
                format!("must lie in [0, 1) (got {})", self.test_fraction),
            ));
        }
        Ok(())
    }
}

impl RunConfig for BnnRunConfig {
    type Params = BnnParams;
    fn params(&self) -> &BnnParams {
        &self.params
    }
    fn params_mut(&mut self) -> &mut BnnParams {
        &mut self.params
    }
    /// Bayes by Backprop: `epochs` passes; a step method: `epochs` blocks of steps.
    fn set_epochs(&mut self, epochs: usize) {
        let p = &mut self.params;
        match (p.method, p.steps_per_epoch()) {
            (Method::Svi, Some(k)) => p.svi.steps = epochs * k,
            (Method::Sgld | Method::Sghmc, Some(k)) => p.chain.steps = epochs * k,
            _ => {}
        }
        p.train.epochs = epochs;
    }
}
