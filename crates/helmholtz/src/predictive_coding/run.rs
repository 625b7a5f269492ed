//! `pc train` and `pc tutorial` runs: fit, evaluate, write the run directory. The CLI calls
//! these.
//!
//! ```text
//! config.json          family "pc", the data, the settings
//! model.safetensors    layer.{k}.weight [n_k, n_k+1], layer.{k}.bias [n_k+1]
//! eval.json            the summary the CLI prints
//! supervised:   accuracy.png (training accuracy per epoch, predictive coding and backprop),
//!               settling.png (free energy over the inference steps of the last batch)
//! unsupervised: samples.png (ancestral samples), sample_means.png (hidden layers at their
//!               means), completions.png (upper half given, lower half inferred),
//!               free_energy.png, settling.png
//! tutorial:     exercise-N.png
//! report.html
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::network::{Learning, PcNetwork, Source, Target};
use super::tutorial::{Perception, Trajectory, VarianceLearning, learned_variance};
use crate::data::{Binarize, DataConfig, Dataset};
use crate::error::{Error, Result, check};
use crate::io::{Blob, RunDir, TensorFile};
use crate::keywords::keywords;
use crate::nn::dense::AdamSettings;
use crate::nn::mlp::{Activation, Mlp};
use crate::report::{Chart, GridSpec, Series, Shade, save_chart, save_grid, write_run_report};
use crate::rng::rng_for;
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "pc";

/// What the network learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A classifier: images clamped at the bottom, labels at the top while learning.
    #[default]
    Supervised,
    /// A generative model of the images: a Gaussian cause at the top, pixels at the bottom.
    Unsupervised,
}

keywords!(Mode, "mode", {
    Supervised => "supervised",
    Unsupervised => "unsupervised",
});

/// The non-linearity between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PcActivation {
    /// `tanh`.
    #[default]
    Tanh,
    /// `max(v, 0)`.
    Relu,
    /// `1 / (1 + e^-v)`.
    Sigmoid,
}

keywords!(PcActivation, "activation", {
    Tanh => "tanh",
    Relu => "relu",
    Sigmoid => "sigmoid",
});

impl PcActivation {
    fn kit(self) -> Activation {
        match self {
            Self::Tanh => Activation::Tanh,
            Self::Relu => Activation::Relu,
            Self::Sigmoid => Activation::Sigmoid,
        }
    }
}

/// How a predictive-coding network is built and trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcParams {
    /// Classifier or generative model.
    pub mode: Mode,
    /// Hidden layer sizes: from the input up (supervised), or from the top cause down
    /// (unsupervised; the first is the cause `v_0`).
    pub hidden: Vec<usize>,
    /// `f`.
    pub activation: PcActivation,
    /// Passes over the training data.
    pub epochs: usize,
    /// Examples per update.
    pub batch_size: usize,
    /// Adam's learning rate for the weights.
    pub learning_rate: f64,
    /// Inference steps per batch while learning.
    pub inference_steps: usize,
    /// Step size of inference (gradient descent on F).
    pub inference_rate: f64,
    /// β, the weight of the label term (supervised).
    pub label_precision: f64,
    /// Inference steps to the mode when scoring or completing (unsupervised).
    pub eval_steps: usize,
    /// Importance samples per test image for the log-likelihood (unsupervised).
    pub iw_samples: usize,
    /// Test images scored (unsupervised; the first ones).
    pub eval_examples: usize,
    /// Seed of the weights, the batch order and the samples.
    pub seed: u64,
}

impl PcParams {
    /// The defaults of a mode.
    pub fn new(mode: Mode) -> Self {
        match mode {
            Mode::Supervised => Self {
                mode,
                hidden: vec![128, 128],
                activation: PcActivation::Tanh,
                epochs: 10,
                batch_size: 64,
                learning_rate: 1e-3,
                inference_steps: 20,
                inference_rate: 0.1,
                label_precision: 0.1,
                eval_steps: 0,
                iw_samples: 0,
                eval_examples: 0,
                seed: 0,
            },
            Mode::Unsupervised => Self {
                mode,
                hidden: vec![16, 128],
                activation: PcActivation::Tanh,
                epochs: 10,
                batch_size: 64,
                learning_rate: 1e-3,
                inference_steps: 50,
                inference_rate: 0.1,
                label_precision: 1.0,
                eval_steps: 200,
                iw_samples: 1000,
                eval_examples: 2000,
                seed: 0,
            },
        }
    }

    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(Error::param(
                "hidden",
                "at least one layer, every size positive",
            ));
        }
        check::positive_count("epochs", self.epochs)?;
        check::positive_count("batch-size", self.batch_size)?;
        check::positive("learning-rate", self.learning_rate)?;
        check::positive("inference-rate", self.inference_rate)?;
        check::positive("label-precision", self.label_precision)?;
        if self.mode == Mode::Unsupervised {
            check::positive_count("iw-samples", self.iw_samples)?;
        }
        Ok(())
    }
}

/// Everything that defines a `pc train` run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcRunConfig {
    /// Always `pc`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// The data (binarised for the generative model).
    pub data: DataConfig,
    /// The network and its training.
    pub params: PcParams,
}

impl PcRunConfig {
    /// A run on the embedded digits: grey levels for the classifier, binarised at 0.5 for the
    /// generative model.
    pub fn digits(params: PcParams) -> Self {
        let mut data = DataConfig::digits();
        if params.mode == Mode::Supervised {
            data.binarize = Binarize::None;
        }
        Self {
            family: FAMILY.into(),
            helmholtz_version: env!("CARGO_PKG_VERSION").into(),
            data,
            params,
        }
    }
}

/// What a `pc train` run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Classifier or generative model.
    pub mode: Mode,
    /// Layer sizes `[n_0, ..., n_L]` in the direction of prediction.
    pub sizes: Vec<usize>,
    /// Epochs trained.
    pub epochs: usize,
    /// Seconds of predictive-coding training.
    pub train_seconds: f64,
    /// Test accuracy of the predictive-coding classifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// Test accuracy of the same MLP (same sizes, initial weights, batches, Adam, epochs)
    /// trained by backpropagation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backprop_test_accuracy: Option<f64>,
    /// Seconds of the backpropagation baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backprop_train_seconds: Option<f64>,
    /// Mean test `ln p(x)` bound, nats per example (unsupervised).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_log_likelihood: Option<f64>,
    /// Its standard error over the test images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_log_likelihood_se: Option<f64>,
    /// What kind of number the log-likelihood is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Mean free energy per training example after inference, per epoch (nats).
    pub free_energy: Vec<f64>,
    /// Fraction of lower-half pixels the completions get right (threshold 0.5; unsupervised).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_accuracy: Option<f64>,
}

impl PcSummary {
    /// What every run reports; the mode's own figures are `None`.
    fn of(
        run: &RunDir,
        p: &PcParams,
        net: &PcNetwork,
        seconds: f64,
        free_energy: Vec<f64>,
    ) -> Self {
        Self {
            run_dir: run.path().to_path_buf(),
            mode: p.mode,
            sizes: net.sizes(),
            epochs: p.epochs,
            train_seconds: seconds,
            test_accuracy: None,
            backprop_test_accuracy: None,
            backprop_train_seconds: None,
            test_log_likelihood: None,
            test_log_likelihood_se: None,
            kind: None,
            free_energy,
            completion_accuracy: None,
        }
    }
}

fn load(cfg: &PcRunConfig) -> Result<(Dataset, Dataset)> {
    let split = cfg.data.load(cfg.params.seed)?;
    if cfg.params.mode == Mode::Supervised {
        let classes = |d: &Dataset| d.labels().is_some();
        if !classes(&split.train) || !classes(&split.test) {
            return Err(Error::data(
                "data",
                "the supervised network needs labelled data",
            ));
        }
    } else {
        split
            .train
            .require_unit_interval("the Bernoulli pixel layer needs")?;
    }
    Ok((split.train, split.test))
}

fn class_count(train: &Dataset, test: &Dataset) -> usize {
    let max = |d: &Dataset| {
        d.labels()
            .map_or(0, |l| l.iter().copied().max().unwrap_or(0))
    };
    max(train).max(max(test)) as usize + 1
}

fn labels(d: &Dataset, idx: &[usize]) -> Vec<usize> {
    let l = d.labels().unwrap_or(&[]);
    idx.iter().map(|&i| l[i] as usize).collect()
}

fn rows(d: &Dataset, idx: &[usize]) -> Vec<f32> {
    idx.iter().flat_map(|&i| d.row(i).iter().copied()).collect()
}

/// Accuracy of `logits` of `net` on `data`.
fn accuracy(net: &Mlp, data: &Dataset) -> f64 {
    let n = data.len();
    let mut right = 0usize;
    for start in (0..n).step_by(1024) {
        let idx: Vec<usize> = (start..(start + 1024).min(n)).collect();
        let x = rows(data, &idx);
        let y = labels(data, &idx);
        let trace = net.forward(&x, idx.len());
        let k = trace.output().len() / idx.len();
        for (row, &c) in trace.output().chunks_exact(k).zip(&y) {
            let best = (0..k)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            right += usize::from(best == c);
        }
    }
    right as f64 / n.max(1) as f64
}

fn model_file(net: &PcNetwork) -> TensorFile {
    let mut f = TensorFile::default();
    for (k, l) in net.mlp.layers.iter().enumerate() {
        f.put_blob(
            &format!("layer.{k}.weight"),
            Blob {
                shape: vec![l.inp, l.out],
                data: l.w.clone(),
            },
        );
        f.put_blob(
            &format!("layer.{k}.bias"),
            Blob {
                shape: vec![l.out],
                data: l.b.clone(),
            },
        );
    }
    f
}

/// Train a network and write the run directory `out` (or `runs/pc-<time>`). Bad input fails
/// before the directory is created.
pub fn train_pc(
    cfg: &PcRunConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<PcSummary> {
    let p = &cfg.params;
    p.validate()?;
    let (train, test) = load(cfg)?;
    let dim = train.dim();
    let sizes: Vec<usize> = match p.mode {
        Mode::Supervised => {
            let mut s = vec![dim];
            s.extend(&p.hidden);
            s.push(class_count(&train, &test));
            s
        }
        Mode::Unsupervised => {
            let mut s = p.hidden.clone();
            s.push(dim);
            s
        }
    };
    let params: usize = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    crate::budget::check(
        "hidden",
        (params as u128) * 16 + (p.batch_size as u128) * (sizes.iter().sum::<usize>() as u128) * 64,
    )?;
    let mut net = PcNetwork::new(&sizes, p.activation.kit(), p.seed)?;
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", cfg)?;
        let summary = match p.mode {
            Mode::Supervised => supervised(run, p, &mut net, &train, &test, progress)?,
            Mode::Unsupervised => unsupervised(run, p, &mut net, &train, &test, progress)?,
        };
        model_file(&net).save(&run.file("model.safetensors"))?;
        crate::run::write_eval(run, &summary)?;
        write_run_report(run)?;
        Ok(summary)
    })
}

/// The learning settings of a batch.
fn how(p: &PcParams, trace: bool) -> Learning {
    Learning {
        steps: p.inference_steps,
        rate: p.inference_rate as f32,
        adam: AdamSettings::new(p.learning_rate, 0.9, 0.999, 1e-8),
        trace,
    }
}

/// Rows in the last batch of an epoch.
fn last_batch(n: usize, batch: usize) -> usize {
    match n % batch {
        0 => batch.min(n),
        r => r,
    }
}

/// The batches of an epoch: a seeded shuffle of the training rows.
fn epoch_batches(n: usize, batch: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng_for(seed, &[0x4241_5443, epoch as u64]));
    order.chunks(batch).map(<[usize]>::to_vec).collect()
}

fn settling_chart(run: &RunDir, energies: &[f64], batch: usize) -> Result<()> {
    let chart = Chart {
        title: "free energy during inference (last training batch)".into(),
        x_label: "inference step".into(),
        y_label: "F (nats per example)".into(),
        series: vec![Series::line(
            "F",
            energies
                .iter()
                .enumerate()
                .map(|(i, f)| (i as f64, f / batch as f64))
                .collect(),
        )],
        integer_x: true,
        ..Default::default()
    };
    save_chart(&run.file("settling.png"), &chart, 720, 420)?;
    run.add_figure(
        "settling.png",
        "Free energy over the inference steps of the last training batch (it never rises)",
    )
}

fn supervised(
    run: &RunDir,
    p: &PcParams,
    net: &mut PcNetwork,
    train: &Dataset,
    test: &Dataset,
    progress: &dyn Progress,
) -> Result<PcSummary> {
    let adam = AdamSettings::new(p.learning_rate, 0.9, 0.999, 1e-8);
    let mut backprop = net.mlp.clone();
    let monitor: Vec<usize> = (0..train.len().min(2000)).collect();
    let monitor = train.select(&monitor);
    let (mut pc_curve, mut bp_curve, mut free_energy) = (Vec::new(), Vec::new(), Vec::new());
    let (mut pc_seconds, mut bp_seconds) = (0.0, 0.0);
    let mut last = Vec::new();
    let batches_per_epoch = train.len().div_ceil(p.batch_size);
    progress.start("batches", (p.epochs * batches_per_epoch) as u64);
    for epoch in 0..p.epochs {
        let mut f_sum = 0.0;
        let batches = epoch_batches(train.len(), p.batch_size, p.seed, epoch);
        let count = batches.len();
        for (b, idx) in batches.into_iter().enumerate() {
            let trace = epoch + 1 == p.epochs && b + 1 == count;
            let x = rows(train, &idx);
            let y = labels(train, &idx);
            let t = Instant::now();
            let target = Target::Labels {
                y: &y,
                precision: p.label_precision as f32,
            };
            let inf = net.learn(Source::Clamped(&x), target, idx.len(), &how(p, trace))?;
            pc_seconds += t.elapsed().as_secs_f64();
            f_sum += inf.energies.last().copied().unwrap_or(f64::NAN);
            let t = Instant::now();
            backprop.cross_entropy_step(&x, &y, adam);
            bp_seconds += t.elapsed().as_secs_f64();
            last = inf.energies;
            progress.advance(1);
        }
        if let Some(layer) = net.mlp.non_finite_layer() {
            return Err(Error::Diverged {
                epoch: epoch + 1,
                batch: batches_per_epoch,
                what: format!("predictive-coding weight {layer}"),
                kept: None,
            });
        }
        free_energy.push(f_sum / train.len() as f64);
        pc_curve.push(((epoch + 1) as f64, accuracy(&net.mlp, &monitor)));
        bp_curve.push(((epoch + 1) as f64, accuracy(&backprop, &monitor)));
    }
    progress.finish();
    let chart = Chart {
        title: "training accuracy (first 2,000 training images)".into(),
        x_label: "epoch".into(),
        y_label: "accuracy".into(),
        series: vec![
            Series::line("predictive coding", pc_curve),
            Series::line("backpropagation (same MLP)", bp_curve),
        ],
        integer_x: true,
        ..Default::default()
    };
    save_chart(&run.file("accuracy.png"), &chart, 720, 420)?;
    run.add_figure(
        "accuracy.png",
        "Training accuracy per epoch: the predictive-coding network and the same MLP trained by backpropagation",
    )?;
    settling_chart(run, &last, last_batch(train.len(), p.batch_size))?;
    Ok(PcSummary {
        test_accuracy: Some(accuracy(&net.mlp, test)),
        backprop_test_accuracy: Some(accuracy(&backprop, test)),
        backprop_train_seconds: Some(bp_seconds),
        ..PcSummary::of(run, p, net, pc_seconds, free_energy)
    })
}

fn unsupervised(
    run: &RunDir,
    p: &PcParams,
    net: &mut PcNetwork,
    train: &Dataset,
    test: &Dataset,
    progress: &dyn Progress,
) -> Result<PcSummary> {
    let rate = p.inference_rate as f32;
    let mut free_energy = Vec::new();
    let mut last = Vec::new();
    let started = Instant::now();
    let batches_per_epoch = train.len().div_ceil(p.batch_size);
    progress.start("batches", (p.epochs * batches_per_epoch) as u64);
    for epoch in 0..p.epochs {
        let mut f_sum = 0.0;
        let batches = epoch_batches(train.len(), p.batch_size, p.seed, epoch);
        let count = batches.len();
        for (b, idx) in batches.into_iter().enumerate() {
            let trace = epoch + 1 == p.epochs && b + 1 == count;
            let x = rows(train, &idx);
            let target = Target::Pixels { x: &x, mask: None };
            let inf = net.learn(Source::Prior, target, idx.len(), &how(p, trace))?;
            f_sum += inf.energies.last().copied().unwrap_or(f64::NAN);
            last = inf.energies;
            progress.advance(1);
        }
        if let Some(layer) = net.mlp.non_finite_layer() {
            return Err(Error::Diverged {
                epoch: epoch + 1,
                batch: batches_per_epoch,
                what: format!("predictive-coding weight {layer}"),
                kept: None,
            });
        }
        free_energy.push(f_sum / train.len() as f64);
    }
    progress.finish();
    let train_seconds = started.elapsed().as_secs_f64();
    let dim = train.dim();
    // Log-likelihood of the first test images.
    let n_eval = p.eval_examples.min(test.len()).max(1).min(test.len());
    let x_eval = rows(test, &(0..n_eval).collect::<Vec<_>>());
    progress.start("scoring", 1);
    let ll = net.log_likelihood(
        &x_eval,
        n_eval,
        p.iw_samples,
        p.eval_steps,
        rate,
        crate::rng::derive_seed(p.seed, &[0x4957]),
    )?;
    progress.finish();
    let (mean, se) = crate::eval::parzen::mean_se(&ll);
    // Completions: the upper half observed, the lower half inferred.
    let shown = 8.min(test.len());
    let x_show = rows(test, &(0..shown).collect::<Vec<_>>());
    let (completed, mask) = complete_lower_half(net, &x_show, shown, dim, p.eval_steps, rate)?;
    let (mut right, mut total) = (0usize, 0usize);
    for i in 0..x_show.len() {
        if mask[i] == 0.0 {
            total += 1;
            right += usize::from((completed[i] > 0.5) == (x_show[i] > 0.5));
        }
    }
    let [h, w] = crate::report::image_shape(dim);
    let mut tiles = Vec::with_capacity(3 * shown * dim);
    tiles.extend(&x_show);
    tiles.extend(
        x_show
            .iter()
            .zip(&mask)
            .map(|(x, m)| if *m > 0.0 { *x } else { 0.5 }),
    );
    tiles.extend(&completed);
    let spec = GridSpec {
        cols: shown,
        ..GridSpec::for_count(3 * shown, [h, w])
    };
    save_grid(&run.file("completions.png"), &tiles, spec, Shade::Unit)?;
    run.add_figure(
        "completions.png",
        "Test digits (top row), their lower half hidden (middle), and the lower half filled in by inference from the upper half (bottom: pixel probabilities)",
    )?;
    let key = crate::rng::derive_seed(p.seed, &[0x5341]);
    for (file, noise, caption) in [
        (
            "samples.png",
            true,
            "Ancestral samples: a cause from N(0, I), each hidden layer its prediction plus its unit-variance noise, pixel probabilities at the bottom",
        ),
        (
            "sample_means.png",
            false,
            "The same causes with the hidden layers at their predicted means: what the cause alone draws",
        ),
    ] {
        let samples = net.sample(64, key, noise);
        save_grid(
            &run.file(file),
            &samples,
            GridSpec::for_count(64, [h, w]),
            Shade::Unit,
        )?;
        run.add_figure(file, caption)?;
    }
    let chart = Chart {
        title: "free energy after inference".into(),
        x_label: "epoch".into(),
        y_label: "F (nats per training image)".into(),
        series: vec![Series::line(
            "F",
            free_energy
                .iter()
                .enumerate()
                .map(|(i, f)| ((i + 1) as f64, *f))
                .collect(),
        )],
        hlines: vec![(-mean, format!("test IW bound: {:.1} nats", -mean))],
        integer_x: true,
        ..Default::default()
    };
    save_chart(&run.file("free_energy.png"), &chart, 720, 420)?;
    run.add_figure(
        "free_energy.png",
        "Mean free energy per training image after inference, per epoch (the line: minus the test log-likelihood bound)",
    )?;
    settling_chart(run, &last, last_batch(train.len(), p.batch_size))?;
    Ok(PcSummary {
        test_log_likelihood: Some(mean),
        test_log_likelihood_se: Some(se),
        kind: Some(format!(
            "importance-weighted lower bound (k = {}, Laplace proposal at the inferred mode, {} test images)",
            p.iw_samples, n_eval
        )),
        completion_accuracy: (total > 0).then(|| right as f64 / total as f64),
        ..PcSummary::of(run, p, net, train_seconds, free_energy)
    })
}

/// Fill in the lower half of each image (`[n, dim]`, rows of a square image) by inference
/// from the upper half: returns the pixel probabilities (observed pixels copied) and the mask.
pub fn complete_lower_half(
    net: &PcNetwork,
    x: &[f32],
    n: usize,
    dim: usize,
    steps: usize,
    rate: f32,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let half = dim / 2;
    let mask: Vec<f32> = (0..n * dim).map(|i| f32::from(i % dim < half)).collect();
    let target = Target::Pixels {
        x,
        mask: Some(&mask),
    };
    let inf = net.infer(Source::Prior, target, n, steps, rate)?;
    let filled = inf
        .prediction()
        .iter()
        .zip(x.iter().zip(&mask))
        .map(|(&a, (&x, &m))| {
            if m > 0.0 {
                x
            } else {
                crate::kernels::math::sigmoid(a)
            }
        })
        .collect();
    Ok((filled, mask))
}

/// Which of Bogacz's exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Exercise {
    /// 1: the exact posterior on a grid.
    Posterior,
    /// 2: gradient dynamics of `φ`.
    Dynamics,
    /// 3: the network with prediction-error nodes.
    ErrorNodes,
    /// 5: learning a variance.
    Variance,
}

impl Exercise {
    /// The tutorial's number.
    pub fn number(self) -> u32 {
        match self {
            Self::Posterior => 1,
            Self::Dynamics => 2,
            Self::ErrorNodes => 3,
            Self::Variance => 5,
        }
    }

    /// From the tutorial's number (1, 2, 3 or 5).
    pub fn from_number(n: u32) -> Result<Self> {
        match n {
            1 => Ok(Self::Posterior),
            2 => Ok(Self::Dynamics),
            3 => Ok(Self::ErrorNodes),
            5 => Ok(Self::Variance),
            _ => Err(Error::param(
                "exercise",
                format!("{n}; the exercises with a simulation are 1, 2, 3 and 5"),
            )),
        }
    }
}

/// Everything that defines a `pc tutorial` run; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TutorialConfig {
    /// Always `pc`.
    pub family: String,
    /// helmholtz version that wrote the run.
    pub helmholtz_version: String,
    /// The exercise.
    pub exercise: Exercise,
    /// The model of exercises 1-3.
    pub model: Perception,
    /// Euler step (exercises 2, 3).
    pub dt: f64,
    /// Time units simulated (exercises 2, 3).
    pub duration: f64,
    /// Exercise 5.
    pub variance: VarianceLearning,
}

/// What a `pc tutorial` run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TutorialSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The exercise's number.
    pub exercise: u32,
    /// The posterior mode: the root of `∂F/∂φ = 0` (exercises 1-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<f64>,
    /// The posterior mean from the grid (exercise 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posterior_mean: Option<f64>,
    /// `φ` at the end of the dynamics (exercises 2, 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phi: Option<f64>,
    /// `ε_p`, `ε_u` at the end (exercise 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eps_p: Option<f64>,
    /// See `eps_p`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eps_u: Option<f64>,
    /// The learned variance: the mean of `Σ` over the second half of the trials (exercise 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// `Σ` after the last trial (exercise 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma_final: Option<f64>,
    /// The generating variance (exercise 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub true_variance: Option<f64>,
}

fn trajectory_chart(tr: &Trajectory, mode: f64, error_nodes: bool) -> Chart {
    let line = |name: &str, v: &[f64]| {
        Series::line(name, tr.t.iter().copied().zip(v.iter().copied()).collect())
    };
    let mut series = vec![line("φ", &tr.phi)];
    if error_nodes {
        series.push(line("ε_p", &tr.eps_p));
        series.push(line("ε_u", &tr.eps_u));
    }
    Chart {
        title: if error_nodes {
            "exercise 3: the network with prediction-error nodes".into()
        } else {
            "exercise 2: gradient dynamics of φ".into()
        },
        x_label: "time".into(),
        y_label: "activity".into(),
        series,
        hlines: vec![(mode, format!("posterior mode {mode:.6}"))],
        ..Default::default()
    }
}

/// Run one of Bogacz's exercises and write its run directory (figure, eval.json, report).
pub fn tutorial(cfg: &TutorialConfig, out: Option<&Path>) -> Result<TutorialSummary> {
    let ex = cfg.exercise;
    // Everything is computed (and checked) before the directory exists.
    let mut summary = TutorialSummary {
        run_dir: PathBuf::new(),
        exercise: ex.number(),
        mode: None,
        posterior_mean: None,
        phi: None,
        eps_p: None,
        eps_u: None,
        sigma: None,
        sigma_final: None,
        true_variance: None,
    };
    let chart = match ex {
        Exercise::Posterior => {
            let grid = cfg.model.posterior(0.01, 5.0, 0.01)?;
            let mode = cfg.model.mode()?;
            let mean = grid.iter().map(|(v, p)| v * p * 0.01).sum::<f64>();
            summary.mode = Some(mode);
            summary.posterior_mean = Some(mean);
            Chart {
                title: format!(
                    "exercise 1: posterior p(v | u = {}) (mode {mode:.4})",
                    cfg.model.u
                ),
                x_label: "v".into(),
                y_label: "density".into(),
                series: vec![Series::line("p(v | u)", grid)],
                vlines: vec![(mode, "mode".into())],
                ..Default::default()
            }
        }
        Exercise::Dynamics | Exercise::ErrorNodes => {
            let nodes = ex == Exercise::ErrorNodes;
            let tr = if nodes {
                cfg.model.error_network(cfg.dt, cfg.duration)?
            } else {
                cfg.model.gradient_dynamics(cfg.dt, cfg.duration)?
            };
            let mode = cfg.model.mode()?;
            summary.mode = Some(mode);
            summary.phi = tr.phi.last().copied();
            if nodes {
                summary.eps_p = tr.eps_p.last().copied();
                summary.eps_u = tr.eps_u.last().copied();
            }
            trajectory_chart(&tr, mode, nodes)
        }
        Exercise::Variance => {
            let curve = cfg.variance.run()?;
            summary.sigma = Some(learned_variance(&curve));
            summary.sigma_final = curve.last().copied();
            summary.true_variance = Some(cfg.variance.variance);
            Chart {
                title: "exercise 5: learning the variance Σ".into(),
                x_label: "trial".into(),
                y_label: "Σ".into(),
                series: vec![Series::line(
                    "Σ",
                    curve
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (i as f64, *s))
                        .collect(),
                )],
                hlines: vec![(cfg.variance.variance, "generating variance".into())],
                integer_x: true,
                ..Default::default()
            }
        }
    };
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", cfg)?;
        summary.run_dir = run.path().to_path_buf();
        crate::run::write_eval(run, &summary)?;
        let file = format!("exercise-{}.png", ex.number());
        save_chart(&run.file(&file), &chart, 720, 440)?;
        run.add_figure(&file, &chart.title)?;
        write_run_report(run)?;
        Ok(summary)
    })
}
