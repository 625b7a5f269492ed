"""Runs made by the command line load and score the same numbers from Python, and runs saved
from Python open in the command line."""

import json

import numpy as np
import pytest

import helmholtz
from helmholtz import VAE, BernoulliRBM

from conftest import run_cli


def last_json(out):
    """The JSON line a `--json` command prints (its evaluation under "eval" after training)."""
    report = json.loads(out.stdout.strip().splitlines()[-1])
    return report.get("eval", report)


def test_a_cli_rbm_run_scores_the_same_numbers_in_python(cli, tmp_path):
    out = run_cli(cli, "--json", "--out", tmp_path / "run", "rbm", "train", "--hidden", 10, "--epochs", 1)
    report = last_json(out)
    model = helmholtz.load_run(tmp_path / "run")
    assert isinstance(model, BernoulliRBM) and model.components_.shape == (10, 784)
    _, _, X_test, _ = helmholtz.load_data("digits")
    ll, kind = model.log_likelihood(X_test)
    assert kind == "exact"
    assert ll.mean() == pytest.approx(report["test_log_likelihood"], rel=1e-6)
    # The codes `rbm transform` writes are Python's transform.
    run_cli(cli, "rbm", "transform", tmp_path / "run", "--out", tmp_path / "h.npy")
    np.testing.assert_allclose(np.load(tmp_path / "h.npy"), model.transform(X_test), atol=1e-6)


def test_a_python_rbm_saved_as_a_run_opens_in_the_cli(cli, tmp_path):
    X, _, X_test, _ = helmholtz.load_data("digits")
    m = BernoulliRBM(n_components=8, n_iter=1, random_state=0).fit(X[:2000])
    m.save(tmp_path / "saved")
    out = run_cli(cli, "--json", "rbm", "eval", tmp_path / "saved")
    report = last_json(out)
    ll, kind = m.log_likelihood(X_test)
    assert ll.mean() == pytest.approx(report["test_log_likelihood"], rel=1e-6)
    back = helmholtz.load_run(tmp_path / "saved")
    np.testing.assert_array_equal(back.components_, m.components_.astype(np.float32))
    with pytest.raises(ValueError, match="not empty"):
        m.save(tmp_path / "saved")


def test_a_cli_vae_run_encodes_and_samples_the_same_in_python(cli, tmp_path):
    run_cli(cli, "--out", tmp_path / "run", "--seed", 3, "vae", "train", "--hidden", 32, "--latent", "gaussian:4", "--epochs", 1, "--no-eval")
    model = helmholtz.load_run(tmp_path / "run")
    assert isinstance(model, VAE) and model.n_features_in_ == 784
    _, _, X_test, _ = helmholtz.load_data("digits")
    run_cli(cli, "vae", "encode", tmp_path / "run", "--out", tmp_path / "z.npy")
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), model.transform(X_test), atol=1e-6)
    saved = tmp_path / "saved"
    model.save(saved)
    run_cli(cli, "vae", "encode", saved, "--out", tmp_path / "z2.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "z2.npy"), np.load(tmp_path / "z.npy"))


def test_cli_runs_of_the_other_families_load_as_their_estimators(cli, tmp_path):
    _, _, X_test, y_test = helmholtz.load_data("digits")
    # baseline: the exact test log-likelihood (the run keeps f32 parameters).
    report = last_json(run_cli(cli, "--json", "--out", tmp_path / "bl", "baseline", "train", "--model", "mixture",
                               "--components", 3, "--restarts", 1))
    m = helmholtz.load_run(tmp_path / "bl")
    assert isinstance(m, helmholtz.BernoulliMixture) and m.weights_.shape == (3,)
    assert m.score(X_test) == pytest.approx(report["test_log_likelihood"], abs=1e-3)
    # vb: the posterior the run wrote, the weights it saved.
    run_cli(cli, "--out", tmp_path / "vb", "vb", "gmm", "--example", "mixture2d", "--components", 6)
    g = helmholtz.load_run(tmp_path / "vb")
    assert isinstance(g, helmholtz.BayesianGaussianMixture)
    np.testing.assert_allclose(g.weights_, np.load(tmp_path / "vb" / "weights.npy"), atol=1e-12)
    assert g.predict(np.zeros((1, 2))).shape == (1,)
    # hm: the machine's bound on the test set, within noise of the run's own.
    report = last_json(run_cli(cli, "--json", "--out", tmp_path / "hm", "hm", "train", "--layers", 8, "--epochs", 1,
                               "--eval-k", 50))
    h = helmholtz.load_run(tmp_path / "hm").set_params(n_importance_samples=50)
    assert isinstance(h, helmholtz.HelmholtzMachine)
    bound = h.score_samples(X_test)
    # The same bound (k = 50) on the same test set, from other sample streams.
    assert bound.mean() == pytest.approx(report["test_log_likelihood"], abs=0.2)
    # bnn (Bayes by Backprop on the digits): a classifier with the run's accuracy.
    report = last_json(run_cli(cli, "--json", "--out", tmp_path / "bnn", "bnn", "train", "--example", "digits",
                               "--method", "bbb", "--hidden", 32, "--epochs", 1))
    c = helmholtz.load_run(tmp_path / "bnn")
    assert isinstance(c, helmholtz.BayesianMLPClassifier)
    accuracy = (c.predict(X_test) == y_test).mean()
    held_out = report.get("held_out", report)
    assert accuracy == pytest.approx(held_out["accuracy"], abs=0.02)
