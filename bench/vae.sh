#!/usr/bin/env bash
# VAE benchmarks on full Fashion-MNIST (intensities in [0, 1], not binarised), Adam 1e-3, batch
# 128, trained for EPOCHS epochs by helmholtz's host engine and by PyTorch on the CPU with the
# same thread count, side by side in one run; helmholtz's autodiff engine (`--engine tensor`)
# is timed for TENSOR_EPOCHS epochs. Prints the median seconds per epoch (training updates
# only), the ratios, and the test ELBO after the last epoch (nats per example, full test set).
#
# - LATENT=gaussian (default): the seed's VAE, 784-400-20, ReLU, Bernoulli decoder from logits,
#   BCE(sum) + KL; peer bench/vae_torch.py; the test ELBO with one sample per example.
# - LATENT=categorical (bench/gsvae.sh): the Gumbel-Softmax VAE, 784-400-(20 x 10), relaxed
#   samples with tau = max(0.5, exp(-3e-5 t)) annealed per update, BCE(sum) + KL(q || uniform);
#   peer bench/gsvae_torch.py (same model, loss and schedule); the test ELBO with one exact
#   one-hot sample of q per example.
#
#   PYTHON=/path/to/venv/bin/python bash bench/vae.sh    # LATENT=gaussian THREADS=2 EPOCHS=10 TENSOR_EPOCHS=2
#
# Needs: Debian's dataset-fashion-mnist; a Python with torch (see bench/common.sh for the venv).
source "$(dirname "$0")/common.sh"
EPOCHS=${EPOCHS:-10}
TENSOR_EPOCHS=${TENSOR_EPOCHS:-2}
LATENT=${LATENT:-gaussian}
case "$LATENT" in
    gaussian)
        FLAGS=(--latent gaussian:20)
        PEER=vae_torch.py
        TITLE="VAE 784-400-20"
        ;;
    categorical)
        FLAGS=(--latent categorical:20x10 --tau 1 --tau-min 0.5 --anneal-rate 3e-5)
        PEER=gsvae_torch.py
        TITLE="Gumbel-Softmax VAE 784-400-(20x10), tau 1 -> 0.5"
        ;;
    *) echo "LATENT must be gaussian or categorical" >&2; exit 2 ;;
esac

train() { # engine, epochs, dir
    "$BIN" vae train --data fashion-mnist --binarize none --hidden 400 "${FLAGS[@]}" \
        --batch-size 128 --lr 1e-3 --epochs "$2" --engine "$1" --threads "$THREADS" --no-eval \
        --out "$3" >/dev/null 2>&1
}

train auto "$EPOCHS" "$OUT/host"
H=$(median_update_seconds "$OUT/host/metrics.jsonl")
H_ELBO=$("$BIN" vae eval "$OUT/host" --k 1 --threads "$THREADS" --json 2>/dev/null | tail -1)
train tensor "$TENSOR_EPOCHS" "$OUT/tensor"
T=$(median_update_seconds "$OUT/tensor/metrics.jsonl")
TORCH=$(cd bench && "$PYTHON" "$PEER" "$THREADS" "$EPOCHS")

"$PYTHON" - "$H" "$T" "$H_ELBO" "$TORCH" "$THREADS" "$EPOCHS" "$TENSOR_EPOCHS" "$TITLE" <<'PY'
import json, statistics, sys
h, t = float(sys.argv[1]), float(sys.argv[2])
h_elbo, torch = json.loads(sys.argv[3])["test_elbo"], json.loads(sys.argv[4])
threads, epochs, tepochs, title = sys.argv[5:]
p = statistics.median(torch["epoch_seconds"])
print(f"{title}, batch 128, Adam 1e-3, full Fashion-MNIST, {threads} threads, median s/epoch")
print(f"{'implementation':44} {'s/epoch':>8} {'vs PyTorch':>11} {f'test ELBO ({epochs} ep)':>20}")
print(f"{'helmholtz (host engine)':44} {h:8.2f} {p / h:10.2f}x {h_elbo:20.2f}")
print(f"{'helmholtz (burn autodiff, --engine tensor)':44} {t:8.2f} {p / t:10.2f}x {'(' + tepochs + ' epochs timed)':>20}")
print(f"{'PyTorch ' + torch['version']:44} {p:8.2f} {1.0:10.2f}x {torch['test_elbo']:20.2f}")
print(f"host engine vs --engine tensor: {t / h:.2f}x faster; vs PyTorch: {p / h:.2f}x faster")
PY
