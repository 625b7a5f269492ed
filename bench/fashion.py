"""Load Fashion-MNIST from Debian's dataset-fashion-mnist (or $HELMHOLTZ_DATA) as float32 in [0, 1]."""
import gzip
import os
import numpy as np


def _dir():
    root = os.environ.get("HELMHOLTZ_DATA")
    for d in ([os.path.join(root, "fashion-mnist"), root] if root else []) + ["/usr/share/datasets/fashion-mnist"]:
        if os.path.exists(os.path.join(d, "train-images-idx3-ubyte.gz")):
            return d
    raise SystemExit("Fashion-MNIST not found: sudo apt-get install dataset-fashion-mnist")


def load(split="train"):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(_dir(), f"{prefix}-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    n, rows, cols = np.frombuffer(raw[4:16], dtype=">u4")
    x = np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, rows * cols)
    return (x.astype(np.float32) / 255.0)


def torch_setup():
    """`THREADS EPOCHS` from the command line (default 2 and 10), torch on that many threads
    with seed 0, and the training and test images as float32 tensors in [0, 1]."""
    import sys
    import torch

    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    return threads, epochs, torch.from_numpy(load("train")), torch.from_numpy(load("test"))


def train_and_report(model, opt, x, x_test, epochs, threads, train_loss, test_loss, batch=128):
    """Train `model` with `opt` for `epochs` epochs of shuffled mini-batches of `x`
    (`train_loss(xb, step)` is a batch's loss; `step` counts updates), then print the seconds of
    every epoch (updates only) and the test ELBO `-sum test_loss(xb) / n_test` as JSON."""
    import json
    import time
    import torch

    n, times, step = x.shape[0], [], 0
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        t = time.perf_counter()
        for i in range(0, n, batch):
            xb = x[perm[i:i + batch]]
            opt.zero_grad()
            loss = train_loss(xb, step)
            loss.backward()
            opt.step()
            step += 1
        times.append(time.perf_counter() - t)
    model.eval()
    with torch.no_grad():
        total = sum(float(test_loss(x_test[i:i + 1000])) for i in range(0, x_test.shape[0], 1000))
    print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": threads,
                      "epoch_seconds": times, "test_elbo": -total / x_test.shape[0]}))
