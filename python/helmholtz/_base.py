"""What the estimators share: input checks, seeds and dtypes (scikit-learn's conventions)."""

import json
import numbers

import numpy as np

from . import _native

try:
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_array, check_is_fitted
except ImportError as e:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "helmholtz's estimators follow scikit-learn's API and need it: pip install scikit-learn"
    ) from e

__all__ = ["Transformer", "check_is_fitted", "as_matrix", "native32", "seed_of", "settings_json"]


def as_matrix(estimator, X, *, reset, sparse=True):
    """``X`` as a 2-D float array (float32 or float64 kept, anything else as float64).

    Sparse input is made dense (refused when not ``sparse``). NaN and infinity are left for the library to refuse, with the
    message the command line prints; so is a number of features that does not match the fit
    (``reset=False``). With ``reset=True``, sets ``n_features_in_``.
    """
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind is not None and kind in "USVMm":
        # Text, bytes, records and dates: the command line's message for such a .npy file.
        _native.refuse_dtype(X.dtype.str)
    X = check_array(
        X,
        accept_sparse=("csr", "csc", "coo") if sparse else False,
        dtype=(np.float64, np.float32),
        ensure_all_finite=False,
        ensure_min_samples=1,
        ensure_min_features=1,
        estimator=estimator,
    )
    if hasattr(X, "toarray"):
        X = X.toarray()
    if reset:
        estimator.n_features_in_ = X.shape[1]
    else:
        check_is_fitted(estimator)
        _native.check_width(X.shape[1], estimator.n_features_in_, type(estimator).__name__)
    return X


def native32(X):
    """``X`` as the C-contiguous float32 array the library reads (no copy when it already is)."""
    return np.ascontiguousarray(X, dtype=np.float32)


def seed_of(random_state):
    """A 64-bit seed: ``random_state`` itself when it is a non-negative int (the same seed as
    the command line's ``--seed``), else drawn from ``check_random_state(random_state)``."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state: must be non-negative (got {random_state})")
        return int(random_state)
    rs = check_random_state(random_state)
    return int(rs.randint(0, np.iinfo(np.int32).max))


def settings_json(estimator):
    """The estimator's parameters as the JSON its native ``fit`` reads: ``random_state`` made
    a ``seed``, ``verbose`` a flag, numpy scalars plain numbers."""
    params = estimator.get_params()
    params["seed"] = seed_of(params.pop("random_state"))
    params["verbose"] = bool(params["verbose"])
    return json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else list(v))


class Transformer(TransformerMixin, BaseEstimator):
    """A transformer of dense or sparse float input that keeps float32 and float64."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
