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
