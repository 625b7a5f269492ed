import itertools

import numpy as np
import pytest

from helmholtz.hopfield import Hopfield, ModernHopfield
from scipy.special import ellipk

from helmholtz.ising import IsingChain, critical_temperature, onsager_exact


def test_onsager_constants():
    assert critical_temperature() == pytest.approx(2 / np.log(1 + np.sqrt(2)))
    m, e, _ = onsager_exact(1.5)
    # Yang: |m| = (1 - sinh(2/T)^-4)^(1/8) below Tc.
    assert m == pytest.approx((1 - np.sinh(2 / 1.5) ** -4) ** 0.125)
    # Onsager: u = -coth(2/T) [1 + (2/pi)(2 tanh^2(2/T) - 1) K(k)], k = 2 sinh(2/T) / cosh^2(2/T).
    b = 2 / 1.5
    k = 2 * np.sinh(b) / np.cosh(b) ** 2
    assert e == pytest.approx(-(1 / np.tanh(b)) * (1 + 2 / np.pi * (2 * np.tanh(b) ** 2 - 1) * ellipk(k * k)))
    assert onsager_exact(3.0)[0] == 0.0


@pytest.mark.parametrize("algorithm", ["metropolis", "heat-bath", "wolff"])
def test_sampled_energy_matches_enumeration_of_a_4x4_lattice(algorithm):
    L, T = 4, 3.0
    spins = np.array(list(itertools.product([-1, 1], repeat=L * L))).reshape(-1, L, L)
    bonds = (spins * np.roll(spins, 1, axis=1) + spins * np.roll(spins, 1, axis=2)).sum(axis=(1, 2))
    energy = -bonds / (L * L)
    w = np.exp(-(energy - energy.min()) * L * L / T)
    exact = (w * energy).sum() / w.sum()
    chain = IsingChain(size=L, temperature=T, algorithm=algorithm, seed=1)
    e, m = chain.sample(20000, equilibration=500)
    blocks = e.reshape(100, -1).mean(axis=1)  # batch means for the standard error
    se = blocks.std(ddof=1) / np.sqrt(len(blocks))
    assert abs(e.mean() - exact) < 4 * se + 1e-3, (e.mean(), exact, se)


def test_the_spins_round_trip_and_order_survives_the_cold():
    chain = IsingChain(size=16, temperature=0.5, seed=0)
    chain.spins = np.ones((16, 16), dtype=np.int8)
    chain.sweep(50)
    e, m = chain.measure()
    assert e == -2.0 and m == 1.0
    assert chain.spins.shape == (16, 16)
    with pytest.raises(ValueError):
        IsingChain(size=3)
    with pytest.raises(ValueError, match="algorithm"):
        IsingChain(algorithm="glass")


def test_hopfield_recalls_stored_patterns_and_energy_never_rises():
    rng = np.random.default_rng(0)
    patterns = (rng.random((3, 100)) < 0.5).astype(np.float32)
    net = Hopfield.store(patterns)
    s = 2 * patterns - 1
    w = s.T @ s
    np.fill_diagonal(w, 0)
    np.testing.assert_allclose(net.weights, w)  # the seed's Hebbian rule
    noisy = patterns[1].astype(np.uint8).copy()
    flip = rng.choice(100, 10, replace=False)
    noisy[flip] = 1 - noisy[flip]
    state, sweeps, converged, energies = net.recall(noisy, seed=0)
    assert converged
    np.testing.assert_array_equal(state, patterns[1].astype(np.uint8))
    assert np.all(np.diff(energies) <= 1e-9)
    assert net.energy(state) == pytest.approx(energies[-1])


def test_modern_hopfield_retrieves_the_nearest_pattern():
    rng = np.random.default_rng(0)
    patterns = np.sign(rng.normal(size=(20, 64))).astype(np.float32)
    net = ModernHopfield(patterns, beta=1.0)
    query = patterns[[4, 7]] + 0.5 * rng.normal(size=(2, 64)).astype(np.float32)
    out = net.retrieve(query, steps=1)
    assert np.abs(out - patterns[[4, 7]]).max() < 1e-3
    np.testing.assert_allclose(net.attention(query).sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="features"):
        net.retrieve(query[:, :10])
