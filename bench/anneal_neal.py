"""Simulated annealing benchmark helpers for bench/anneal.sh.

    python anneal_neal.py instance FILE NODES DEGREE SEED   # write a random Max-Cut edge list
    python anneal_neal.py neal FILE SWEEPS READS B0 B1 SEED  # run dwave-samplers, print JSON

The instance is G(n, m) with m = n * degree / 2 distinct unit-weight edges drawn with numpy's
PCG64 from SEED, written as `i j w` lines under an `n m` header; both sides read this file.
Max-Cut maps to the Ising problem E(s) = sum_(i,j) w_ij s_i s_j (J = w, h = 0), dimod's SPIN
convention, so the energies of helmholtz and dwave-samplers compare directly.
"""

import json
import sys
import time

import numpy as np


def write_instance(path, nodes, degree, seed):
    rng = np.random.default_rng(seed)
    m = round(nodes * degree / 2)
    edges = set()
    while len(edges) < m:
        i, j = (int(v) for v in rng.integers(0, nodes, size=2))
        if i != j:
            edges.add((min(i, j), max(i, j)))
    with open(path, "w") as f:
        f.write(f"# random Max-Cut instance: G(n={nodes}, m={m}), unit weights, numpy seed {seed}\n")
        f.write(f"{nodes} {m}\n")
        for i, j in sorted(edges):
            f.write(f"{i} {j} 1\n")


def read_bqm(path):
    import dimod

    quadratic = {}
    nodes = None
    header_seen = False
    with open(path) as f:
        for line in f:
            fields = line.split("#")[0].split()
            if not fields:
                continue
            if len(fields) == 2 and not header_seen:
                nodes = int(fields[0])
                header_seen = True
                continue
            header_seen = True
            i, j, w = int(fields[0]), int(fields[1]), float(fields[2])
            key = (min(i, j), max(i, j))
            quadratic[key] = quadratic.get(key, 0.0) + w
    linear = {v: 0.0 for v in range(nodes)}
    return dimod.BinaryQuadraticModel(linear, quadratic, 0.0, dimod.SPIN)


def run_neal(path, sweeps, reads, b0, b1, seed):
    import dwave.samplers
    from dwave.samplers.sa.sampler import default_beta_range

    bqm = read_bqm(path)
    sampler = dwave.samplers.SimulatedAnnealingSampler()
    start = time.perf_counter()
    result = sampler.sample(bqm, num_reads=reads, num_sweeps=sweeps, beta_range=[b0, b1],
                            beta_schedule_type="geometric", seed=seed)
    seconds = time.perf_counter() - start
    energies = result.record.energy
    print(json.dumps({
        "version": dwave.samplers.__version__,
        "seconds": seconds,
        "best_energy": float(energies.min()),
        "mean_energy": float(energies.mean()),
        "hits": int((energies == energies.min()).sum()),
        "default_beta_range": [float(b) for b in default_beta_range(bqm)],
    }))


if __name__ == "__main__":
    if sys.argv[1] == "instance":
        write_instance(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "neal":
        run_neal(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]),
                 float(sys.argv[6]), int(sys.argv[7]))
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
