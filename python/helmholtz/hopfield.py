"""Hopfield networks: the classical binary network of the seed (0/1 units; Hebbian,
pseudo-inverse or Storkey weights) and the modern dense associative memory.

    >>> from helmholtz.hopfield import Hopfield
    >>> net = Hopfield.store(patterns)                 # [p, n] of 0/1
    >>> state, sweeps, converged, energies = net.recall(noisy, seed=0)

``ModernHopfield(patterns, beta)`` retrieves with ``x <- Xᵀ softmax(beta X x)``.
"""

from ._native import Hopfield, ModernHopfield

__all__ = ["Hopfield", "ModernHopfield"]
