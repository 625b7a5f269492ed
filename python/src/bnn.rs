//! Bayes by Backprop for `helmholtz.BayesianMLP`: a regression (Gaussian noise with a learned
//! scale) or a classifier (softmax) whose weights have a Gaussian variational posterior; the
//! fitted posterior kept by the estimator as safetensors bytes.

use std::path::Path;

use burn::prelude::Device;
use helmholtz::bayes::bbb::{BayesMlp, Prior};
use helmholtz::bayes::params::{BnnData, BnnParams, Method};
use helmholtz::bayes::run::{BnnTask, Posterior, RegressionData};
use helmholtz::data::Dataset;
use helmholtz::prelude::Trainable;
use numpy::{PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Deserialize;

use crate::common::{
    Py1, array1, array2, call, dataset, fit, rows_for, settings_from_json, to_py, value_error,
};

/// The library's parameter names as the estimator spells them.
const NAMES: &[(&str, &str)] = &[
    ("hidden", "hidden_layer_sizes"),
    ("epochs", "n_iter"),
    ("batch-size", "batch_size"),
    ("bbb-lr", "learning_rate"),
    ("n", "n_draws"),
];

/// What the estimator's `fit` sends.
#[derive(Deserialize)]
struct FitSettings {
    hidden_layer_sizes: Vec<usize>,
    activation: String,
    prior_sigma: f64,
    learning_rate: f64,
    batch_size: usize,
    n_iter: usize,
    seed: u64,
    verbose: bool,
}

/// Fit by Bayes by Backprop on `x` with real targets `y` (a regression) or with class labels
/// `labels` (a classifier); returns the posterior's safetensors bytes.
#[pyfunction]
#[pyo3(signature = (x, settings, y=None, labels=None))]
fn bnn_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    settings: &str,
    y: Option<PyReadonlyArray1<'py, f64>>,
    labels: Option<PyReadonlyArray1<'py, u32>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s: FitSettings = settings_from_json(settings)?;
    let data = dataset("X", &x)?;
    let task = match (y, labels) {
        (Some(y), None) => {
            let y: Vec<f64> = y.as_array().to_vec();
            helmholtz::data::check_finite("y", &y, 1).map_err(|e| to_py(e, NAMES))?;
            BnnTask::Regression(RegressionData {
                columns: (0..data.dim()).map(|j| format!("x{j}")).collect(),
                train_x: data.features().iter().map(|&v| f64::from(v)).collect(),
                train_y: y,
                test_x: Vec::new(),
                test_y: Vec::new(),
            })
        }
        (None, Some(labels)) => {
            let train = Dataset::new(
                "X",
                data.features().to_vec(),
                data.dim(),
                Some(labels.as_array().to_vec()),
            )
            .map_err(|e| to_py(e, NAMES))?;
            BnnTask::Classification {
                test: train.clone(),
                train,
            }
        }
        _ => {
            return Err(value_error(
                "bnn_fit: give real targets `y` or class `labels`",
            ));
        }
    };
    let kind = if task.is_classification() {
        BnnData::Digits
    } else {
        BnnData::Gap
    };
    let mut params = BnnParams::for_data(&kind, Method::Bbb)
        .hidden(s.hidden_layer_sizes)
        .bbb_lr(s.learning_rate)
        .epochs(s.n_iter)
        .batch_size(s.batch_size)
        .seed(s.seed);
    params.bbb.activation = s.activation.parse().map_err(|e| to_py(e, NAMES))?;
    if !(s.prior_sigma > 0.0 && s.prior_sigma.is_finite()) {
        return Err(value_error(format!(
            "prior_sigma: must be a positive number (got {})",
            s.prior_sigma
        )));
    }
    let prior = Prior::Gaussian {
        sigma: s.prior_sigma,
    };
    params.bbb.weight_prior = prior;
    params.bbb.bias_prior = prior;
    params.bbb.standardize = !task.is_classification();
    let bytes = fit(py, NAMES, s.verbose, |control| {
        match params.fit_with(&task, control)? {
            Posterior::Mlp(m) => m.to_file()?.to_bytes(),
            Posterior::Linear { .. } => Err(helmholtz::Error::Internal(
                "Bayes by Backprop gave a sampled posterior".into(),
            )),
        }
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// A fitted Bayes-by-Backprop network, from the bytes `bnn_fit` gives.
#[pyclass(frozen, name = "BayesMlp")]
struct PyBayesMlp(Box<BayesMlp>);

#[pymethods]
impl PyBayesMlp {
    #[new]
    fn new(bytes: &[u8]) -> PyResult<Self> {
        let path = Path::new("model_");
        let file =
            helmholtz::io::TensorFile::from_bytes(bytes, path).map_err(|e| to_py(e, NAMES))?;
        BayesMlp::from_file(&file, &Device::flex(), path)
            .map(|m| Self(Box::new(m)))
            .map_err(|e| to_py(e, NAMES))
    }

    /// `(inputs, outputs)`: the width of a row and the number of outputs (1 for a regression,
    /// the classes for a classifier).
    fn shape(&self) -> (usize, usize) {
        (self.0.config().input, self.0.config().output())
    }

    /// Whether the network is a classifier.
    fn is_classifier(&self) -> bool {
        matches!(
            self.0.config().likelihood,
            helmholtz::bayes::bbb::Likelihood::Categorical { .. }
        )
    }

    /// The predictive mean and standard deviation of `y` at the rows of `x` (a regression),
    /// from `draws` weight draws of the stream `seed`.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        draws: usize,
        seed: u64,
    ) -> PyResult<(Py1<'py, f64>, Py1<'py, f64>)> {
        let data = self.data(&x)?;
        let d = call(py, NAMES, || {
            helmholtz::budget::check("n", helmholtz::budget::bytes(&[draws, data.len(), 8]))?;
            self.0
                .regression_draws(data.features(), draws, &mut StdRng::seed_from_u64(seed))
        })?;
        // Var y = Var_s f_s(x) + E_s sigma_s^2.
        let s = d.sigma.len() as f64;
        let noise = d.sigma.iter().map(|v| v * v).sum::<f64>() / s;
        let (mean, std): (Vec<f64>, Vec<f64>) = (0..d.n)
            .map(|i| {
                let m = d.mean(i);
                let var = d.f.chunks(d.n).map(|f| (f[i] - m).powi(2)).sum::<f64>() / s;
                (m, (var + noise).sqrt())
            })
            .unzip();
        Ok((array1(py, mean), array1(py, std)))
    }

    /// Class probabilities `[n, classes]` averaged over `draws` weight draws (a classifier).
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        draws: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let data = self.data(&x)?;
        let k = self.0.config().output();
        let p = call(py, NAMES, || {
            self.0
                .class_probabilities(data.features(), draws, &mut StdRng::seed_from_u64(seed))
        })?;
        array2(py, p, data.len(), k)
    }
}

impl PyBayesMlp {
    fn data(&self, x: &PyReadonlyArray2<'_, f32>) -> PyResult<Dataset> {
        rows_for(x, self.0.config().input, "BayesianMLP")
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bnn_fit, m)?)?;
    m.add_class::<PyBayesMlp>()?;
    Ok(())
}
