//! The Bayesian Gaussian mixture by coordinate-ascent variational Bayes for
//! `helmholtz.BayesianGaussianMixture`: scikit-learn's settings (as the library's `GmmParams`,
//! JSON), the variational posterior kept by the estimator as JSON.

use helmholtz::vb::{Covariance, Gmm, GmmParams};
use numpy::{PyArray1, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::common::{array1, array2, call, settings_from_json, to_py, value_error};

/// The library's parameter names as the estimator spells them.
const NAMES: &[(&str, &str)] = &[
    ("components", "n_components"),
    ("max-iter", "max_iter"),
    ("reg-covar", "reg_covar"),
    ("weight-concentration", "weight_concentration_prior"),
    ("mean-precision-prior", "mean_precision_prior"),
    ("mean-prior", "mean_prior"),
    ("degrees-of-freedom-prior", "degrees_of_freedom_prior"),
    ("covariance-prior", "covariance_prior"),
];

/// The rows of `x` (`[n, D]` float64), refused if any value is NaN or infinite.
fn rows(x: &PyReadonlyArray2<'_, f64>) -> PyResult<(Vec<f64>, usize)> {
    let dim = x.shape()[1];
    let values: Vec<f64> = x.as_array().iter().copied().collect();
    helmholtz::data::check_finite("X", &values, dim).map_err(|e| to_py(e, NAMES))?;
    Ok((values, dim))
}

/// Fit by CAVI with `params` (the library's `GmmParams` as JSON); returns the posterior (JSON),
/// the bound after every iteration and whether it converged.
#[pyfunction]
fn gmm_fit(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    params: &str,
) -> PyResult<(String, Vec<f64>, bool)> {
    let params: GmmParams = settings_from_json(params)?;
    let (values, dim) = rows(&x)?;
    let fitted = call(py, NAMES, || params.fit(&values, dim))?;
    let json = serde_json::to_string(&fitted.model).map_err(|e| value_error(e.to_string()))?;
    Ok((json, fitted.bounds, fitted.converged))
}

/// A fitted mixture for prediction, from the JSON `gmm_fit` gives.
#[pyclass(frozen, name = "Gmm")]
struct PyGmm(Box<Gmm>);

#[pymethods]
impl PyGmm {
    #[new]
    fn new(json: &str) -> PyResult<Self> {
        Ok(Self(Box::new(settings_from_json(json)?)))
    }

    /// `ln r_nk`, normalised over components, `[n, K]`.
    fn log_resp<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (values, n) = self.rows(&x)?;
        let r = call(py, NAMES, || self.0.log_resp(&values))?;
        array2(py, r, n, self.0.components())
    }

    /// The log predictive density of each row (the mixture of Student-t distributions), nats.
    fn log_predictive<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (values, _) = self.rows(&x)?;
        let p = call(py, NAMES, || self.0.log_predictive(&values))?;
        Ok(array1(py, p))
    }

    /// `(weights_, means_, covariances_)` in scikit-learn's shapes.
    #[allow(clippy::type_complexity)]
    fn attributes<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let (k, d) = (self.0.components(), self.0.dim);
        Ok((
            array1(py, self.0.weights()),
            array2(py, self.0.means.clone(), k, d)?,
            array1(py, self.0.covariances()),
        ))
    }

    /// Whether the covariances are full (`[K, D, D]`) rather than diagonal (`[K, D]`).
    fn full(&self) -> bool {
        self.0.covariance == Covariance::Full
    }
}

impl PyGmm {
    fn rows(&self, x: &PyReadonlyArray2<'_, f64>) -> PyResult<(Vec<f64>, usize)> {
        crate::common::check_width(x.shape()[1], self.0.dim, "BayesianGaussianMixture")?;
        let (values, _) = rows(x)?;
        Ok((values, x.shape()[0]))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gmm_fit, m)?)?;
    m.add_class::<PyGmm>()?;
    Ok(())
}
