"""``BernoulliRBM``: scikit-learn's restricted Boltzmann machine, trained by helmholtz.

A drop-in for ``sklearn.neural_network.BernoulliRBM``: the same parameters, defaults and
fitted attributes, and the same training (persistent contrastive divergence with as many
chains as a batch has rows, a constant learning rate, weights drawn from N(0, 0.01²)).
``score_samples`` is scikit-learn's pseudo-likelihood estimator, except that the unit it flips
is chosen from each sample's own values and ``random_state``, so a sample's score depends on
neither the other samples nor their order. Beyond scikit-learn: ``log_likelihood`` (exact for
small models, else by annealed importance sampling), Gaussian visible units, CD-k, momentum
and weight decay, and ``sample``.
"""

import time

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin

from . import _native
from ._base import Transformer, as_matrix, check_is_fitted, native32, seed_of, settings_json

__all__ = ["BernoulliRBM"]


class BernoulliRBM(ClassNamePrefixFeaturesOutMixin, Transformer):
    """Restricted Boltzmann machine with binary hidden units.

    ``E(v, h) = -b·v - c·h - vᵀWh``; ``p(h_j = 1 | v) = sigmoid(c_j + v·W_j)``.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    learning_rate : float, default=0.1
        Learning rate of the (mean over the batch) gradient.
    batch_size : int, default=10
        Examples per mini-batch, and persistent chains under PCD.
    n_iter : int, default=10
        Passes over the training data.
    verbose : int, default=0
        Print a progress bar and a line per epoch (reconstruction error and
        pseudo-likelihood of the first 1,000 examples) on stderr.
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice; an int gives the same model as ``--seed`` on the
        command line.
    k : int, default=1
        Gibbs steps per update (the k of CD-k / PCD-k).
    method : {"pcd", "cd"}, default="pcd"
        Persistent chains (Tieleman 2008, scikit-learn's choice) or chains restarted at the
        data (Hinton 2002).
    momentum : float, default=0.0
        Momentum of the updates, in [0, 1).
    weight_decay : float, default=0.0
        L2 penalty on the weights.
    visible : {"bernoulli", "gaussian"}, default="bernoulli"
        Unit type of the visible layer; Gaussian units have unit variance and expect
        standardised data.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weight matrix ``Wᵀ``.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``c``.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``b``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    """

    def __init__(
        self,
        n_components=256,
        *,
        learning_rate=0.1,
        batch_size=10,
        n_iter=10,
        verbose=0,
        random_state=None,
        k=1,
        method="pcd",
        momentum=0.0,
        weight_decay=0.0,
        visible="bernoulli",
    ):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.method = method
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.visible = visible

    def fit(self, X, y=None):
        """Fit the model to ``X`` (n_samples, n_features) and return it."""
        X = as_matrix(self, X, reset=True)
        t0 = time.perf_counter()
        W, c, b = _native.rbm_fit(native32(X), settings_json(self))
        if self.verbose:
            print(f"[BernoulliRBM] {self.n_iter} iterations, time = {time.perf_counter() - t0:.2f}s")
        self.components_ = W.astype(X.dtype, copy=False)
        self.intercept_hidden_ = c.astype(X.dtype, copy=False)
        self.intercept_visible_ = b.astype(X.dtype, copy=False)
        return self

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def _model(self):
        check_is_fitted(self)
        return _native.Rbm(
            native32(self.components_),
            native32(self.intercept_hidden_),
            native32(self.intercept_visible_),
            str(self.visible),
        )

    def transform(self, X):
        """Hidden-unit probabilities ``p(h = 1 | v)``, shape (n_samples, n_components)."""
        model = self._model()
        X = as_matrix(self, X, reset=False)
        return model.transform(native32(X)).astype(X.dtype, copy=False)

    def score_samples(self, X):
        """Pseudo-log-likelihood of each sample, ``d · ln sigmoid(F(v') - F(v))`` with one unit
        flipped (nats; not a likelihood: see ``log_likelihood``)."""
        model = self._model()
        X = as_matrix(self, X, reset=False)
        return model.pseudo_likelihood(native32(X), self._score_seed())

    def log_likelihood(self, X, *, ais_runs=100, ais_betas=1000):
        """``ln p(v)`` of each sample in nats: exact when the hidden or the visible layer is
        small enough to enumerate, else through ``ln Z`` from annealed importance sampling
        (an estimate, not a bound). Returns ``(values, kind)`` with kind "exact" or "ais"."""
        model = self._model()
        X = as_matrix(self, X, reset=False)
        return model.log_likelihood(native32(X), int(ais_runs), int(ais_betas), self._score_seed())

    def sample(self, n_samples=1, *, random_state=None):
        """``E[v | h]`` after 1,000 block Gibbs steps from noise, ``n_samples`` chains."""
        model = self._model()
        seed = seed_of(self.random_state if random_state is None else random_state)
        return model.sample(int(n_samples), seed)

    def gibbs(self, v):
        """One block Gibbs step from ``v``: sampled hidden units, then sampled visible units
        (as scikit-learn's ``gibbs``)."""
        check_is_fitted(self)
        v = as_matrix(self, v, reset=False)
        rng = np.random.default_rng(self._score_seed())
        h = _sigmoid(v @ self.components_.T + self.intercept_hidden_)
        h = (rng.random(h.shape) < h).astype(v.dtype)
        p = _sigmoid(h @ self.components_ + self.intercept_visible_)
        return rng.random(p.shape) < p

    def save(self, path, *, data="digits", binarize="threshold"):
        """Write the fitted model as a run directory at ``path`` (new or empty) that
        ``helmholtz rbm eval|sample|transform`` open; ``data`` is the data set those commands
        use by default (``"digits"``, ``"fashion-mnist"`` or a path), binarised as ``binarize``
        says (``"threshold"``, ``"stochastic"``, ``"none"``)."""
        from .runs import save_run

        save_run(path, data, binarize, self._model().to_bytes(), settings_json(self))

    @classmethod
    def _from_run(cls, config, model):
        params = config.get("params", config)
        m = _native.Rbm.from_bytes(model)
        W, c, b, visible = m.arrays()
        est = cls(
            n_components=params["model"]["hidden"],
            learning_rate=params["cd"]["lr"],
            batch_size=params["train"]["batch_size"],
            n_iter=params["train"]["epochs"],
            random_state=params["train"]["seed"],
            k=params["cd"]["k"],
            method=params["cd"]["negative"],
            momentum=params["cd"]["momentum"],
            weight_decay=params["cd"]["weight_decay"],
            visible=visible,
        )
        est.components_, est.intercept_hidden_, est.intercept_visible_ = W, c, b
        est.n_features_in_ = W.shape[1]
        est.run_config_ = config
        return est

    def _score_seed(self):
        # None scores deterministically too: the flipped units depend on the samples.
        return 0 if self.random_state is None else seed_of(self.random_state)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))
