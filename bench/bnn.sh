#!/usr/bin/env bash
# BNN benchmark: the seed's Bayesian linear regression (w ~ N(0,1), b ~ N(0,10^2),
# sigma ~ U(0,10); 100 points of y = 3x + 2 + 0.5 eps), SVI with a mean-field Gaussian guide,
# Adam(0.01), STEPS steps, one thread: Pyro (bench/bnn_pyro.py, the seed's program) vs
# `helmholtz bnn train --method svi` on the same CSV, side by side: seconds of SVI and the
# posterior means / standard deviations from 1000 guide draws.
#
#   PYTHON=/path/to/venv/bin/python bash bench/bnn.sh     # STEPS=1000
#
# Needs: a Python with torch and pyro-ppl.
source "$(dirname "$0")/common.sh"
STEPS=${STEPS:-1000}

# The seed's data, written once by helmholtz (runs/<run>/data.csv) and read by both.
"$BIN" bnn train --example seed --steps 1 --out "$OUT/data" >/dev/null
H=$("$BIN" bnn train --data "$OUT/data/data.csv" --target y --test-fraction 0 \
    --steps "$STEPS" --threads 1 --json --out "$OUT/h" | tail -1)
P=$(cd bench && "$PYTHON" bnn_pyro.py "$OUT/data/data.csv" "$STEPS")

"$PYTHON" - "$H" "$P" "$STEPS" <<'PY'
import json, sys
h, p, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"seed's Bayesian regression, SVI (AutoDiagonalNormal), {steps} steps, 1 thread")
print(f"{'':22} {'seconds':>9} {'slope':>16} {'intercept':>16} {'sigma':>16}")
# helmholtz's summary: {"train_seconds", "eval": {"posterior": [{"name", "mean", "std"}, ..]}}
h = {"seconds": h["train_seconds"],
     **{f"{s['name']}_{k}": s[k] for s in h["eval"]["posterior"] for k in ("mean", "std")}}
for name, r in [("helmholtz", h), ("Pyro " + p["version"], p)]:
    cells = "".join(f" {r[k + '_mean']:8.4f}±{r[k + '_std']:.4f}" for k in ("slope", "intercept", "sigma"))
    print(f"{name:22} {r['seconds']:9.4f}{cells}")
print(f"helmholtz is {p['seconds'] / h['seconds']:.0f}x faster")
PY
