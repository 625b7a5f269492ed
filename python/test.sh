#!/usr/bin/env bash
# Build the wheel (the dev profile, whose dependencies `cargo test` has already built with
# opt-level 3), install it into a fresh virtualenv with the test dependencies from PyPI, and
# run the pytest suite. The tests call the command line too (target/debug/helmholtz).
#
#   bash python/test.sh            # VENV=/path reuses a virtualenv; PYTEST_ARGS="-k rbm"
set -euo pipefail
cd "$(dirname "$0")/.."
# `cargo test --workspace` builds the command line; build it only when it is missing (a
# separate `cargo build -p` resolves features differently and rebuilds the dependencies).
[ -x target/debug/helmholtz ] || cargo build -q -p helmholtz-cli
VENV=${VENV:-$(mktemp -d)/venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "maturin>=1.5,<2" numpy scikit-learn pandas dimod pytest
rm -rf target/wheels
"$VENV/bin/maturin" build -q --profile dev -m python/Cargo.toml -o target/wheels
"$VENV/bin/pip" install -q --force-reinstall --no-deps target/wheels/helmholtz-*.whl
# From the repository root, so that `import helmholtz` finds the installed wheel, not the
# sources in python/helmholtz (which lack the compiled module).
"$VENV/bin/python" -m pytest -q python/tests ${PYTEST_ARGS:-}
