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
