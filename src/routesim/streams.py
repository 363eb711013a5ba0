"""Random streams: one per replication, and one per random process within it.

Replication ``k`` of a run with ``seed`` draws from ``SeedSequence(seed, spawn_key=(k,))``; a
process named ``name`` draws from ``SeedSequence(seed, spawn_key=(k, crc32(name)))``. Replication k is
therefore the same whatever the number of replications or workers, adding a process does not shift the
others, and two scenarios run with one seed share their random incidents (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def replication_seed(seed: int, k: int) -> np.random.SeedSequence:
    """Seed of replication ``k``."""
    return np.random.SeedSequence(seed, spawn_key=(k,))


def stream(seed: int, k: int, name: str) -> np.random.Generator:
    """Random stream of the process ``name`` in replication ``k``, keyed by a stable hash of the name."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k, zlib.crc32(name.encode("utf-8")))))
