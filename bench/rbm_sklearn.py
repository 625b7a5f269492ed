"""scikit-learn's BernoulliRBM (PCD-1) on Fashion-MNIST: 500 hidden, batch 100, lr 0.05, n_iter=1."""
import json
import sys
import time

from threadpoolctl import threadpool_limits
import sklearn
from sklearn.neural_network import BernoulliRBM

import fashion

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
x = fashion.load("train")
times = []
with threadpool_limits(limits=threads):
    for epoch in range(epochs):
        rbm = BernoulliRBM(n_components=500, learning_rate=0.05, batch_size=100, n_iter=1, random_state=epoch)
        t = time.perf_counter()
        rbm.fit(x)
        times.append(time.perf_counter() - t)
print(json.dumps({"peer": "scikit-learn", "version": sklearn.__version__, "threads": threads, "epoch_seconds": times}))
