"""The 2D Ising model: Markov chains on a periodic ``L x L`` lattice and Onsager's exact
results.

    >>> from helmholtz.ising import IsingChain, critical_temperature
    >>> chain = IsingChain(size=64, temperature=critical_temperature(), algorithm="wolff", seed=0)
    >>> chain.sweep(1000)
    >>> e, m = chain.measure()          # energy and magnetisation per spin now
    >>> es, ms = chain.sample(10000, equilibration=1000)   # their series

``algorithm`` is ``"metropolis"`` (checkerboard sweeps, multi-spin coded when ``h = 0`` and
``L`` is a multiple of 128), ``"heat-bath"`` or ``"wolff"`` (cluster updates, ``h = 0``).
``onsager_exact(T)`` gives the infinite lattice's ``(|m|, e, c)``.
"""

from ._native import IsingChain, critical_temperature, onsager_exact

__all__ = ["IsingChain", "critical_temperature", "onsager_exact"]
