"""The MLP GAN of helmholtz's default (`helmholtz gan train`) in PyTorch on the CPU: one or
more epochs over Fashion-MNIST, timed. Same work: images scaled to [-1, 1], noise dim 100,
G 100-256-512-784 (LeakyReLU 0.2, tanh output), D 784-512-256-1 (LeakyReLU 0.2, dropout 0.3,
logits), non-saturating G loss, k = 1, Adam(2e-4, betas (0.5, 0.999), eps 1e-8), batch 64,
BCE from logits.

    python gan_torch.py THREADS EPOCHS [BATCH]
"""
import json
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

import fashion

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.from_numpy(fashion.load("train")) * 2 - 1

G = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                  nn.Linear(512, 784), nn.Tanh())
D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                  nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(256, 1))
opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
n = x.shape[0]
times = []
for epoch in range(epochs):
    perm = torch.randperm(n)
    t = time.perf_counter()
    for i in range(0, n, batch):
        real = x[perm[i:i + batch]]
        m = real.shape[0]
        # Discriminator step: real -> 1, fake -> 0.
        fake = G(torch.randn(m, 100)).detach()
        d_loss = (F.binary_cross_entropy_with_logits(D(real), torch.ones(m, 1), reduction="mean")
                  + F.binary_cross_entropy_with_logits(D(fake), torch.zeros(m, 1), reduction="mean"))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        # Generator step, non-saturating: maximise log D(G(z)).
        g_loss = F.binary_cross_entropy_with_logits(D(G(torch.randn(m, 100))), torch.ones(m, 1))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    times.append(time.perf_counter() - t)
print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": threads,
                  "batch": batch, "epoch_seconds": times}))
