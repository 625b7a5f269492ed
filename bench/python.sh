#!/usr/bin/env bash
# helmholtz's Python package side by side with the Python libraries it replaces: the same data,
# the same settings and the same thread count, each run in a process of its own
# (bench/python_peers.py). Prints a table per section with PASS/FAIL lines, then every number
# as one JSON line; exits 1 if any check fails.
#
# (a) helmholtz.BernoulliRBM vs sklearn.neural_network.BernoulliRBM: Fashion-MNIST train
#     (RBM_N images, float32 in [0, 1]), scikit-learn's defaults (256 hidden, lr 0.1, batch 10,
#     PCD-1), n_iter=RBM_EPOCHS, random_state=0. Seconds per epoch (fit wall time / n_iter);
#     PASS if helmholtz is >= 2x faster. The test-set (t10k) pseudo-likelihood of both models
#     with one estimator (scikit-learn's score_samples, random_state=0, on a scikit-learn RBM
#     holding each model's parameters); PASS if the means differ by <= 3 combined standard
#     errors. helmholtz's own (deterministic) score_samples is printed for its model, and
#     scikit-learn is also timed on 1 BLAS thread for information (its batch-10 matrix products
#     are too small to gain from threads and slow down badly when the cores are shared).
# (b) helmholtz.anneal.SimulatedAnnealingSampler vs dwave.samplers.SimulatedAnnealingSampler:
#     INSTANCES random Ising problems (the 1,000-node, 3,000-edge graphs of bench/anneal.sh,
#     couplings +-1 of random sign, no fields), sample_ising with num_reads=READS,
#     num_sweeps=SWEEPS, a geometric schedule over dwave-samplers' default beta range, seed =
#     instance. dwave-samplers runs its reads on one thread: helmholtz is timed on 1 thread and
#     on THREADS. PASS if helmholtz on 1 thread is >= 5x faster and its mean read energy is no
#     higher than dwave-samplers' + 3 standard errors (and its reads do not depend on threads).
# (c) helmholtz.VAE vs the PyTorch VAE of bench/vae_torch.py: 784-400-20, Bernoulli decoder,
#     Adam 1e-3, batch 128, full Fashion-MNIST, VAE_EPOCHS epochs. Seconds per epoch (helmholtz:
#     fit wall time / n_iter, which includes its per-epoch metrics; PyTorch: mean of its update
#     loops); PASS if helmholtz is at least as fast. Test ELBO (one sample) for both.
#
#   PYTHON=/work/benchenv/bin/python THREADS=2 bash bench/python.sh
#   # knobs (defaults): THREADS=2 RBM_EPOCHS=2 RBM_N=60000 VAE_EPOCHS=3 READS=100 SWEEPS=1000
#   #                   INSTANCES=3 SECTIONS="rbm anneal vae"
#
# The virtualenv:
#   python3 -m venv /work/benchenv
#   /work/benchenv/bin/pip install numpy scikit-learn torch dimod dwave-samplers threadpoolctl
#   /work/benchenv/bin/pip install ./python     # or: cd python && maturin develop --release
# (with the venv active for maturin). Needs Debian's dataset-fashion-mnist.
#
# Unlike the other benches this one does not source bench/common.sh: it needs no command-line
# binary (common.sh builds one with cargo), only the installed package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-python3}
RBM_EPOCHS=${RBM_EPOCHS:-2}
RBM_N=${RBM_N:-60000}
VAE_EPOCHS=${VAE_EPOCHS:-3}
READS=${READS:-100}
SWEEPS=${SWEEPS:-1000}
INSTANCES=${INSTANCES:-3}
SECTIONS=${SECTIONS:-rbm anneal vae}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

peers() { "$PYTHON" bench/python_peers.py "$@"; }
step() { echo "python.sh: $*" >&2; }

for section in $SECTIONS; do
    case "$section" in
        rbm)
            step "(a) BernoulliRBM: helmholtz ($THREADS threads, $RBM_EPOCHS epochs, $RBM_N images)"
            peers rbm helmholtz "$THREADS" "$RBM_EPOCHS" "$RBM_N" "$OUT/rbm_helmholtz.npz" >"$OUT/rbm_helmholtz.json"
            step "(a) BernoulliRBM: scikit-learn"
            peers rbm sklearn "$THREADS" "$RBM_EPOCHS" "$RBM_N" "$OUT/rbm_sklearn.npz" >"$OUT/rbm_sklearn.json"
            if [ "$THREADS" != 1 ]; then
                # For information: tiny BLAS calls (batch 10) may run faster on one thread.
                step "(a) BernoulliRBM: scikit-learn on 1 BLAS thread (information only)"
                peers rbm sklearn 1 "$RBM_EPOCHS" "$RBM_N" "$OUT/rbm_sklearn1.npz" >"$OUT/rbm_sklearn1.json"
            fi
            peers rbm-score "$THREADS" "$OUT/rbm_helmholtz.npz" "$OUT/rbm_sklearn.npz" >"$OUT/rbm_score.json"
            ;;
        anneal)
            step "(b) annealing: $INSTANCES instances, $READS reads x $SWEEPS sweeps"
            peers anneal-instances "$OUT" "$INSTANCES"
            for t in $(printf '%s\n' 1 "$THREADS" | sort -un); do
                peers anneal helmholtz "$t" "$OUT" "$INSTANCES" "$READS" "$SWEEPS" >"$OUT/anneal_helmholtz$t.json"
            done
            peers anneal dwave 1 "$OUT" "$INSTANCES" "$READS" "$SWEEPS" >"$OUT/anneal_dwave.json"
            ;;
        vae)
            step "(c) VAE: helmholtz ($THREADS threads, $VAE_EPOCHS epochs)"
            peers vae "$THREADS" "$VAE_EPOCHS" >"$OUT/vae_helmholtz.json"
            step "(c) VAE: PyTorch"
            (cd bench && "$PYTHON" vae_torch.py "$THREADS" "$VAE_EPOCHS") >"$OUT/vae_torch.json"
            ;;
        *) echo "SECTIONS: unknown section $section (rbm, anneal, vae)" >&2; exit 2 ;;
    esac
done

echo
peers report "$OUT" "$THREADS"
