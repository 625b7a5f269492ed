//! [`BnnFit`]: any of the four inferences as the trainer drives it, one step (SVI, SGLD,
//! SGHMC) or one mini-batch (Bayes by Backprop) at a time, with everything a checkpoint needs
//! to resume bit for bit: the guide and Adam's moments (f64), the chain's state, momentum and
//! kept draws, BBB's parameters and Adam state.
//!
//! # Checkpoint layout
//! - SVI: model `guide.loc`, `guide.log_scale` `[P]` (exact values as `<name>_f64` metadata,
//!   parameter `names` as JSON); trainer `adam.m`, `adam.v` `[2P]`, `adam.t`.
//! - SGLD / SGHMC: model `posterior.draws` `[kept, P]` and `names`; trainer `chain.u`,
//!   `chain.v` `[P]` (exact).
//! - BBB: model as [`BayesMlp::to_file`]; trainer `adam.moment_{1,2}.<parameter>`.
//!
//! Every trainer file also holds the partial sums of the epoch's metrics (`epoch.sums`).

use std::path::Path;

use burn::prelude::*;
use rand::rngs::StdRng;

use super::bbb::{BbbTrainer, Targets};
use super::mcmc::{Chain, Dynamics};
use super::model::Samples;
use super::params::{BnnParams, Method};
use super::run::{BnnTask, Posterior, SampledModel, sampled_model};
use super::svi::{Batches, MeanFieldGuide, SviState};
use crate::data::BatchOrder;
use crate::error::{Error, Result};
use crate::io::{Blob, RunDir, TensorFile};
use crate::rng::{derive_seed, rng_for};
use crate::train::{EpochData, Fit, Metrics, PictureAt, Step, Updates};

/// Stream of the guide's posterior draws (SVI), so a run and its reopening agree.
const GUIDE_DRAWS: u64 = 0x4755_4944;
/// Stream of the step methods' mini-batch orders.
const STEP_BATCHES: u64 = 0x5354_4250;

/// The inference in progress.
enum Inference {
    Svi {
        model: SampledModel,
        state: SviState,
        batches: Batches,
    },
    Chain {
        model: SampledModel,
        state: Chain,
        dynamics: Dynamics,
        batches: Batches,
    },
    Bbb {
        trainer: Box<BbbTrainer>,
        order: Option<(usize, BatchOrder)>,
    },
}

/// A Bayesian model with its inference state, as the trainer drives it.
pub struct BnnFit {
    params: BnnParams,
    inference: Inference,
    /// The epoch's sums so far: main metric, nll, kl, steps.
    sums: [f64; 4],
}

impl BnnFit {
    /// A fresh inference of `params` on `task`'s training rows.
    pub fn new(params: &BnnParams, task: &BnnTask, device: &Device) -> Result<Self> {
        params.validate()?;
        let seed = params.train.seed;
        let step_batches = |n: usize, batch: Option<usize>| {
            Batches::new(n, batch, derive_seed(seed, &[STEP_BATCHES]))
        };
        let inference = match (params.method, task) {
            (Method::Bbb, task) => {
                let (x, targets, classes): (Vec<f32>, _, _) = match task {
                    BnnTask::Regression(d) => (
                        d.train_x.iter().map(|&v| v as f32).collect(),
                        Targets::Real(d.train_y.clone()),
                        None,
                    ),
                    BnnTask::Classification { train, .. } => {
                        let labels = train
                            .labels()
                            .ok_or_else(|| Error::data(train.name(), "has no labels"))?
                            .to_vec();
                        let classes = labels.iter().max().map_or(2, |&k| (k as usize + 1).max(2));
                        (
                            train.features().to_vec(),
                            Targets::Classes(labels),
                            Some(classes),
                        )
                    }
                };
                let config = params.bbb_config(task.input_width(), classes);
                let trainer = BbbTrainer::new(config, &x, targets, device, seed, params.engine)?;
                Inference::Bbb {
                    trainer: Box::new(trainer),
                    order: None,
                }
            }
            (_, BnnTask::Classification { .. }) => {
                return Err(Error::param(
                    "method",
                    "svi, sgld and sghmc fit a regression; classifying digits needs bbb",
                ));
            }
            (Method::Svi, BnnTask::Regression(d)) => {
                let model = sampled_model(params, d)?;
                let state = SviState::new(model.log_joint(), &params.svi)?;
                Inference::Svi {
                    batches: step_batches(d.train_y.len(), params.svi.batch_size),
                    model,
                    state,
                }
            }
            (Method::Sgld | Method::Sghmc, BnnTask::Regression(d)) => {
                let model = sampled_model(params, d)?;
                let state = Chain::new(model.log_joint())?;
                Inference::Chain {
                    batches: step_batches(d.train_y.len(), params.chain.batch_size),
                    dynamics: params
                        .dynamics()
                        .ok_or_else(|| Error::Internal("a chain without dynamics".into()))?,
                    model,
                    state,
                }
            }
        };
        Ok(Self {
            params: params.clone(),
            inference,
            sums: [0.0; 4],
        })
    }

    /// The posterior as it stands: the guide's draws (SVI, from a fixed stream), the chain's
    /// kept draws, or the Bayes-by-Backprop network.
    pub fn posterior(&self) -> Posterior {
        match &self.inference {
            Inference::Svi { model, state, .. } => Posterior::Linear {
                model: model.clone(),
                samples: state.guide().sample(
                    self.params.posterior_samples,
                    &mut rng_for(self.params.train.seed, &[GUIDE_DRAWS]),
                ),
            },
            Inference::Chain { model, state, .. } => Posterior::Linear {
                model: model.clone(),
                samples: state.samples(),
            },
            Inference::Bbb { trainer, .. } => Posterior::Mlp(trainer.model()),
        }
    }

    /// The SVI guide, if the method is SVI.
    pub fn guide(&self) -> Option<MeanFieldGuide> {
        match &self.inference {
            Inference::Svi { state, .. } => Some(state.guide()),
            _ => None,
        }
    }

    /// Step `t` (0-based, over the whole run) of a step method.
    fn step_index(&self, step: &Step) -> usize {
        (step.epoch - 1) * step.batches + step.batch
    }
}

/// A divergence reported by a step, placed at the trainer's epoch and batch.
fn at_step(e: Error, step: &Step) -> Error {
    match e {
        Error::Diverged { what, kept, .. } => Error::Diverged {
            epoch: step.epoch,
            batch: step.batch + 1,
            what,
            kept,
        },
        e => e,
    }
}

fn names_json(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_default()
}

impl Fit for BnnFit {
    fn live_metric(&self) -> &'static str {
        match self.inference {
            Inference::Svi { .. } => "neg_elbo",
            Inference::Chain { .. } => "log_density",
            Inference::Bbb { .. } => "free_energy",
        }
    }

    fn updates(&self) -> Updates {
        match &self.inference {
            Inference::Bbb { trainer, .. } => Updates::Steps {
                per_epoch: trainer.len().div_ceil(self.params.train.batch_size),
                total: None,
            },
            _ => Updates::Steps {
                per_epoch: self.params.steps_per_epoch().unwrap_or(1),
                total: self.params.steps(),
            },
        }
    }

    fn train_batch(&mut self, _x: Option<Tensor<2>>, step: &Step, rng: &mut StdRng) -> Result<f64> {
        let t = self.step_index(step);
        let seed = self.params.train.seed;
        let (main, nll, kl) = match &mut self.inference {
            Inference::Svi {
                model,
                state,
                batches,
            } => {
                let idx = batches.at(t);
                let loss = state.step(model.log_joint(), &self.params.svi, t, idx, rng);
                (loss.map_err(|e| at_step(e, step))?, 0.0, 0.0)
            }
            Inference::Chain {
                model,
                state,
                dynamics,
                batches,
            } => {
                let idx = batches.at(t);
                let lp = state.step(model.log_joint(), dynamics, &self.params.chain, t, idx, rng);
                (lp.map_err(|e| at_step(e, step))?, 0.0, 0.0)
            }
            Inference::Bbb { trainer, order } => {
                let batch = self.params.train.batch_size;
                if order.as_ref().is_none_or(|(e, _)| *e != step.epoch) {
                    *order = Some((
                        step.epoch,
                        BatchOrder::new(trainer.len(), batch, seed, step.epoch),
                    ));
                }
                let idx = order
                    .as_ref()
                    .map(|(_, o)| o.batch(step.batch))
                    .unwrap_or(&[]);
                let [loss, nll, kl] = trainer.step(idx, self.params.bbb.lr, rng)?;
                (loss, nll, kl)
            }
        };
        for (s, v) in self.sums.iter_mut().zip([main, nll, kl, 1.0]) {
            *s += v;
        }
        Ok(main)
    }

    fn epoch_metrics(&mut self, _at: EpochData<'_>, _: &mut StdRng) -> Result<Metrics> {
        let [main, nll, kl, count] = std::mem::take(&mut self.sums);
        let mean = |v: f64| v / count.max(1.0);
        Ok(match &self.inference {
            Inference::Svi { .. } => vec![("neg_elbo", mean(main))],
            Inference::Chain { state, .. } => {
                let p = state.u.len().max(1);
                vec![
                    ("log_density", mean(main)),
                    ("draws", (state.draws.len() / p) as f64),
                ]
            }
            Inference::Bbb { .. } => vec![
                ("free_energy", mean(main)),
                ("nll", mean(nll)),
                ("kl", mean(kl)),
            ],
        })
    }

    fn write_pictures(&mut self, _: PictureAt<'_>, _: &mut StdRng) -> Result<()> {
        Ok(())
    }

    fn state(&self) -> Result<(TensorFile, TensorFile)> {
        let (mut model, mut trainer) = (TensorFile::default(), TensorFile::default());
        match &self.inference {
            Inference::Svi { state, .. } => {
                let guide = state.guide();
                let p = guide.loc.len();
                model.put_f64("guide.loc", vec![p], &guide.loc);
                model.put_f64("guide.log_scale", vec![p], &guide.log_scale);
                model
                    .metadata
                    .insert("names".into(), names_json(&guide.names));
                trainer.put_f64("adam.m", vec![2 * p], &state.adam.m);
                trainer.put_f64("adam.v", vec![2 * p], &state.adam.v);
                trainer
                    .metadata
                    .insert("adam.t".into(), state.adam.t.to_string());
            }
            Inference::Chain { state, .. } => {
                let s = state.samples();
                let p = s.names.len();
                model.put_blob(
                    "posterior.draws",
                    Blob {
                        shape: vec![s.len(), p],
                        data: s.values.iter().map(|&v| v as f32).collect(),
                    },
                );
                model.metadata.insert("names".into(), names_json(&s.names));
                trainer.put_f64("chain.u", vec![p], &state.u);
                trainer.put_f64("chain.v", vec![p], &state.v);
            }
            Inference::Bbb { trainer: t, .. } => {
                model = t.model().to_file()?;
                trainer = t.optimizer_file();
            }
        }
        trainer.metadata.insert(
            "epoch.sums".into(),
            serde_json::to_string(&self.sums).unwrap_or_default(),
        );
        Ok((model, trainer))
    }

    fn load_state(&mut self, model: &TensorFile, trainer: &TensorFile, run: &RunDir) -> Result<()> {
        let (mp, tp) = run.checkpoint_paths();
        match &mut self.inference {
            Inference::Svi { state, .. } => {
                let p = state.x.len() / 2;
                let mut x = model.get_f64("guide.loc", p, &mp)?;
                x.extend(model.get_f64("guide.log_scale", p, &mp)?);
                state.x = x;
                state.adam.m = trainer.get_f64("adam.m", 2 * p, &tp)?;
                state.adam.v = trainer.get_f64("adam.v", 2 * p, &tp)?;
                state.adam.t = trainer
                    .meta("adam.t")
                    .ok_or_else(|| Error::bad_file(&tp, "`adam.t` is missing"))?;
            }
            Inference::Chain { state, .. } => {
                let p = state.u.len();
                state.draws = draws_from(model, p, &mp)?.values;
                state.u = trainer.get_f64("chain.u", p, &tp)?;
                state.v = trainer.get_f64("chain.v", p, &tp)?;
            }
            Inference::Bbb { trainer: t, .. } => t.load(model, trainer, (&mp, &tp))?,
        }
        self.sums = trainer
            .metadata
            .get("epoch.sums")
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        Ok(())
    }

    /// Epochs of SVI steps or of a small data set take milliseconds: save every 5 s.
    fn save_seconds(&self) -> f64 {
        5.0
    }

    fn non_finite_parameter(&self) -> Option<String> {
        match &self.inference {
            Inference::Svi { state, .. } => state
                .x
                .iter()
                .any(|v| !v.is_finite())
                .then(|| "guide".into()),
            Inference::Chain { state, .. } => state
                .u
                .iter()
                .any(|v| !v.is_finite())
                .then(|| "chain state".into()),
            Inference::Bbb { trainer, .. } => trainer.non_finite_parameter(),
        }
    }
}

/// The posterior draws `[kept, p]` of a chain's model file, with their parameter names.
pub(crate) fn draws_from(file: &TensorFile, p: usize, path: &Path) -> Result<Samples> {
    let names: Vec<String> = file
        .metadata
        .get("names")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| Error::bad_file(path, "no parameter `names` in the metadata"))?;
    let blob = file
        .tensors
        .get("posterior.draws")
        .ok_or_else(|| Error::bad_file(path, "tensor `posterior.draws` is missing"))?;
    if blob.shape.len() != 2 || blob.shape[1] != p || names.len() != p {
        return Err(Error::bad_file(
            path,
            "posterior draws do not match the model's parameters",
        ));
    }
    Ok(Samples {
        names,
        values: blob.data.iter().map(|&v| f64::from(v)).collect(),
    })
}
