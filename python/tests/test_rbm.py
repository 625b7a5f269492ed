import itertools
import pickle

import numpy as np
import pytest
from sklearn.neural_network import BernoulliRBM as SkRBM
from sklearn.utils.estimator_checks import check_estimator

from helmholtz import BernoulliRBM


def statuses(results):
    return {r["check_name"]: r["status"] for r in results} | {
        "__counts__": sorted((r["status"] for r in results))
    }


def test_check_estimator_passes_all_47_checks_none_skipped():
    results = check_estimator(BernoulliRBM(), on_fail=None)
    failed = [(r["check_name"], r["status"], str(r["exception"])) for r in results if r["status"] != "passed"]
    assert failed == []
    assert len(results) == 47


def test_scikit_learns_own_rbm_fails_the_two_invariance_checks():
    # The claim the docstring makes about the peer: its score_samples depends on the batch.
    results = check_estimator(SkRBM(), on_fail=None)
    failed = sorted(r["check_name"] for r in results if r["status"] == "failed")
    assert failed == ["check_methods_sample_order_invariance", "check_methods_subset_invariance"]
    assert len(results) == 47


def free_energy(v, W, c, b):
    return -v @ b - np.logaddexp(0, v @ W.T + c).sum(axis=1)


def test_pseudo_likelihood_is_scikit_learns_estimator_for_one_flipped_unit(binary_data):
    m = BernoulliRBM(n_components=5, n_iter=5, random_state=3).fit(binary_data)
    W, c, b = (a.astype(np.float64) for a in (m.components_, m.intercept_hidden_, m.intercept_visible_))
    v = binary_data[:40]
    ours = m.score_samples(v)
    d = v.shape[1]
    fe = free_energy(v, W, c, b)
    for row, score in zip(range(len(v)), ours):
        # scikit-learn: -d * logaddexp(0, -(F(v') - F(v))) for the flipped unit i; ours must be
        # that value for some i (the unit is chosen from the row's values).
        candidates = []
        for i in range(d):
            vf = v[row].copy()
            vf[i] = 1 - vf[i]
            candidates.append(-d * np.logaddexp(0, -(free_energy(vf[None], W, c, b)[0] - fe[row])))
        assert np.min(np.abs(np.array(candidates) - score)) < 1e-4 * max(1.0, abs(score))


def test_score_samples_ignores_order_and_subset_and_is_deterministic(binary_data):
    m = BernoulliRBM(n_components=6, n_iter=3, random_state=0).fit(binary_data)
    full = m.score_samples(binary_data)
    perm = np.random.default_rng(1).permutation(len(binary_data))
    np.testing.assert_array_equal(m.score_samples(binary_data[perm]), full[perm])
    np.testing.assert_array_equal(m.score_samples(binary_data[:7]), full[:7])
    np.testing.assert_array_equal(m.score_samples(binary_data), full)


def test_log_likelihood_is_exact_by_enumeration(binary_data):
    m = BernoulliRBM(n_components=4, n_iter=5, random_state=0).fit(binary_data)
    W, c, b = (a.astype(np.float64) for a in (m.components_, m.intercept_hidden_, m.intercept_visible_))
    d = binary_data.shape[1]
    every_v = np.array(list(itertools.product([0.0, 1.0], repeat=d)))
    log_z = np.logaddexp.reduce(-free_energy(every_v, W, c, b))
    want = -free_energy(binary_data[:20], W, c, b) - log_z
    got, kind = m.log_likelihood(binary_data[:20])
    assert kind == "exact"
    np.testing.assert_allclose(got, want, atol=2e-4)


def test_same_seed_same_model_and_training_learns(binary_data):
    a = BernoulliRBM(n_components=8, n_iter=20, learning_rate=0.05, random_state=5).fit(binary_data)
    b = BernoulliRBM(n_components=8, n_iter=20, learning_rate=0.05, random_state=5).fit(binary_data)
    np.testing.assert_array_equal(a.components_, b.components_)
    untrained = BernoulliRBM(n_components=8, n_iter=1, learning_rate=1e-6, random_state=5).fit(binary_data)
    # 20 epochs on a two-prototype mixture beat the independent-pixel start by several nats.
    assert a.log_likelihood(binary_data)[0].mean() > untrained.log_likelihood(binary_data)[0].mean() + 1.0


def test_numpy_round_trip_of_the_fitted_attributes(binary_data):
    m = BernoulliRBM(n_components=5, n_iter=2, random_state=0).fit(binary_data)
    copy = BernoulliRBM(n_components=5, random_state=0)
    copy.components_ = np.array(m.components_)
    copy.intercept_hidden_ = np.array(m.intercept_hidden_)
    copy.intercept_visible_ = np.array(m.intercept_visible_)
    copy.n_features_in_ = m.n_features_in_
    np.testing.assert_array_equal(copy.transform(binary_data), m.transform(binary_data))
    np.testing.assert_array_equal(copy.score_samples(binary_data), m.score_samples(binary_data))
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(back.transform(binary_data), m.transform(binary_data))


def test_transform_is_the_hidden_probabilities(binary_data):
    m = BernoulliRBM(n_components=5, n_iter=2, random_state=0).fit(binary_data)
    want = 1 / (1 + np.exp(-(binary_data @ m.components_.T + m.intercept_hidden_)))
    np.testing.assert_allclose(m.transform(binary_data), want, atol=1e-6)
    assert m.transform(binary_data.astype(np.float32)).dtype == np.float32


def test_gaussian_visibles_cd_k_and_momentum_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)) + np.array([2.0, -1, 0, 0, 1, 0])
    x = (x - x.mean(0)) / x.std(0)
    m = BernoulliRBM(n_components=4, n_iter=3, visible="gaussian", method="cd", k=2, momentum=0.5, random_state=0).fit(x)
    ll, kind = m.log_likelihood(x[:10])
    assert kind == "exact" and np.all(np.isfinite(ll))
    with pytest.raises(ValueError, match="Bernoulli visibles"):
        m.score_samples(x[:3])
    assert m.sample(3, random_state=1).shape == (3, 6)
