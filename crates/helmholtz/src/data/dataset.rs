//! An in-memory data set (`n x d` features, optional labels) and its preprocessing.
//!
//! # Shapes
//! - features: `[n, d]` row-major `f32`; images are flattened row by row (`d = rows * cols`).
//! - labels: `[n]`.

use crate::keywords::keywords;
use burn::prelude::*;
use burn::tensor::TensorData;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A data set held in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    features: Vec<f32>,
    dim: usize,
    labels: Option<Vec<u32>>,
    image_shape: Option<[usize; 2]>,
}

/// A training and a test set with the same width.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSplit {
    /// Examples to fit on.
    pub train: Dataset,
    /// Held-out examples for evaluation.
    pub test: Dataset,
}

/// How to turn intensities in [0, 1] into binary values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Binarize {
    /// Keep intensities as they are.
    None,
    /// `x > 0.5` becomes 1.
    #[default]
    Threshold,
    /// `x` becomes 1 with probability `x` (one fixed, seeded draw).
    Stochastic,
}

keywords!(Binarize, "binarize", {
    None => "none",
    Threshold => "threshold",
    Stochastic => "stochastic",
});

impl Dataset {
    /// Build a data set from row-major features; checks the length and that every value is finite.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f32>,
        dim: usize,
        labels: Option<Vec<u32>>,
    ) -> Result<Self> {
        let name = name.into();
        if dim == 0 || features.is_empty() {
            return Err(Error::data(&name, "holds no values"));
        }
        if !features.len().is_multiple_of(dim) {
            return Err(Error::data(
                &name,
                format!(
                    "{} values do not split into rows of width {dim}",
                    features.len()
                ),
            ));
        }
        let n = features.len() / dim;
        if let Some(l) = &labels
            && l.len() != n
        {
            return Err(Error::data(
                &name,
                format!("{n} examples but {} labels", l.len()),
            ));
        }
        check_finite(&name, &features, dim)?;
        Ok(Self {
            name,
            features,
            dim,
            labels,
            image_shape: None,
        })
    }

    /// Mark the rows as images of `rows x cols` pixels (used for pictures).
    pub fn with_image_shape(mut self, rows: usize, cols: usize) -> Result<Self> {
        if rows * cols != self.dim {
            return Err(Error::ShapeMismatch {
                what: format!("{} image shape", self.name),
                expected: vec![self.dim],
                got: vec![rows, cols],
            });
        }
        self.image_shape = Some([rows, cols]);
        Ok(self)
    }

    /// Name used in messages and the run config.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.features.len() / self.dim
    }

    /// True when there are no examples (never, for a constructed data set).
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Width of one example.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All features, `[n, d]` row-major.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }

    /// Labels, when the source had them.
    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_deref()
    }

    /// `[rows, cols]` when the examples are images.
    pub fn image_shape(&self) -> Option<[usize; 2]> {
        self.image_shape
    }

    /// `(min, max)` over all values.
    pub fn range(&self) -> (f32, f32) {
        self.features
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    }

    /// Fail unless every value lies in [0, 1] (needed by Bernoulli models).
    pub fn require_unit_interval(&self, why: &str) -> Result<()> {
        if let Some(i) = self.features.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(Error::data(
                &self.name,
                format!(
                    "value {} at row {}, column {} lies outside [0, 1], which {why}",
                    self.features[i],
                    i / self.dim + 1,
                    i % self.dim + 1
                ),
            ));
        }
        Ok(())
    }

    /// Per-column mean, accumulated in f64.
    pub fn column_means(&self) -> Vec<f64> {
        let mut sums = vec![0f64; self.dim];
        for row in self.features.chunks_exact(self.dim) {
            for (s, &v) in sums.iter_mut().zip(row) {
                *s += v as f64;
            }
        }
        let n = self.len() as f64;
        sums.iter_mut().for_each(|s| *s /= n);
        sums
    }

    /// Per-column standard deviation (population), accumulated in f64.
    pub fn column_stds(&self) -> Vec<f64> {
        let means = self.column_means();
        let mut sums = vec![0f64; self.dim];
        for row in self.features.chunks_exact(self.dim) {
            for ((s, &v), m) in sums.iter_mut().zip(row).zip(&means) {
                let d = v as f64 - m;
                *s += d * d;
            }
        }
        let n = self.len() as f64;
        sums.iter().map(|s| (s / n).sqrt()).collect()
    }

    /// Apply `x -> (x - mean) / std` per column (columns with std 0 are only centred).
    pub fn standardize(&mut self, means: &[f64], stds: &[f64]) {
        for row in self.features.chunks_exact_mut(self.dim) {
            for ((v, m), s) in row.iter_mut().zip(means).zip(stds) {
                let s = if *s > 1e-8 { *s } else { 1.0 };
                *v = ((*v as f64 - m) / s) as f32;
            }
        }
    }

    /// Binarise intensities in place; `rng` is used by [`Binarize::Stochastic`].
    pub fn binarize(&mut self, how: Binarize, rng: &mut impl Rng) {
        match how {
            Binarize::None => {}
            Binarize::Threshold => self
                .features
                .iter_mut()
                .for_each(|v| *v = f32::from(*v > 0.5)),
            Binarize::Stochastic => self
                .features
                .iter_mut()
                .for_each(|v| *v = f32::from(rng.random::<f32>() < *v)),
        }
    }

    /// A new data set made of the rows `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        Dataset {
            name: self.name.clone(),
            features,
            dim: self.dim,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            image_shape: self.image_shape,
        }
    }

    /// The first `n` rows (all of them when `n >= len`).
    pub fn head(&self, n: usize) -> Dataset {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        self.select(&idx)
    }

    /// Split off the last `n` rows (at most all but one): `(the rest, the last n)`. Used to hold
    /// validation examples out of training data.
    pub fn split_tail(&self, n: usize) -> (Dataset, Dataset) {
        let len = self.len();
        let n = n.min(len.saturating_sub(1));
        let tail: Vec<usize> = (len - n..len).collect();
        (self.head(len - n), self.select(&tail))
    }

    /// Validation examples held out of training data of `len` rows for per-epoch monitoring:
    /// a tenth, at most `max`, none for fewer than 20 rows.
    pub fn validation_size(len: usize, max: usize) -> usize {
        if len < 20 { 0 } else { (len / 10).min(max) }
    }

    /// Gather rows `indices` into a `[indices.len(), d]` tensor on `device`.
    pub fn batch_tensor(&self, indices: &[usize], device: &Device) -> Tensor<2> {
        let mut buf = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            buf.extend_from_slice(self.row(i));
        }
        Tensor::from_data(TensorData::new(buf, [indices.len(), self.dim]), device)
    }

    /// All rows as one `[n, d]` tensor on `device`.
    pub fn to_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.features.clone(), [self.len(), self.dim]),
            device,
        )
    }
}

impl DataSplit {
    /// Check that both halves have the same width and return it.
    pub fn dim(&self) -> Result<usize> {
        if self.train.dim() != self.test.dim() {
            return Err(Error::ShapeMismatch {
                what: "test set width".into(),
                expected: vec![self.train.dim()],
                got: vec![self.test.dim()],
            });
        }
        Ok(self.train.dim())
    }

    /// Split a single table: a seeded shuffle, then the last `test_fraction` of rows is the test set.
    pub fn holdout(all: Dataset, test_fraction: f64, rng: &mut impl Rng) -> Result<Self> {
        use rand::seq::SliceRandom;
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(Error::param(
                "test-fraction",
                format!("must lie in (0, 1) (got {test_fraction})"),
            ));
        }
        let n = all.len();
        let n_test = ((n as f64) * test_fraction).round() as usize;
        if n < 2 || n_test == 0 || n_test == n {
            return Err(Error::data(
                all.name(),
                format!("{n} rows are too few to hold out a test fraction of {test_fraction}"),
            ));
        }
        let mut idx: Vec<usize> = (0..n).collect();
        idx.shuffle(rng);
        let (train_idx, test_idx) = idx.split_at(n - n_test);
        Ok(Self {
            train: all.select(train_idx),
            test: all.select(test_idx),
        })
    }

    /// Apply the same binarisation to both halves.
    pub fn binarize(&mut self, how: Binarize, rng: &mut impl Rng) {
        self.train.binarize(how, rng);
        self.test.binarize(how, rng);
    }
}

/// A [`DataSplit`] prepared for training: validation examples held out of its training part
/// and, for real-valued models, every part standardised with the training part's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSplit {
    /// Train (without the validation examples) and test.
    pub split: DataSplit,
    /// Training examples held out for per-epoch monitoring (none for tiny data sets).
    pub validation: Option<Dataset>,
    /// Per-column `(mean, std)` every part was standardised with, if it was.
    pub standardize: Option<(Vec<f64>, Vec<f64>)>,
}

impl PreparedSplit {
    /// Hold the last `n` training examples out for validation (none when `n` is 0).
    pub fn hold_out(mut split: DataSplit, n: usize) -> Self {
        let (train, validation) = split.train.split_tail(n);
        split.train = train;
        Self {
            split,
            validation: (n > 0).then_some(validation),
            standardize: None,
        }
    }

    /// The parts: train, test, and validation if any.
    fn parts_mut(&mut self) -> impl Iterator<Item = &mut Dataset> {
        [&mut self.split.train, &mut self.split.test]
            .into_iter()
            .chain(self.validation.as_mut())
    }

    /// Check that every value lies in `[0, 1]`; `why` says what needs it.
    pub fn require_unit_interval(&self, why: &str) -> Result<()> {
        self.split.train.require_unit_interval(why)?;
        self.split.test.require_unit_interval(why)
    }

    /// Standardise every part with the training part's column means and standard deviations.
    pub fn standardize(&mut self) {
        let (means, stds) = (
            self.split.train.column_means(),
            self.split.train.column_stds(),
        );
        self.parts_mut().for_each(|d| d.standardize(&means, &stds));
        self.standardize = Some((means, stds));
    }

    /// `sum_j log std_j`: the log-Jacobian from standardised to data units (0 when the data
    /// were not standardised).
    pub fn log_jacobian(&self) -> f64 {
        self.standardize
            .as_ref()
            .map(|(_, s)| s.iter().map(|&s| if s > 1e-8 { s.ln() } else { 0.0 }).sum())
            .unwrap_or(0.0)
    }
}

/// Copy `t` to the host, undoing standardisation `(mean, std)` per column when given.
pub fn data_units(t: Tensor<2>, standardize: Option<&(Vec<f64>, Vec<f64>)>) -> Vec<f32> {
    let mut v = crate::kernels::ops::to_f32_vec(t);
    if let Some((mean, std)) = standardize {
        let d = mean.len();
        for (i, x) in v.iter_mut().enumerate() {
            let s = if std[i % d] > 1e-8 { std[i % d] } else { 1.0 };
            *x = (*x as f64 * s + mean[i % d]) as f32;
        }
    }
    v
}

/// Refuse data `what` that are `got` features wide for `model`, which takes `want`: "X has 3
/// features, but BernoulliRBM is expecting 784 features as input" (scikit-learn's wording, so
/// that Python and the command line say the same).
pub fn check_width(what: &str, got: usize, model: &str, want: usize) -> Result<()> {
    if got == want {
        return Ok(());
    }
    Err(Error::WrongWidth {
        what: what.to_owned(),
        got,
        model: model.to_owned(),
        want,
    })
}

/// Refuse the first NaN or infinity of `values` (rows of `dim` columns), naming `what`, the
/// value and its row and column (from 1): "X: value NaN at row 3, column 4 is not finite".
pub fn check_finite<T: Copy + Into<f64> + std::fmt::Display>(
    what: &str,
    values: &[T],
    dim: usize,
) -> Result<()> {
    match values.iter().position(|&v| !v.into().is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::data(
            what,
            format!(
                "value {} at row {}, column {} is not finite",
                values[i],
                i / dim.max(1) + 1,
                i % dim.max(1) + 1
            ),
        )),
    }
}
