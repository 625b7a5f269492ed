"""Workers and report of bench/python.sh: helmholtz's Python package against the libraries it
replaces, with the same data and settings, each timed in a process of its own so that its
thread count is set before anything starts a pool.

    python python_peers.py rbm helmholtz|sklearn THREADS EPOCHS N PARAMS.npz  # fit, print JSON
    python python_peers.py rbm-score THREADS H.npz S.npz    # one estimator for both models
    python python_peers.py anneal-instances DIR COUNT       # random sparse Ising problems
    python python_peers.py anneal helmholtz|dwave THREADS DIR COUNT READS SWEEPS
    python python_peers.py vae THREADS EPOCHS               # helmholtz.VAE (the peer: vae_torch.py)
    python python_peers.py report DIR THREADS               # tables, PASS/FAIL, one JSON line

Every worker prints one JSON line. helmholtz reads RAYON_NUM_THREADS when it is imported, so
its workers set it from THREADS before importing it; numpy's and scikit-learn's BLAS run under
``threadpool_limits(THREADS)``; PyTorch (bench/vae_torch.py) under ``torch.set_num_threads``.
"""

import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion  # noqa: E402  (bench/fashion.py: Fashion-MNIST as float32 in [0, 1])

# The Ising instances: the graphs of bench/anneal.sh (G(n, m), 1,000 nodes, mean degree 6,
# i.e. 3,000 edges, drawn by anneal_neal.write_instance from the instance's seed), with
# couplings of random sign +-1 and no fields.
ANNEAL_NODES = 1000
ANNEAL_DEGREE = 6


def _helmholtz(threads):
    """Import helmholtz with a pool of `threads` threads (it is built at import)."""
    if "helmholtz" in sys.modules:
        raise RuntimeError("helmholtz was imported before its thread count was set")
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    import helmholtz

    return helmholtz


def _mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


# ---------------------------------------------------------------------------------------------
# (a) BernoulliRBM


def rbm_fit(which, threads, epochs, n, params_path):
    """Fit scikit-learn's settings (256 hidden, lr 0.1, batch 10, PCD-1) for `epochs` epochs
    on the first `n` training images; save the parameters; print the fit's wall time."""
    from threadpoolctl import threadpool_limits

    x = fashion.load("train")[:n]
    settings = dict(n_components=256, learning_rate=0.1, batch_size=10, n_iter=epochs, random_state=0)
    if which == "helmholtz":
        helmholtz = _helmholtz(threads)
        cls, version = helmholtz.BernoulliRBM, helmholtz.__version__
    else:
        import sklearn
        from sklearn.neural_network import BernoulliRBM

        cls, version = BernoulliRBM, sklearn.__version__
    out = {"implementation": which, "version": version, "threads": threads, "n": int(x.shape[0]),
           "epochs": epochs}
    with threadpool_limits(limits=threads):
        rbm = cls(**settings)
        t = time.perf_counter()
        rbm.fit(x)
        out["fit_seconds"] = time.perf_counter() - t
        if which == "helmholtz":
            # helmholtz's own pseudo-likelihood (the flipped unit chosen per sample).
            x_test = fashion.load("test")
            t = time.perf_counter()
            own = rbm.score_samples(x_test)
            out["own_score_seconds"] = time.perf_counter() - t
            out["own_pl_mean"], out["own_pl_se"] = _mean_se(own)
    out["epoch_seconds"] = out["fit_seconds"] / epochs
    np.savez(params_path, components=rbm.components_, hidden=rbm.intercept_hidden_,
             visible=rbm.intercept_visible_)
    print(json.dumps(out))


def rbm_score(threads, *paths):
    """Test-set pseudo-likelihood of each saved model with scikit-learn's own estimator: a
    scikit-learn BernoulliRBM holding the model's parameters (float64), random_state=0, so
    that both models are scored on the same corrupted units."""
    from threadpoolctl import threadpool_limits
    from sklearn.neural_network import BernoulliRBM

    x_test = fashion.load("test").astype(np.float64)
    out = {"n_test": int(x_test.shape[0])}
    scores = []
    with threadpool_limits(limits=threads):
        for path in paths:
            p = np.load(path)
            scorer = BernoulliRBM(n_components=p["components"].shape[0], random_state=0)
            scorer.components_ = p["components"].astype(np.float64)
            scorer.intercept_hidden_ = p["hidden"].astype(np.float64)
            scorer.intercept_visible_ = p["visible"].astype(np.float64)
            scorer.n_features_in_ = scorer.components_.shape[1]
            scores.append(scorer.score_samples(x_test))
            mean, se = _mean_se(scores[-1])
            out[os.path.splitext(os.path.basename(path))[0]] = {"mean": mean, "se": se}
    if len(scores) == 2:
        # The same units are corrupted for both models: the paired difference is less noisy.
        out["paired_diff"], out["paired_se"] = _mean_se(scores[0] - scores[1])
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------
# (b) simulated annealing


def anneal_instances(directory, count):
    """Write problem k (seed k, k = 1..count) to DIR/ising{k}.npz with the beta range that
    dwave-samplers would choose by default (`beta_range`: empty when it cannot be imported,
    and then neither sampler is given one)."""
    import anneal_neal

    try:
        from dwave.samplers.sa.sampler import _default_ising_beta_range
    except ImportError:
        _default_ising_beta_range = None
    for k in range(1, count + 1):
        graph = os.path.join(directory, f"graph{k}.txt")
        anneal_neal.write_instance(graph, ANNEAL_NODES, ANNEAL_DEGREE, k)
        edges = sorted(anneal_neal.read_bqm(graph).quadratic)
        rows = np.array([min(u, v) for u, v in edges], dtype=np.int64)
        cols = np.array([max(u, v) for u, v in edges], dtype=np.int64)
        vals = np.random.default_rng([k, 1]).choice([-1.0, 1.0], size=len(edges))
        h, J = _problem(rows, cols, vals)
        beta_range = [] if _default_ising_beta_range is None else \
            [float(b) for b in _default_ising_beta_range(h, J)]
        np.savez(os.path.join(directory, f"ising{k}.npz"), rows=rows, cols=cols, vals=vals,
                 beta_range=np.array(beta_range, dtype=np.float64))


def _problem(rows, cols, vals):
    h = {v: 0.0 for v in range(ANNEAL_NODES)}
    J = {(int(u), int(v)): float(w) for u, v, w in zip(rows, cols, vals)}
    return h, J


def anneal(which, threads, directory, count, reads, sweeps):
    """Anneal every instance through `sample_ising` (timed end to end, dimod's conversions
    included); save every read's energy and state; print seconds and energies per instance."""
    from threadpoolctl import threadpool_limits

    if which == "helmholtz":
        helmholtz = _helmholtz(threads)
        from helmholtz.anneal import SimulatedAnnealingSampler

        version = helmholtz.__version__
    else:
        import dwave.samplers
        from dwave.samplers import SimulatedAnnealingSampler

        version = dwave.samplers.__version__
    sampler = SimulatedAnnealingSampler()
    out = {"implementation": which, "version": version, "threads": threads, "sweeps": sweeps,
           "instances": []}
    with threadpool_limits(limits=threads):
        for k in range(1, count + 1):
            p = np.load(os.path.join(directory, f"ising{k}.npz"))
            h, J = _problem(p["rows"], p["cols"], p["vals"])
            kw = dict(num_reads=reads, num_sweeps=sweeps, beta_schedule_type="geometric", seed=k)
            if len(p["beta_range"]):
                kw["beta_range"] = [float(b) for b in p["beta_range"]]
            t = time.perf_counter()
            ss = sampler.sample_ising(h, J, **kw)
            seconds = time.perf_counter() - t
            # Check the reported energies against the problem (spins in label order).
            order = np.argsort(np.asarray(ss.variables, dtype=np.int64))
            spins = np.asarray(ss.record.sample, dtype=np.int64)[:, order]
            energy = np.asarray(ss.record.energy, dtype=np.float64)
            recomputed = (spins[:, p["rows"]] * spins[:, p["cols"]] * p["vals"]).sum(axis=1)
            np.savez(os.path.join(directory, f"{which}{threads}-{k}.npz"), energy=energy, spins=spins)
            mean, se = _mean_se(energy)
            out["instances"].append({
                "seconds": seconds, "reads": int(len(energy)), "mean_energy": mean, "se": se,
                "best_energy": float(energy.min()),
                "energies_consistent": bool(np.allclose(recomputed, energy)),
                "beta_range": [float(b) for b in kw.get("beta_range", [])],
            })
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------
# (c) VAE


def vae(threads, epochs):
    """helmholtz.VAE with the settings of bench/vae_torch.py: 784-400-20, ReLU, Bernoulli
    decoder, Adam 1e-3, batch 128, full Fashion-MNIST; the fit's wall time (which includes
    its per-epoch metrics) and the test ELBO with one sample per example."""
    from threadpoolctl import threadpool_limits

    helmholtz = _helmholtz(threads)
    x, x_test = fashion.load("train"), fashion.load("test")
    with threadpool_limits(limits=threads):
        model = helmholtz.VAE(n_components=20, hidden_layer_sizes=(400,), likelihood="bernoulli",
                              learning_rate=1e-3, batch_size=128, n_iter=epochs, random_state=0)
        t = time.perf_counter()
        model.fit(x)
        fit_seconds = time.perf_counter() - t
        model.set_params(n_importance_samples=1)
        t = time.perf_counter()
        elbo = model.score_samples(x_test)
        score_seconds = time.perf_counter() - t
    print(json.dumps({"implementation": "helmholtz", "version": helmholtz.__version__,
                      "threads": threads, "epochs": epochs, "fit_seconds": fit_seconds,
                      "epoch_seconds": fit_seconds / epochs, "test_elbo": float(np.mean(elbo)),
                      "score_seconds": score_seconds}))


# ---------------------------------------------------------------------------------------------
# Report


class Checks:
    def __init__(self):
        self.failed = []

    def __call__(self, ok, text):
        print(f"{'PASS' if ok else 'FAIL'} {text}")
        if not ok:
            self.failed.append(text)
        return bool(ok)


def _load(directory, name):
    path = os.path.join(directory, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def report_rbm(directory, threads, check):
    h, s, sc = (_load(directory, f) for f in ("rbm_helmholtz.json", "rbm_sklearn.json", "rbm_score.json"))
    if h is None or s is None or sc is None:
        return None
    ratio = s["epoch_seconds"] / h["epoch_seconds"]
    hs, ss = sc["rbm_helmholtz"], sc["rbm_sklearn"]
    diff = hs["mean"] - ss["mean"]
    noise = 3 * math.hypot(hs["se"], ss["se"])
    print(f"(a) BernoulliRBM on Fashion-MNIST train ({h['n']} x 784, float32 in [0, 1]): "
          f"256 hidden, lr 0.1, batch 10, PCD-1, n_iter={h['epochs']}, random_state=0, {threads} threads")
    print(f"    test pseudo-likelihood: scikit-learn's score_samples (random_state=0) on both models, "
          f"t10k ({sc['n_test']} images), mean +- standard error, nats")
    print(f"{'implementation':34} {'s/epoch':>8} {'speed-up':>9} {'test pseudo-likelihood':>24}")
    print(f"{'helmholtz ' + h['version']:34} {h['epoch_seconds']:8.2f} {ratio:8.2f}x "
          f"{hs['mean']:15.2f} +- {hs['se']:5.2f}")
    print(f"{'scikit-learn ' + s['version']:34} {s['epoch_seconds']:8.2f} {1:8.2f}x "
          f"{ss['mean']:15.2f} +- {ss['se']:5.2f}")
    s1 = _load(directory, "rbm_sklearn1.json")
    if s1 is not None:
        print(f"{'scikit-learn, 1 BLAS thread (info)':34} {s1['epoch_seconds']:8.2f} "
              f"{s1['epoch_seconds'] / h['epoch_seconds']:8.2f}x")
    if "paired_diff" in sc:
        print(f"paired difference helmholtz - scikit-learn (same corrupted units; estimator noise "
              f"only, not the spread between training seeds): {sc['paired_diff']:+.2f} +- {sc['paired_se']:.2f}")
    print(f"helmholtz's own score_samples (deterministic flips) on its model: "
          f"{h['own_pl_mean']:.2f} +- {h['own_pl_se']:.2f} ({h['own_score_seconds']:.2f} s)")
    ok_speed = check(ratio >= 2, f"helmholtz BernoulliRBM >= 2x faster per epoch than scikit-learn: {ratio:.2f}x")
    ok_pl = check(abs(diff) <= noise, f"test pseudo-likelihoods within noise: |{diff:+.2f}| <= "
                  f"3 * sqrt(se1^2 + se2^2) = {noise:.2f}")
    return {"threads": threads, "n": h["n"], "epochs": h["epochs"],
            "helmholtz_epoch_seconds": h["epoch_seconds"], "sklearn_epoch_seconds": s["epoch_seconds"],
            "speedup": ratio,
            "sklearn_1thread_epoch_seconds": None if s1 is None else s1["epoch_seconds"],
            "speedup_vs_sklearn_1thread": None if s1 is None else s1["epoch_seconds"] / h["epoch_seconds"],
            "helmholtz_pl": hs, "sklearn_pl": ss, "pl_diff": diff, "pl_noise3": noise,
            "pl_paired_diff": sc.get("paired_diff"), "pl_paired_se": sc.get("paired_se"),
            "helmholtz_own_pl": {"mean": h["own_pl_mean"], "se": h["own_pl_se"]},
            "versions": {"helmholtz": h["version"], "scikit-learn": s["version"]},
            "pass": ok_speed and ok_pl}


def report_anneal(directory, threads, check):
    h1, d = _load(directory, "anneal_helmholtz1.json"), _load(directory, "anneal_dwave.json")
    ht = _load(directory, f"anneal_helmholtz{threads}.json")
    if h1 is None or d is None or ht is None:
        return None
    n = len(d["instances"])
    reads = d["instances"][0]["reads"]
    print(f"(b) simulated annealing, {n} random Ising problems: {ANNEAL_NODES} spins, "
          f"{ANNEAL_NODES * ANNEAL_DEGREE // 2} edges, J = +-1, h = 0; {reads} reads x {d['sweeps']} sweeps, "
          f"geometric beta schedule over dwave-samplers' default beta range, seed = instance")
    print(f"{'instance':>8} | {'helmholtz 1 thr':>27} | {f'helmholtz {threads} thr':>14} | {'dwave-samplers (1 thr)':>27}")
    print(f"{'':>8} | {'s':>7} {'best E':>8} {'mean E':>10} | {'s':>14} | {'s':>7} {'best E':>8} {'mean E':>10}")
    tot = {"h1": 0.0, "ht": 0.0, "d": 0.0}
    gap, var, same, consistent = 0.0, 0.0, True, True
    for k in range(n):
        a, b, c = h1["instances"][k], ht["instances"][k], d["instances"][k]
        tot["h1"] += a["seconds"]; tot["ht"] += b["seconds"]; tot["d"] += c["seconds"]
        gap += (a["mean_energy"] - c["mean_energy"]) / n
        var += (a["se"] ** 2 + c["se"] ** 2) / n ** 2
        consistent &= a["energies_consistent"] and b["energies_consistent"] and c["energies_consistent"]
        if threads != 1:
            x = np.load(os.path.join(directory, f"helmholtz1-{k + 1}.npz"))
            y = np.load(os.path.join(directory, f"helmholtz{threads}-{k + 1}.npz"))
            same &= np.array_equal(x["energy"], y["energy"]) and np.array_equal(x["spins"], y["spins"])
        print(f"{k + 1:>8} | {a['seconds']:7.3f} {a['best_energy']:8.0f} {a['mean_energy']:10.2f} | "
              f"{b['seconds']:14.3f} | {c['seconds']:7.3f} {c['best_energy']:8.0f} {c['mean_energy']:10.2f}")
    r1, rt = tot["d"] / tot["h1"], tot["d"] / tot["ht"]
    se = math.sqrt(var)
    print(f"total seconds: helmholtz {h1['version']} 1 thread {tot['h1']:.2f}, {threads} threads "
          f"{tot['ht']:.2f}; dwave-samplers {d['version']} {tot['d']:.2f}")
    print(f"speed-up over dwave-samplers: {r1:.1f}x (1 thread), {rt:.1f}x ({threads} threads)")
    print(f"mean read energy, helmholtz - dwave-samplers (mean over instances): {gap:+.2f} "
          f"+- {se:.2f} (negative: helmholtz lower)")
    beta = d["instances"][0]["beta_range"]
    ok = check(r1 >= 5, f"helmholtz SimulatedAnnealingSampler >= 5x faster than dwave-samplers on 1 thread: {r1:.1f}x")
    ok &= check(gap <= 3 * se, f"helmholtz mean read energy <= dwave-samplers' + 3 standard errors: "
                f"{gap:+.2f} <= {3 * se:.2f}")
    ok &= check(consistent, "both samplers' reported energies match the spins they return")
    if threads != 1:
        ok &= check(same, f"helmholtz's reads on 1 and {threads} threads are identical")
    return {"threads": threads, "instances": n, "reads": reads, "sweeps": d["sweeps"],
            "beta_range_instance1": beta,
            "helmholtz_1thread_seconds": tot["h1"], "helmholtz_threads_seconds": tot["ht"],
            "dwave_seconds": tot["d"], "speedup_1thread": r1, "speedup_threads": rt,
            "mean_energy_gap": gap, "mean_energy_gap_se": se,
            "helmholtz_mean_energy": [i["mean_energy"] for i in h1["instances"]],
            "dwave_mean_energy": [i["mean_energy"] for i in d["instances"]],
            "helmholtz_best_energy": [i["best_energy"] for i in h1["instances"]],
            "dwave_best_energy": [i["best_energy"] for i in d["instances"]],
            "versions": {"helmholtz": h1["version"], "dwave-samplers": d["version"]}, "pass": bool(ok)}


def report_vae(directory, threads, check):
    h, t = _load(directory, "vae_helmholtz.json"), _load(directory, "vae_torch.json")
    if h is None or t is None:
        return None
    p = float(np.mean(t["epoch_seconds"]))
    ratio = p / h["epoch_seconds"]
    print(f"(c) VAE 784-400-20, ReLU, Bernoulli decoder, Adam 1e-3, batch 128, full Fashion-MNIST "
          f"(60000, [0, 1]), {h['epochs']} epochs, {threads} threads")
    print("    s/epoch: helmholtz = wall time of fit / n_iter (includes its per-epoch metrics); "
          "PyTorch = mean of the epochs' update loops")
    print(f"{'implementation':34} {'s/epoch':>8} {'speed-up':>9} {'test ELBO (1 sample)':>21}")
    print(f"{'helmholtz ' + h['version']:34} {h['epoch_seconds']:8.2f} {ratio:8.2f}x {h['test_elbo']:21.2f}")
    print(f"{'PyTorch ' + t['version']:34} {p:8.2f} {1:8.2f}x {t['test_elbo']:21.2f}")
    print("PyTorch's epochs, s: " + ", ".join(f"{e:.2f}" for e in t["epoch_seconds"]))
    ok = check(ratio >= 1, f"helmholtz VAE at least as fast per epoch as PyTorch: {ratio:.2f}x")
    return {"threads": threads, "epochs": h["epochs"], "helmholtz_epoch_seconds": h["epoch_seconds"],
            "torch_epoch_seconds": p, "torch_epoch_seconds_all": t["epoch_seconds"], "speedup": ratio,
            "helmholtz_test_elbo": h["test_elbo"], "torch_test_elbo": t["test_elbo"],
            "versions": {"helmholtz": h["version"], "torch": t["version"]}, "pass": ok}


def report(directory, threads):
    check = Checks()
    results = {}
    for name, section in (("rbm", report_rbm), ("anneal", report_anneal), ("vae", report_vae)):
        r = section(directory, threads, check)
        if r is not None:
            results[name] = r
            print()
    results["pass"] = not check.failed
    print(f"{len(check.failed)} FAIL" if check.failed else "all PASS")
    print(json.dumps(results))
    return 1 if check.failed else 0


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "rbm":
        rbm_fit(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
    elif cmd == "rbm-score":
        rbm_score(int(args[0]), *args[1:])
    elif cmd == "anneal-instances":
        anneal_instances(args[0], int(args[1]))
    elif cmd == "anneal":
        anneal(args[0], int(args[1]), args[2], int(args[3]), int(args[4]), int(args[5]))
    elif cmd == "vae":
        vae(int(args[0]), int(args[1]))
    elif cmd == "report":
        return report(args[0], int(args[1]))
    else:
        sys.exit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
