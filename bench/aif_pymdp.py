"""pymdp side of bench/aif.sh: discrete active inference with inferactively-pymdp (1.0.x).

The reference is pymdp's NumPy agent (`pymdp.legacy.agent.Agent`, the classic API that the
T-maze demos use); the speed table adds pymdp's JAX agent (`pymdp.agent.Agent`, jit-compiled).

  models OUTDIR                  write tmaze.json, tmaze_E1.json, tmaze_E2.json, tmaze_null.json,
                                 two_factor.json (the JSON model format below)
  infer MODEL --obs o [--action a --obs o ...] [--policy-len N] [--gamma G] [--alpha A]
        [--inference fpi|mmp] [--learn] [--lr-pa X] [--lr-pb X] [--lr-pd X]
                                 one JSON line for the last step: qs, policies, neg_efe (and its
                                 utility / info-gain / novelty parts), q_pi, action_marginals,
                                 vfe (fpi), F (mmp), and pA/pB/pD after learning with --learn
  enumerate MODEL --steps T      exact expectations over every branch of a T-maze episode with
                                 stochastic (marginal) action selection
  speed MODEL --policy-len N --obs o
                                 median seconds of one infer_policies() call, NumPy and JAX agents
  tmaze-step MODEL               seconds per full NumPy agent step (infer_states + infer_policies
                                 + sample_action) over T-maze episodes
  trajectory MODEL --steps K     a fixed (seeded) observation/action sequence drawn from the
                                 model's own A, B, D, printed as `--obs .. --action .. --obs ..`
  diff-model X.json Y.json       max |difference| of A, B, C, D between two model files

Model file: a JSON object with keys A, B, C, D and optional E, pA, pB, pD; each of A, B, C, D,
pA, pB, pD a list (one entry per modality or factor) of nested lists in pymdp's index order:
A[m] [num_obs_m, s_1, ..., s_F], B[f] [s_f (next), s_f (previous), u_f], C[m] [num_obs_m],
D[f] [s_f]; E a flat list, one entry per policy (so it depends on policy_len).

Everything runs on one thread (the BLAS/OpenMP/XLA variables are set before numpy and jax are
imported). pymdp's legacy MMP prints from inside its loop; its stdout is swallowed here.
"""
import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS"):
    os.environ[_v] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse
import contextlib
import copy
import io
import itertools
import json
import statistics
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

from pymdp.legacy import control, utils  # noqa: E402
from pymdp.legacy.agent import Agent  # noqa: E402
from pymdp.legacy.maths import softmax, spm_log_single  # noqa: E402

EPS = 1e-16


def quiet():
    """Swallow stdout (legacy run_mmp_factorized prints lnA on every update)."""
    return contextlib.redirect_stdout(io.StringIO())


# ----------------------------------------------------------------------------- model files

def obj(arrays):
    return utils.obj_array_from_list([np.asarray(a, dtype=np.float64) for a in arrays])


def load_model(path):
    with open(path) as f:
        raw = json.load(f)
    m = {k: obj(raw[k]) for k in ("A", "B", "C", "D")}
    for k in ("pA", "pB", "pD"):
        m[k] = obj(raw[k]) if raw.get(k) is not None else None
    m["E"] = np.asarray(raw["E"], dtype=np.float64) if raw.get("E") is not None else None
    return m


def dump_model(path, **parts):
    out = {}
    for k, v in parts.items():
        if v is None:
            continue
        out[k] = v.tolist() if isinstance(v, np.ndarray) and v.dtype != object else [np.asarray(x).tolist() for x in v]
    with open(path, "w") as f:
        json.dump(out, f)


def tmaze_parts(env):
    A = env.get_likelihood_dist()
    B = env.get_transition_dist()
    C = utils.obj_array_zeros([a.shape[0] for a in A])
    C[1] = np.array([0.0, 3.0, -3.0])
    D = utils.obj_array_uniform([b.shape[0] for b in B])
    D[0] = utils.onehot(0, B[0].shape[0])
    return A, B, C, D


def habit_prior(n):
    e = 1.0 + (np.arange(n) % 3)
    return e / e.sum()


def cmd_models(args):
    from pymdp.legacy.envs import TMazeEnv, TMazeEnvNullOutcome

    os.makedirs(args.outdir, exist_ok=True)
    p = lambda name: os.path.join(args.outdir, name)

    A, B, C, D = tmaze_parts(TMazeEnv(reward_probs=[0.98, 0.02]))
    dump_model(p("tmaze.json"), A=A, B=B, C=C, D=D)
    # habits for policy_len 1 (4 policies) and 2 (16 policies): E_k ∝ 1 + (k mod 3)
    dump_model(p("tmaze_E1.json"), A=A, B=B, C=C, D=D, E=habit_prior(4))
    dump_model(p("tmaze_E2.json"), A=A, B=B, C=C, D=D, E=habit_prior(16))

    # Null-outcome T-maze with Dirichlet priors on A, B and D (all concentrations > 0), the
    # categorical parameters being their expectations, so that novelty and all three
    # Dirichlet updates are exercised.
    A0, B0, _, D0 = tmaze_parts(TMazeEnvNullOutcome(reward_probs=[0.98, 0.02]))
    pA = utils.obj_array_from_list([1.0 + 10.0 * a for a in A0])
    pB = utils.obj_array_from_list([1.0 + 10.0 * b for b in B0])
    pD = utils.obj_array_from_list([1.0 + 10.0 * d for d in D0])
    Cn = utils.obj_array_zeros([a.shape[0] for a in A0])
    Cn[1] = np.array([0.0, 3.0, -3.0])
    dump_model(p("tmaze_null.json"), A=utils.norm_dist_obj_arr(pA), B=utils.norm_dist_obj_arr(pB),
               C=Cn, D=utils.norm_dist_obj_arr(pD), pA=pA, pB=pB, pD=pD)

    # Random two-factor model: factors of 50 and 20 states with 5 and 2 controls, two
    # modalities of 50 and 20 outcomes that each depend on both factors.
    rng = np.random.default_rng(20240601)
    ns, nu, no = [50, 20], [5, 2], [50, 20]
    Bt = utils.obj_array(2)
    for f in range(2):
        d = rng.dirichlet(np.ones(ns[f]), size=(ns[f], nu[f]))  # [prev, u, next]
        d = np.transpose(d, (2, 0, 1))
        Bt[f] = d / d.sum(axis=0, keepdims=True)
    At = utils.obj_array(2)
    for m in range(2):
        d = rng.dirichlet(0.5 * np.ones(no[m]), size=tuple(ns))  # [s1, s2, obs]
        d = np.moveaxis(d, -1, 0)
        At[m] = d / d.sum(axis=0, keepdims=True)
    Ct = utils.obj_array_from_list([rng.standard_normal(n) for n in no])
    Dt = utils.obj_array_uniform(ns)
    dump_model(p("two_factor.json"), A=At, B=Bt, C=Ct, D=Dt)
    print(json.dumps({"written": sorted(f for f in os.listdir(args.outdir) if f.endswith(".json"))}))


def cmd_diff_model(args):
    x, y = load_model(args.x), load_model(args.y)
    out = {}
    for k in ("A", "B", "C", "D"):
        if len(x[k]) != len(y[k]) or any(a.shape != b.shape for a, b in zip(x[k], y[k])):
            out[k] = None  # shapes differ
        else:
            out[k] = max(float(np.max(np.abs(a - b))) for a, b in zip(x[k], y[k]))
    print(json.dumps(out))


# ----------------------------------------------------------------------------- agents

def make_agent(model, policy_len=1, gamma=16.0, alpha=16.0, inference="fpi", lr=(1.0, 1.0, 1.0),
               action_selection="deterministic"):
    mmp = inference == "mmp"
    pA, pB, pD = model["pA"], model["pB"], model["pD"]
    with quiet():
        agent = Agent(
            A=model["A"], B=model["B"], C=model["C"], D=model["D"], E=model["E"],
            pA=pA, pB=pB, pD=pD,
            policy_len=policy_len, gamma=gamma, alpha=alpha,
            inference_algo="MMP" if mmp else "VANILLA",
            inference_horizon=2 if mmp else 1,
            use_param_info_gain=(pA is not None or pB is not None),
            save_belief_hist=not mmp,
            action_selection=action_selection, sampling_mode="marginal",
            lr_pA=lr[0], lr_pB=lr[1], lr_pD=lr[2],
        )
    return agent


def action_marginals(agent):
    """Sum of q_pi over policies by first action, normalised (as control.sample_action)."""
    marg = utils.obj_array_zeros(agent.num_controls)
    for p_idx, policy in enumerate(agent.policies):
        for f, a in enumerate(policy[0, :]):
            marg[f][a] += agent.q_pi[p_idx]
    return utils.norm_dist_obj_arr(marg)


def efe_parts(agent):
    """The three parts of pymdp's G, from pymdp's own control functions on the same qs_pi/qo_pi."""
    n = len(agent.policies)
    util, info, nov = np.zeros(n), np.zeros(n), np.zeros(n)
    mmp = agent.inference_algo == "MMP"
    future = agent.get_future_qs() if mmp else None
    use_param = agent.use_param_info_gain
    for p_idx, policy in enumerate(agent.policies):
        if mmp:
            qs_pi = future[p_idx]
            qs_prev = future[p_idx]  # as update_posterior_policies_full_factorized passes it
        else:
            qs_pi = control.get_expected_states_interactions(agent.qs, agent.B, agent.B_factor_list, policy)
            qs_prev = agent.qs
        qo_pi = control.get_expected_obs_factorized(qs_pi, agent.A, agent.A_factor_list)
        util[p_idx] = control.calc_expected_utility(qo_pi, agent.C)
        info[p_idx] = control.calc_states_info_gain_factorized(agent.A, qs_pi, agent.A_factor_list)
        if use_param:
            if agent.pA is not None:
                nov[p_idx] += np.asarray(control.calc_pA_info_gain_factorized(
                    agent.pA, qo_pi, qs_pi, agent.A_factor_list)).item()
            if agent.pB is not None:
                nov[p_idx] += np.asarray(control.calc_pB_info_gain_interactions(
                    agent.pB, qs_pi, qs_prev, agent.B_factor_list, policy)).item()
    return util, info, nov


def vfe_fpi(qs, prior, A, obs):
    """sum_f q.ln(q+eps) - q.ln(prior+eps) - E_q[sum_m ln(A_m[o_m]+eps)] (pymdp's calc_free_energy)."""
    F = 0.0
    for q, p in zip(qs, prior):
        F += float(q @ np.log(q + EPS) - q @ np.log(p + EPS))
    ll = 0.0
    for m, A_m in enumerate(A):
        ll = ll + np.log(A_m[obs[m]] + EPS)  # broadcasts to the joint state shape
    joint_q = qs[0]
    for q in qs[1:]:
        joint_q = np.multiply.outer(joint_q, q)
    return F - float(np.sum(ll * joint_q))


def parse_ints(s):
    return [int(x) for x in s.split(",")]


class Interleave(argparse.Action):
    """Keep --obs and --action in command-line order."""

    def __call__(self, parser, ns, values, option_string=None):
        seq = getattr(ns, "seq", None) or []
        seq.append((self.dest, parse_ints(values)))
        ns.seq = seq


def cmd_infer(args):
    seq = args.seq or []
    obs = [v for k, v in seq if k == "obs"]
    acts = [v for k, v in seq if k == "action"]
    kinds = [k for k, _ in seq]
    if not obs or kinds != ["obs"] + ["action", "obs"] * (len(obs) - 1):
        sys.exit("infer: give --obs, then any number of --action A --obs O pairs")
    if args.learn and args.inference != "fpi":
        sys.exit("infer: --learn is supported with --inference fpi only")
    model = load_model(args.model)
    agent = make_agent(model, args.policy_len, args.gamma, args.alpha, args.inference,
                       (args.lr_pa, args.lr_pb, args.lr_pd))
    mmp = args.inference == "mmp"
    qs_prev, prior = None, None
    with quiet():
        for t, o in enumerate(obs):
            if not mmp:
                # the empirical prior infer_states will use (for the vfe)
                prior = model["D"] if t == 0 else control.get_expected_states_interactions(
                    agent.qs, agent.B, agent.B_factor_list, agent.action.reshape(1, -1))[0]
                qs_prev = agent.qs if t > 0 else None
            agent.infer_states(o)
            agent.infer_policies()
            if t < len(acts):
                agent.action = np.array(acts[t], dtype=float)
                agent.step_time()
        q_pi, G = agent.q_pi, agent.G
        util, info, nov = efe_parts(agent)
    if mmp:
        past_len = min(len(obs), agent.inference_horizon)
        qs = [sum(q_pi[p] * agent.qs[p][past_len - 1][f] for p in range(len(agent.policies)))
              for f in range(agent.num_factors)]
    else:
        qs = list(agent.qs)
    out = {
        "qs": [np.asarray(q).tolist() for q in qs],
        "policies": [np.asarray(p, dtype=int).tolist() for p in agent.policies],
        "neg_efe": np.asarray(G).tolist(),
        "neg_efe_utility": util.tolist(),
        "neg_efe_info_gain": info.tolist(),
        "q_pi": np.asarray(q_pi).tolist(),
        "action_marginals": [m.tolist() for m in action_marginals(agent)],
    }
    if agent.use_param_info_gain:
        out["neg_efe_novelty"] = nov.tolist()
    # the parts must add up to pymdp's own G
    out["parts_residual"] = float(np.max(np.abs(util + info + nov - np.asarray(G))))
    if mmp:
        out["F"] = np.asarray(agent.F).tolist()
    else:
        out["vfe"] = vfe_fpi(agent.qs, prior, agent.A, obs[-1])
    if args.learn:
        with quiet():
            agent.update_A(obs[-1])
            if qs_prev is not None and agent.pB is not None:
                agent.update_B(qs_prev)
            if agent.pD is not None:
                agent.update_D()
        for k in ("pA", "pB", "pD"):
            v = getattr(agent, k)
            if v is not None:
                out[k] = [np.asarray(x).tolist() for x in v]
    print(json.dumps(out))


# ----------------------------------------------------------------------------- enumeration

def cmd_enumerate(args):
    """Exact expectations of a T-maze episode over every branch (stochastic marginal actions).

    Episode: reward condition c in {0, 1} with probability 1/2; the process is the model's own
    A and B from the state (location 0, condition c); the first observation is drawn from A;
    then T times: infer_states, infer_policies, an action with p(u_f) = softmax(alpha *
    ln(marginal_f + 1e-16)), the next state from B and an observation from A at it.
    """
    model = load_model(args.model)
    A, B = model["A"], model["B"]
    T = args.steps
    template = make_agent(model, args.policy_len, args.gamma, args.alpha, "fpi")
    nf, nm = len(B), len(A)
    acc = {"cue_first": 0.0, "reward_arm": 0.0, "mean_reward": 0.0, "mean_reward_sq": 0.0,
           "prob": 0.0, "leaves": 0, "agent_steps": 0}

    def outcomes(state):
        per_m = []
        for m in range(nm):
            p = A[m][(slice(None),) + tuple(state)]
            per_m.append([(o, p[o]) for o in range(len(p)) if p[o] > 0])
        for combo in itertools.product(*per_m):
            yield tuple(o for o, _ in combo), float(np.prod([p for _, p in combo]))

    def next_states(state, action):
        per_f = []
        for f in range(nf):
            p = B[f][:, state[f], action[f]]
            per_f.append([(s, p[s]) for s in range(len(p)) if p[s] > 0])
        for combo in itertools.product(*per_f):
            yield tuple(s for s, _ in combo), float(np.prod([p for _, p in combo]))

    def leaf(prob, c, locs, rewards):
        moved = [l for l in locs if l != 0]
        acc["cue_first"] += prob * float(bool(moved) and moved[0] == 3)
        acc["reward_arm"] += prob * float(locs[-1] == c + 1)
        acc["mean_reward"] += prob * rewards
        acc["mean_reward_sq"] += prob * rewards * rewards
        acc["prob"] += prob
        acc["leaves"] += 1

    def rec(agent, state, o, t, prob, c, locs, rewards):
        agent.infer_states(o)
        agent.infer_policies()
        acc["agent_steps"] += 1
        marg = action_marginals(agent)
        pu = [softmax(spm_log_single(marg[f]) * args.alpha) for f in range(nf)]
        choices = [[(u, pu[f][u]) for u in range(len(pu[f])) if pu[f][u] > 0] for f in range(nf)]
        for combo in itertools.product(*choices):
            action = tuple(u for u, _ in combo)
            pa = float(np.prod([p for _, p in combo]))
            for ns, ps in next_states(state, action):
                for no, po in outcomes(ns):
                    pr = prob * pa * ps * po
                    if pr == 0.0:
                        continue
                    l2, r2 = locs + [ns[0]], rewards + int(no[1] == 1)
                    if t + 1 == T:
                        leaf(pr, c, l2, r2)
                    else:
                        child = copy.deepcopy(agent)
                        child.action = np.array(action, dtype=float)
                        child.step_time()
                        rec(child, ns, no, t + 1, pr, c, l2, r2)

    t0 = time.perf_counter()
    with quiet():
        for c in range(B[1].shape[0]):
            s0 = (0, c)
            for o0, p0 in outcomes(s0):
                rec(copy.deepcopy(template), s0, o0, 0, p0 / B[1].shape[0], c, [], 0)
    out = {k: acc[k] for k in ("cue_first", "reward_arm", "mean_reward")}
    out["var_reward"] = acc["mean_reward_sq"] - acc["mean_reward"] ** 2
    out.update(steps=T, policy_len=args.policy_len, gamma=args.gamma, alpha=args.alpha,
               total_prob=acc["prob"], leaves=acc["leaves"], agent_steps=acc["agent_steps"],
               seconds=time.perf_counter() - t0)
    print(json.dumps(out))


# ----------------------------------------------------------------------------- speed

def timed(fn, repeat, max_seconds, block=lambda r: r):
    times = []
    start = time.perf_counter()
    while len(times) < repeat:
        t0 = time.perf_counter()
        block(fn())
        times.append(time.perf_counter() - t0)
        if len(times) >= 3 and time.perf_counter() - start > max_seconds:
            break
    return statistics.median(times), len(times)


def jax_infer_policies_seconds(model, policy_len, obs, repeat, max_seconds, x64):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", x64)
    from pymdp.agent import Agent as JaxAgent

    dt = jnp.float64 if x64 else jnp.float32
    arr = lambda xs: [jnp.asarray(np.asarray(x), dtype=dt) for x in xs]
    agent = JaxAgent(A=arr(model["A"]), B=arr(model["B"]), C=arr(model["C"]), D=arr(model["D"]),
                     E=None if model["E"] is None else jnp.asarray(model["E"], dtype=dt),
                     policy_len=policy_len, gamma=16.0, alpha=16.0, batch_size=1)
    assert agent.A[0].dtype == dt and agent.B[0].dtype == dt
    qs = agent.infer_states([jnp.array([o]) for o in obs], empirical_prior=agent.D)
    qs = jax.block_until_ready(qs)
    f = jax.jit(lambda a, q: a.infer_policies(q))
    t0 = time.perf_counter()
    jax.block_until_ready(f(agent, qs))  # compile
    compile_s = time.perf_counter() - t0
    for _ in range(5):
        jax.block_until_ready(f(agent, qs))
    med, n = timed(lambda: f(agent, qs), repeat, max_seconds, jax.block_until_ready)
    return med, n, compile_s, agent.policies.num_policies


def cmd_speed(args):
    model = load_model(args.model)
    obs = parse_ints(args.obs)
    num_policies = int(np.prod([b.shape[-1] for b in model["B"]])) ** args.policy_len
    if model["E"] is not None and len(model["E"]) != num_policies:
        model["E"] = None  # a habit vector for another policy_len
    out = {"model": os.path.basename(args.model), "policy_len": args.policy_len}
    agent = make_agent(model, args.policy_len)
    with quiet():
        agent.infer_states(obs)
        agent.infer_policies()  # warm-up
    out["num_policies"] = len(agent.policies)
    out["numpy_seconds"], out["numpy_calls"] = timed(agent.infer_policies, args.repeat, args.max_seconds)
    if not args.no_jax:
        if args.jax_f32:
            s, n, c, _ = jax_infer_policies_seconds(model, args.policy_len, obs, args.jax_repeat,
                                                    args.max_seconds, False)
            out.update(jax_f32_seconds=s, jax_f32_calls=n, jax_f32_compile_seconds=c)
        s, n, c, npol = jax_infer_policies_seconds(model, args.policy_len, obs, args.jax_repeat,
                                                   args.max_seconds, True)
        out.update(jax_seconds=s, jax_calls=n, jax_compile_seconds=c)
        assert npol == out["num_policies"]
    print(json.dumps(out))


def cmd_tmaze_step(args):
    """Seconds per full NumPy agent step over T-maze episodes (the process: the model's A, B)."""
    model = load_model(args.model)
    A, B = model["A"], model["B"]
    rng = np.random.default_rng(args.seed)
    np.random.seed(args.seed)  # pymdp's stochastic action selection samples with np.random
    template = make_agent(model, args.policy_len, args.gamma, args.alpha,
                          action_selection=args.action_selection)
    times = []
    sample = lambda p: int(rng.choice(len(p), p=p / p.sum()))
    for _ in range(args.trials):
        agent = copy.deepcopy(template)
        state = [0, int(rng.integers(B[1].shape[0]))]
        o = [sample(A[m][:, state[0], state[1]]) for m in range(len(A))]
        for _t in range(args.steps):
            with quiet():
                t0 = time.perf_counter()
                agent.infer_states(o)
                agent.infer_policies()
                action = agent.sample_action()
                times.append(time.perf_counter() - t0)
            state = [sample(B[f][:, state[f], int(action[f])]) for f in range(len(B))]
            o = [sample(A[m][:, state[0], state[1]]) for m in range(len(A))]
    print(json.dumps({"seconds_per_step": sum(times) / len(times),
                      "median_seconds_per_step": statistics.median(times),
                      "steps": len(times), "trials": args.trials, "policy_len": args.policy_len}))


def cmd_trajectory(args):
    """A seeded sequence from the model's own A, B, D with uniformly random actions."""
    model = load_model(args.model)
    A, B, D = model["A"], model["B"], model["D"]
    rng = np.random.default_rng(args.seed)
    sample = lambda p: int(rng.choice(len(p), p=p / p.sum()))
    state = [sample(d) for d in D]
    parts = []
    for t in range(args.steps):
        o = [sample(A_m[(slice(None),) + tuple(state)]) for A_m in A]
        parts += ["--obs", ",".join(map(str, o))]
        if t + 1 < args.steps:
            a = [int(rng.integers(b.shape[-1])) for b in B]
            parts += ["--action", ",".join(map(str, a))]
            state = [sample(B[f][:, state[f], a[f]]) for f in range(len(B))]
    print(" ".join(parts))


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("models")
    p.add_argument("outdir")
    p.set_defaults(fn=cmd_models)

    p = sub.add_parser("diff-model")
    p.add_argument("x")
    p.add_argument("y")
    p.set_defaults(fn=cmd_diff_model)

    p = sub.add_parser("infer")
    p.add_argument("model")
    p.add_argument("--obs", action=Interleave, required=True)
    p.add_argument("--action", action=Interleave)
    p.add_argument("--policy-len", type=int, default=1)
    p.add_argument("--gamma", type=float, default=16.0)
    p.add_argument("--alpha", type=float, default=16.0)
    p.add_argument("--inference", choices=["fpi", "mmp"], default="fpi")
    p.add_argument("--learn", action="store_true")
    p.add_argument("--lr-pa", type=float, default=1.0)
    p.add_argument("--lr-pb", type=float, default=1.0)
    p.add_argument("--lr-pd", type=float, default=1.0)
    p.add_argument("--json", action="store_true", help="accepted for symmetry with helmholtz")
    p.set_defaults(fn=cmd_infer, seq=None)

    p = sub.add_parser("enumerate")
    p.add_argument("model")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--policy-len", type=int, default=1)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--alpha", type=float, default=1.0)
    p.set_defaults(fn=cmd_enumerate)

    p = sub.add_parser("speed")
    p.add_argument("model")
    p.add_argument("--policy-len", type=int, default=1)
    p.add_argument("--obs", required=True)
    p.add_argument("--repeat", type=int, default=20, help="NumPy calls (median)")
    p.add_argument("--jax-repeat", type=int, default=500, help="JAX calls (median)")
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="stop timing a backend after this long (at least 3 calls)")
    p.add_argument("--jax-f32", action="store_true", help="also time the JAX agent in float32")
    p.add_argument("--no-jax", action="store_true")
    p.set_defaults(fn=cmd_speed)

    p = sub.add_parser("tmaze-step")
    p.add_argument("model")
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--policy-len", type=int, default=1)
    p.add_argument("--gamma", type=float, default=16.0)
    p.add_argument("--alpha", type=float, default=16.0)
    p.add_argument("--action-selection", choices=["deterministic", "stochastic"], default="deterministic")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(fn=cmd_tmaze_step)

    p = sub.add_parser("trajectory")
    p.add_argument("model")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(fn=cmd_trajectory)

    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
