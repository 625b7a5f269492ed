"""``VAE``: a variational autoencoder (Kingma & Welling 2014) as a scikit-learn transformer.

``fit`` maximises the evidence lower bound with Adam; ``transform`` gives the posterior means
``E_q[z | x]`` (or the most probable category of each categorical latent, one-hot);
``score_samples`` the importance-weighted lower bound on ``ln p(x)`` (Burda et al. 2016) in
nats per sample; ``sample`` draws ``E[x | z]`` with ``z`` from the prior. The fitted model is
``model_``, the bytes of the safetensors file ``helmholtz vae`` reads.
"""

import numpy as np

from . import _native
from ._base import Transformer, as_matrix, check_is_fitted, native32, seed_of, settings_json

__all__ = ["VAE"]


class VAE(Transformer):
    """Variational autoencoder with an MLP encoder and the mirrored decoder (ReLU).

    Parameters
    ----------
    n_components : int, default=20
        Latent dimensions (Gaussian latents) or categorical variables (categorical latents).
    hidden_layer_sizes : tuple of int, default=(400,)
        Hidden widths of the encoder; the decoder uses them in reverse.
    latent : {"gaussian", "categorical"}, default="gaussian"
        ``z ~ N(0, I)``, or ``n_components`` categorical variables of ``n_categories`` classes
        relaxed with Gumbel-Softmax in training.
    n_categories : int, default=10
        Classes per categorical latent variable.
    likelihood : {"bernoulli", "gaussian"}, default="bernoulli"
        Bernoulli pixels (data in [0, 1]) or Gaussians with a learned variance per feature
        (the columns are standardised for training; scores and samples are in data units).
    learning_rate : float, default=1e-3
        Adam's learning rate.
    batch_size : int, default=128
    n_iter : int, default=50
        Epochs.
    beta : float, default=1.0
        Weight of the KL term (1 gives the ELBO).
    n_importance_samples : int, default=100
        Samples per example of the bound ``score_samples`` reports (1: the ELBO).
    verbose : int, default=0
        Progress bar and a line per epoch on stderr.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    model_ : bytes
        The fitted networks, a safetensors file with the configuration in its metadata.
    mean_, scale_ : ndarray of shape (n_features,)
        The standardisation of a Gaussian likelihood (zeros and ones for Bernoulli).
    n_features_in_ : int
    """

    def __init__(
        self,
        n_components=20,
        *,
        hidden_layer_sizes=(400,),
        latent="gaussian",
        n_categories=10,
        likelihood="bernoulli",
        learning_rate=1e-3,
        batch_size=128,
        n_iter=50,
        beta=1.0,
        n_importance_samples=100,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.latent = latent
        self.n_categories = n_categories
        self.likelihood = likelihood
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.beta = beta
        self.n_importance_samples = n_importance_samples
        self.verbose = verbose
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the model to ``X`` (n_samples, n_features) and return it."""
        X = as_matrix(self, X, reset=True)
        if self.likelihood == "gaussian":
            with np.errstate(invalid="ignore", over="ignore"):  # refused natively below
                mean = X.mean(axis=0, dtype=np.float64)
                scale = X.std(axis=0, dtype=np.float64)
            scale[~(scale > 0)] = 1.0
        else:
            mean = np.zeros(X.shape[1])
            scale = np.ones(X.shape[1])
        self.mean_, self.scale_ = mean, scale
        self.model_ = _native.vae_fit(self._standardised(X), settings_json(self))
        return self

    def _standardised(self, X):
        if self.likelihood != "gaussian":
            return native32(X)
        with np.errstate(invalid="ignore", over="ignore"):  # NaN and inf are refused natively
            return native32((X - self.mean_) / self.scale_)

    def transform(self, X):
        """Posterior means ``E_q[z | x]`` (one-hot modes for categorical latents)."""
        check_is_fitted(self)
        X = as_matrix(self, X, reset=False)
        return _native.vae_transform(self.model_, self._standardised(X)).astype(X.dtype, copy=False)

    def score_samples(self, X):
        """Importance-weighted lower bound on ``ln p(x)`` per sample, nats, with
        ``n_importance_samples`` samples drawn from a stream keyed by the sample itself."""
        check_is_fitted(self)
        X = as_matrix(self, X, reset=False)
        seed = 0 if self.random_state is None else seed_of(self.random_state)
        bound = _native.vae_score_samples(
            self.model_, self._standardised(X), int(self.n_importance_samples), seed
        )
        # The density of the standardised data, back in data units.
        return bound - np.log(self.scale_).sum()

    def score(self, X, y=None):
        """Mean of ``score_samples``: nats per sample."""
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples=1, *, random_state=None):
        """``n_samples`` draws of ``E[x | z]``, ``z`` from the prior, in data units."""
        check_is_fitted(self)
        seed = seed_of(self.random_state if random_state is None else random_state)
        x = _native.vae_sample(self.model_, int(n_samples), seed).astype(np.float64)
        return x * self.scale_ + self.mean_

    def save(self, path, *, data="digits", binarize="threshold"):
        """Write the fitted model as a run directory at ``path`` (new or empty) that
        ``helmholtz vae eval|sample|encode`` open; ``data`` is the data set those commands use
        by default, binarised as ``binarize`` says. Bernoulli likelihood only (a run standardises Gaussian data itself)."""
        from .runs import save_run

        check_is_fitted(self)
        save_run(path, data, binarize, self.model_, settings_json(self))

    @classmethod
    def _from_run(cls, config, model):
        params = config.get("params", config)
        latent = params["model"]["latent"]
        kind = latent["kind"]
        est = cls(
            n_components=latent.get("dim", latent.get("groups")),
            hidden_layer_sizes=tuple(params["model"]["hidden"]),
            latent=kind,
            n_categories=latent.get("classes", 10),
            likelihood=params["model"]["likelihood"],
            learning_rate=params["objective"]["lr"],
            batch_size=params["train"]["batch_size"],
            n_iter=params["train"]["epochs"],
            beta=params["objective"]["beta"],
            random_state=params["train"]["seed"],
        )
        if est.likelihood == "gaussian":
            raise ValueError(
                "likelihood: a Gaussian-likelihood run standardises its data with statistics "
                "the run does not keep; load a Bernoulli VAE run"
            )
        d = params["model"]["input"]
        est.model_ = bytes(model)
        est.n_features_in_ = d
        est.mean_, est.scale_ = np.zeros(d), np.ones(d)
        est.run_config_ = config
        return est
