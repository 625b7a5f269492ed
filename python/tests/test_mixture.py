import numpy as np
import pytest
from sklearn.mixture import BayesianGaussianMixture as SkBGM
from sklearn.utils.estimator_checks import check_estimator

from helmholtz import BayesianGaussianMixture


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(size=(150, 3)) + c for c in ([5, 0, 0], [-5, 0, 1], [0, 5, -2])])


def test_check_estimator_passes_every_check():
    results = check_estimator(BayesianGaussianMixture(n_components=2), on_fail=None)
    assert [(r["check_name"], str(r["exception"])) for r in results if r["status"] != "passed"] == []


@pytest.mark.parametrize("prior", ["dirichlet_process", "dirichlet_distribution"])
@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_agrees_with_scikit_learn_from_the_same_start(prior, covariance):
    X = blobs()
    sk = SkBGM(n_components=4, weight_concentration_prior_type=prior, covariance_type=covariance,
               init_params="random", max_iter=30, tol=0, random_state=0).fit(X)
    # scikit-learn's "random" start: uniform numbers from RandomState(0), rows normalised.
    resp = np.random.RandomState(0).uniform(size=(len(X), 4))
    resp /= resp.sum(axis=1, keepdims=True)
    ours = BayesianGaussianMixture(n_components=4, weight_concentration_prior_type=prior,
                                   covariance_type=covariance, init_params=resp, max_iter=30,
                                   tol=0).fit(X)
    np.testing.assert_allclose(ours.weights_, sk.weights_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.means_, sk.means_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.covariances_, sk.covariances_, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-8)


def test_finds_the_three_clusters_and_the_density_integrates():
    X = blobs()
    m = BayesianGaussianMixture(n_components=8, random_state=0).fit(X)
    assert (m.weights_ > 0.05).sum() == 3
    assert m.converged_ and m.n_iter_ == len(m.lower_bounds_)
    assert np.all(np.diff(m.lower_bounds_) > -1e-6)  # CAVI never lowers the bound
    # 1-D: the predictive density integrates to 1.
    x = np.concatenate([np.random.default_rng(1).normal(size=200) - 3, np.random.default_rng(2).normal(size=200) + 3])
    one = BayesianGaussianMixture(n_components=3, random_state=0).fit(x[:, None])
    grid = np.linspace(-200, 200, 80001)[:, None]  # Student-t tails are heavy
    assert np.trapezoid(np.exp(one.score_samples(grid)), grid[:, 0]) == pytest.approx(1.0, abs=1e-4)
    Xs, ys = m.sample(50)
    assert Xs.shape == (50, 3) and ys.shape == (50,)


def test_bad_input():
    X = blobs()
    for bad, name in ((dict(n_components=0), "n_components"), (dict(covariance_type="tied"), "covariance_type"),
                      (dict(warm_start=True), "warm_start"), (dict(degrees_of_freedom_prior=1.0), "degrees_of_freedom_prior")):
        with pytest.raises(ValueError, match=f"^{name}:"):
            BayesianGaussianMixture(**bad).fit(X)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="^X: value NaN at row 4, column 2 is not finite$"):
        BayesianGaussianMixture().fit(X)
