"""Memory shared with forked workers: the band sample is written in place by the workers of a process
pool, never pickled back, and a run gives the same bits whether it was or not. And memory a worker frees
stays with it for its next chunk."""

from __future__ import annotations

import multiprocessing
import pickle
import platform
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from routesim.runs import montecarlo
from routesim.runs.executors import Inherited, forks_workers, shared_empty
from test_streaming import _small


def _write(handle, row, value):
    """In a worker: write ``value`` into row ``row`` of the shared array behind ``handle``."""
    if handle.value is None:
        return False
    handle.value[row] = value
    return True


def test_a_forked_worker_writes_into_the_parents_array():
    array = shared_empty((3, 4))
    handle = Inherited(array)
    try:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            assert list(pool.map(_write, [handle] * 3, range(3), [1.5, 2.5, 3.5])) == [True] * 3
    finally:
        handle.close()
    assert array.tolist() == [[1.5] * 4, [2.5] * 4, [3.5] * 4]


def test_a_spawned_process_or_a_closed_handle_finds_nothing():
    handle = Inherited(shared_empty((2, 2)))
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            assert pool.submit(_write, handle, 0, 1.0).result() is False
        assert pickle.loads(pickle.dumps(handle)).value is handle.value
    finally:
        handle.close()
    assert pickle.loads(pickle.dumps(handle)).value is None
    assert not handle.value.any()


def _folded(monkeypatch):
    seen = []
    fold = montecarlo._Aggregate.__call__

    def record(self, chunk):
        seen.append((chunk.in_place, chunk.daily.shape[0], int(chunk.kept.sum())))
        fold(self, chunk)

    monkeypatch.setattr(montecarlo._Aggregate, "__call__", record)
    return seen


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="workers are not forked here")
def test_a_process_pool_sends_no_band_sample_and_gives_the_same_bits(monkeypatch):
    monkeypatch.setattr(montecarlo, "BAND_SAMPLE", 40)
    s = _small(100)
    one = montecarlo.run(s, workers=1)
    seen = _folded(monkeypatch)
    two = montecarlo.run(s, workers=2)
    assert forks_workers("local", 2, 100) and len(seen) > 2
    assert all(in_place and rows == 0 for in_place, rows, _ in seen)
    assert sum(kept for *_, kept in seen) == 40
    for name in ("indices", "events", "figures", "daily_sums", "sample_positions", "sample"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    assert two.sample.any()  # written by the workers


def test_repeated_indices_fall_back_to_sending_the_sample(monkeypatch):
    s = _small(1)
    order = [3, 1, 3, 2, 1, 5, 0, 4, 3, 2, 6, 7] * 3
    one = montecarlo.run(s, workers=1, indices=order)
    seen = _folded(monkeypatch)
    two = montecarlo.run(s, workers=2, indices=order)
    assert seen and not any(in_place for in_place, *_ in seen)
    assert np.array_equal(one.sample, two.sample) and np.array_equal(one.figures, two.figures)


_FAULTS = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from routesim.runs.executors import keep_freed_memory
    keep_freed_memory()
a = np.ones(3_000_000); del a  # the first 24 MB block: the heap grows
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):  # a chunk's arrays, again and again
    a = np.ones(3_000_000)
    del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_worker_keeps_the_memory_it_frees():
    """After keep_freed_memory, writing a block the size of a chunk's arrays again takes no new pages from
    the system (page faults), where by default some of it is mapped afresh each time."""
    def faults(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    kept, plain = faults("keep"), faults("plain")
    assert kept <= 16 and kept < plain, (kept, plain)
