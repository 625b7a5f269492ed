"""scikit-learn side of bench/vb.sh: variational Bayesian Gaussian mixtures (PRML 10.2 CAVI).

  data X.npy R.npy --n N --dim D --components K --seed S [--true-components C]
        X: n points (float64 [n, D]) from C (default 4) well-separated Gaussians with random
        full covariances and unequal weights; R: float64 [n, K] responsibilities, rows drawn
        from Dirichlet(1, ..., 1).
  sklearn X.npy R.npy OUTDIR --components K --weight-prior dirichlet-process|dirichlet-distribution
        --covariance full|diag --max-iter N [--weight-concentration A] [--mean-precision-prior B]
        [--degrees-of-freedom-prior NU] [--reg-covar E] [--threads T]
        BayesianGaussianMixture(tol=0, random_state=0, ...) started from R: the instance's
        _initialize_parameters calls sklearn's own self._initialize(X, R) (its M-step from the
        given responsibilities), then max_iter E+M iterations. Writes weights.npy, means.npy,
        covariances.npy (weights_, means_, covariances_) to OUTDIR; prints one JSON line with
        n_iter, lower_bound, lower_bounds, seconds_per_iteration (the E/M loop only) and seconds
        (the whole fit).
  numpy  (same arguments as sklearn)
        the same model written from the update equations with NumPy/SciPy, not calling sklearn,
        in sklearn's conventions (listed in NOTES below); same outputs and JSON.
  compare A_DIR B_DIR
        JSON: for weights, means, covariances, the largest elementwise relative difference
        |a - b| / max(|b|, 1e-300) ("rel") and the norm-relative difference
        max|a - b| / max|b| over the whole array ("norm_rel"); "max_rel" / "max_norm_rel" over
        the three arrays. B is the reference.
  speed X.npy --components K --iters N [--init R.npy] [--threads T] [--seed S] [--out DIR]
        sklearn's seconds per E+M iteration (full covariance, Dirichlet-process prior, tol 0)
        from R (or a seeded Dirichlet(1) R), BLAS limited to T threads with threadpoolctl;
        with --out, also its weights/means/covariances .npy.

NOTES: sklearn's conventions (scikit-learn 1.9, sklearn/mixture/_bayesian_mixture.py,
_gaussian_mixture.py, _base.py), which the numpy subcommand reproduces:
  priors   alpha0 = 1/K, beta0 = 1, m0 = mean of X, nu0 = D, W0^-1 = np.cov(X.T) (ddof 1;
           diag: np.var(X, 0, ddof=1)).
  M-step   N_k = sum_n r_nk + 10*eps;  xbar_k = sum_n r_nk x_n / N_k;
           full: S_k = sum_n r_nk (x_n - xbar_k)(x_n - xbar_k)^T / N_k + reg_covar I;
           diag: S_k = sum_n r_nk x_n^2 / N_k - xbar_k^2 + reg_covar  (uncentered form);
           beta_k = beta0 + N_k;  m_k = (beta0 m0 + N_k xbar_k) / beta_k;  nu_k = nu0 + N_k;
           W_k^-1 = W0^-1 + N_k S_k + (beta0 N_k / beta_k)(xbar_k - m0)(xbar_k - m0)^T
           (diag: the diagonal of it, elementwise squares); covariances_ = W_k^-1 / nu_k.
           Dirichlet distribution: alpha_k = alpha0 + N_k.  Dirichlet process (stick-breaking):
           gamma_k1 = 1 + N_k, gamma_k2 = alpha0 + sum_{j>k} N_j (0 sum for the last k).
  E-step   ln rho_nk = E[ln pi_k] + 0.5 E[ln|Lambda_k|] - 0.5 D ln(2 pi)
                       - 0.5 (D / beta_k + nu_k (x_n - m_k)^T W_k (x_n - m_k)),
           E[ln|Lambda_k|] = sum_{i=0}^{D-1} digamma((nu_k - i)/2) + D ln 2 + ln|W_k| (the
           full-Wishart formula also for diag, with ln|W_k| = -sum_d ln (W_k^-1)_dd);
           Dirichlet: E[ln pi_k] = digamma(alpha_k) - digamma(sum alpha);
           DP: E[ln pi_k] = digamma(g_k1) - digamma(g_k1 + g_k2)
                            + sum_{j<k} (digamma(g_j2) - digamma(g_j1 + g_j2));
           r_nk = softmax_k(ln rho_nk). One iteration = E-step with the current parameters, then
           M-step from its r.
  weights_ Dirichlet: alpha_k / sum alpha; DP: v_k = g_k1 / (g_k1 + g_k2),
           w_k = v_k prod_{j<k} (1 - v_j), then renormalised to sum to 1 (the truncated sticks
           leave mass on the last stick).
  bound    sklearn's lower_bound_ (after the M-step, with the r of the E-step before it), all
           constants dropped: -sum r ln r
             + sum_k [nu_k/2 ln|W_k| + nu_k D/2 ln 2 + sum_{i=0}^{D-1} lnGamma((nu_k - i)/2)]
             - D/2 sum_k ln beta_k
             + Dirichlet: -(lnGamma(sum alpha) - sum_k lnGamma(alpha_k));
               DP: + sum_k ln B(g_k1, g_k2).
           (The Wishart term is -ln B(W_k, nu_k) without the pi^{D(D-1)/4}; omitted: every term
           with the priors only, E[ln p(X|Z,mu,Lambda)], E[ln p(Z|pi)], E[ln p(pi)],
           E[ln p(mu,Lambda)], which cancel against the q terms in this parametrisation up to
           constants.)
"""
import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np
from scipy.linalg import cho_factor, solve_triangular
from scipy.special import betaln, digamma, gammaln

EPS = np.finfo(np.float64).eps


def save(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float64))


def write(outdir, weights, means, covariances):
    os.makedirs(outdir, exist_ok=True)
    save(os.path.join(outdir, "weights.npy"), weights)
    save(os.path.join(outdir, "means.npy"), means)
    save(os.path.join(outdir, "covariances.npy"), covariances)


# ---------------------------------------------------------------- data
def make_data(n, dim, k, seed, true_components):
    rng = np.random.default_rng(seed)
    c = true_components
    w = np.arange(c, 0, -1, dtype=float)
    w /= w.sum()  # unequal weights, e.g. 0.4 0.3 0.2 0.1
    # Means on a scale that keeps the components apart relative to their unit-ish spread.
    means = rng.normal(scale=6.0, size=(c, dim))
    covs = []
    for _ in range(c):
        a = rng.normal(size=(dim, dim))
        covs.append(0.5 * a @ a.T / dim + 0.3 * np.eye(dim))
    z = rng.choice(c, size=n, p=w)
    x = np.empty((n, dim))
    for j in range(c):
        idx = np.flatnonzero(z == j)
        x[idx] = rng.multivariate_normal(means[j], covs[j], size=idx.size)
    r = rng.dirichlet(np.ones(k), size=n)
    return x, r


# ---------------------------------------------------------------- scikit-learn
def sklearn_fit(x, r, a):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    model = BayesianGaussianMixture(
        n_components=a.components,
        covariance_type=a.covariance,
        weight_concentration_prior_type=a.weight_prior.replace("-", "_"),
        weight_concentration_prior=a.weight_concentration,
        mean_precision_prior=a.mean_precision_prior,
        degrees_of_freedom_prior=a.degrees_of_freedom_prior,
        reg_covar=a.reg_covar,
        max_iter=a.max_iter,
        tol=0.0,
        n_init=1,
        random_state=0,
    )
    marks = {}

    def init_from_r(X, random_state, xp=None):
        model._initialize(X, r)  # sklearn's own M-step from the given responsibilities
        marks["loop_start"] = time.perf_counter()

    set_parameters = model._set_parameters

    def set_parameters_marked(params, xp=None):
        marks.setdefault("loop_end", time.perf_counter())  # called once, right after the loop
        return set_parameters(params, xp=xp)

    model._initialize_parameters = init_from_r
    model._set_parameters = set_parameters_marked
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x)
    seconds = time.perf_counter() - t
    loop = marks["loop_end"] - marks["loop_start"]
    return model, {
        "impl": "sklearn",
        "n_iter": int(model.n_iter_),
        "lower_bound": float(model.lower_bound_),
        "lower_bounds": [float(v) for v in model.lower_bounds_],
        "seconds_per_iteration": loop / max(model.n_iter_, 1),
        "seconds": seconds,
    }


# ---------------------------------------------------------------- NumPy from the equations
class NumpyVB:
    """PRML 10.2 variational GMM (Dirichlet or stick-breaking weights), sklearn's conventions."""

    def __init__(self, x, k, weight_prior, covariance, alpha0=None, beta0=None, nu0=None,
                 reg_covar=1e-6):
        self.x = x
        n, d = x.shape
        self.k, self.d = k, d
        self.dp = weight_prior.replace("_", "-") == "dirichlet-process"
        self.full = covariance == "full"
        self.alpha0 = 1.0 / k if alpha0 is None else alpha0
        self.beta0 = 1.0 if beta0 is None else beta0
        self.nu0 = float(d) if nu0 is None else nu0
        self.reg = reg_covar
        self.m0 = x.sum(0) / n
        xc = x - self.m0
        if self.full:
            self.w0inv = xc.T @ xc / (n - 1)
        else:
            self.w0inv = (xc * xc).sum(0) / (n - 1)

    # M-step: variational parameters from responsibilities r [n, k]
    def m_step(self, r):
        x = self.x
        nk = r.sum(0) + 10 * EPS
        xbar = (r.T @ x) / nk[:, None]
        self.beta = self.beta0 + nk
        self.m = (self.beta0 * self.m0 + nk[:, None] * xbar) / self.beta[:, None]
        self.nu = self.nu0 + nk
        dev = xbar - self.m0
        shrink = self.beta0 * nk / self.beta
        if self.full:
            winv = np.empty((self.k, self.d, self.d))
            for j in range(self.k):
                xc = x - xbar[j]
                s = (r[:, j, None] * xc).T @ xc / nk[j] + self.reg * np.eye(self.d)
                winv[j] = self.w0inv + nk[j] * s + shrink[j] * np.outer(dev[j], dev[j])
            self.chol = np.array([cho_factor(w, lower=True)[0] for w in winv])
            for c in self.chol:
                c[np.triu_indices(self.d, 1)] = 0.0
            self.logdet_winv = 2 * np.log(np.diagonal(self.chol, axis1=1, axis2=2)).sum(1)
        else:
            s = (r.T @ (x * x)) / nk[:, None] - xbar**2 + self.reg
            winv = self.w0inv + nk[:, None] * s + shrink[:, None] * dev**2
            self.logdet_winv = np.log(winv).sum(1)
        self.winv = winv
        if self.dp:
            tail = np.array([nk[j + 1:].sum() for j in range(self.k)])
            self.g1, self.g2 = 1.0 + nk, self.alpha0 + tail
        else:
            self.alpha = self.alpha0 + nk

    def e_log_pi(self):
        if self.dp:
            ds = digamma(self.g1 + self.g2)
            stick_rest = np.concatenate(([0.0], np.cumsum(digamma(self.g2) - ds)[:-1]))
            return digamma(self.g1) - ds + stick_rest
        return digamma(self.alpha) - digamma(self.alpha.sum())

    def e_log_det_lambda(self):
        i = np.arange(self.d)
        return (digamma(0.5 * (self.nu[:, None] - i)).sum(1) + self.d * math.log(2.0)
                - self.logdet_winv)

    def quad(self):
        """nu_k (x_n - m_k)^T W_k (x_n - m_k), [n, k]."""
        q = np.empty((self.x.shape[0], self.k))
        for j in range(self.k):
            diff = self.x - self.m[j]
            if self.full:
                z = solve_triangular(self.chol[j], diff.T, lower=True)
                q[:, j] = self.nu[j] * (z * z).sum(0)
            else:
                q[:, j] = self.nu[j] * (diff * diff / self.winv[j]).sum(1)
        return q

    def e_step(self):
        log_rho = (self.e_log_pi() + 0.5 * self.e_log_det_lambda()
                   - 0.5 * self.d * math.log(2 * math.pi)
                   - 0.5 * (self.d / self.beta + self.quad()))
        mx = log_rho.max(1, keepdims=True)
        log_norm = mx + np.log(np.exp(log_rho - mx).sum(1, keepdims=True))
        return log_rho - log_norm

    def lower_bound(self, log_r):
        d = self.d
        r = np.exp(log_r)
        entropy = -(r * log_r).sum()
        i = np.arange(d)
        wishart = (-0.5 * self.nu * self.logdet_winv + 0.5 * self.nu * d * math.log(2.0)
                   + gammaln(0.5 * (self.nu[:, None] - i)).sum(1)).sum()
        if self.dp:
            weights = betaln(self.g1, self.g2).sum()
        else:
            weights = -(gammaln(self.alpha.sum()) - gammaln(self.alpha).sum())
        return entropy + wishart + weights - 0.5 * d * np.log(self.beta).sum()

    def weights(self):
        if self.dp:
            v = self.g1 / (self.g1 + self.g2)
            w = v * np.concatenate(([1.0], np.cumprod(1.0 - v)[:-1]))
            return w / w.sum()
        return self.alpha / self.alpha.sum()

    def covariances(self):
        return self.winv / (self.nu[:, None, None] if self.full else self.nu[:, None])


def numpy_fit(x, r, a):
    t = time.perf_counter()
    vb = NumpyVB(x, a.components, a.weight_prior, a.covariance, a.weight_concentration,
                 a.mean_precision_prior, a.degrees_of_freedom_prior, a.reg_covar)
    vb.m_step(r)
    t0 = time.perf_counter()
    bounds = []
    for _ in range(a.max_iter):
        log_r = vb.e_step()
        vb.m_step(np.exp(log_r))
        bounds.append(float(vb.lower_bound(log_r)))
    t1 = time.perf_counter()
    return vb, {
        "impl": "numpy",
        "n_iter": a.max_iter,
        "lower_bound": bounds[-1] if bounds else None,
        "lower_bounds": bounds,
        "seconds_per_iteration": (t1 - t0) / max(a.max_iter, 1),
        "seconds": t1 - t,
    }


# ---------------------------------------------------------------- compare
def compare(a_dir, b_dir):
    out = {}
    for name in ("weights", "means", "covariances"):
        try:
            a = np.load(os.path.join(a_dir, name + ".npy"))
            b = np.load(os.path.join(b_dir, name + ".npy"))
        except (OSError, ValueError) as e:
            out[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        if a.shape != b.shape:
            out[name] = {"error": f"shape {list(a.shape)} vs {list(b.shape)}"}
            continue
        diff = np.abs(a - b)
        rel = diff / np.maximum(np.abs(b), 1e-300)
        out[name] = {
            "rel": float(rel.max()) if rel.size else 0.0,
            "norm_rel": float(diff.max() / max(np.abs(b).max(), 1e-300)) if diff.size else 0.0,
            "abs": float(diff.max()) if diff.size else 0.0,
        }
        if not np.all(np.isfinite(a)):
            out[name]["rel"] = out[name]["norm_rel"] = math.inf
    errors = [v["error"] for v in out.values() if "error" in v]
    if errors:
        out["error"] = "; ".join(errors)
        out["max_rel"] = out["max_norm_rel"] = None
    else:
        out["max_rel"] = max(v["rel"] for v in out.values())
        out["max_norm_rel"] = max(v["norm_rel"] for v in out.values() if isinstance(v, dict))
    return out


# ---------------------------------------------------------------- CLI
def fit_args(p):
    p.add_argument("x")
    p.add_argument("r")
    p.add_argument("outdir")
    p.add_argument("--components", type=int, required=True)
    p.add_argument("--weight-prior", required=True,
                   choices=["dirichlet-process", "dirichlet-distribution",
                            "dirichlet_process", "dirichlet_distribution"])
    p.add_argument("--covariance", choices=["full", "diag"], default="full")
    p.add_argument("--max-iter", type=int, required=True)
    p.add_argument("--weight-concentration", type=float)
    p.add_argument("--mean-precision-prior", type=float)
    p.add_argument("--degrees-of-freedom-prior", type=float)
    p.add_argument("--reg-covar", type=float, default=1e-6)
    p.add_argument("--threads", type=int)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("data")
    p.add_argument("x")
    p.add_argument("r")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--components", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--true-components", type=int, default=4)
    fit_args(sub.add_parser("sklearn"))
    fit_args(sub.add_parser("numpy"))
    p = sub.add_parser("compare")
    p.add_argument("a_dir")
    p.add_argument("b_dir")
    p = sub.add_parser("speed")
    p.add_argument("x")
    p.add_argument("--components", type=int, default=20)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--init")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="also write weights/means/covariances .npy here")
    a = ap.parse_args()

    if a.cmd == "data":
        x, r = make_data(a.n, a.dim, a.components, a.seed, a.true_components)
        save(a.x, x)
        save(a.r, r)
        return
    if a.cmd == "compare":
        print(json.dumps(compare(a.a_dir, a.b_dir)))
        return

    from threadpoolctl import threadpool_limits

    if a.cmd == "speed":
        x = np.load(a.x)
        r = (np.load(a.init) if a.init else
             np.random.default_rng(a.seed).dirichlet(np.ones(a.components), size=x.shape[0]))
        ns = argparse.Namespace(components=a.components, covariance="full",
                                weight_prior="dirichlet-process", weight_concentration=None,
                                mean_precision_prior=None, degrees_of_freedom_prior=None,
                                reg_covar=1e-6, max_iter=a.iters)
        import sklearn
        with threadpool_limits(limits=a.threads):
            model, info = sklearn_fit(x, r, ns)
        if a.out:
            write(a.out, model.weights_, model.means_, model.covariances_)
        info.pop("lower_bounds")
        info.update(version=sklearn.__version__, threads=a.threads, n=x.shape[0],
                    dim=x.shape[1], components=a.components)
        print(json.dumps(info))
        return

    x, r = np.load(a.x), np.load(a.r)
    if r.shape != (x.shape[0], a.components):
        sys.exit(f"R has shape {r.shape}, expected {(x.shape[0], a.components)}")
    with threadpool_limits(limits=a.threads):
        if a.cmd == "sklearn":
            model, info = sklearn_fit(x, r, a)
            w, m, c = model.weights_, model.means_, model.covariances_
        else:
            vb, info = numpy_fit(x, r, a)
            w, m, c = vb.weights(), vb.m, vb.covariances()
    write(a.outdir, w, m, c)
    info["effective_components"] = int((w > 1e-2).sum())
    print(json.dumps(info))


if __name__ == "__main__":
    main()
