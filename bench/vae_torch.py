"""The seed's VAE (000_66a24e2247aee924: 784-400-20, ReLU, sigmoid output, BCE(sum) + KL,
Adam lr 1e-3, batch 128) in PyTorch on the CPU, trained on full Fashion-MNIST (intensities in
[0, 1], as the seed does for MNIST). Prints seconds per epoch (training updates only) and the
test ELBO after the last epoch in nats per example (one reparameterised sample per example).

    python vae_torch.py THREADS EPOCHS
"""

import torch
import torch.nn.functional as F
from torch import nn

import fashion

threads, epochs, x, x_test = fashion.torch_setup()


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


model = VAE()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)


def train_loss(xb, _step):
    recon, mu, logvar = model(xb)
    return loss_function(recon, xb, mu, logvar)


def test_loss(xb):
    recon, mu, logvar = model(xb)
    return loss_function(recon, xb, mu, logvar)


fashion.train_and_report(model, opt, x, x_test, epochs, threads, train_loss, test_loss)
