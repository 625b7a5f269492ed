import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

from helmholtz import BernoulliMixture, HelmholtzMachine

from test_baseline import OUTSIDE_UNIT_INTERVAL


def test_check_estimator_passes_every_check_that_feeds_binary_data():
    results = check_estimator(HelmholtzMachine((4,), n_iter=2, n_importance_samples=5), on_fail=None,
                              expected_failed_checks={k: v.replace("Bernoulli mixture", "Helmholtz machine")
                                                      for k, v in OUTSIDE_UNIT_INTERVAL.items()})
    assert [(r["check_name"], r["status"]) for r in results if r["status"] not in ("passed", "xfail")] == []


def test_the_bound_is_a_bound_and_learning_approaches_the_mixture(binary_data):
    m = HelmholtzMachine((4,), n_iter=200, learning_rate=1e-2, batch_size=50, random_state=0).fit(binary_data)
    loose = m.set_params(n_importance_samples=1).score(binary_data)
    tight = m.set_params(n_importance_samples=500).score(binary_data)
    assert tight > loose
    # Two prototypes with 10% flips: the EM mixture's exact ln p(x); the machine's bound
    # stays below the truth and comes within a nat of the mixture.
    exact = BernoulliMixture(n_components=2, random_state=0).fit(binary_data).score(binary_data)
    assert tight > exact - 1.0
    # Deterministic and per-sample: a subset scores the same.
    np.testing.assert_array_equal(m.score_samples(binary_data[:5]), m.score_samples(binary_data)[:5])
    assert m.sample(3, random_state=0).shape == (3, 12)
    with pytest.raises(ValueError, match="method"):
        HelmholtzMachine(method="backprop").fit(binary_data)
