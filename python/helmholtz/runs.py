"""Run directories and data sets shared with the command line.

``load_run(path)`` returns the fitted estimator of a run directory that ``helmholtz rbm
train`` or ``helmholtz vae train`` wrote; ``estimator.save(path)`` writes a run directory that
``helmholtz rbm eval|sample|transform`` or ``helmholtz vae eval|sample|encode`` open.
``load_data`` gives the data sets the command line trains on.
"""

import json
import os

from . import _native

__all__ = ["load_run", "load_data"]


def load_run(path):
    """The fitted model of the run directory ``path`` as an estimator: runs of ``rbm``
    (``BernoulliRBM``), ``vae`` (``VAE``), ``hm`` (``HelmholtzMachine``), ``bnn`` by Bayes by
    Backprop (``BayesianMLPClassifier`` or ``BayesianMLPRegressor``), ``vb``
    (``BayesianGaussianMixture``) and ``baseline`` (``BernoulliMixture``).

    Its parameters are the closest estimator settings to the run's (a run may use settings the
    estimator has no parameter for, such as a decaying learning rate); the run's whole
    configuration is in ``run_config_``.
    """
    family, config, model = _native.load_run(os.fspath(path))
    config = json.loads(config)
    if family == "rbm":
        from .rbm import BernoulliRBM as cls
    elif family == "vae":
        from .vae import VAE as cls
    elif family == "hm":
        from .hm import HelmholtzMachine as cls
    elif family == "bnn":
        from .bnn import _from_run

        return _from_run(config, model)
    elif family == "vb":
        from .mixture import BayesianGaussianMixture as cls
    else:
        from .baseline import BernoulliMixture as cls
    return cls._from_run(config, model)


def load_data(source="digits", *, binarize="threshold", random_state=0):
    """``(X_train, y_train, X_test, y_test)`` of ``source`` as the command line loads it:
    ``"digits"`` (the embedded 8,000 / 2,000 MNIST digits), ``"fashion-mnist"``, or a path to
    an IDX folder, a ``.csv`` or a ``.npy`` file; intensities in [0, 1] binarised by
    ``binarize`` (``"threshold"``, ``"stochastic"`` or ``"none"``). ``random_state`` seeds the
    stochastic binarisation and the held-out split of a single file."""
    return _native.load_data(str(source), str(binarize), int(random_state))


def save_run(path, data, binarize, model, settings):
    """Write ``model`` (safetensors bytes) of an estimator with ``settings`` as a run."""
    family = "rbm" if "visible" in json.loads(settings) else "vae"
    _native.save_run(os.fspath(path), family, model, settings, str(data), str(binarize))
