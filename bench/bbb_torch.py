"""Bayes by Backprop in PyTorch, the peer of `helmholtz bnn train --example digits --method bbb`:
a 784-400-400-10 ReLU classifier with Gaussian posteriors N(mu, softplus(rho)^2) on every weight
and bias, Blundell's scale-mixture prior (pi = 1/2, sigma1 = 1, sigma2 = e^-6), the free energy
per example mean(NLL) + KL / N (KL: one-draw estimate ln q(w) - ln p(w)), Adam(1e-3), batch 100,
on the same training digits (data/digits10k, pixel intensities in [0, 1]). LOCAL=1: local
reparameterisation (pre-activations sampled, a fresh weight draw for the KL); LOCAL=0: weights
sampled once per batch. Prints the seconds of every epoch as JSON.

    python bbb_torch.py THREADS EPOCHS LOCAL
"""
import gzip
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

threads, epochs, local = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
torch.set_num_threads(threads)
# helmholtz flushes denormals to zero; so does the peer (the narrow prior component's
# exp(-w^2 / 2 sigma2^2) would otherwise make PyTorch's weight-sampling epoch several times slower).
torch.set_flush_denormal(True)
torch.manual_seed(0)


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


x = torch.tensor(idx("../data/digits10k/train-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0, dtype=torch.float32)
y = torch.tensor(idx("../data/digits10k/train-labels-idx1-ubyte.gz"), dtype=torch.long)
n = x.shape[0]
PI, S1, S2 = 0.5, 1.0, math.exp(-6.0)
HALF_LN_2PI = 0.5 * math.log(2 * math.pi)
RHO0 = math.log(math.expm1(0.01))


def log_prior(w):
    a1 = -0.5 * (w / S1) ** 2 + math.log(PI) - math.log(S1) - HALF_LN_2PI
    a2 = -0.5 * (w / S2) ** 2 + math.log(1 - PI) - math.log(S2) - HALF_LN_2PI
    return torch.logaddexp(a1, a2)


def kl(mu, sigma, w=None):
    if w is None:
        w = mu + sigma * torch.randn_like(mu)
    log_q = -0.5 * ((w - mu) / sigma) ** 2 - torch.log(sigma) - HALF_LN_2PI
    return (log_q - log_prior(w)).sum()


class BayesLinear(torch.nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.w_mu = torch.nn.Parameter(torch.randn(i, o) / math.sqrt(i))
        self.w_rho = torch.nn.Parameter(torch.full((i, o), RHO0))
        self.b_mu = torch.nn.Parameter(torch.zeros(o))
        self.b_rho = torch.nn.Parameter(torch.full((o,), RHO0))

    def forward(self, h):
        ws, bs = F.softplus(self.w_rho), F.softplus(self.b_rho)
        if local:
            mean = h @ self.w_mu + self.b_mu
            var = (h * h) @ (ws * ws) + bs * bs
            a = mean + var.sqrt() * torch.randn_like(mean)
            return a, kl(self.w_mu, ws) + kl(self.b_mu, bs)
        w = self.w_mu + ws * torch.randn_like(ws)
        b = self.b_mu + bs * torch.randn_like(bs)
        return h @ w + b, kl(self.w_mu, ws, w) + kl(self.b_mu, bs, b)


layers = torch.nn.ModuleList([BayesLinear(784, 400), BayesLinear(400, 400), BayesLinear(400, 10)])
opt = torch.optim.Adam(layers.parameters(), lr=1e-3, eps=1e-8)
seconds = []
for epoch in range(epochs):
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    for b in range(0, n, 100):
        i = perm[b : b + 100]
        h, total_kl = x[i], 0.0
        for k, layer in enumerate(layers):
            h, term = layer(h)
            total_kl = total_kl + term
            if k < 2:
                h = torch.relu(h)
        loss = F.cross_entropy(h, y[i]) + total_kl / n
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    seconds.append(time.perf_counter() - t0)
print(json.dumps({"version": torch.__version__, "epoch_seconds": seconds, "examples": n, "loss": float(loss.detach())}))
