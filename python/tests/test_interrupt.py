"""Ctrl-C during a long fit: the fit stops after its current mini-batch, KeyboardInterrupt is
raised in Python, and the interpreter carries on (the library keeps working)."""

import signal
import subprocess
import sys
import time

SCRIPT = r"""
import sys, time
import numpy as np
from helmholtz import BernoulliRBM
x = (np.random.default_rng(0).random((20000, 784)) < 0.3).astype(np.float32)
print("start", flush=True)
t0 = time.perf_counter()
try:
    BernoulliRBM(n_components=256, n_iter=1000).fit(x)
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted {time.perf_counter() - t0:.2f}", flush=True)
m = BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(x[:100])
print("after", m.transform(x[:2]).shape, flush=True)
"""


def test_ctrl_c_stops_a_long_fit_cleanly():
    p = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "start"
    time.sleep(1.5)
    t = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    lines = out.split("\n")
    assert p.returncode == 0, err
    assert lines[0].startswith("interrupted"), out + err
    assert time.perf_counter() - t < 10  # 1,000 epochs would take many minutes
    assert lines[1] == "after (2, 4)"
