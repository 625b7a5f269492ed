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
