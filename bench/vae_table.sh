#!/usr/bin/env bash
# The README's VAE comparison: a Gaussian VAE (20 latent dimensions), a Gumbel-Softmax VAE
# (20 categoricals x 10 classes) and its straight-through variant, each trained with the same
# settings on the same data (default: the embedded digits, thresholded), then evaluated with
# the same importance-weighted bound. Prints a Markdown table of test ELBO and IW NLL in nats.
#
#   bash bench/vae_table.sh                 # DATA=digits EPOCHS=50 K=1000 THREADS=2
source "$(dirname "$0")/common.sh"
DATA=${DATA:-digits}
EPOCHS=${EPOCHS:-50}
K=${K:-1000}

run() { # name, flags...
    local name=$1
    shift
    "$BIN" vae train --data "$DATA" --epochs "$EPOCHS" --threads "$THREADS" --eval-k "$K" \
        --out "$OUT/$name" --json "$@" 2>/dev/null | tail -1 >"$OUT/$name.json"
}

run gaussian --latent gaussian:20
run gumbel --latent categorical:20x10
run straight --latent categorical:20x10 --straight-through

python3 - "$OUT" "$DATA" "$EPOCHS" "$K" <<'PY'
import json, sys
out, data, epochs, k = sys.argv[1:]
rows = [("Gaussian VAE, z in R^20", "gaussian"),
        ("Gumbel-Softmax VAE, 20 x 10 categorical", "gumbel"),
        ("Gumbel-Softmax straight-through, 20 x 10", "straight")]
print(f"Test bounds on `{data}` after {epochs} epochs (784-400 MLPs, Adam 1e-3, batch 128), nats per example:\n")
print("| model | test ELBO | IW NLL (k = %s) |" % k)
print("| --- | ---: | ---: |")
for label, name in rows:
    ev = json.load(open(f"{out}/{name}.json"))["eval"]
    print(f"| {label} | {ev['test_elbo']:.2f} ± {ev['test_elbo_se']:.2f} | "
          f"{ev['test_nll_iw']:.2f} ± {ev['test_nll_iw_se']:.2f} |")
PY
