//! The maximum-likelihood baseline for `helmholtz.BernoulliMixture`: a mixture of independent
//! Bernoullis fitted by EM (the model kept by the estimator as JSON).

use helmholtz::baseline::{BernoulliMixture, EmParams};
use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::common::{Py1, array1, array2, call, dataset, rows_for, settings_from_json, to_py};

/// The library's parameter names as the estimator spells them.
const NAMES: &[(&str, &str)] = &[
    ("components", "n_components"),
    ("restarts", "n_init"),
    ("smoothing", "smoothing"),
    ("tol", "tol"),
];

/// Fit by EM with `params` (the library's `EmParams` as JSON); returns the model (JSON) and
/// the objective after every iteration of the best start.
#[pyfunction]
fn mixture_fit(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f32>,
    params: &str,
) -> PyResult<(String, Vec<f64>)> {
    let params: EmParams = settings_from_json(params)?;
    let data = dataset("X", &x)?;
    data.require_unit_interval("a Bernoulli mixture needs")
        .map_err(|e| to_py(e, NAMES))?;
    let fit = call(py, NAMES, || {
        BernoulliMixture::fit(data.features(), data.dim(), &params)
    })?;
    let json =
        serde_json::to_string(&fit.model).map_err(|e| crate::common::value_error(e.to_string()))?;
    Ok((json, fit.objective))
}

/// A fitted mixture, from the JSON `mixture_fit` gives.
#[pyclass(frozen, name = "BernoulliMixture")]
struct PyMixture(Box<BernoulliMixture>);

#[pymethods]
impl PyMixture {
    #[new]
    fn new(json: &str) -> PyResult<Self> {
        Ok(Self(Box::new(settings_from_json(json)?)))
    }

    /// `ln p(x)` per row, exact (nats).
    fn log_likelihood<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Py1<'py, f64>> {
        let data = self.data(&x)?;
        Ok(array1(py, self.0.log_likelihood(data.features())))
    }

    /// `ln p(k | x)` per row, `[n, K]`.
    fn log_resp<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let data = self.data(&x)?;
        array2(
            py,
            self.0.log_resp(data.features()),
            data.len(),
            self.0.components(),
        )
    }
}

impl PyMixture {
    fn data(&self, x: &PyReadonlyArray2<'_, f32>) -> PyResult<helmholtz::data::Dataset> {
        let dim = self.0.means.len() / self.0.components().max(1);
        rows_for(x, dim, "BernoulliMixture")
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mixture_fit, m)?)?;
    m.add_class::<PyMixture>()?;
    Ok(())
}
