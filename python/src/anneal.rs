//! Simulated annealing for `helmholtz.anneal.SimulatedAnnealingSampler`: an Ising problem
//! given as arrays (`h [n]`, couplings `(i, j, J_ij)` as three arrays of length `m`), every
//! read's final state and energy back.

use helmholtz::anneal::{Annealer, IsingProblem, SpinOrder};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::common::{array1, array2, call, to_py, value_error};

/// The library's parameter names as the sampler spells them.
const NAMES: &[(&str, &str)] = &[
    ("reads", "num_reads"),
    ("sweeps", "num_sweeps"),
    ("beta-schedule", "beta_schedule"),
];

fn problem(
    h: &PyReadonlyArray1<'_, f64>,
    i: &PyReadonlyArray1<'_, i64>,
    j: &PyReadonlyArray1<'_, i64>,
    coupling: &PyReadonlyArray1<'_, f64>,
) -> PyResult<IsingProblem> {
    let (i, j, coupling) = (i.as_array(), j.as_array(), coupling.as_array());
    if i.len() != j.len() || i.len() != coupling.len() {
        return Err(value_error(format!(
            "J: {} rows, {} columns and {} values do not make a list of couplings",
            i.len(),
            j.len(),
            coupling.len()
        )));
    }
    let index = |v: i64| usize::try_from(v).unwrap_or(usize::MAX);
    let edges = i
        .iter()
        .zip(j.iter())
        .zip(coupling.iter())
        .map(|((&a, &b), &w)| (index(a), index(b), w));
    IsingProblem::new(h.as_array().to_vec(), edges).map_err(|e| to_py(e, NAMES))
}

/// dwave-samplers' default `beta_range` of the problem: hot enough to flip the most
/// constrained spin with probability 1/2, cold enough that the least constrained flips with
/// probability 0.01 (scaled by how many spins share the smallest gap).
#[pyfunction]
fn ising_beta_range(
    h: PyReadonlyArray1<'_, f64>,
    i: PyReadonlyArray1<'_, i64>,
    j: PyReadonlyArray1<'_, i64>,
    coupling: PyReadonlyArray1<'_, f64>,
) -> PyResult<(f64, f64)> {
    Ok(problem(&h, &i, &j, &coupling)?.default_beta_range())
}

/// Anneal from `num_reads` random starts through `betas` (one sweep each); returns every
/// read's final energy and its spins `[num_reads, n]` (+1/-1).
#[pyfunction]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn anneal_ising<'py>(
    py: Python<'py>,
    h: PyReadonlyArray1<'py, f64>,
    i: PyReadonlyArray1<'py, i64>,
    j: PyReadonlyArray1<'py, i64>,
    coupling: PyReadonlyArray1<'py, f64>,
    betas: PyReadonlyArray1<'py, f64>,
    num_reads: usize,
    seed: u64,
    randomize_order: bool,
) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<i8>>)> {
    let problem = problem(&h, &i, &j, &coupling)?;
    let order = if randomize_order {
        SpinOrder::Random
    } else {
        SpinOrder::Sequential
    };
    let annealer = Annealer::from_betas(betas.as_array().to_vec(), num_reads, seed, order)
        .map_err(|e| to_py(e, NAMES))?;
    let n = problem.len();
    let (energies, states) = call(py, NAMES, || annealer.anneal_all(&problem))?;
    Ok((array1(py, energies), array2(py, states, num_reads, n)?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ising_beta_range, m)?)?;
    m.add_function(wrap_pyfunction!(anneal_ising, m)?)?;
    Ok(())
}
