//! The Helmholtz machine for `helmholtz.HelmholtzMachine`: layers of binary stochastic units,
//! a generative and a recognition network trained by wake-sleep or reweighted wake-sleep; the
//! fitted machine kept by the estimator as safetensors bytes.

use std::path::Path;

use helmholtz::latent::hm::run::{HmParams, from_bytes, to_bytes};
use helmholtz::latent::hm::{HelmholtzMachine, HmConfig, Method};
use helmholtz::prelude::Trainable;
use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde::Deserialize;

use crate::common::{Py1, array1, array2, call, dataset, fit, rows_for, settings_from_json, to_py};

/// The library's parameter names as the estimator spells them.
const NAMES: &[(&str, &str)] = &[
    ("layers", "layers"),
    ("samples", "n_samples"),
    ("lr", "learning_rate"),
    ("epochs", "n_iter"),
    ("batch-size", "batch_size"),
];

/// What the estimator's `fit` sends.
#[derive(Deserialize)]
struct FitSettings {
    layers: Vec<usize>,
    method: String,
    n_samples: usize,
    learning_rate: f64,
    batch_size: usize,
    n_iter: usize,
    seed: u64,
    verbose: bool,
}

/// Train a machine on `x`; returns its safetensors bytes.
#[pyfunction]
fn hm_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    settings: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let s: FitSettings = settings_from_json(settings)?;
    let method: Method = s.method.parse().map_err(|e| to_py(e, NAMES))?;
    let params = HmParams {
        model: HmConfig {
            visible: 0,
            layers: s.layers,
        },
        method,
        samples: s.n_samples,
        lr: s.learning_rate,
        ..HmParams::default()
    }
    .epochs(s.n_iter)
    .batch_size(s.batch_size)
    .seed(s.seed);
    let data = dataset("X", &x)?;
    let bytes = fit(py, NAMES, s.verbose, |control| {
        to_bytes(&params.fit_with(&data, control)?)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// A fitted machine, from the bytes `hm_fit` gives.
#[pyclass(frozen, name = "HelmholtzMachine")]
struct PyHm(Box<HelmholtzMachine>);

#[pymethods]
impl PyHm {
    #[new]
    fn new(bytes: &[u8]) -> PyResult<Self> {
        from_bytes(bytes, Path::new("model_"))
            .map(|m| Self(Box::new(m)))
            .map_err(|e| to_py(e, NAMES))
    }

    /// The importance-weighted bound `L_k` on `ln p(x)` per row (nats), each row's samples
    /// from a stream keyed by its values and `seed`.
    fn iw_bound<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        k: usize,
        seed: u64,
    ) -> PyResult<Py1<'py, f64>> {
        let data = rows_for(&x, self.0.config.visible, "HelmholtzMachine")?;
        if k == 0 {
            return Err(crate::common::value_error(
                "n_importance_samples: must be at least 1 (got 0)",
            ));
        }
        let bound = call(py, NAMES, || {
            Ok((0..data.len())
                .map(|r| {
                    let row = data.row(r);
                    self.0
                        .iw_bound(row, 1, k, helmholtz::rng::content_seed(seed, row))[0]
                })
                .collect::<Vec<f64>>())
        })?;
        Ok(array1(py, bound))
    }

    /// `n` ancestral samples: the data layer's probabilities given sampled latent layers.
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let d = self.0.config.visible;
        let (_, _, probabilities) = call(py, NAMES, || {
            helmholtz::budget::check("n", helmholtz::budget::bytes(&[n, d, 16]))?;
            Ok(self.0.dream(n, seed))
        })?;
        array2(py, probabilities, n, d)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hm_fit, m)?)?;
    m.add_class::<PyHm>()?;
    Ok(())
}
