//! `helmholtz._native`: the Python extension module behind the `helmholtz` package.
//!
//! Thin by design: every function takes numpy arrays and plain settings, builds the library's
//! typed params, calls the library, and returns numpy arrays (or the safetensors bytes of a
//! model). The estimators' conventions (scikit-learn's parameter names, fitted attributes,
//! dimod's samplers) live in the Python package (`python/helmholtz/`).
//!
//! Every call runs on the library's thread pool with the GIL released ([`common::run`]);
//! Ctrl-C in Python stops training after the current batch and raises `KeyboardInterrupt`.
//! The library's errors become `ValueError` (bad input or settings, with the message the
//! command line prints, parameter names as the Python estimators spell them) or
//! `RuntimeError`.

use pyo3::prelude::*;

mod aif;
mod anneal;
mod baseline;
mod bnn;
mod common;
mod hm;
mod physics;
mod rbm;
mod runs;
mod vae;
mod vb;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    common::init()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(common::check_width, m)?)?;
    m.add_function(wrap_pyfunction!(common::refuse_dtype, m)?)?;
    rbm::register(m)?;
    vae::register(m)?;
    anneal::register(m)?;
    aif::register(m)?;
    physics::register(m)?;
    bnn::register(m)?;
    baseline::register(m)?;
    hm::register(m)?;
    runs::register(m)?;
    vb::register(m)?;
    Ok(())
}
