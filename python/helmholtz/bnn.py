"""Bayesian neural networks by Bayes by Backprop (Blundell et al. 2015): a Gaussian posterior
over every weight, fitted by maximising the ELBO with the local reparameterisation trick;
predictions average over weight draws.

``BayesianMLPRegressor`` predicts a mean and, with ``return_std=True``, the predictive standard
deviation (weight uncertainty plus the learned noise); ``BayesianMLPClassifier`` predicts class
probabilities averaged over draws. ``BayesianMLP`` picks one from the targets (class labels or
real numbers).
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from . import _native
from ._base import as_matrix, check_is_fitted, native32, seed_of, settings_json

__all__ = ["BayesianMLP", "BayesianMLPClassifier", "BayesianMLPRegressor"]


class _Bbb(BaseEstimator):
    """Parameters shared by the Bayes-by-Backprop estimators.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(50,)
    activation : {"relu", "tanh"}, default="relu"
    prior_sigma : float, default=1.0
        Standard deviation of the Gaussian prior on every weight and bias.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    batch_size : int, default=100
    n_iter : int, default=200
        Epochs.
    n_draws : int, default=100
        Weight draws averaged by ``predict`` and ``predict_proba``.
    verbose : int, default=0
    random_state : int, RandomState instance or None, default=None
        Seeds training and the prediction draws.
    """

    def __init__(self, hidden_layer_sizes=(50,), *, activation="relu", prior_sigma=1.0,
                 learning_rate=1e-3, batch_size=100, n_iter=200, n_draws=100, verbose=0,
                 random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.prior_sigma = prior_sigma
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.n_draws = n_draws
        self.verbose = verbose
        self.random_state = random_state

    def _model(self, X):
        check_is_fitted(self)
        X = as_matrix(self, X, reset=False, sparse=False)
        return _native.BayesMlp(self.model_), native32(X)

    def _draw_seed(self):
        return 0 if self.random_state is None else seed_of(self.random_state)


class BayesianMLPRegressor(RegressorMixin, _Bbb):
    __doc__ = "Bayes-by-Backprop regression network.\n" + _Bbb.__doc__

    def fit(self, X, y):
        X = as_matrix(self, X, reset=True, sparse=False)
        y = _targets(self, y, len(X)).astype(np.float64)
        self.model_ = _native.bnn_fit(native32(X), settings_json(self), y=np.ascontiguousarray(y))
        return self

    def predict(self, X, return_std=False):
        """The predictive mean at ``X``; with ``return_std``, also its standard deviation."""
        model, X = self._model(X)
        mean, std = model.predict(X, int(self.n_draws), self._draw_seed())
        return (mean, std) if return_std else mean


class BayesianMLPClassifier(ClassifierMixin, _Bbb):
    __doc__ = "Bayes-by-Backprop classifier.\n" + _Bbb.__doc__

    def fit(self, X, y):
        X = as_matrix(self, X, reset=True, sparse=False)
        y = _targets(self, y, len(X))
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        labels = encoder.transform(y).astype(np.uint32)
        if len(labels) != len(X):
            raise ValueError(f"y: expected {len(X)} labels (got {len(labels)})")
        self.model_ = _native.bnn_fit(native32(X), settings_json(self), labels=labels)
        return self

    def predict_proba(self, X):
        """Class probabilities averaged over ``n_draws`` weight draws."""
        model, X = self._model(X)
        p = model.predict_proba(X, int(self.n_draws), self._draw_seed())
        return p[:, : len(self.classes_)] / p[:, : len(self.classes_)].sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class under the averaged probabilities."""
        p = self.predict_proba(X)
        return self.classes_[np.argmax(p, axis=1)]


def _targets(estimator, y, n):
    """``y`` as one column of ``n`` targets (a column vector is flattened with a warning)."""
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    if len(y) != n:
        raise ValueError(f"y: {len(y)} targets for {n} samples")
    return y


def BayesianMLP(hidden_layer_sizes=(50,), *, task, **params):
    """A ``BayesianMLPRegressor`` (``task="regression"``) or ``BayesianMLPClassifier``
    (``task="classification"``)."""
    cls = {"regression": BayesianMLPRegressor, "classification": BayesianMLPClassifier}.get(task)
    if cls is None:
        raise ValueError(f"task: expected 'regression' or 'classification' (got {task!r})")
    return cls(hidden_layer_sizes, **params)




def _from_run(config, model):
    """The estimator of a ``bnn`` run trained by Bayes by Backprop."""
    params = config.get("params", config)
    net = _native.BayesMlp(bytes(model))
    inputs, outputs = net.shape()
    cls = BayesianMLPClassifier if net.is_classifier() else BayesianMLPRegressor
    est = cls(
        tuple(params["hidden"]),
        activation=params["bbb"]["activation"],
        learning_rate=params["bbb"]["lr"],
        batch_size=params["train"]["batch_size"],
        n_iter=params["train"]["epochs"],
        n_draws=config.get("eval_draws", 100),
        random_state=params["train"]["seed"],
    )
    est.model_ = bytes(model)
    est.n_features_in_ = inputs
    if net.is_classifier():
        est.classes_ = np.arange(outputs)
    est.run_config_ = config
    return est
