"""Simulated annealing with the dimod ``Sampler`` interface.

``SimulatedAnnealingSampler`` takes the parameters of dwave-samplers' sampler of the same name
(``num_reads``, ``num_sweeps``, ``num_sweeps_per_beta``, ``beta_range``,
``beta_schedule_type``, ``beta_schedule``, ``seed``, ``randomize_order``), builds the same
inverse-temperature schedule (geometric or linear in beta over the same default range), and
runs single-spin Metropolis sweeps in helmholtz (several reads at once in SIMD lanes, reads in
parallel; read ``r`` draws from its own stream of ``seed``, so the result does not depend on the
number of threads). With dimod installed, ``sample``, ``sample_ising`` and ``sample_qubo``
return a ``dimod.SampleSet`` with every read, its energy and ``num_occurrences``; without it,
``sample_ising`` and ``sample_qubo`` return a dict of numpy arrays.

    >>> from helmholtz.anneal import SimulatedAnnealingSampler
    >>> ss = SimulatedAnnealingSampler().sample_ising({0: 0.5}, {(0, 1): -1.0}, num_reads=4, seed=1)
"""

import numbers

import numpy as np

from . import _native

try:
    import dimod
except ImportError:  # dimod is optional: results are then plain dicts of arrays
    dimod = None

__all__ = ["SimulatedAnnealingSampler"]

_PARAMETERS = {
    "beta_range": [],
    "num_reads": [],
    "num_sweeps": [],
    "num_sweeps_per_beta": [],
    "beta_schedule_type": ["beta_schedule_options"],
    "seed": [],
    "beta_schedule": [],
    "randomize_order": [],
}
_PROPERTIES = {"beta_schedule_options": ("linear", "geometric", "custom")}


def _schedule(h, i, j, J, *, num_sweeps, num_sweeps_per_beta, beta_range, beta_schedule_type, beta_schedule):
    """The inverse temperature of every sweep, as dwave-samplers builds it."""
    if not isinstance(num_sweeps_per_beta, numbers.Integral) or num_sweeps_per_beta < 1:
        raise ValueError(f"num_sweeps_per_beta: must be a positive integer (got {num_sweeps_per_beta!r})")
    if beta_schedule_type == "custom":
        if beta_schedule is None:
            raise ValueError("beta_schedule: a 'custom' schedule needs the inverse temperatures")
        if beta_range is not None:
            raise ValueError("beta_range: a 'custom' schedule has its own inverse temperatures")
        betas = np.asarray(beta_schedule, dtype=np.float64).ravel()
        if num_sweeps is not None and num_sweeps != len(betas) * num_sweeps_per_beta:
            raise ValueError(
                f"num_sweeps: {num_sweeps} is not len(beta_schedule) * num_sweeps_per_beta "
                f"= {len(betas) * num_sweeps_per_beta}"
            )
    elif beta_schedule_type in ("geometric", "linear"):
        if beta_schedule is not None:
            raise ValueError("beta_schedule: only a 'custom' beta_schedule_type takes one")
        num_sweeps = 1000 if num_sweeps is None else num_sweeps
        if not isinstance(num_sweeps, numbers.Integral) or num_sweeps < 1:
            raise ValueError(f"num_sweeps: must be a positive integer (got {num_sweeps!r})")
        if num_sweeps % num_sweeps_per_beta:
            raise ValueError("num_sweeps: must be a multiple of num_sweeps_per_beta")
        if beta_range is None:
            beta_range = _native.ising_beta_range(h, i, j, J)
        beta_range = tuple(float(b) for b in beta_range)
        if len(beta_range) != 2:
            raise ValueError(f"beta_range: expected two inverse temperatures (got {beta_range!r})")
        if min(beta_range) <= 0:
            raise ValueError(f"beta_range: inverse temperatures must be positive (got {beta_range!r})")
        count = num_sweeps // num_sweeps_per_beta
        space = np.geomspace if beta_schedule_type == "geometric" else np.linspace
        betas = space(beta_range[0], beta_range[1], num=count)
    else:
        raise ValueError(
            f"beta_schedule_type: expected 'geometric', 'linear' or 'custom' (got {beta_schedule_type!r})"
        )
    return np.repeat(betas, num_sweeps_per_beta), beta_range


def _seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0])
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be a non-negative integer (got {seed!r})")
    return int(seed) & 0xFFFF_FFFF_FFFF_FFFF


def _anneal_arrays(n, h, i, j, J, *, num_reads=None, num_sweeps=None, num_sweeps_per_beta=1,
                   beta_range=None, beta_schedule_type="geometric", beta_schedule=None, seed=None,
                   randomize_order=False, initial_states=None, **unknown):
    """Anneal an Ising problem of ``n`` spins given as arrays; ``(states, energies, info)``."""
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: not a parameter of SimulatedAnnealingSampler")
    if initial_states is not None:
        raise ValueError("initial_states: not supported (every read starts from random spins)")
    num_reads = 1 if num_reads is None else num_reads
    if not isinstance(num_reads, numbers.Integral) or num_reads < 1:
        raise ValueError(f"num_reads: must be a positive integer (got {num_reads!r})")
    if n == 0:
        info = {"beta_range": beta_range, "beta_schedule_type": beta_schedule_type}
        return np.empty((num_reads, 0), dtype=np.int8), np.zeros(num_reads), info
    betas, used_range = _schedule(
        h, i, j, J, num_sweeps=num_sweeps, num_sweeps_per_beta=num_sweeps_per_beta,
        beta_range=beta_range, beta_schedule_type=beta_schedule_type, beta_schedule=beta_schedule,
    )
    info = {"beta_range": used_range, "beta_schedule_type": beta_schedule_type}
    energies, states = _native.anneal_ising(
        h, i, j, J, np.ascontiguousarray(betas, dtype=np.float64), int(num_reads), _seed(seed),
        bool(randomize_order),
    )
    return states, energies, info


def _ising_arrays(h, J):
    """Labels and arrays of an Ising problem given as dicts (``h`` may be a list)."""
    if not isinstance(h, dict):
        h = dict(enumerate(h))
    labels = list(h)
    index = {v: k for k, v in enumerate(labels)}
    for u, v in J:
        for w in (u, v):
            if w not in index:
                index[w] = len(labels)
                labels.append(w)
    hv = np.zeros(len(labels))
    for v, bias in h.items():
        hv[index[v]] += bias
    rows = np.fromiter((index[u] for u, _ in J), dtype=np.int64, count=len(J))
    cols = np.fromiter((index[v] for _, v in J), dtype=np.int64, count=len(J))
    vals = np.fromiter(J.values(), dtype=np.float64, count=len(J))
    return labels, hv, rows, cols, vals


if dimod is not None:

    class SimulatedAnnealingSampler(dimod.Sampler):
        """Simulated annealing by single-spin Metropolis sweeps (dwave-samplers' parameters)."""

        parameters = None
        properties = None

        def __init__(self):
            self.parameters = {k: list(v) for k, v in _PARAMETERS.items()}
            self.properties = {k: v for k, v in _PROPERTIES.items()}

        def sample(self, bqm, **parameters):
            """Anneal ``bqm`` (any vartype); a ``dimod.SampleSet`` of ``num_reads`` reads."""
            spin = bqm.spin if bqm.vartype is not dimod.SPIN else bqm
            labels = list(bqm.variables)
            h, (rows, cols, vals), _ = spin.to_numpy_vectors(variable_order=labels)
            h = np.ascontiguousarray(h, dtype=np.float64)
            rows, cols = (np.ascontiguousarray(a, dtype=np.int64) for a in (rows, cols))
            vals = np.ascontiguousarray(vals, dtype=np.float64)
            states, _, info = _anneal_arrays(len(labels), h, rows, cols, vals, **parameters)
            if bqm.vartype is dimod.BINARY:
                states = (states + 1) // 2
            return dimod.SampleSet.from_samples_bqm((states, labels), bqm, info=info)

else:

    class SimulatedAnnealingSampler:
        """Simulated annealing by single-spin Metropolis sweeps (dwave-samplers' parameters).

        Without dimod, ``sample_ising`` and ``sample_qubo`` return a dict with ``samples``
        (``[num_reads, n]``), ``energy`` (``[num_reads]``), ``num_occurrences`` (ones),
        ``variables`` (the labels of the columns) and ``info``.
        """

        def __init__(self):
            self.parameters = {k: list(v) for k, v in _PARAMETERS.items()}
            self.properties = {k: v for k, v in _PROPERTIES.items()}

        def sample_ising(self, h, J, **parameters):
            labels, hv, rows, cols, vals = _ising_arrays(h, J)
            states, energies, info = _anneal_arrays(len(labels), hv, rows, cols, vals, **parameters)
            return _result(states, energies, labels, info)

        def sample_qubo(self, Q, **parameters):
            # x = (s + 1) / 2: Q_ii x_i -> h_i = Q_ii / 2; Q_ij x_i x_j -> J_ij = Q_ij / 4 and
            # h_i, h_j += Q_ij / 4; the constant is added back to the energies.
            h, J, offset = {}, {}, 0.0
            for (u, v), q in Q.items():
                if u == v:
                    h[u] = h.get(u, 0.0) + q / 2
                    offset += q / 2
                else:
                    J[(u, v)] = J.get((u, v), 0.0) + q / 4
                    h[u] = h.get(u, 0.0) + q / 4
                    h[v] = h.get(v, 0.0) + q / 4
                    offset += q / 4
            labels, hv, rows, cols, vals = _ising_arrays(h, J)
            states, energies, info = _anneal_arrays(len(labels), hv, rows, cols, vals, **parameters)
            return _result((states + 1) // 2, energies + offset, labels, info)


def _result(samples, energies, labels, info):
    return {
        "samples": samples,
        "energy": energies,
        "num_occurrences": np.ones(len(energies), dtype=np.int64),
        "variables": labels,
        "info": info,
    }
