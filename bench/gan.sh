#!/usr/bin/env bash
# GAN benchmark: the default MLP GAN (noise 100, G 100-256-512-784 with tanh output, D
# 784-512-256-1 with dropout 0.3, LeakyReLU 0.2, images in [-1, 1], non-saturating loss, k = 1, Adam 2e-4 / beta1 0.5, batch 64) for EPOCHS epochs on full
# Fashion-MNIST, helmholtz vs the same GAN in PyTorch (bench/gan_torch.py), same threads, side
# by side in one run: median seconds per epoch of updates and the ratio. helmholtz's autodiff
# engine (`--engine tensor`) is timed too.
#
#   PYTHON=/path/to/venv/bin/python bash bench/gan.sh     # THREADS=2 EPOCHS=2
#
# Needs: Debian's dataset-fashion-mnist; a Python with torch.
source "$(dirname "$0")/common.sh"
EPOCHS=${EPOCHS:-2}

epoch_seconds() { # engine
    "$BIN" gan train --data fashion-mnist --epochs "$EPOCHS" --batch-size 64 --engine "$1" \
        --threads "$THREADS" --no-eval --out "$OUT/$1" >/dev/null 2>&1
    median_update_seconds "$OUT/$1/metrics.jsonl"
}

H=$(epoch_seconds auto)
T=$(epoch_seconds tensor)
TORCH=$(cd bench && "$PYTHON" gan_torch.py "$THREADS" "$EPOCHS" 64)

"$PYTHON" - "$H" "$T" "$TORCH" "$THREADS" <<'PY'
import json, statistics, sys
h, t, torch, threads = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
p = statistics.median(torch["epoch_seconds"])
print(f"MLP GAN, batch 64, full Fashion-MNIST, {threads} threads, median s/epoch")
print(f"{'implementation':44} {'s/epoch':>8} {'vs PyTorch':>11}")
print(f"{'helmholtz (host engine)':44} {h:8.2f} {p / h:10.2f}x")
print(f"{'helmholtz (burn autodiff, --engine tensor)':44} {t:8.2f} {p / t:10.2f}x")
print(f"{'PyTorch ' + torch['version']:44} {p:8.2f} {1.0:10.2f}x")
PY
