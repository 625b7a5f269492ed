#!/usr/bin/env bash
# Discrete active-inference benchmark: `helmholtz aif` vs inferactively-pymdp, on the same model
# files (bench/aif_pymdp.py writes the T-maze variants and a random two-factor model; the grid
# world comes from `helmholtz aif model --env grid`).
#
#  (a) agreement with pymdp's NumPy agent (pymdp.legacy.agent.Agent, the classic API): the
#      posterior over states, the negative expected free energy of every policy, the policy
#      posterior and, with --learn, the updated Dirichlet parameters, after the same
#      observation/action sequence: T-maze steps 0-2 (both cues, policy_len 1 and 2), habits E,
#      a grid-world and a two-factor sequence, marginal message passing (MMP), and learning
#      with novelty on the null-outcome T-maze. PASS: qs within 1e-6, neg_efe and q_pi within
#      1e-5, pA/pB/pD within 1e-12. The T-maze that helmholtz exports must equal pymdp's.
#  (b) exact expectations of a T-maze episode under stochastic action selection (helmholtz
#      --exact vs pymdp enumerated branch by branch; PASS within 1e-6), and how many standard
#      errors a sampled helmholtz run lies from them.
#  (c) speed on one thread: one infer_policies() call (grid with 5/25/125 policies, the
#      two-factor model with 100), helmholtz vs pymdp's NumPy agent and its jit-compiled JAX
#      agent (float64 and float32), then a full T-maze agent step vs pymdp's NumPy agent.
#
#   python3 -m venv /work/benchenv && /work/benchenv/bin/pip install inferactively-pymdp
#   PYTHON=/work/benchenv/bin/python bash bench/aif.sh
#
# (pymdp brings jax.) Sizes: STEPS=3 (episode length for (b)), TRIALS=4000 (sampled run),
# REPEAT=2000 (helmholtz infer_policies calls), NUMPY_REPEAT=20, JAX_REPEAT=500,
# MAX_SECONDS=20 (cap on each pymdp timing loop, at least 3 calls), RUN_TRIALS=2000 and
# PY_STEP_TRIALS=200 (T-maze step timing). Takes a few minutes, most of it pymdp's NumPy agent
# on the two-factor model (seconds per call).
source "$(dirname "$0")/common.sh"
STEPS=${STEPS:-3}
TRIALS=${TRIALS:-4000}
REPEAT=${REPEAT:-2000}
NUMPY_REPEAT=${NUMPY_REPEAT:-20}
JAX_REPEAT=${JAX_REPEAT:-500}
MAX_SECONDS=${MAX_SECONDS:-20}
RUN_TRIALS=${RUN_TRIALS:-2000}
PY_STEP_TRIALS=${PY_STEP_TRIALS:-200}
PY=("$PYTHON" bench/aif_pymdp.py)
M="$OUT/models"

"${PY[@]}" models "$M" >/dev/null
"$BIN" aif model --env grid --out "$M/grid.json" >/dev/null 2>&1
"$BIN" aif model --env tmaze --out "$M/h_tmaze.json" >/dev/null 2>&1
"${PY[@]}" diff-model "$M/tmaze.json" "$M/h_tmaze.json" >"$OUT/export.json"

# Fixed observation/action sequences drawn from the models' own A, B, D (seeded).
read -r -a GRID_SEQ <<<"$("${PY[@]}" trajectory "$M/grid.json" --steps 4 --seed 1)"
read -r -a TWO_SEQ <<<"$("${PY[@]}" trajectory "$M/two_factor.json" --steps 3 --seed 1)"

# ---------------------------------------------------------------- (a) agreement
: >"$OUT/cases"
run_case() { # name model args...
    local name=$1 model=$2
    shift 2
    "$BIN" aif infer "$M/$model" "$@" --json 2>/dev/null | tail -1 >"$OUT/case-$name.h.json" || true
    "${PY[@]}" infer "$M/$model" "$@" >"$OUT/case-$name.p.json"
    echo "$name" >>"$OUT/cases"
}
P=(--gamma 16 --alpha 16)
T0=(--obs 0,0,0)
T1C0=("${T0[@]}" --action 3,0 --obs 3,0,0)
T1C1=("${T0[@]}" --action 3,0 --obs 3,0,1)
for pl in 1 2; do
    run_case "tmaze-t0-pl$pl" tmaze.json "${T0[@]}" --policy-len "$pl" "${P[@]}"
    run_case "tmaze-t1-cue0-pl$pl" tmaze.json "${T1C0[@]}" --policy-len "$pl" "${P[@]}"
    run_case "tmaze-t1-cue1-pl$pl" tmaze.json "${T1C1[@]}" --policy-len "$pl" "${P[@]}"
    run_case "tmaze-t2-cue0-pl$pl" tmaze.json "${T1C0[@]}" --action 1,0 --obs 1,1,0 --policy-len "$pl" "${P[@]}"
    run_case "tmaze-t2-cue1-pl$pl" tmaze.json "${T1C1[@]}" --action 2,0 --obs 2,1,1 --policy-len "$pl" "${P[@]}"
    run_case "tmaze-t2-loss-pl$pl" tmaze.json "${T1C0[@]}" --action 1,0 --obs 1,2,1 --policy-len "$pl" "${P[@]}"
done
run_case tmaze-E-t0-pl1 tmaze_E1.json "${T0[@]}" --policy-len 1 "${P[@]}"
run_case tmaze-E-t1-pl1 tmaze_E1.json "${T1C0[@]}" --policy-len 1 "${P[@]}"
run_case tmaze-E-t0-pl2 tmaze_E2.json "${T0[@]}" --policy-len 2 "${P[@]}"
run_case tmaze-E-t1-pl2 tmaze_E2.json "${T1C1[@]}" --policy-len 2 "${P[@]}"
run_case grid-pl1 grid.json "${GRID_SEQ[@]}" --policy-len 1 "${P[@]}"
run_case grid-pl2 grid.json "${GRID_SEQ[@]}" --policy-len 2 "${P[@]}"
run_case two-factor-pl1 two_factor.json "${TWO_SEQ[@]}" --policy-len 1 "${P[@]}"
run_case mmp-t0-pl1 tmaze.json "${T0[@]}" --policy-len 1 --inference mmp "${P[@]}"
run_case mmp-t1-pl1 tmaze.json "${T1C0[@]}" --policy-len 1 --inference mmp "${P[@]}"
run_case mmp-t2-pl1 tmaze.json "${T1C0[@]}" --action 1,0 --obs 1,1,0 --policy-len 1 --inference mmp "${P[@]}"
run_case learn-t0-pl1 tmaze_null.json "${T0[@]}" --policy-len 1 --learn "${P[@]}"
run_case learn-t1-pl1 tmaze_null.json --obs 0,0,0 --action 3,0 --obs 3,0,1 --policy-len 1 --learn "${P[@]}"
run_case learn-t1-pl2 tmaze_null.json --obs 0,0,0 --action 3,0 --obs 3,0,2 --policy-len 2 --learn \
    --lr-pa 0.5 --lr-pb 2 --lr-pd 1.5 "${P[@]}"

# ---------------------------------------------------------------- (b) exact expectations
"$BIN" aif run --env tmaze --steps "$STEPS" --gamma 1 --alpha 1 --action-selection stochastic \
    --exact --json 2>/dev/null | tail -1 >"$OUT/exact.h.json" || true
"${PY[@]}" enumerate "$M/tmaze.json" --steps "$STEPS" --gamma 1 --alpha 1 >"$OUT/exact.p.json"
"$BIN" aif run --env tmaze --steps "$STEPS" --gamma 1 --alpha 1 --action-selection stochastic \
    --trials "$TRIALS" --seed 1 --json 2>/dev/null | tail -1 >"$OUT/sampled.h.json" || true

# ---------------------------------------------------------------- (c) speed, one thread
GRID_OBS=${GRID_SEQ[1]}
TWO_OBS=${TWO_SEQ[1]}
: >"$OUT/speeds"
speed_case() { # name model obs policy_len
    "$BIN" --threads 1 aif infer "$M/$2" --obs "$3" --policy-len "$4" --repeat "$REPEAT" --json \
        2>/dev/null | tail -1 >"$OUT/speed-$1.h.json" || true
    "${PY[@]}" speed "$M/$2" --obs "$3" --policy-len "$4" --repeat "$NUMPY_REPEAT" \
        --jax-repeat "$JAX_REPEAT" --max-seconds "$MAX_SECONDS" --jax-f32 >"$OUT/speed-$1.p.json"
    echo "$1" >>"$OUT/speeds"
}
for pl in 1 2 3; do speed_case "grid-pl$pl" grid.json "$GRID_OBS" "$pl"; done
speed_case two-factor-pl2 two_factor.json "$TWO_OBS" 2
"$BIN" --threads 1 aif run --env tmaze --trials "$RUN_TRIALS" --json 2>/dev/null | tail -1 >"$OUT/step.h.json" || true
"${PY[@]}" tmaze-step "$M/tmaze.json" --trials "$PY_STEP_TRIALS" >"$OUT/step.p.json"

"$PYTHON" - "$OUT" "$TRIALS" <<'PY'
import json, math, sys
out, trials_default = sys.argv[1], int(sys.argv[2])

def load(name):
    try:
        with open(f"{out}/{name}") as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None

def flat(x):
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in flat(e)]
    return [float(x)]

def maxdiff(a, b):
    if b is None:
        return None
    if a is None:
        return math.nan  # missing from helmholtz's output
    fa, fb = flat(a), flat(b)
    if len(fa) != len(fb):
        return math.inf
    return max((abs(x - y) for x, y in zip(fa, fb)), default=0.0)

fmt = lambda d: "-" if d is None else "missing" if math.isnan(d) else "shape" if d == math.inf else f"{d:.1e}"
fails = 0

ex = load("export.json")
worst = None if ex is None or any(v is None for v in ex.values()) else max(ex.values())
ok = worst is not None and worst <= 1e-15
fails += not ok
print("T-maze exported by helmholtz vs pymdp's TMazeEnv (A, B, C, D): max |diff| "
      f"{fmt(worst)}  {'PASS' if ok else 'FAIL'}")

print("\n(a) helmholtz aif infer vs pymdp legacy Agent, last step; max |difference|")
print(f"{'case':<22} {'qs':>8} {'neg_efe':>8} {'q_pi':>8} {'pA/pB/pD':>9} | {'parts':>8} {'vfe':>8}  result")
for name in open(f"{out}/cases").read().split():
    h, p = load(f"case-{name}.h.json"), load(f"case-{name}.p.json")
    if h is None:
        fails += 1
        print(f"{name:<22} {'no helmholtz output':>36}  FAIL")
        continue
    dqs, dg, dq = maxdiff(h.get("qs"), p["qs"]), maxdiff(h.get("neg_efe"), p["neg_efe"]), maxdiff(h.get("q_pi"), p["q_pi"])
    same_policies = h.get("policies", p["policies"]) == p["policies"]
    learn = [k for k in ("pA", "pB", "pD") if k in p]
    dds = [maxdiff(h.get(k), p[k]) for k in learn]
    dd = next((d for d in dds if math.isnan(d)), max(dds, default=None))
    parts = [maxdiff(h.get(k), p[k]) for k in ("neg_efe_utility", "neg_efe_info_gain", "neg_efe_novelty") if k in p and k in h]
    dparts = max(parts) if parts else None
    dvfe = abs(h["vfe"] - p["vfe"]) if "vfe" in h and "vfe" in p else None
    ok = same_policies and dqs <= 1e-6 and dg <= 1e-5 and dq <= 1e-5 and (dd is None or dd <= 1e-12)
    fails += not ok
    note = "" if same_policies else "  (policy order differs)"
    print(f"{name:<22} {fmt(dqs):>8} {fmt(dg):>8} {fmt(dq):>8} {fmt(dd):>9} | {fmt(dparts):>8} {fmt(dvfe):>8}  "
          f"{'PASS' if ok else 'FAIL'}{note}")

print("\n(b) T-maze episode expectations, stochastic marginal action selection, gamma 1, alpha 1")
h, p, s = load("exact.h.json"), load("exact.p.json"), load("sampled.h.json")
print(f"   {p['steps']} steps, {p['leaves']} branches, pymdp enumeration {p['seconds']:.1f} s")
trials = (s or {}).get("trials", trials_default)
print(f"{'':<12} {'helmholtz':>10} {'pymdp':>10} {'|diff|':>8} {'':>5} | {f'sampled ({trials} trials)':>22} {'z':>6}")
for k in ("cue_first", "reward_arm", "mean_reward"):
    e = p[k]
    hv = None if h is None else h.get(k)
    d = None if hv is None else abs(hv - e)
    ok = d is not None and d <= 1e-6
    fails += not ok
    var = p["var_reward"] if k == "mean_reward" else e * (1 - e)
    sv = None if s is None else s.get(k)
    z = None if sv is None else (sv - e) / math.sqrt(var / trials)
    hs = "-" if hv is None else f"{hv:.6f}"
    ss = "-" if sv is None else f"{sv:.4f}"
    zs = "-" if z is None else f"{z:+.2f}"
    print(f"{k:<12} {hs:>10} {e:>10.6f} {fmt(d):>8} {'PASS' if ok else 'FAIL':>5} | {ss:>22} {zs:>6}")
print("   z: standard errors of the sampled mean from the exact expectation")

print("\n(c) one infer_policies() call, one thread, microseconds")
print(f"{'model':<16} {'policies':>8} {'helmholtz':>10} {'JAX f64':>9} {'JAX f32':>9} {'NumPy':>10} | {'JAX/h':>7} {'NumPy/h':>8}")
for name in open(f"{out}/speeds").read().split():
    h, p = load(f"speed-{name}.h.json"), load(f"speed-{name}.p.json")
    hs = None if h is None else h.get("seconds_infer_policies")
    us = lambda x: "-" if x is None else f"{x * 1e6:.1f}"
    ratio = lambda x: "-" if x is None or not hs else f"{x / hs:.1f}"
    print(f"{name:<16} {p['num_policies']:>8} {us(hs):>10} {us(p.get('jax_seconds')):>9} "
          f"{us(p.get('jax_f32_seconds')):>9} {us(p['numpy_seconds']):>10} | "
          f"{ratio(p.get('jax_seconds')):>7} {ratio(p['numpy_seconds']):>8}")
print("   pymdp: median of calls (NumPy "
      + ", ".join(f"{load(f'speed-{n}.p.json')['numpy_calls']}" for n in open(f"{out}/speeds").read().split())
      + " calls); JAX jit-compiled, warmed up, block_until_ready; helmholtz: mean of its --repeat calls")
h, p = load("step.h.json"), load("step.p.json")
hs = None if h is None else h.get("seconds_per_step")
print(f"\nfull T-maze agent step (infer states + policies + action): helmholtz "
      f"{'-' if hs is None else f'{hs * 1e6:.1f}'} us, pymdp NumPy {p['seconds_per_step'] * 1e6:.1f} us"
      + ("" if not hs else f" ({p['seconds_per_step'] / hs:.1f}x)"))
print(f"\n{fails} check(s) failed" if fails else "\nall checks passed")
PY
