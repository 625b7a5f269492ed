import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

from helmholtz import BernoulliMixture

# scikit-learn's checks fit on values like 3 * uniform or 100 + normal: a Bernoulli model
# refuses data outside [0, 1] (ValueError naming the value), so these checks cannot pass; every
# other check must.
OUTSIDE_UNIT_INTERVAL = {
    name: "feeds values outside [0, 1], which a Bernoulli mixture refuses"
    for name in (
        "check_estimators_dtypes", "check_pipeline_consistency", "check_estimators_pickle",
        "check_array_api_input", "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance", "check_methods_subset_invariance",
        "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
        "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
        "check_fit2d_predict1d", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
    )
}


def test_check_estimator_passes_every_check_that_feeds_binary_data():
    results = check_estimator(BernoulliMixture(n_components=2), on_fail=None,
                              expected_failed_checks=OUTSIDE_UNIT_INTERVAL)
    bad = [(r["check_name"], r["status"]) for r in results if r["status"] not in ("passed", "xfail")]
    assert bad == []
    assert sum(r["status"] == "passed" for r in results) >= 15


def test_em_recovers_two_prototypes_and_the_likelihood_is_exact(binary_data):
    m = BernoulliMixture(n_components=2, random_state=0).fit(binary_data)
    assert sorted(np.round(m.weights_, 1)) == pytest.approx([0.5, 0.5], abs=0.1)
    # Exact ln p(x) from the fitted parameters, by hand.
    lp = (binary_data[:, None, :] * np.log(m.means_) + (1 - binary_data[:, None, :]) * np.log(1 - m.means_)).sum(-1)
    want = np.logaddexp.reduce(lp + np.log(m.weights_), axis=1)
    np.testing.assert_allclose(m.score_samples(binary_data), want, atol=1e-8)
    np.testing.assert_allclose(m.predict_proba(binary_data).sum(axis=1), 1.0)
    assert np.all(np.diff(m.objective_) > -1e-9)  # EM never lowers its objective
    Xs, ys = m.sample(20, random_state=1)
    assert Xs.shape == (20, 12) and set(np.unique(Xs)) <= {0.0, 1.0}
