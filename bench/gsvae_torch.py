"""The Gumbel-Softmax VAE (Jang et al. 2017) as helmholtz trains it with --latent categorical:20x10,
in PyTorch on the CPU: 784-400-(20 x 10) encoder, 200-400-784 decoder, ReLU, Bernoulli decoder
from logits, loss BCE(sum) + KL(q || uniform) summed over the batch, Adam lr 1e-3, batch 128,
relaxed (not straight-through) samples y = softmax((logits + g) / tau) with the temperature
annealed per update as tau = max(0.5, exp(-3e-5 t)) (helmholtz's defaults --tau 1
--tau-min 0.5 --anneal-rate 3e-5), on full Fashion-MNIST (intensities in [0, 1]). Prints
seconds per epoch (training updates only) and the test ELBO after the last epoch in nats per
example, with one exact one-hot sample of q per example (as `helmholtz vae eval --k 1`).

    python gsvae_torch.py THREADS EPOCHS
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

import fashion

threads, epochs, x, x_test = fashion.torch_setup()
N, K = 20, 10
TAU0, TAU_MIN, RATE = 1.0, 0.5, 3e-5


class GumbelVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc2 = nn.Linear(400, N * K)
        self.fc3 = nn.Linear(N * K, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x, tau=None):
        logits = self.fc2(F.relu(self.fc1(x))).view(-1, N, K)
        g = -torch.empty_like(logits).exponential_().log()  # standard Gumbel noise
        if tau is None:  # an exact sample of q (Gumbel-max), for evaluation
            z = F.one_hot((logits + g).argmax(-1), K).to(logits.dtype)
        else:
            z = F.softmax((logits + g) / tau, dim=-1)
        return self.fc4(F.relu(self.fc3(z.view(-1, N * K)))), logits


def loss_function(out, x, logits):
    recon = F.binary_cross_entropy_with_logits(out, x, reduction="sum")
    log_q = F.log_softmax(logits, dim=-1)
    kl = (log_q.exp() * (log_q + math.log(K))).sum()
    return recon + kl


model = GumbelVAE()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)


def train_loss(xb, step):
    out, logits = model(xb, max(TAU_MIN, TAU0 * math.exp(-RATE * step)))
    return loss_function(out, xb, logits)


def test_loss(xb):
    out, logits = model(xb)
    return loss_function(out, xb, logits)


fashion.train_and_report(model, opt, x, x_test, epochs, threads, train_loss, test_loss)
