# Set-up shared by the benchmark scripts (sourced, not run): the repository root as the working
# directory, THREADS and PYTHON, a temporary OUT folder removed on exit, and the release binary
# BIN. The peers come from PyPI into a virtualenv, e.g.
#
#   python3 -m venv /work/benchenv
#   /work/benchenv/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch
#   /work/benchenv/bin/pip install scikit-learn threadpoolctl pyro-ppl dwave-samplers numpy
#   PYTHON=/work/benchenv/bin/python bash bench/<name>.sh
#
# (where only PyPI is reachable, `pip install torch` installs the CPU wheel from PyPI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-python3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cargo build --release -q -p helmholtz-cli
BIN=target/release/helmholtz

# Median of `update_seconds` over the epochs of a run's metrics.jsonl ($1).
median_update_seconds() {
    "$PYTHON" -c 'import json,statistics,sys; print(statistics.median(json.loads(l)["update_seconds"] for l in open(sys.argv[1])))' "$1"
}
