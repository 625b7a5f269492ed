#!/usr/bin/env bash
# Gumbel-Softmax VAE benchmark (784-400-(20 x 10), batch 128, tau 1 -> 0.5), helmholtz's host
# engine and `--engine tensor` vs PyTorch (bench/gsvae_torch.py): bench/vae.sh with
# LATENT=categorical; see there.
#
#   PYTHON=/path/to/venv/bin/python bash bench/gsvae.sh    # THREADS=2 EPOCHS=10 TENSOR_EPOCHS=2
LATENT=categorical exec bash "$(dirname "$0")/vae.sh"
