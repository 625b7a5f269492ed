import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

from helmholtz import BayesianMLP, BayesianMLPClassifier, BayesianMLPRegressor


def failures(estimator):
    results = check_estimator(estimator, on_fail=None)
    return [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] != "passed"]


def test_check_estimator_regressor():
    assert failures(BayesianMLPRegressor((16,), n_iter=200, learning_rate=1e-2, n_draws=10)) == []


def test_check_estimator_classifier():
    assert failures(BayesianMLPClassifier((16,), n_iter=100, learning_rate=1e-2, n_draws=10)) == []


def test_linear_regression_recovers_the_seeds_line_and_noise():
    # The seed's data: y = 3x + 2 + 0.5 eps on [-5, 5].
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, 200)
    y = 3 * x + 2 + 0.5 * rng.normal(size=200)
    m = BayesianMLP((), task="regression", n_iter=1000, batch_size=200, learning_rate=1e-2, prior_sigma=10.0, random_state=0)
    m.fit(x[:, None], y)
    mean, std = m.predict(np.array([[0.0], [1.0]]), return_std=True)
    assert mean[0] == pytest.approx(2.0, abs=0.15)
    assert mean[1] - mean[0] == pytest.approx(3.0, abs=0.1)
    assert std == pytest.approx([0.5, 0.5], rel=0.25)  # noise dominates the predictive spread


def test_nonlinear_regression_fits():
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, 200)
    y = np.sin(x) + 0.1 * rng.normal(size=200)
    m = BayesianMLP((50,), task="regression", activation="tanh", n_iter=1000, batch_size=200, learning_rate=1e-2, random_state=0)
    assert m.fit(x[:, None], y).score(x[:, None], y) > 0.9


def test_classifier_probabilities_and_labels():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(100, 2)) + [2, 2], rng.normal(size=(100, 2)) - [2, 2]])
    y = np.array(["a"] * 100 + ["b"] * 100)
    m = BayesianMLPClassifier((16,), n_iter=100, random_state=0).fit(X, y)
    p = m.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (m.predict(X) == y).mean() > 0.95
    assert list(m.classes_) == ["a", "b"]
    # Draws are shared across rows: a row's probabilities do not depend on the others.
    np.testing.assert_allclose(m.predict_proba(X[50:60]), p[50:60])
    with pytest.raises(ValueError, match="task"):
        BayesianMLP(task="ranking")
