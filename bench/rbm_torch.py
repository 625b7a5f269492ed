"""The seed's RBM, CD-1, in PyTorch on the CPU: one epoch over Fashion-MNIST, timed.

Same work as `helmholtz rbm train --cd --cd-k 1`: 784 visible, 500 hidden, batch 100,
lr 0.05, no momentum, no weight decay, v0 = intensities in [0, 1], sampled h0, sampled v1,
p(h|v1) for the negative statistics (the seed's algorithm).
"""
import json
import sys
import time

import torch

import fashion

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.from_numpy(fashion.load("train"))
n, nv, nh, b, lr = x.shape[0], 784, 500, 100, 0.05
W = torch.randn(nv, nh) * 0.01
bv = torch.zeros(nv)
bh = torch.zeros(nh)
times = []
with torch.no_grad():
    for epoch in range(epochs):
        perm = torch.randperm(n)
        t = time.perf_counter()
        for i in range(0, n, b):
            v0 = x[perm[i:i + b]]
            ph0 = torch.sigmoid(v0 @ W + bh)
            h0 = (torch.rand_like(ph0) < ph0).float()
            pv1 = torch.sigmoid(h0 @ W.t() + bv)
            v1 = (torch.rand_like(pv1) < pv1).float()
            ph1 = torch.sigmoid(v1 @ W + bh)
            m = v0.shape[0]
            W += (lr / m) * (v0.t() @ ph0 - v1.t() @ ph1)
            bv += (lr / m) * (v0 - v1).sum(0)
            bh += (lr / m) * (ph0 - ph1).sum(0)
        times.append(time.perf_counter() - t)
        recon = ((x[:1000] - torch.sigmoid(torch.sigmoid(x[:1000] @ W + bh) @ W.t() + bv)) ** 2).sum(1).mean()
print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": threads,
                  "epoch_seconds": times, "recon_error": float(recon)}))
