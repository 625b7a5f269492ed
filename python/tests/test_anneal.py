import itertools
import unittest

import dimod
import dimod.testing
import numpy as np
import pytest

from helmholtz.anneal import SimulatedAnnealingSampler


def test_sampler_api():
    dimod.testing.assert_sampler_api(SimulatedAnnealingSampler())


@dimod.testing.load_sampler_bqm_tests(SimulatedAnnealingSampler)
class TestDimodConformance(unittest.TestCase):
    """dimod's own sampler tests on small BQMs of every kind (empty, one variable, paths)."""


def random_problem(n, m, seed):
    rng = np.random.default_rng(seed)
    h = {i: float(rng.normal()) for i in range(n)}
    J = {}
    while len(J) < m:
        i, j = rng.integers(0, n, 2)
        if i != j:
            J[(int(min(i, j)), int(max(i, j)))] = float(rng.choice([-1.0, 1.0]))
    return h, J


def test_every_read_energy_and_ground_state_of_a_small_problem():
    h, J = random_problem(10, 20, 0)
    bqm = dimod.BinaryQuadraticModel.from_ising(h, J)
    ss = SimulatedAnnealingSampler().sample(bqm, num_reads=50, num_sweeps=500, seed=3)
    assert len(ss) == 50 and ss.record.num_occurrences.sum() == 50
    dimod.testing.assert_sampleset_energies(ss, bqm)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    assert ss.first.energy == pytest.approx(exact)


def test_qubo_and_seed_determinism():
    Q = {(0, 0): -1.0, (1, 1): -1.0, (0, 1): 2.0, (1, 2): -0.5, (2, 2): 0.3}
    s = SimulatedAnnealingSampler()
    a = s.sample_qubo(Q, num_reads=20, seed=7)
    b = s.sample_qubo(Q, num_reads=20, seed=7)
    np.testing.assert_array_equal(a.record.sample, b.record.sample)
    best = min(
        (dimod.qubo_energy(dict(zip(range(3), x)), Q) for x in itertools.product([0, 1], repeat=3))
    )
    assert a.first.energy == pytest.approx(best)
    assert a.vartype is dimod.BINARY


def test_schedules_match_dwave_samplers():
    h, J = random_problem(30, 60, 1)
    s = SimulatedAnnealingSampler()
    geo = s.sample_ising(h, J, num_reads=2, num_sweeps=10, seed=0)
    b0, b1 = geo.info["beta_range"]
    # dwave-samplers' default range: ln 2 / (2 max effective field), ln(count / 0.01) / (2 min gap).
    fields = {i: abs(h[i]) for i in h}
    for (i, j), v in J.items():
        fields[i] += abs(v)
        fields[j] += abs(v)
    assert b0 == pytest.approx(np.log(2) / (2 * max(fields.values())))
    gaps = [min([abs(h[i])] + [abs(v) for (a, b), v in J.items() if i in (a, b)]) for i in h]
    count = sum(g == min(gaps) for g in gaps)
    assert b1 == pytest.approx(np.log(count / 0.01) / (2 * min(gaps)))
    custom = s.sample_ising(h, J, num_reads=2, beta_schedule_type="custom", beta_schedule=[0.1, 1.0, 5.0], seed=0)
    assert len(custom) == 2
    with pytest.raises(ValueError):
        s.sample_ising(h, J, beta_schedule_type="custom")


def test_without_dimod_the_result_is_a_dict(monkeypatch):
    import importlib
    import sys

    import helmholtz.anneal as anneal

    monkeypatch.setitem(sys.modules, "dimod", None)
    plain = importlib.reload(anneal)
    try:
        out = plain.SimulatedAnnealingSampler().sample_qubo({(0, 0): -1.0, (0, 1): 2.0, (1, 1): -1.0}, num_reads=8, seed=0)
        assert set(out) == {"samples", "energy", "num_occurrences", "variables", "info"}
        assert out["samples"].shape == (8, 2)
        assert out["energy"].min() == pytest.approx(-1.0)
        x = out["samples"]
        want = -x[:, 0] - x[:, 1] + 2 * x[:, 0] * x[:, 1]
        np.testing.assert_allclose(out["energy"], want)
    finally:
        monkeypatch.undo()
        importlib.reload(anneal)
