#!/usr/bin/env bash
# Ising benchmark: Metropolis spin flips per second (attempted single-spin updates) on an
# L x L = 1024 x 1024 periodic lattice at Onsager's Tc, h = 0, on 1 and THREADS threads:
# the multi-spin-coded engine (64 spins per u64, the default for L a multiple of 128) and the
# one-spin-per-byte checkerboard engine (any even L, any field), plus Wolff for reference.
#
#   bash bench/ising.sh            # SIZE=1024 SWEEPS=2000 THREADS=2
source "$(dirname "$0")/common.sh"
SIZE=${SIZE:-1024}
SWEEPS=${SWEEPS:-2000}
"$BIN" ising bench --size "$SIZE" --engine multispin --sweeps "$SWEEPS" --thread-counts "1,$THREADS"
"$BIN" ising bench --size "$SIZE" --engine checkerboard --sweeps $((SWEEPS / 20)) --thread-counts "1,$THREADS"
"$BIN" ising bench --size "$SIZE" --engine wolff --sweeps $((SWEEPS / 20)) --thread-counts 1
