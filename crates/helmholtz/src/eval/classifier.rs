//! A small classifier trained in-project on labelled data: `input-64-classes` with a ReLU
//! hidden layer, softmax cross-entropy, Adam. Its predictions on model samples give the class
//! histogram (mode coverage); its hidden activations are the features of the Fréchet distance.
//!
//! # Shapes
//! `x`: `[n, input]`; [`Classifier::features`]: `[n, 64]`; [`Classifier::logits`]: `[n, classes]`.

use std::path::Path;

use burn::optim::{Adam, AdamConfig, AdamState, Optimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::{log_softmax, relu};

use super::frechet::frechet_distance_of;
use crate::data::{BatchOrder, Dataset};
use crate::error::{Error, Result};
use crate::io::TensorFile;
use crate::kernels::{argmax, ops};
use crate::nn::Engine;
use crate::nn::dense::AdamSettings;
use crate::nn::layers::{Dense, get_layers, mlp, put_layers};
use crate::nn::mlp::{Activation, Mlp};
use crate::rng::rng_for;

/// The same step with burn's autodiff and Adam.
fn tensor_step(
    layers: &mut [Dense],
    states: &mut [Option<AdamState<2>>],
    adam: &Adam,
    x: Tensor<2>,
    targets: &[usize],
    classes: usize,
) -> Result<()> {
    let n = targets.len();
    let mut onehot = vec![0f32; n * classes];
    for (r, &y) in targets.iter().enumerate() {
        onehot[r * classes + y] = 1.0;
    }
    let y = Tensor::<2>::from_data(TensorData::new(onehot, [n, classes]), &x.device());
    let tracked: Vec<Dense> = layers
        .iter()
        .map(|l| Dense {
            weight: l.weight.clone().autodiff().require_grad(),
            bias: l.bias.clone().autodiff().require_grad(),
        })
        .collect();
    let logits = tracked[1].forward(relu(tracked[0].forward(x)));
    let loss = (log_softmax(logits, 1) * y)
        .sum()
        .neg()
        .div_scalar(n as f64);
    let grads = loss.backward();
    let params = layers.iter_mut().flat_map(|l| [&mut l.weight, &mut l.bias]);
    let tracked = tracked.iter().flat_map(|l| [&l.weight, &l.bias]);
    for ((p, t), s) in params.zip(tracked).zip(states.iter_mut()) {
        let g = t
            .grad(&grads)
            .ok_or_else(|| Error::Internal("a classifier parameter got no gradient".into()))?;
        let (next, st) = adam.step(1e-3, p.clone(), g, s.take());
        *p = next;
        *s = st;
    }
    Ok(())
}

/// Width of the hidden (feature) layer.
pub const FEATURES: usize = 64;
/// Training epochs.
const EPOCHS: usize = 8;
/// Examples per mini-batch.
const BATCH: usize = 100;

/// A one-hidden-layer MLP classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    layers: Vec<Dense>,
    classes: usize,
}

impl Classifier {
    /// Train on the labelled `data` (labels `0..classes`) with Adam (lr 1e-3), seeded by `seed`:
    /// on the host path of the network kit on the CPU, with burn's autodiff elsewhere.
    pub fn train(data: &Dataset, device: &Device, seed: u64) -> Result<Self> {
        let engine = if ops::is_host(device) {
            Engine::Auto
        } else {
            Engine::Tensor
        };
        Self::train_with(data, device, seed, engine, EPOCHS)
    }

    /// [`Classifier::train`] on the chosen path for `epochs` epochs.
    pub fn train_with(
        data: &Dataset,
        device: &Device,
        seed: u64,
        engine: Engine,
        epochs: usize,
    ) -> Result<Self> {
        let labels = data
            .labels()
            .ok_or_else(|| Error::param("data", format!("{} has no labels", data.name())))?;
        let classes = labels.iter().copied().max().unwrap_or(0) as usize + 1;
        let d = data.dim();
        let mut rng = rng_for(seed, &[0x434c_4153]);
        let mut layers = mlp(&[d, FEATURES, classes], device, &mut rng);
        let mut states: Vec<Option<AdamState<2>>> = vec![None; 4];
        let mut host = (engine == Engine::Auto).then(|| {
            let acts = vec![Activation::Relu, Activation::Identity];
            Mlp::from_tensor_layers(&layers, &states, acts)
        });
        let adam = AdamConfig::new().with_epsilon(1e-8).build();
        for epoch in 1..=epochs {
            let order = BatchOrder::new(data.len(), BATCH, seed, epoch);
            for b in 0..order.len() {
                let idx = order.batch(b);
                let targets: Vec<usize> = idx.iter().map(|&i| labels[i] as usize).collect();
                let x = data.batch_tensor(idx, device);
                match host.as_mut() {
                    Some(net) => net.cross_entropy_step(
                        &ops::to_f32_vec(x),
                        &targets,
                        AdamSettings::default(),
                    ),
                    None => tensor_step(&mut layers, &mut states, &adam, x, &targets, classes)?,
                }
            }
        }
        if let Some(net) = host {
            net.to_tensor_layers(&mut layers, &mut states);
        }
        Ok(Self { layers, classes })
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Hidden ReLU activations, `[n, 64]`.
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        relu(self.layers[0].forward(x))
    }

    /// Class logits, `[n, classes]`.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.layers[1].forward(self.features(x))
    }

    /// Predicted classes and features of host rows `x` (`[n, input]`), in chunks.
    pub fn predict(&self, x: &[f32], device: &Device) -> (Vec<usize>, Vec<f32>) {
        let d = self.layers[0].weight.dims()[0];
        let (mut classes, mut features) = (Vec::new(), Vec::new());
        for chunk in x.chunks(1000 * d) {
            let t = Tensor::<2>::from_data(
                TensorData::new(chunk.to_vec(), [chunk.len() / d, d]),
                device,
            );
            let f = self.features(t);
            let logits = ops::to_f32_vec(self.layers[1].forward(f.clone()));
            classes.extend(logits.chunks(self.classes).map(argmax));
            features.extend(ops::to_f32_vec(f));
        }
        (classes, features)
    }

    /// Fraction of `data`'s examples classified correctly.
    pub fn accuracy(&self, data: &Dataset, device: &Device) -> Option<f64> {
        let labels = data.labels()?;
        let (pred, _) = self.predict(data.features(), device);
        let right = pred
            .iter()
            .zip(labels)
            .filter(|(p, l)| **p == **l as usize)
            .count();
        Some(right as f64 / labels.len().max(1) as f64)
    }

    /// Save as `classifier.{0,1}.{weight,bias}`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut file = TensorFile::default();
        put_layers(&mut file, "classifier", &self.layers);
        file.metadata
            .insert("classes".into(), self.classes.to_string());
        file.save(path)
    }

    /// Load what [`Classifier::save`] wrote for `input`-wide data.
    pub fn load(path: &Path, input: usize, device: &Device) -> Result<Self> {
        let file = TensorFile::load(path)?;
        let classes = file
            .meta::<usize>("classes")
            .ok_or_else(|| Error::bad_file(path, "no `classes` in the metadata"))?;
        let layers = get_layers(
            &file,
            "classifier",
            &[input, FEATURES, classes],
            device,
            path,
        )?;
        Ok(Self { layers, classes })
    }
}

/// How well generated samples cover the classes of the data.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeCoverage {
    /// Samples per predicted class.
    pub histogram: Vec<usize>,
    /// Entropy of the histogram in nats (`ln(classes)` when flat, 0 when one class).
    pub entropy: f64,
    /// Largest fraction of samples in one class.
    pub max_class_fraction: f64,
    /// Whether it looks collapsed ([`is_collapsed`]).
    pub collapsed: bool,
    /// Fréchet distance between the classifier features of the samples and of `reference`.
    pub frechet_distance: f64,
}

/// Classify `samples` (`[n, input]`) with `classifier` and compare their features with those of
/// `reference` (e.g. the test set, `[m, input]`).
pub fn mode_coverage(
    classifier: &Classifier,
    samples: &[f32],
    reference: &[f32],
    device: &Device,
) -> ModeCoverage {
    let (classes, features) = classifier.predict(samples, device);
    let mut histogram = vec![0usize; classifier.classes()];
    for &c in &classes {
        histogram[c] += 1;
    }
    let (_, reference_features) = classifier.predict(reference, device);
    let n = classes.len().max(1);
    ModeCoverage {
        entropy: class_entropy(&histogram),
        max_class_fraction: histogram.iter().copied().max().unwrap_or(0) as f64 / n as f64,
        collapsed: is_collapsed(&histogram),
        frechet_distance: frechet_distance_of(&features, &reference_features, FEATURES),
        histogram,
    }
}

/// Entropy in nats of the class frequencies `counts`.
pub fn class_entropy(counts: &[usize]) -> f64 {
    let n: usize = counts.iter().sum();
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.ln() + 0.0
        })
        .sum()
}

/// Whether a class histogram looks collapsed: entropy below half of `ln(classes)`, one class
/// above half of the samples, or a class missing altogether when every class should have had
/// at least ten samples ([`missing_classes`]).
pub fn is_collapsed(counts: &[usize]) -> bool {
    let n: usize = counts.iter().sum();
    let max = counts.iter().copied().max().unwrap_or(0);
    class_entropy(counts) < 0.5 * (counts.len().max(1) as f64).ln()
        || 2 * max > n
        || !missing_classes(counts).is_empty()
}

/// The classes with no sample at all, counted only when there are at least ten samples per
/// class (fewer could miss a class by chance: with ten per class and ten classes, a fair
/// sampler misses one with probability below 3e-4).
pub fn missing_classes(counts: &[usize]) -> Vec<usize> {
    let n: usize = counts.iter().sum();
    if n < 10 * counts.len() {
        return Vec::new();
    }
    (0..counts.len()).filter(|&c| counts[c] == 0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_classes_are_a_collapse() {
        // Three classes missing and the largest just under half: flagged by the missing classes.
        let counts = [4965, 2000, 1500, 1535, 0, 0, 0];
        assert!(missing_classes(&counts) == vec![4, 5, 6] && is_collapsed(&counts));
        // Every class present and balanced: not collapsed; too few samples: nothing is missing.
        assert!(!is_collapsed(&[100; 10]));
        assert!(missing_classes(&[5, 0, 4]).is_empty());
    }

    #[test]
    fn the_kit_trains_the_classifier_like_burns_autodiff() -> Result<()> {
        // 300 noisy rows of 12 features in 3 classes: 30 epochs of 3 batches on both paths.
        let n = 300;
        let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let x: Vec<f32> = (0..n * 12)
            .map(|i| {
                let (row, col) = (i / 12, i % 12);
                let signal = if col % 3 == row % 3 { 1.0 } else { 0.0 };
                signal + 0.5 * crate::kernels::noise::normal(7, i as u64)
            })
            .collect();
        let data = Dataset::new("toy", x, 12, Some(labels))?;
        let device = Device::default();
        let kit = Classifier::train_with(&data, &device, 3, Engine::Auto, 30)?;
        let reference = Classifier::train_with(&data, &device, 3, Engine::Tensor, 30)?;
        for (a, b) in kit.layers.iter().zip(&reference.layers) {
            for (p, q) in [(&a.weight, &b.weight), (&a.bias, &b.bias)] {
                let (p, q) = (ops::to_f32_vec(p.clone()), ops::to_f32_vec(q.clone()));
                let worst = p
                    .iter()
                    .zip(&q)
                    .map(|(p, q)| (p - q).abs())
                    .fold(0.0, f32::max);
                assert!(worst < 1e-4, "largest parameter difference {worst}");
            }
        }
        let accuracy = kit.accuracy(&data, &device).expect("labelled data");
        assert!(accuracy > 0.9, "accuracy {accuracy}");
        Ok(())
    }
}
