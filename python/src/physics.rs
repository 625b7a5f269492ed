//! The 2D Ising model and Hopfield networks for `helmholtz.ising` and `helmholtz.hopfield`:
//! Markov chains on the lattice (Metropolis, heat bath, Wolff) with Onsager's exact results,
//! and classical and modern Hopfield networks.

use helmholtz::energy::hopfield::{Hopfield, LearningRule, ModernHopfield, Threshold, UpdateOrder};
use helmholtz::energy::ising::{Algorithm, IsingChain, IsingModel, Lattice, onsager};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{Py1, array1, array2, call, to_py, value_error};

/// Parse a keyword with the library's message.
fn keyword<T: std::str::FromStr<Err = helmholtz::Error>>(value: &str) -> PyResult<T> {
    value.parse().map_err(|e| to_py(e, &[]))
}

/// A Markov chain on an `L x L` periodic lattice, `H = -J sum_<ij> s_i s_j - h sum_i s_i`.
#[pyclass(name = "IsingChain")]
struct PyIsingChain(Box<IsingChain>);

#[pymethods]
impl PyIsingChain {
    #[new]
    #[pyo3(signature = (size=64, temperature=2.269, coupling=1.0, field=0.0, algorithm="metropolis", seed=0))]
    fn new(
        size: usize,
        temperature: f64,
        coupling: f64,
        field: f64,
        algorithm: &str,
        seed: u64,
    ) -> PyResult<Self> {
        let model = IsingModel {
            size,
            coupling,
            field,
        };
        let algorithm: Algorithm = keyword(algorithm)?;
        IsingChain::new(&model, temperature, algorithm, seed)
            .map(|m| Self(Box::new(m)))
            .map_err(|e| to_py(e, &[]))
    }

    /// Run `n` sweeps (each proposes every spin once; a Wolff sweep flips about `N` spins).
    #[pyo3(signature = (n=1))]
    fn sweep(&mut self, py: Python<'_>, n: usize) -> PyResult<()> {
        let chain = &mut self.0;
        call(py, &[], || {
            chain.sweeps(n);
            Ok(())
        })
    }

    /// `equilibration` sweeps, then `(energy, magnetization)` per spin after each of `sweeps`
    /// more, as two arrays.
    #[pyo3(signature = (sweeps, equilibration=0))]
    fn sample<'py>(
        &mut self,
        py: Python<'py>,
        sweeps: usize,
        equilibration: usize,
    ) -> PyResult<(Py1<'py, f64>, Py1<'py, f64>)> {
        let chain = &mut self.0;
        let (e, m) = call(py, &[], || {
            helmholtz::budget::check("sweeps", helmholtz::budget::bytes(&[sweeps, 16]))?;
            chain.sweeps(equilibration);
            Ok((0..sweeps)
                .map(|_| {
                    chain.sweep();
                    let m = chain.measure();
                    (m.energy, m.magnetization)
                })
                .unzip::<_, _, Vec<f64>, Vec<f64>>())
        })?;
        Ok((array1(py, e), array1(py, m)))
    }

    /// `(e, m)`: energy and magnetisation per spin now.
    fn measure(&self) -> (f64, f64) {
        let m = self.0.measure();
        (m.energy, m.magnetization)
    }

    /// The spins, `[L, L]` of +1/-1.
    #[getter]
    fn spins<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<i8>>> {
        let lattice = self.0.lattice();
        let l = lattice.size();
        array2(py, lattice.spins().to_vec(), l, l)
    }

    /// Set the spins (`[L, L]` of +1/-1).
    #[setter]
    fn set_spins(&mut self, spins: PyReadonlyArray2<'_, i8>) -> PyResult<()> {
        let l = spins.shape()[0];
        if spins.shape()[1] != l {
            return Err(value_error(format!(
                "spins: shape ({l}, {}) is not square",
                spins.shape()[1]
            )));
        }
        let lattice = Lattice::from_spins(l, spins.as_array().iter().copied().collect())
            .map_err(|e| to_py(e, &[]))?;
        self.0.set_lattice(&lattice).map_err(|e| to_py(e, &[]))
    }

    /// The temperature.
    #[getter]
    fn temperature(&self) -> f64 {
        self.0.temperature()
    }
}

/// Onsager's critical temperature `2J / ln(1 + sqrt 2)`.
#[pyfunction]
#[pyo3(signature = (coupling=1.0))]
fn critical_temperature(coupling: f64) -> f64 {
    onsager::critical_temperature(coupling)
}

/// The exact infinite-lattice `(|m|, e, c)` at `temperature`: Yang's spontaneous magnetisation,
/// Onsager's energy and specific heat per spin.
#[pyfunction]
#[pyo3(signature = (temperature, coupling=1.0))]
fn onsager_exact(temperature: f64, coupling: f64) -> (f64, f64, f64) {
    (
        onsager::spontaneous_magnetization(temperature, coupling),
        onsager::internal_energy(temperature, coupling),
        onsager::specific_heat(temperature, coupling),
    )
}

/// A binary (0/1) Hopfield network.
#[pyclass(frozen, name = "Hopfield")]
struct PyHopfield(Box<Hopfield>);

#[pymethods]
impl PyHopfield {
    /// Store 0/1 `patterns` (`[p, n]`) with `rule` (`hebbian`, `pseudo-inverse`, `storkey`);
    /// thresholds `balanced` or `zero`.
    #[staticmethod]
    #[pyo3(signature = (patterns, rule="hebbian", threshold="balanced"))]
    fn store(patterns: PyReadonlyArray2<'_, f32>, rule: &str, threshold: &str) -> PyResult<Self> {
        let n = patterns.shape()[1];
        let rule: LearningRule = keyword(rule)?;
        let threshold: Threshold = keyword(threshold)?;
        let values: Vec<f32> = patterns.as_array().iter().copied().collect();
        Hopfield::store(&values, n, rule, threshold)
            .map(|m| Self(Box::new(m)))
            .map_err(|e| to_py(e, &[]))
    }

    /// Recall from `state` (0/1, `[n]`) by `order` (`async`, `sync`) for at most
    /// `max_sweeps`; returns `(final state, sweeps, converged, energies)`.
    #[pyo3(signature = (state, order="async", max_sweeps=100, seed=0))]
    #[allow(clippy::type_complexity)]
    fn recall<'py>(
        &self,
        py: Python<'py>,
        state: PyReadonlyArray1<'py, u8>,
        order: &str,
        max_sweeps: usize,
        seed: u64,
    ) -> PyResult<(
        Bound<'py, PyArray1<u8>>,
        usize,
        bool,
        Bound<'py, PyArray1<f64>>,
    )> {
        let mut u = self.state(&state)?;
        let order: UpdateOrder = keyword(order)?;
        let mut rng = StdRng::seed_from_u64(seed);
        let net = &self.0;
        let (recall, u) = call(py, &[], || {
            let r = net.recall(&mut u, order, max_sweeps, &mut rng);
            Ok((r, u))
        })?;
        Ok((
            array1(py, u),
            recall.sweeps,
            recall.converged,
            array1(py, recall.energies),
        ))
    }

    /// The energy of `state` (0/1, `[n]`).
    fn energy(&self, state: PyReadonlyArray1<'_, u8>) -> PyResult<f64> {
        Ok(self.0.energy(&self.state(&state)?))
    }

    /// The weights, `[n, n]`.
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let n = self.0.len();
        array2(py, self.0.weights().to_vec(), n, n)
    }

    /// The thresholds, `[n]`.
    #[getter]
    fn thresholds<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        array1(py, self.0.thresholds().to_vec())
    }
}

impl PyHopfield {
    fn state(&self, state: &PyReadonlyArray1<'_, u8>) -> PyResult<Vec<u8>> {
        let u: Vec<u8> = state.as_array().to_vec();
        if u.len() != self.0.len() {
            return Err(value_error(format!(
                "state: has {} units, but the network has {}",
                u.len(),
                self.0.len()
            )));
        }
        if let Some(i) = u.iter().position(|&v| v > 1) {
            return Err(value_error(format!(
                "state: unit {i} is {}, not 0 or 1",
                u[i]
            )));
        }
        Ok(u)
    }
}

/// A modern (dense associative) Hopfield network: `x <- X^T softmax(beta X x)`.
#[pyclass(frozen, name = "ModernHopfield")]
struct PyModern(Box<ModernHopfield>);

#[pymethods]
impl PyModern {
    /// Store `patterns` (`[p, n]`) with inverse temperature `beta`.
    #[new]
    #[pyo3(signature = (patterns, beta=8.0))]
    fn new(patterns: PyReadonlyArray2<'_, f32>, beta: f64) -> PyResult<Self> {
        let n = patterns.shape()[1];
        ModernHopfield::new(patterns.as_array().iter().copied().collect(), n, beta)
            .map(|m| Self(Box::new(m)))
            .map_err(|e| to_py(e, &[("beta", "beta")]))
    }

    /// `steps` updates of every query (`[q, n]`).
    #[pyo3(signature = (queries, steps=1))]
    fn retrieve<'py>(
        &self,
        py: Python<'py>,
        queries: PyReadonlyArray2<'py, f32>,
        steps: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (q, values) = self.queries(&queries)?;
        let out = call(py, &[], || Ok(self.0.retrieve(&values, steps)))?;
        array2(py, out, q, queries.shape()[1])
    }

    /// The energy of every query, `[q]`.
    fn energy<'py>(
        &self,
        py: Python<'py>,
        queries: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let (_, values) = self.queries(&queries)?;
        Ok(array1(py, self.0.energy(&values)))
    }

    /// The attention of every query over the stored patterns, `[q, p]`.
    fn attention<'py>(
        &self,
        py: Python<'py>,
        queries: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (q, values) = self.queries(&queries)?;
        array2(py, self.0.attention(&values), q, self.0.len())
    }
}

impl PyModern {
    fn queries(&self, queries: &PyReadonlyArray2<'_, f32>) -> PyResult<(usize, Vec<f32>)> {
        crate::common::check_width(queries.shape()[1], self.0.dim(), "ModernHopfield")?;
        let values: Vec<f32> = queries.as_array().iter().copied().collect();
        helmholtz::data::check_finite("queries", &values, queries.shape()[1])
            .map_err(|e| to_py(e, &[]))?;
        Ok((queries.shape()[0], values))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyIsingChain>()?;
    m.add_function(wrap_pyfunction!(critical_temperature, m)?)?;
    m.add_function(wrap_pyfunction!(onsager_exact, m)?)?;
    m.add_class::<PyHopfield>()?;
    m.add_class::<PyModern>()?;
    Ok(())
}
