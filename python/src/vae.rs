//! The variational autoencoder for `helmholtz.VAE`: the library's `VaeParams` and `Vae`, the
//! fitted model kept by the estimator as the bytes of a safetensors file (what
//! `helmholtz vae` reads as `model.safetensors`, with the configuration in its metadata).

use std::path::Path;

use burn::prelude::Device;
use helmholtz::api::{Persist, Sample, Transform};
use helmholtz::latent::vae::{Latent, Likelihood, Vae, VaeParams};
use helmholtz::prelude::Trainable;
use numpy::{PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde::Deserialize;

use crate::common::{array1, array2, call, dataset, fit, rows_for, to_py, value_error};

/// The library's parameter names as the estimator spells them.
const NAMES: &[(&str, &str)] = &[
    ("hidden", "hidden_layer_sizes"),
    ("latent-dim", "n_components"),
    ("groups", "n_components"),
    ("classes", "n_categories"),
    ("lr", "learning_rate"),
    ("epochs", "n_iter"),
    ("batch-size", "batch_size"),
    ("beta", "beta"),
    ("k", "n_importance_samples"),
    ("n", "n_samples"),
];

/// The model the estimator holds.
fn model(bytes: &[u8]) -> PyResult<Vae> {
    Vae::from_bytes(bytes, &Device::flex(), Path::new("model_")).map_err(|e| to_py(e, NAMES))
}

/// What the estimator's `fit` sends: its parameters (as JSON), `random_state` made a seed.
#[derive(Deserialize)]
pub struct FitSettings {
    hidden_layer_sizes: Vec<usize>,
    latent: String,
    n_components: usize,
    n_categories: usize,
    likelihood: String,
    learning_rate: f64,
    batch_size: usize,
    n_iter: usize,
    beta: f64,
    seed: u64,
    verbose: bool,
}

impl FitSettings {
    /// The library's params for these settings.
    pub fn params(self) -> PyResult<VaeParams> {
        let latent = match self.latent.as_str() {
            "gaussian" => Latent::Gaussian {
                dim: self.n_components,
            },
            "categorical" => Latent::Categorical {
                groups: self.n_components,
                classes: self.n_categories,
            },
            other => {
                return Err(value_error(format!(
                    "latent: expected 'gaussian' or 'categorical' (got {other:?})"
                )));
            }
        };
        let likelihood: Likelihood = self.likelihood.parse().map_err(|e| to_py(e, NAMES))?;
        let mut params = VaeParams::default()
            .hidden(self.hidden_layer_sizes)
            .latent(latent)
            .likelihood(likelihood)
            .lr(self.learning_rate)
            .epochs(self.n_iter)
            .batch_size(self.batch_size)
            .seed(self.seed);
        params.objective.beta = self.beta;
        Ok(params)
    }
}

/// Train a VAE on `x` with the estimator's `settings` (JSON); returns the model's safetensors
/// bytes.
#[pyfunction]
fn vae_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    settings: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let settings: FitSettings = crate::common::settings_from_json(settings)?;
    let verbose = settings.verbose;
    let params = settings.params()?;
    let data = dataset("X", &x)?;
    let bytes = fit(py, NAMES, verbose, |control| {
        params.fit_with(&data, control)?.to_bytes()
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// The posterior means (Gaussian latents) or most probable one-hot codes (categorical).
#[pyfunction]
fn vae_transform<'py>(
    py: Python<'py>,
    model_bytes: &[u8],
    x: PyReadonlyArray2<'py, f32>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let vae = model(model_bytes)?;
    let data = rows_for(&x, vae.config().input, "VAE")?;
    let z = call(py, NAMES, || vae.transform(&data))?;
    let width = vae.config().latent.code_width();
    array2(py, z, data.len(), width)
}

/// The importance-weighted bound on `ln p(x)` per row with `k` samples (`k = 1`: the ELBO),
/// each row's samples keyed by its values and `seed`.
#[pyfunction]
fn vae_score_samples<'py>(
    py: Python<'py>,
    model_bytes: &[u8],
    x: PyReadonlyArray2<'py, f32>,
    k: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let vae = model(model_bytes)?;
    let data = rows_for(&x, vae.config().input, "VAE")?;
    let scores = call(py, NAMES, || vae.score_iw_per_example(&data, k, seed))?;
    Ok(array1(py, scores.per_example))
}

/// `n` samples `E[x | z]`, `z ~ p(z)`.
#[pyfunction]
fn vae_sample<'py>(
    py: Python<'py>,
    model_bytes: &[u8],
    n: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let vae = model(model_bytes)?;
    let d = vae.config().input;
    let samples = call(py, NAMES, || {
        helmholtz::budget::check("n", helmholtz::budget::bytes(&[n, d, 16]))?;
        vae.sample(n, seed)
    })?;
    array2(py, samples, n, d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(vae_fit, m)?)?;
    m.add_function(wrap_pyfunction!(vae_transform, m)?)?;
    m.add_function(wrap_pyfunction!(vae_score_samples, m)?)?;
    m.add_function(wrap_pyfunction!(vae_sample, m)?)?;
    Ok(())
}
