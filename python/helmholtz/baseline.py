"""``BernoulliMixture``: the maximum-likelihood baseline of binary images, a mixture of
independent Bernoullis fitted by EM (with Beta pseudo-counts ``smoothing`` on every pixel and
``n_init`` random starts, the best kept). ``score_samples`` is the exact ``ln p(x)`` in nats:
the number the other models' bounds and estimates are compared with.
"""

import json

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin

from . import _native
from ._base import as_matrix, check_is_fitted, native32, seed_of

__all__ = ["BernoulliMixture"]


class BernoulliMixture(DensityMixin, BaseEstimator):
    """Mixture of ``n_components`` products of Bernoullis, fitted by EM.

    Parameters: ``n_components`` (10), ``smoothing`` (1.0: a Beta(2, 2) prior on every
    pixel probability), ``n_init`` (3 random starts), ``max_iter`` (100), ``tol`` (1e-6 nats
    per example), ``random_state``.

    Attributes: ``weights_`` ``[K]``, ``means_`` ``[K, n_features]`` (pixel probabilities),
    ``objective_`` (the EM objective per iteration of the kept start), ``model_`` (JSON).
    """

    def __init__(self, n_components=10, *, smoothing=1.0, n_init=3, max_iter=100, tol=1e-6,
                 random_state=None):
        self.n_components = n_components
        self.smoothing = smoothing
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit to binary (or [0, 1]) ``X`` by EM and return the estimator."""
        X = as_matrix(self, X, reset=True, sparse=False)
        params = json.dumps({
            "components": int(self.n_components), "smoothing": float(self.smoothing),
            "restarts": int(self.n_init), "max_iter": int(self.max_iter), "tol": float(self.tol),
            "seed": seed_of(self.random_state),
        })
        self.model_, self.objective_ = _native.mixture_fit(native32(X), params)
        self._set_attributes()
        return self

    def _set_attributes(self):
        model = json.loads(self.model_)
        self.weights_ = np.array(model["weights"])
        self.means_ = np.array(model["means"]).reshape(len(self.weights_), -1)
        self.n_features_in_ = self.means_.shape[1]

    @classmethod
    def _from_run(cls, config, model):
        em = config["em"]
        est = cls(
            n_components=em["components"] if config["model"] == "mixture" else 1,
            smoothing=em["smoothing"],
            n_init=em["restarts"],
            max_iter=em["max_iter"],
            tol=em["tol"],
            random_state=em["seed"],
        )
        est.model_ = bytes(model).decode()
        est._set_attributes()
        est.run_config_ = config
        return est

    def _mixture(self, X):
        check_is_fitted(self)
        X = as_matrix(self, X, reset=False, sparse=False)
        return _native.BernoulliMixture(self.model_), native32(X)

    def score_samples(self, X):
        """``ln p(x)`` of each sample, exact, nats."""
        m, X = self._mixture(X)
        return m.log_likelihood(X)

    def score(self, X, y=None):
        """Mean ``ln p(x)``, nats per sample."""
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X):
        """Responsibilities ``p(k | x)``, ``[n_samples, n_components]``."""
        m, X = self._mixture(X)
        return np.exp(m.log_resp(X))

    def predict(self, X):
        """The most probable component of each sample."""
        return self.predict_proba(X).argmax(axis=1)

    def sample(self, n_samples=1, *, random_state=None):
        """``(X, y)``: binary samples and their components."""
        check_is_fitted(self)
        rng = np.random.default_rng(seed_of(self.random_state if random_state is None else random_state))
        y = rng.choice(len(self.weights_), size=n_samples, p=self.weights_ / self.weights_.sum())
        return (rng.random((n_samples, self.means_.shape[1])) < self.means_[y]).astype(np.float64), y
