"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

Replications are sent in chunks, so that the cost of a task stays small beside its work; chunks come
back in order, so results never depend on the executor or the number of workers. A chunk holds whole
blocks of :data:`BLOCK` replications (but for the run's last), so a reduction done block by block, in a
worker, gives the same bits however the run was cut into chunks.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import math
import mmap
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from routesim.errors import RoutesimError

EXECUTORS = ("local", "dask", "dask-local")
BLOCK = 8
"""Replications per block: every chunk but the last holds a whole number of blocks, and starts on one."""
ChunkFn = Callable[[Any, list[int]], Any]
"""``fn(scenario, chunk)``: its result has ``len()``, the number of replications it covers."""
Fold = Callable[[Any], None]
Progress = Callable[[int, int], None]
T = TypeVar("T")


def chunks(indices: Sequence[int], workers: int, tasks_per_worker: int = 8, largest: int = 256) -> list[list[int]]:
    """Split replications into chunks: a few per worker, so that work balances and progress moves; each
    chunk a multiple of :data:`BLOCK` replications (at most ``largest`` rounded up to one), but the last."""
    size = max(1, min(largest, math.ceil(len(indices) / (max(workers, 1) * tasks_per_worker))))
    size = BLOCK * math.ceil(size / BLOCK)
    return [list(indices[i : i + size]) for i in range(0, len(indices), size)]


def forks_workers(executor: str, workers: int, replications: int) -> bool:
    """Whether :func:`map_chunks` runs ``replications`` in worker processes forked from this one, which
    see what an :class:`Inherited` made before them holds."""
    if executor != "local" or workers <= 1 or len(chunks(range(replications), workers)) <= 1:
        return False
    import multiprocessing

    return bool(multiprocessing.get_start_method() == "fork")


def shared_empty(shape: tuple[int, ...]) -> Any:
    """A float array in anonymous shared memory: what the processes forked after its creation write into
    it, this process sees (no pickling, no copy). Zero-filled; its pages take memory only once written."""
    import numpy as np

    count = math.prod(shape)
    if count == 0:
        return np.zeros(shape)
    return np.frombuffer(mmap.mmap(-1, count * 8), dtype=np.float64, count=count).reshape(shape)


_INHERITED: dict[tuple[int, int], Any] = {}
_TOKENS = itertools.count()


class Inherited(Generic[T]):
    """A value that worker processes forked after its creation inherit, passed to them by a token.

    It pickles as its token: unpickled in this process or in one forked from it after its creation,
    :attr:`value` is the value itself (a shared array stays shared); anywhere else (a spawned process, a
    Dask worker) it is None, and the caller falls back to sending its data back. :meth:`close` forgets
    the value here (the processes already forked keep their copy).
    """

    def __init__(self, value: T) -> None:
        self.token = (os.getpid(), next(_TOKENS))
        self.value: T | None = value
        _INHERITED[self.token] = value

    def close(self) -> None:
        """Forget the value: an Inherited unpickled after this finds nothing."""
        _INHERITED.pop(self.token, None)

    def __reduce__(self) -> tuple[Any, tuple[tuple[int, int]]]:
        return _inherited, (self.token,)


def _inherited(token: tuple[int, int]) -> Inherited[Any]:
    found: Inherited[Any] = Inherited.__new__(Inherited)
    found.token, found.value = token, _INHERITED.get(token)
    return found


def map_chunks(
    fn: ChunkFn,
    scenario: Any,
    indices: Sequence[int],
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    fold: Fold | None = None,
) -> list[Any]:
    """``fn(scenario, chunk)`` for every chunk of ``indices``, results in chunk order.

    With ``fold``, each result goes to ``fold`` instead, in chunk order, as soon as it and every chunk
    before it are back, and is then dropped: memory holds only the chunks that came back early, and
    the list returned is empty.
    """
    if executor not in EXECUTORS:
        raise RoutesimError(f"unknown executor {executor!r} (one of {', '.join(EXECUTORS)})")
    done: list[Any] = []
    take = done.append if fold is None else fold
    if executor == "local":
        parts = chunks(indices, workers)
        if workers <= 1 or len(parts) <= 1:
            _serial(fn, scenario, parts, len(indices), progress, take)
        else:
            _process_pool(fn, scenario, parts, workers, len(indices), progress, take)
    else:
        _dask(fn, scenario, indices, executor, workers, scheduler, progress, take)
    return done


class _InOrder:
    """Passes results on in chunk order, holding those that come back before their turn."""

    def __init__(self, take: Fold) -> None:
        self.take = take
        self.next = 0
        self.early: dict[int, Any] = {}

    def __call__(self, i: int, result: Any) -> None:
        self.early[i] = result
        while self.next in self.early:
            self.take(self.early.pop(self.next))
            self.next += 1


def _serial(
    fn: ChunkFn, scenario: Any, parts: list[list[int]], total: int, progress: Progress | None, take: Fold
) -> None:
    count = 0
    for part in parts:
        take(fn(scenario, part))
        count += len(part)
        if progress is not None:
            progress(count, total)


def _process_pool(
    fn: ChunkFn, scenario: Any, parts: list[list[int]], workers: int, total: int, progress: Progress | None,
    take: Fold,
) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed  # not at import: the CLI starts faster

    pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker)
    try:
        # Only this dict refers to a pending future; as_completed lets go of each future it yields, so a
        # result lives until it has been passed on.
        gc.freeze()  # the workers, forked at the first submit, leave the objects they inherit alone (below)
        try:
            position = {pool.submit(fn, scenario, part): i for i, part in enumerate(parts)}
        finally:
            gc.unfreeze()
        in_order, count = _InOrder(take), 0
        for future in as_completed(list(position)):
            result = future.result()
            count += len(result)
            in_order(position.pop(future), result)
            del future, result
            if progress is not None:
                progress(count, total)
    except BaseException:
        # Ctrl-C, a signal or a failed replication: stop the workers now rather than finish the queue.
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            process.terminate()
        for process in processes:  # one caught mid-start may still hold the parent's SIGTERM handler
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _start_worker() -> None:
    """Workers ignore Ctrl-C, which the terminal sends to the whole process group, and die of SIGTERM
    whatever handler they inherited: the parent stops them. They keep the memory they free."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    keep_freed_memory()


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""glibc's mallopt parameters (malloc.h)."""


def keep_freed_memory() -> None:
    """Have glibc's malloc keep the memory this process frees for its next allocations, rather than give
    it back to the system: a chunk's results allocate tens of MB of arrays, which would otherwise be
    mapped afresh for every chunk, and a fresh page costs a fault on its first write (docs/performance.md:
    a third of a run's system time). For a process that exits with its run (a worker, the command line):
    the memory a run freed stays with the process. Outside glibc, nothing."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(M_MMAP_THRESHOLD, 512 * 2**20)  # blocks up to 512 MiB from the heap, not mapped one by one
    mallopt(M_TRIM_THRESHOLD, 2**30)  # and the heap's free top kept up to 1 GiB


def _dask(
    fn: ChunkFn,
    scenario: Any,
    indices: Sequence[int],
    executor: str,
    workers: int,
    scheduler: str | None,
    progress: Progress | None,
    take: Fold,
) -> None:
    """Chunks as Dask tasks; a task whose worker dies is retried elsewhere (only that chunk is lost)."""
    try:  # dask is an optional extra, and untyped
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise RoutesimError("the Dask executors need the optional extra: pip install 'routesim[dask]'") from None
    cluster = None
    if executor == "dask-local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    else:
        if not scheduler:
            raise RoutesimError("--executor dask needs --scheduler tcp://HOST:PORT")
        client = Client(scheduler, timeout="30s")
    try:
        slots = max(1, sum(client.nthreads().values()))
        parts = chunks(indices, slots, tasks_per_worker=4, largest=2_000)
        remote = client.scatter(scenario, broadcast=True)
        position = {client.submit(fn, remote, part, pure=False, retries=2): i for i, part in enumerate(parts)}
        in_order, count = _InOrder(take), 0
        for future in dask_completed(list(position)):
            result = future.result()
            count += len(result)
            in_order(position.pop(future), result)
            future.release()  # the cluster may forget the chunk's result now
            del future, result
            if progress is not None:
                progress(count, len(indices))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
