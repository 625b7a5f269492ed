"""Bad input from Python raises ValueError with the command line's message (the parameter or
array named as Python spells it), and never crashes the interpreter."""

import numpy as np
import pytest

from helmholtz import VAE, BernoulliRBM
from helmholtz.anneal import SimulatedAnnealingSampler

from conftest import run_cli


def cli_error(cli, tmp_path, *args):
    out = run_cli(cli, *args, check=False)
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line
    return line[len("error: "):]


def python_error(call):
    with pytest.raises(ValueError) as e:
        call()
    message = str(e.value)
    assert "\n" not in message
    return message


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((50, 20)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    bad = x.copy()
    bad[2, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    np.save(tmp_path / "narrow.npy", x[:, :5])
    np.save(tmp_path / "text.npy", np.array([["a", "b"]]))
    return tmp_path, x, bad


def test_negative_learning_rate(cli, files):
    tmp, x, _ = files
    shown = cli_error(cli, tmp, "rbm", "train", "--data", tmp / "x.npy", "--lr", "-1", "--out", tmp / "r")
    got = python_error(lambda: BernoulliRBM(learning_rate=-1).fit(x))
    assert got == shown.replace("--lr", "learning_rate")
    got = python_error(lambda: VAE(learning_rate=-1, n_iter=1).fit(x))
    assert got == shown.replace("--lr", "learning_rate")


def test_nan(cli, files):
    tmp, _, bad = files
    shown = cli_error(cli, tmp, "rbm", "train", "--data", tmp / "nan.npy", "--out", tmp / "r")
    assert shown.startswith(f"{tmp / 'nan.npy'}: ") and "NaN" in shown
    got = python_error(lambda: BernoulliRBM(n_iter=1).fit(bad))
    assert got == "X: " + shown.split(": ", 1)[1]


def test_wrong_number_of_features_at_transform(cli, files):
    tmp, x, _ = files
    run_cli(cli, "rbm", "train", "--data", tmp / "x.npy", "--hidden", 4, "--epochs", 1, "--out", tmp / "run")
    shown = cli_error(cli, tmp, "rbm", "transform", tmp / "run", "--data", tmp / "narrow.npy", "--out", tmp / "h.npy")
    assert shown == f"data `{tmp / 'narrow.npy'}` has 5 features, but the model in {tmp / 'run'} is expecting 20 features as input"
    m = BernoulliRBM(n_components=4, n_iter=1).fit(x)
    got = python_error(lambda: m.transform(x[:, :5]))
    assert got == "X has 5 features, but BernoulliRBM is expecting 20 features as input"


def test_wrong_dtype(cli, files):
    tmp, _, _ = files
    shown = cli_error(cli, tmp, "rbm", "train", "--data", tmp / "text.npy", "--out", tmp / "r")
    got = python_error(lambda: BernoulliRBM(n_iter=1).fit(np.array([["a", "b"]])))
    assert got == "X: " + shown.split(": ", 1)[1]


def test_other_bad_settings_raise_value_error():
    x = np.random.default_rng(0).random((30, 4))
    for bad in (dict(n_components=0), dict(batch_size=0), dict(n_iter=0), dict(k=0),
                dict(method="gibbs"), dict(visible="poisson"), dict(momentum=1.5), dict(random_state=-1)):
        message = python_error(lambda: BernoulliRBM(**bad).fit(x))
        assert message.split(":")[0] in bad, message
    python_error(lambda: VAE(n_iter=1).fit(x * 3))  # Bernoulli decoder: values in [0, 1]
    s = SimulatedAnnealingSampler()
    python_error(lambda: s.sample_ising({0: 1.0}, {}, num_reads=0))
    python_error(lambda: s.sample_ising({0: 1.0}, {}, beta_range=(1.0, -1.0)))
    python_error(lambda: s.sample_ising({0: float("nan")}, {}))
