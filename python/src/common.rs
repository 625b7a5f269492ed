//! What every binding shares: running library work off the Python thread with Ctrl-C
//! honoured, turning library errors into Python exceptions, and numpy conversions.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use helmholtz::api::FitControl;
use helmholtz::data::Dataset;
use helmholtz::kernels::runtime::{in_pool, init_threads};
use helmholtz::train::{Progress, Silent};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// A 1-D numpy array handed to Python.
pub type Py1<'py, T> = Bound<'py, PyArray1<T>>;

/// How often the waiting Python thread looks for Ctrl-C.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Build the library's thread pool from a thread of its own, so that flushing denormals (which
/// the pool's threads do) never touches the interpreter's thread.
pub fn init() -> PyResult<()> {
    std::thread::spawn(|| init_threads(None))
        .join()
        .map_err(|_| PyRuntimeError::new_err("helmholtz: the thread pool could not start"))?
        .map_err(|e| to_py(e, &[]))?;
    Ok(())
}

/// Run the training `work` on the library's pool with the GIL released, waiting in slices so
/// that Ctrl-C is seen: it sets the interrupt flag of the [`FitControl`] `work` receives
/// (training stops after the current batch) and raises `KeyboardInterrupt` once `work` has
/// returned. With `verbose`, progress goes to a bar on stderr. `names` renames the library's
/// parameters in error messages (`("lr", "learning_rate")`).
pub fn fit<T: Send>(
    py: Python<'_>,
    names: &[(&str, &str)],
    verbose: bool,
    work: impl FnOnce(FitControl<'_>) -> helmholtz::Result<T> + Send,
) -> PyResult<T> {
    let flag = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    // Shared by reference with the GIL-free waits below (a receiver alone is not `Sync`).
    let rx = Mutex::new(rx);
    let recv = |timeout: Option<Duration>| {
        let rx = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match timeout {
            Some(t) => rx.recv_timeout(t),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        }
    };
    let outcome = std::thread::scope(|scope| {
        let flag = &flag;
        scope.spawn(move || {
            let bar = progress(verbose);
            let control = FitControl {
                progress: &*bar,
                interrupt: Some(flag),
            };
            let out = in_pool(|| work(control));
            // The receiver outlives the scope; a failed send cannot happen.
            let _ = tx.send(out);
        });
        loop {
            match py.detach(|| recv(Some(SIGNAL_POLL))) {
                Ok(out) => return Ok(out),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        flag.store(true, Ordering::SeqCst);
                        // Wait for the work to stop (after its current batch), then raise.
                        let _ = py.detach(|| recv(None));
                        return Err(e);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err(
                        "helmholtz: the computation panicked (a bug; please report it)",
                    ));
                }
            }
        }
    })?;
    outcome.map_err(|e| to_py(e, names))
}

/// Run `work` on the library's pool with the GIL released, for work that cannot stop early
/// (scoring, sampling): Ctrl-C raises `KeyboardInterrupt` once it returns, as with any
/// extension call. Cheaper than [`fit`], which watches for Ctrl-C from another thread.
pub fn call<T: Send>(
    py: Python<'_>,
    names: &[(&str, &str)],
    work: impl FnOnce() -> helmholtz::Result<T> + Send,
) -> PyResult<T> {
    py.detach(|| in_pool(work)).map_err(|e| to_py(e, names))
}

/// The Python exception for a library error: `ValueError` for what the caller supplied (with
/// the parameter renamed as the estimator spells it), `KeyboardInterrupt` for a stopped fit,
/// `RuntimeError` otherwise.
pub fn to_py(e: helmholtz::Error, names: &[(&str, &str)]) -> PyErr {
    match &e {
        helmholtz::Error::InvalidParam { name, reason } => {
            let shown = names
                .iter()
                .find(|(lib, _)| lib == name)
                .map_or(*name, |(_, py)| *py);
            PyValueError::new_err(format!("{shown}: {reason}"))
        }
        helmholtz::Error::Stopped { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        _ if e.is_usage() => PyValueError::new_err(settings(&e.to_string(), names)),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// "set `name` to `value`" of a library message as Python spells it: "set name='value'".
fn settings(message: &str, names: &[(&str, &str)]) -> String {
    helmholtz::rewrite_settings(message, |name, value| {
        let name = names
            .iter()
            .find(|(lib, _)| *lib == name)
            .map_or(name, |(_, py)| *py);
        format!("set {name}='{value}'")
    })
}

/// A `ValueError` with `message`.
pub fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// The rows of `x` (`[n, d]` float32) as a data set named `name` (the library checks that
/// every value is finite).
pub fn dataset(name: &str, x: &PyReadonlyArray2<'_, f32>) -> PyResult<Dataset> {
    let values = match x.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => x.as_array().iter().copied().collect(),
    };
    Dataset::new(name, values, x.shape()[1], None).map_err(|e| to_py(e, &[]))
}

/// The rows of `x` as a data set, refused unless they are `want` features wide (the `model`
/// named in the message).
pub fn rows_for(x: &PyReadonlyArray2<'_, f32>, want: usize, model: &str) -> PyResult<Dataset> {
    let data = dataset("X", x)?;
    check_features(&data, want, model)?;
    Ok(data)
}

/// Refuse `x` unless it has `want` features: scikit-learn's message, which the command line
/// shares for a data file that does not fit its model.
pub fn check_features(x: &Dataset, want: usize, model: &str) -> PyResult<()> {
    match helmholtz::data::check_width(x.name(), x.dim(), model, want) {
        Ok(()) => Ok(()),
        Err(e) => Err(to_py(e, &[])),
    }
}

/// `values` (row-major `[rows, cols]`) as a new numpy array, without copying.
pub fn array2<'py, T: numpy::Element>(
    py: Python<'py>,
    values: Vec<T>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<T>>> {
    values.into_pyarray(py).reshape([rows, cols])
}

/// `values` as a new 1-D numpy array, without copying.
pub fn array1<T: numpy::Element>(py: Python<'_>, values: Vec<T>) -> Bound<'_, PyArray1<T>> {
    values.into_pyarray(py)
}

/// A progress bar on stderr with a line per epoch when `verbose`, else nothing.
pub fn progress(verbose: bool) -> Box<dyn Progress> {
    if verbose {
        Box::new(indicatif::ProgressBar::with_draw_target(
            None,
            indicatif::ProgressDrawTarget::stderr(),
        ))
    } else {
        Box::new(Silent)
    }
}

/// Raise the library's `ValueError` when data `got` features wide meet a `model` fitted on
/// `want` ("X has 3 features, but VAE is expecting 784 features as input").
#[pyfunction]
pub fn check_width(got: usize, want: usize, model: &str) -> PyResult<()> {
    helmholtz::data::check_width("X", got, model, want).map_err(|e| to_py(e, &[]))
}

/// Raise the `ValueError` the command line gives for a `.npy` file of numpy dtype `descr`.
#[pyfunction]
pub fn refuse_dtype(descr: &str) -> PyResult<()> {
    Err(value_error(format!(
        "X: {}",
        helmholtz::data::unsupported_dtype(descr)
    )))
}

/// An estimator's settings from the JSON its Python side sends (its `get_params()` with
/// `random_state` made a `seed`); a wrong type names the parameter.
pub fn settings_from_json<T: serde::de::DeserializeOwned>(json: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|e| value_error(format!("parameters: {e}")))
}
