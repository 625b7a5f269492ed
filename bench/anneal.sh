#!/usr/bin/env bash
# Simulated-annealing benchmark: Max-Cut on random sparse graphs with 1,000 nodes and 3,000
# unit-weight edges (mean degree 6), helmholtz vs dwave-samplers' SimulatedAnnealingSampler
# (the successor of dwave-neal), the same instance file, sweeps, reads, geometric schedule and
# beta range, side by side in one run. dwave-samplers runs its reads on one thread, so
# helmholtz is timed with 1 thread (same work, same threads) and with THREADS.
# Prints seconds, best and mean read energy per instance, then the totals and the time ratio.
#
#   PYTHON=/path/to/venv/bin/python bash bench/anneal.sh   # INSTANCES=5 SWEEPS=1000 READS=100
#
# Needs: a Python with numpy and dwave-samplers (`pip install dwave-samplers`).
source "$(dirname "$0")/common.sh"
INSTANCES=${INSTANCES:-5}
SWEEPS=${SWEEPS:-1000}
READS=${READS:-100}

for seed in $(seq 1 "$INSTANCES"); do
    g="$OUT/g$seed.txt"
    "$PYTHON" bench/anneal_neal.py instance "$g" 1000 6 "$seed"
    for t in 1 "$THREADS"; do
        "$BIN" anneal maxcut "$g" --sweeps "$SWEEPS" --reads "$READS" --seed "$seed" \
            --threads "$t" --out "$OUT/h$seed-$t" --json 2>/dev/null | tail -1 >"$OUT/h$seed-$t.json"
    done
    # The same beta range helmholtz derived (dwave-samplers' own default_beta_range rule).
    read -r b0 b1 < <("$PYTHON" -c 'import json,sys; print(*json.load(open(sys.argv[1]))["beta_range"])' "$OUT/h$seed-1.json")
    "$PYTHON" bench/anneal_neal.py neal "$g" "$SWEEPS" "$READS" "$b0" "$b1" "$seed" >"$OUT/n$seed.json"
done

"$PYTHON" - "$OUT" "$INSTANCES" "$THREADS" "$SWEEPS" "$READS" <<'PY'
import json, sys
out, n, threads, sweeps, reads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
load = lambda name: json.load(open(f"{out}/{name}.json"))
print(f"Max-Cut, G(1000, 3000) unit weights, {sweeps} sweeps x {reads} reads, geometric beta schedule")
print(f"{'instance':>8} | {'helmholtz 1 thr':>26} | {f'helmholtz {threads} thr':>10} | {'dwave-samplers (1 thr)':>26}")
print(f"{'':>8} | {'s':>6} {'best E':>8} {'mean E':>10} | {'s':>10} | {'s':>6} {'best E':>8} {'mean E':>10}")
tot = {"h1": 0.0, "ht": 0.0, "n": 0.0}
wins = [0, 0, 0]
mean_gap = 0.0
for k in range(1, n + 1):
    h1, ht, nl = load(f"h{k}-1"), load(f"h{k}-{threads}"), load(f"n{k}")
    assert h1["best_energy"] == ht["best_energy"], "thread count changed the result"
    tot["h1"] += h1["seconds"]; tot["ht"] += ht["seconds"]; tot["n"] += nl["seconds"]
    d = h1["best_energy"] - nl["best_energy"]
    wins[0 if d < 0 else 1 if d == 0 else 2] += 1
    mean_gap += (h1["mean_energy"] - nl["mean_energy"]) / n
    print(f"{k:>8} | {h1['seconds']:6.3f} {h1['best_energy']:8.0f} {h1['mean_energy']:10.2f} | "
          f"{ht['seconds']:10.3f} | {nl['seconds']:6.3f} {nl['best_energy']:8.0f} {nl['mean_energy']:10.2f}")
print(f"total seconds: helmholtz 1 thread {tot['h1']:.2f}, {threads} threads {tot['ht']:.2f}, "
      f"dwave-samplers {nl['version']} {tot['n']:.2f}")
print(f"speed-up over dwave-samplers: {tot['n'] / tot['h1']:.1f}x (1 thread), {tot['n'] / tot['ht']:.1f}x ({threads} threads)")
print(f"best energy: helmholtz lower on {wins[0]}, equal on {wins[1]}, higher on {wins[2]} of {n} instances; "
      f"mean read energy helmholtz - dwave = {mean_gap:+.2f} (negative: helmholtz better)")
PY
