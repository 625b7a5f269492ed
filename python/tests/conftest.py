"""Shared fixtures. scikit-learn's array-API check runs only when SCIPY_ARRAY_API is set
before scipy is first imported, so it is set here: check_estimator then skips nothing."""

import os
import pathlib
import shutil
import subprocess

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    """The `helmholtz` command line built by `cargo test` / `cargo build` (debug or release)."""
    for candidate in (
        os.environ.get("HELMHOLTZ_CLI"),
        ROOT / "target" / "debug" / "helmholtz",
        ROOT / "target" / "release" / "helmholtz",
        shutil.which("helmholtz"),
    ):
        if candidate and pathlib.Path(candidate).is_file():
            return str(candidate)
    pytest.fail("no helmholtz binary: run `cargo build -p helmholtz-cli` first or set HELMHOLTZ_CLI")


def run_cli(cli, *args, check=True):
    """Run the command line; returns the completed process (text)."""
    out = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"{args} exited {out.returncode}: {out.stderr}")
    return out


@pytest.fixture
def binary_data():
    """200 x 12 binary samples from a two-prototype mixture with 10% flips (seeded)."""
    rng = np.random.default_rng(0)
    protos = np.array([[1] * 6 + [0] * 6, [0] * 6 + [1] * 6], dtype=np.float64)
    x = protos[rng.integers(0, 2, 200)]
    flip = rng.random(x.shape) < 0.1
    return np.where(flip, 1 - x, x)
