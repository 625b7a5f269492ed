//! The restricted Boltzmann machine for `helmholtz.BernoulliRBM`: scikit-learn's parameter
//! layout (`components_` `[n_components, n_features]`, `intercept_hidden_`,
//! `intercept_visible_`), the library's `RbmParams` and `Rbm` behind it.

use burn::prelude::*;
use burn::tensor::TensorData;
use helmholtz::api::{Persist, Sample, Transform};
use helmholtz::energy::rbm::{
    AisConfig, LrSchedule, NegativePhase, Rbm, RbmConfig, RbmParams, VisibleKind,
};
use helmholtz::kernels::ops;
use helmholtz::prelude::Trainable;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde::Deserialize;

use crate::common::{array1, array2, call, dataset, fit, rows_for, to_py, value_error};

/// The library's parameter names as the estimator spells them.
const NAMES: &[(&str, &str)] = &[
    ("hidden", "n_components"),
    ("lr", "learning_rate"),
    ("epochs", "n_iter"),
    ("batch-size", "batch_size"),
    ("chains", "batch_size"),
    ("cd-k", "k"),
    ("momentum", "momentum"),
    ("initial-momentum", "momentum"),
    ("weight-decay", "weight_decay"),
];

/// What the estimator's `fit` sends: its parameters (as JSON), `random_state` made a seed.
#[derive(Deserialize)]
pub struct FitSettings {
    n_components: usize,
    learning_rate: f64,
    batch_size: usize,
    n_iter: usize,
    seed: u64,
    k: usize,
    method: String,
    momentum: f64,
    weight_decay: f64,
    visible: String,
    verbose: bool,
}

fn visible_kind(visible: &str) -> PyResult<VisibleKind> {
    match visible {
        "bernoulli" => Ok(VisibleKind::Bernoulli),
        "gaussian" => Ok(VisibleKind::Gaussian),
        other => Err(value_error(format!(
            "visible: expected 'bernoulli' or 'gaussian' (got {other:?})"
        ))),
    }
}

impl FitSettings {
    pub fn params(&self) -> PyResult<RbmParams> {
        let negative = match self.method.as_str() {
            "pcd" => NegativePhase::Pcd,
            "cd" => NegativePhase::Cd,
            other => {
                return Err(value_error(format!(
                    "method: expected 'pcd' or 'cd' (got {other:?})"
                )));
            }
        };
        let mut p = RbmParams::default()
            .hidden(self.n_components)
            .visible_kind(visible_kind(&self.visible)?)
            .lr(self.learning_rate)
            .k(self.k)
            .negative_phase(negative)
            .epochs(self.n_iter)
            .batch_size(self.batch_size)
            .seed(self.seed);
        // scikit-learn's training: as many persistent chains as a batch has rows, a constant
        // rate, and (unless asked for) no momentum and no weight decay.
        p.cd.chains = self.batch_size;
        p.cd.lr_schedule = LrSchedule::Constant;
        p.cd.initial_momentum = self.momentum;
        p.cd.momentum = self.momentum;
        p.cd.momentum_warmup = 0;
        p.cd.weight_decay = self.weight_decay;
        Ok(p)
    }
}

/// An RBM from the estimator's arrays.
fn model(
    components: &PyReadonlyArray2<'_, f32>,
    hidden_bias: &PyReadonlyArray1<'_, f32>,
    visible_bias: &PyReadonlyArray1<'_, f32>,
    visible: &str,
) -> PyResult<Rbm> {
    let [h, d] = [components.shape()[0], components.shape()[1]];
    if hidden_bias.len() != h || visible_bias.len() != d {
        return Err(value_error(format!(
            "the fitted attributes disagree: components_ is ({h}, {d}), intercept_hidden_ has {}, intercept_visible_ {}",
            hidden_bias.len(),
            visible_bias.len()
        )));
    }
    let c = components.as_array();
    let mut w = vec![0f32; d * h];
    for ((j, i), &v) in c.indexed_iter() {
        w[i * h + j] = v;
    }
    let device = Device::flex();
    let config = RbmConfig {
        visible: d,
        hidden: h,
        visible_kind: visible_kind(visible)?,
        init_std: 0.01,
    };
    let vec1 = |a: &PyReadonlyArray1<'_, f32>| a.as_array().to_vec();
    Rbm::from_parts(
        config,
        Tensor::from_data(TensorData::new(w, [d, h]), &device),
        Tensor::from_data(TensorData::new(vec1(visible_bias), [d]), &device),
        Tensor::from_data(TensorData::new(vec1(hidden_bias), [h]), &device),
    )
    .map_err(|e| to_py(e, NAMES))
}

/// Train an RBM on `x` with the estimator's `settings` (JSON) and return
/// `(components_, intercept_hidden_, intercept_visible_)`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn rbm_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    settings: &str,
) -> PyResult<(
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<f32>>,
)> {
    let settings: FitSettings = crate::common::settings_from_json(settings)?;
    let params = settings.params()?;
    let data = dataset("X", &x)?;
    let rbm = fit(py, NAMES, settings.verbose, |control| {
        params.fit_with(&data, control)
    })?;
    estimator_arrays(py, &rbm)
}

/// `(components_, intercept_hidden_, intercept_visible_)`: `W^T` and the biases.
#[allow(clippy::type_complexity)]
fn estimator_arrays<'py>(
    py: Python<'py>,
    rbm: &Rbm,
) -> PyResult<(
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<f32>>,
)> {
    let (d, h) = (rbm.config().visible, rbm.config().hidden);
    let w = ops::to_f32_vec(rbm.weight().clone());
    let mut components = vec![0f32; h * d];
    for i in 0..d {
        for j in 0..h {
            components[j * d + i] = w[i * h + j];
        }
    }
    Ok((
        array2(py, components, h, d)?,
        array1(py, ops::to_f32_vec(rbm.hidden_bias().clone())),
        array1(py, ops::to_f32_vec(rbm.visible_bias().clone())),
    ))
}

/// A fitted RBM for scoring and sampling, made from the estimator's arrays at each call.
#[pyclass(frozen, name = "Rbm")]
struct PyRbm(Box<Rbm>);

#[pymethods]
impl PyRbm {
    #[new]
    fn new(
        components: PyReadonlyArray2<'_, f32>,
        hidden_bias: PyReadonlyArray1<'_, f32>,
        visible_bias: PyReadonlyArray1<'_, f32>,
        visible: &str,
    ) -> PyResult<Self> {
        let rbm = model(&components, &hidden_bias, &visible_bias, visible)?;
        Ok(Self(Box::new(rbm)))
    }

    /// The model in the bytes of a safetensors file with its configuration in the metadata
    /// (what `to_bytes` and `helmholtz.load_run` give).
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Self> {
        Rbm::from_bytes(bytes, &Device::flex(), std::path::Path::new("model"))
            .map(|m| Self(Box::new(m)))
            .map_err(|e| to_py(e, NAMES))
    }

    /// The model as the bytes of a safetensors file with its configuration in the metadata.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.0.to_bytes().map_err(|e| to_py(e, NAMES))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// `(components_, intercept_hidden_, intercept_visible_, visible)` in scikit-learn's
    /// layout.
    #[allow(clippy::type_complexity)]
    fn arrays<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray2<f32>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<f32>>,
        &'static str,
    )> {
        let (w, c, b) = estimator_arrays(py, &self.0)?;
        let visible = match self.0.config().visible_kind {
            VisibleKind::Bernoulli => "bernoulli",
            VisibleKind::Gaussian => "gaussian",
        };
        Ok((w, c, b, visible))
    }

    /// `p(h = 1 | v)` for the rows of `x`, `[n, n_components]`.
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let data = self.data(&x)?;
        let h = call(py, NAMES, || self.0.transform(&data))?;
        array2(py, h, data.len(), self.0.config().hidden)
    }

    /// scikit-learn's pseudo-likelihood per row, the flipped unit chosen from the row and
    /// `seed`.
    fn pseudo_likelihood<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let data = self.data(&x)?;
        let scores = call(py, NAMES, || self.0.pseudo_likelihood(&data, seed))?;
        Ok(array1(py, scores.per_example))
    }

    /// `ln p(v)` per row: exact when the model is small enough to enumerate, else through
    /// `ln Z` by annealed importance sampling. Returns the values and which of the two.
    fn log_likelihood<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        ais_runs: usize,
        ais_betas: usize,
        seed: u64,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, String)> {
        let data = self.data(&x)?;
        let ais = AisConfig {
            runs: ais_runs,
            betas: ais_betas,
        };
        let names = &[("runs", "ais_runs"), ("betas", "ais_betas")];
        let scores = call(py, names, || self.0.score_with(&data, &ais, seed))?;
        let kind = match scores.estimate {
            helmholtz::api::Estimate::Exact => "exact",
            _ => "ais",
        };
        Ok((array1(py, scores.per_example), kind.to_owned()))
    }

    /// `n` samples `E[v | h]` after 1,000 block Gibbs steps from noise.
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        if n == 0 {
            return Err(value_error("n_samples: must be at least 1 (got 0)"));
        }
        let d = self.0.config().visible;
        let samples = call(py, &[("n", "n_samples")], || {
            helmholtz::budget::check("n", helmholtz::budget::bytes(&[n, d, 16]))?;
            self.0.sample(n, seed)
        })?;
        array2(py, samples, n, d)
    }
}

impl PyRbm {
    /// The rows of `x`, which must be as wide as the model.
    fn data(&self, x: &PyReadonlyArray2<'_, f32>) -> PyResult<helmholtz::data::Dataset> {
        rows_for(x, self.0.config().visible, "BernoulliRBM")
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rbm_fit, m)?)?;
    m.add_class::<PyRbm>()?;
    Ok(())
}
