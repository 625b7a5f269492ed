#!/usr/bin/env bash
# Bayes by Backprop benchmark: a 784-400-400-10 ReLU classifier with Gaussian weight posteriors
# and Blundell's scale-mixture prior, Adam 1e-3, batch 100, on the embedded training digits,
# trained by helmholtz (host kit, and burn autodiff with --engine tensor) and by PyTorch
# (bench/bbb_torch.py) with the same thread count, side by side in one run; both local
# reparameterisation and weight sampling. Prints the median seconds per epoch (updates only)
# and the ratios.
#
#   PYTHON=/path/to/venv/bin/python bash bench/bbb.sh     # THREADS=2 EPOCHS=5 TENSOR_EPOCHS=2
#
# Needs: a Python with torch (see bench/common.sh for the venv).
source "$(dirname "$0")/common.sh"
EPOCHS=${EPOCHS:-5}
TENSOR_EPOCHS=${TENSOR_EPOCHS:-2}

train() { # engine, epochs, dir, extra flags
    "$BIN" bnn train --example digits --method bbb --epochs "$2" --engine "$1" \
        --threads "$THREADS" --no-eval --out "$3" ${4:-} >/dev/null 2>&1
}

for mode in local weights; do
    flag=""; local=1
    if [ "$mode" = weights ]; then flag="--no-local-reparam"; local=0; fi
    train auto "$EPOCHS" "$OUT/host-$mode" "$flag"
    H=$(median_update_seconds "$OUT/host-$mode/metrics.jsonl")
    train tensor "$TENSOR_EPOCHS" "$OUT/tensor-$mode" "$flag"
    T=$(median_update_seconds "$OUT/tensor-$mode/metrics.jsonl")
    TORCH=$(cd bench && "$PYTHON" bbb_torch.py "$THREADS" "$EPOCHS" "$local")
    "$PYTHON" - "$H" "$T" "$TORCH" "$THREADS" "$mode" <<'PY'
import json, statistics, sys
h, t, torch = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
threads, mode = sys.argv[4:]
p = statistics.median(torch["epoch_seconds"])
what = "local reparameterisation" if mode == "local" else "weight sampling"
print(f"BBB 784-400-400-10, mixture prior, {what}, batch 100, {torch['examples']} digits, {threads} threads")
print(f"  {'helmholtz (host kit)':42} {h:7.3f} s/epoch  {p / h:5.2f}x PyTorch  {t / h:5.2f}x tensor")
print(f"  {'helmholtz (burn autodiff, --engine tensor)':42} {t:7.3f} s/epoch  {p / t:5.2f}x PyTorch")
print(f"  {'PyTorch ' + torch['version']:42} {p:7.3f} s/epoch")
PY
done
