"""The seed's Pyro program (Bayesian linear regression, AutoDiagonalNormal, Trace_ELBO,
Adam(0.01), 1000 steps) on data read from a CSV, timed; prints posterior means/stds as JSON.

    python bnn_pyro.py DATA.csv STEPS
"""
import json
import sys
import time

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.infer import SVI, Trace_ELBO
from pyro.nn import PyroModule, PyroSample

torch.set_num_threads(1)
pyro.set_rng_seed(0)
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
x = torch.tensor(data[:, :1], dtype=torch.float32)
y = torch.tensor(data[:, 1], dtype=torch.float32)


class BayesianRegression(PyroModule):
    def __init__(self):
        super().__init__()
        self.linear = PyroModule[torch.nn.Linear](1, 1)
        self.linear.weight = PyroSample(dist.Normal(0.0, 1.0).expand([1, 1]).to_event(2))
        self.linear.bias = PyroSample(dist.Normal(0.0, 10.0).expand([1]).to_event(1))

    def forward(self, x, y=None):
        sigma = pyro.sample("sigma", dist.Uniform(0.0, 10.0))
        mean = self.linear(x).squeeze(-1)
        with pyro.plate("data", x.shape[0]):
            pyro.sample("obs", dist.Normal(mean, sigma), obs=y)
        return mean


model = BayesianRegression()
guide = pyro.infer.autoguide.AutoDiagonalNormal(model)
svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.01}), loss=Trace_ELBO())
t = time.perf_counter()
for _ in range(steps):
    svi.step(x, y)
seconds = time.perf_counter() - t
samples = pyro.infer.Predictive(model, guide=guide, num_samples=1000,
                                return_sites=["linear.weight", "linear.bias", "sigma"])(x)
out = {"peer": "pyro", "version": pyro.__version__, "steps": steps, "seconds": seconds}
for name, key in [("slope", "linear.weight"), ("intercept", "linear.bias"), ("sigma", "sigma")]:
    v = samples[key].reshape(-1).detach().numpy().astype(float)
    out[f"{name}_mean"], out[f"{name}_std"] = float(v.mean()), float(v.std(ddof=1))
print(json.dumps(out))
