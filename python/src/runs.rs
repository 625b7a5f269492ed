//! Run directories and data sets from Python: `helmholtz.load_run` reads the model of a run
//! the command line made, `save` writes a run it can read, `load_data` gives the data sets the
//! command line trains on (the embedded digits, Fashion-MNIST, files).

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use helmholtz::api::Persist;
use helmholtz::bayes::{self, run::Posterior};
use helmholtz::data::{Binarize, DataConfig, DataSource};
use helmholtz::energy::rbm::{self, Rbm, RbmRunConfig};
use helmholtz::io::RunDir;
use helmholtz::kernels::runtime::DeviceKind;
use helmholtz::latent::hm;
use helmholtz::latent::vae::{self, Likelihood, Vae, VaeRunConfig};
use helmholtz::run::save_model;
use helmholtz::{baseline, vb};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::common::{array1, array2, call, settings_from_json, to_py, value_error};

/// The family of the run in `path`, its configuration (JSON) and its model as the bytes of a
/// safetensors file with the configuration in its metadata.
#[pyfunction]
fn load_run<'py>(
    py: Python<'py>,
    path: PathBuf,
) -> PyResult<(String, String, Bound<'py, PyBytes>)> {
    let (family, config, bytes) = call(py, &[], || {
        let family = RunDir::family_at(&path)?;
        let (config, bytes) = match family.as_str() {
            rbm::FAMILY => {
                let (_, cfg, model) = rbm::open_run(&path, DeviceKind::Cpu)?;
                (json(&cfg)?, model.to_bytes()?)
            }
            vae::FAMILY => {
                let (_, cfg, model) = vae::open_run(&path, DeviceKind::Cpu)?;
                (json(&cfg)?, model.to_bytes()?)
            }
            hm::run::FAMILY => {
                let (_, cfg, model) = hm::run::open(&path)?;
                (json(&cfg)?, hm::run::to_bytes(&model)?)
            }
            bayes::run::FAMILY => {
                let (_, cfg, _, posterior) = bayes::run::open_run(&path)?;
                match posterior {
                    Posterior::Mlp(m) => (json(&cfg)?, m.to_file()?.to_bytes()?),
                    Posterior::Linear { .. } => {
                        return Err(helmholtz::Error::data(
                            path.display().to_string(),
                            "a run of svi, sgld or sghmc; helmholtz.load_run reads Bayes-by-Backprop (bbb) runs",
                        ));
                    }
                }
            }
            vb::run::FAMILY => {
                // The posterior is the run's model (a vb run has no model.safetensors).
                let config = std::fs::read_to_string(path.join("config.json"))
                    .map_err(|e| helmholtz::Error::io(path.join("config.json"), e))?;
                let posterior = path.join("posterior.json");
                let model =
                    std::fs::read(&posterior).map_err(|e| helmholtz::Error::io(&posterior, e))?;
                (config, model)
            }
            baseline::run::FAMILY => {
                let (cfg, model) = baseline::run::open(&path)?;
                (json(&cfg)?, json(&model)?.into_bytes())
            }
            other => {
                return Err(helmholtz::Error::data(
                    path.display().to_string(),
                    format!(
                        "a `{other}` run; helmholtz.load_run reads the runs of rbm, vae, hm, bnn (bbb), vb and baseline"
                    ),
                ));
            }
        };
        Ok((family, config, bytes))
    })?;
    Ok((family, config, PyBytes::new(py, &bytes)))
}

fn json(value: &impl serde::Serialize) -> helmholtz::Result<String> {
    serde_json::to_string(value).map_err(|e| helmholtz::Error::Internal(e.to_string()))
}

/// The data settings a run records: `source` (`digits`, `fashion-mnist` or a path) and how
/// intensities are binarised (`threshold`, `stochastic`, `none`).
fn data_config(source: &str, binarize: &str) -> PyResult<DataConfig> {
    let source: DataSource = source.parse().map_err(|e| to_py(e, &[]))?;
    let binarize: Binarize = binarize.parse().map_err(|e| to_py(e, &[]))?;
    Ok(DataConfig {
        source,
        binarize,
        ..DataConfig::digits()
    })
}

/// Write a model of `family` (safetensors bytes) fitted with the estimator's `settings` as a
/// run directory, its data `data` binarised as `binarize` says.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn save_run(
    py: Python<'_>,
    path: PathBuf,
    family: &str,
    model: &[u8],
    settings: &str,
    data: &str,
    binarize: &str,
) -> PyResult<()> {
    let data = data_config(data, binarize)?;
    let device = Device::flex();
    let named = Path::new("model");
    match family {
        rbm::FAMILY => {
            let rbm = Rbm::from_bytes(model, &device, named).map_err(|e| to_py(e, &[]))?;
            let settings: crate::rbm::FitSettings = settings_from_json(settings)?;
            let mut params = settings.params()?;
            params.model = rbm.config().clone();
            let config = RbmRunConfig::new(params, data);
            call(py, &[], || save_model::<Rbm, Rbm>(&path, config, &rbm))
        }
        vae::FAMILY => {
            let vae = Vae::from_bytes(model, &device, named).map_err(|e| to_py(e, &[]))?;
            if vae.config().likelihood == Likelihood::Gaussian {
                return Err(value_error(
                    "likelihood: a run standardises Gaussian data with its own training statistics; save a Bernoulli VAE",
                ));
            }
            let settings: crate::vae::FitSettings = settings_from_json(settings)?;
            let mut config = VaeRunConfig::new(data);
            config.params = settings.params()?;
            config.params.model = vae.config().clone();
            call(py, &[], || save_model::<Vae, Vae>(&path, config, &vae))
        }
        other => Err(value_error(format!(
            "family: no run of `{other}` can be saved"
        ))),
    }
}

/// The data set `source` as the command line loads it, binarised as `binarize` says:
/// `(X_train, y_train, X_test, y_test)` (labels empty when the data have none).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn load_data<'py>(
    py: Python<'py>,
    source: &str,
    binarize: &str,
    seed: u64,
) -> PyResult<(
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<u32>>,
)> {
    let config = data_config(source, binarize)?;
    let split = call(py, &[], || config.load(seed))?;
    let part = |d: &helmholtz::data::Dataset| -> PyResult<_> {
        Ok((
            array2(py, d.features().to_vec(), d.len(), d.dim())?,
            array1(py, d.labels().map(<[u32]>::to_vec).unwrap_or_default()),
        ))
    };
    let (xtr, ytr) = part(&split.train)?;
    let (xte, yte) = part(&split.test)?;
    Ok((xtr, ytr, xte, yte))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_run, m)?)?;
    m.add_function(wrap_pyfunction!(save_run, m)?)?;
    m.add_function(wrap_pyfunction!(load_data, m)?)?;
    Ok(())
}
