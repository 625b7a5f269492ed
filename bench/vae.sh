#!/usr/bin/env bash
# VAE benchmark: the seed's VAE (784-400-20, ReLU, Bernoulli decoder from logits, BCE(sum) + KL,
# Adam 1e-3, batch 128) on full Fashion-MNIST (intensities in [0, 1], not binarised), trained
# for EPOCHS epochs by helmholtz and by PyTorch on the CPU with the same thread count, side by
# side in one run. Prints the median seconds per epoch (training updates only), the ratio, and
# the test ELBO after the last epoch (one sample per example, nats per example, full test set).
# helmholtz's autodiff engine (`--engine tensor`) is timed for TENSOR_EPOCHS epochs as well.
#
#   PYTHON=/path/to/venv/bin/python bash bench/vae.sh    # THREADS=2 EPOCHS=10 TENSOR_EPOCHS=2
#
# Needs: Debian's dataset-fashion-mnist; a Python with torch.
source "$(dirname "$0")/common.sh"
EPOCHS=${EPOCHS:-10}
TENSOR_EPOCHS=${TENSOR_EPOCHS:-2}

train() { # engine, epochs, dir
    "$BIN" vae train --data fashion-mnist --binarize none --hidden 400 --latent gaussian:20 \
        --batch-size 128 --lr 1e-3 --epochs "$2" --engine "$1" --threads "$THREADS" --no-eval \
        --out "$3" >/dev/null 2>&1
}
median_update() {
    median_update_seconds "$1/metrics.jsonl"
}

train auto "$EPOCHS" "$OUT/host"
H=$(median_update "$OUT/host")
H_ELBO=$("$BIN" vae eval "$OUT/host" --k 1 --threads "$THREADS" --json 2>/dev/null | tail -1)
train tensor "$TENSOR_EPOCHS" "$OUT/tensor"
T=$(median_update "$OUT/tensor")
TORCH=$(cd bench && "$PYTHON" vae_torch.py "$THREADS" "$EPOCHS")

"$PYTHON" - "$H" "$T" "$H_ELBO" "$TORCH" "$THREADS" "$EPOCHS" "$TENSOR_EPOCHS" <<'PY'
import json, statistics, sys
h, t = float(sys.argv[1]), float(sys.argv[2])
h_elbo, torch = json.loads(sys.argv[3])["test_elbo"], json.loads(sys.argv[4])
threads, epochs, tepochs = sys.argv[5:]
p = statistics.median(torch["epoch_seconds"])
print(f"VAE 784-400-20, batch 128, Adam 1e-3, full Fashion-MNIST, {threads} threads, median s/epoch")
print(f"{'implementation':40} {'s/epoch':>8} {'vs PyTorch':>11} {f'test ELBO ({epochs} ep)':>20}")
print(f"{'helmholtz (host engine)':40} {h:8.2f} {p / h:10.2f}x {h_elbo:20.2f}")
print(f"{'helmholtz (burn autodiff, --engine tensor)':40} {t:8.2f} {p / t:10.2f}x {'(' + tepochs + ' epochs timed)':>20}")
print(f"{'PyTorch ' + torch['version']:40} {p:8.2f} {1.0:10.2f}x {torch['test_elbo']:20.2f}")
PY
