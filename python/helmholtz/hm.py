"""``HelmholtzMachine``: Dayan, Hinton, Neal & Zemel's (1995) machine of binary stochastic
layers, a generative network ``p(h_L) ... p(x | h_1)`` and a recognition network
``q(h_1 | x) ... q(h_L | h_{L-1})``, trained by wake-sleep or reweighted wake-sleep
(Bornschein & Bengio 2015). ``score_samples`` is the importance-weighted bound ``L_k`` on
``ln p(x)`` with ``q`` as the proposal (nats); ``sample`` draws ancestrally.
"""

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin

from . import _native
from ._base import as_matrix, check_is_fitted, native32, seed_of, settings_json

__all__ = ["HelmholtzMachine"]


class HelmholtzMachine(DensityMixin, BaseEstimator):
    """A Helmholtz machine on binary data.

    Parameters: ``layers`` ((200, 50): latent layers, nearest the data first), ``method``
    ("rws": reweighted wake-sleep, or "ws": wake-sleep), ``n_samples`` (5: importance samples
    per example in training, rws), ``learning_rate`` (1e-3, Adam), ``batch_size`` (100),
    ``n_iter`` (10 epochs), ``n_importance_samples`` (100: ``k`` of the bound
    ``score_samples`` reports), ``verbose``, ``random_state``.

    Attributes: ``model_`` (the networks, safetensors bytes), ``n_features_in_``.
    """

    def __init__(self, layers=(200, 50), *, method="rws", n_samples=5, learning_rate=1e-3,
                 batch_size=100, n_iter=10, n_importance_samples=100, verbose=0, random_state=None):
        self.layers = layers
        self.method = method
        self.n_samples = n_samples
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.n_importance_samples = n_importance_samples
        self.verbose = verbose
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit to ``X`` (values in [0, 1]) and return the estimator."""
        X = as_matrix(self, X, reset=True, sparse=False)
        self.model_ = _native.hm_fit(native32(X), settings_json(self))
        return self

    def score_samples(self, X):
        """``L_k``, a lower bound on ``ln p(x)``, per sample (nats)."""
        check_is_fitted(self)
        X = as_matrix(self, X, reset=False, sparse=False)
        seed = 0 if self.random_state is None else seed_of(self.random_state)
        return _native.HelmholtzMachine(self.model_).iw_bound(
            native32(X), int(self.n_importance_samples), seed
        )

    def score(self, X, y=None):
        """Mean of ``score_samples``, nats per sample."""
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples=1, *, random_state=None):
        """The data layer's probabilities of ``n_samples`` ancestral samples."""
        check_is_fitted(self)
        seed = seed_of(self.random_state if random_state is None else random_state)
        return _native.HelmholtzMachine(self.model_).sample(int(n_samples), seed)

    @classmethod
    def _from_run(cls, config, model):
        params = config.get("params", config)
        est = cls(
            tuple(params["model"]["layers"]),
            method={"wake-sleep": "ws", "reweighted": "rws"}[params["method"]],
            n_samples=params["samples"],
            learning_rate=params["lr"],
            batch_size=params["train"]["batch_size"],
            n_iter=params["train"]["epochs"],
            random_state=params["train"]["seed"],
        )
        est.model_ = bytes(model)
        est.n_features_in_ = params["model"]["visible"]
        est.run_config_ = config
        return est
