#!/usr/bin/env bash
# RBM benchmark: one epoch of CD-1 on full Fashion-MNIST (60,000 x 784, 500 hidden, batch 100,
# lr 0.05), helmholtz vs the same RBM in PyTorch and vs scikit-learn's BernoulliRBM (which runs
# PCD-1), side by side in one run with the same thread count. Prints seconds per epoch (median
# over EPOCHS epochs) and the ratios.
#
#   bash bench/rbm.sh                 # THREADS=2 EPOCHS=3 PYTHON=python3
#   PYTHON=/path/to/venv/bin/python THREADS=2 bash bench/rbm.sh
#
# Needs: Debian's dataset-fashion-mnist; a Python with torch, scikit-learn and threadpoolctl.
source "$(dirname "$0")/common.sh"
EPOCHS=${EPOCHS:-3}

helmholtz_epoch() { # $1 = --cd or --pcd
    "$BIN" rbm train --data fashion-mnist "$1" --cd-k 1 --hidden 500 --batch-size 100 --lr 0.05 \
        --lr-schedule constant --momentum 0 --initial-momentum 0 --weight-decay 0 --binarize none \
        --epochs "$EPOCHS" --sample-steps 1 --no-eval --threads "$THREADS" --out "$OUT/$1" >/dev/null 2>&1
    # update_seconds: time in the mini-batch updates of each epoch (metrics and pictures excluded).
    median_update_seconds "$OUT/$1/metrics.jsonl"
}

H_CD=$(helmholtz_epoch --cd)
H_PCD=$(helmholtz_epoch --pcd)
TORCH=$("$PYTHON" bench/rbm_torch.py "$THREADS" "$EPOCHS")
SKL=$("$PYTHON" bench/rbm_sklearn.py "$THREADS" "$EPOCHS")

"$PYTHON" - "$H_CD" "$H_PCD" "$TORCH" "$SKL" "$THREADS" <<'PY'
import json, statistics, sys
h_cd, h_pcd = float(sys.argv[1]), float(sys.argv[2])
torch, skl, threads = json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
t = statistics.median(torch["epoch_seconds"])
s = statistics.median(skl["epoch_seconds"])
print(f"RBM 784-500, batch 100, lr 0.05, full Fashion-MNIST, {threads} threads, median s/epoch")
print(f"{'implementation':44} {'s/epoch':>8} {'helmholtz speed-up':>19}")
print(f"{'helmholtz CD-1':44} {h_cd:8.2f}")
print(f"{'PyTorch ' + torch['version'] + ' CD-1':44} {t:8.2f} {t / h_cd:18.2f}x")
print(f"{'helmholtz PCD-1':44} {h_pcd:8.2f}")
print(f"{'scikit-learn ' + skl['version'] + ' BernoulliRBM (PCD-1)':44} {s:8.2f} {s / h_pcd:18.2f}x (vs helmholtz PCD-1), {s / h_cd:.2f}x (vs CD-1)")
PY
