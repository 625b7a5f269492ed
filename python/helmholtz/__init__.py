"""helmholtz: probabilistic generative models fitted by minimising a free energy.

The estimators follow scikit-learn's conventions (``fit``, ``transform``, ``score_samples``,
``get_params``/``set_params``, fitted attributes with a trailing underscore, ``random_state``)
and the sampler follows dimod's, so that helmholtz can replace a slower peer by changing one
import::

    from helmholtz import BernoulliRBM          # was: from sklearn.neural_network import ...
    from helmholtz.anneal import SimulatedAnnealingSampler  # was: from dwave.samplers import ...

The work runs in Rust (``helmholtz._native``) with the GIL released; Ctrl-C stops a long fit
after its current mini-batch and raises ``KeyboardInterrupt``. Bad input raises ``ValueError``
with the message the ``helmholtz`` command line prints.

The estimators need scikit-learn (``pip install scikit-learn``); the sampler needs only numpy
and returns a ``dimod.SampleSet`` when dimod is installed.
"""

from ._native import __version__
from . import anneal
from .runs import load_data, load_run

__all__ = [
    "BayesianGaussianMixture",
    "BayesianMLP",
    "BayesianMLPClassifier",
    "BayesianMLPRegressor",
    "BernoulliMixture",
    "BernoulliRBM",
    "HelmholtzMachine",
    "VAE",
    "anneal",
    "load_data",
    "load_run",
    "__version__",
]


def __getattr__(name):
    # The estimators import scikit-learn; load them on first use so that the sampler works
    # without it.
    if name == "BernoulliRBM":
        from .rbm import BernoulliRBM

        return BernoulliRBM
    if name == "BayesianGaussianMixture":
        from .mixture import BayesianGaussianMixture

        return BayesianGaussianMixture
    if name in ("BayesianMLP", "BayesianMLPClassifier", "BayesianMLPRegressor"):
        from . import bnn

        return getattr(bnn, name)
    if name == "BernoulliMixture":
        from .baseline import BernoulliMixture

        return BernoulliMixture
    if name == "HelmholtzMachine":
        from .hm import HelmholtzMachine

        return HelmholtzMachine
    if name == "VAE":
        from .vae import VAE

        return VAE
    raise AttributeError(f"module 'helmholtz' has no attribute {name!r}")
