"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

Replications are sent in chunks, so that the cost of a task stays small beside its work; chunks come
back in order, so results never depend on the executor or the number of workers.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from .errors import RoutesimError

EXECUTORS = ("local", "dask", "dask-local")
ChunkFn = Callable[[Any, list[int]], list[Any]]
Progress = Callable[[int, int], None]


def chunks(indices: Sequence[int], workers: int, tasks_per_worker: int = 8, largest: int = 250) -> list[list[int]]:
    """Split replications into chunks: a few per worker, so that work balances and progress moves."""
    size = max(1, min(largest, math.ceil(len(indices) / (max(workers, 1) * tasks_per_worker))))
    return [list(indices[i : i + size]) for i in range(0, len(indices), size)]


def map_chunks(
    fn: ChunkFn,
    scenario: Any,
    indices: Sequence[int],
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[list[Any]]:
    """``fn(scenario, chunk)`` for every chunk of ``indices``, results in chunk order."""
    if executor not in EXECUTORS:
        raise RoutesimError(f"unknown executor {executor!r} (one of {', '.join(EXECUTORS)})")
    if executor == "local":
        parts = chunks(indices, workers)
        if workers <= 1 or len(parts) <= 1:
            return _serial(fn, scenario, parts, len(indices), progress)
        return _process_pool(fn, scenario, parts, workers, len(indices), progress)
    return _dask(fn, scenario, indices, executor, workers, scheduler, progress)


def _serial(fn: ChunkFn, scenario: Any, parts: list[list[int]], total: int, progress: Progress | None) -> list[Any]:
    done, count = [], 0
    for part in parts:
        done.append(fn(scenario, part))
        count += len(part)
        if progress is not None:
            progress(count, total)
    return done


def _process_pool(
    fn: ChunkFn, scenario: Any, parts: list[list[int]], workers: int, total: int, progress: Progress | None
) -> list[Any]:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_leave_interrupts_to_the_parent)
    try:
        futures = [pool.submit(fn, scenario, part) for part in parts]
        count = 0
        for future in as_completed(futures):
            count += len(future.result())
            if progress is not None:
                progress(count, total)
        done = [future.result() for future in futures]
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
    return done


def _leave_interrupts_to_the_parent() -> None:
    """Workers ignore Ctrl-C, which the terminal sends to the whole process group, and die of SIGTERM
    whatever handler they inherited: the parent stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _dask(
    fn: ChunkFn,
    scenario: Any,
    indices: Sequence[int],
    executor: str,
    workers: int,
    scheduler: str | None,
    progress: Progress | None,
) -> list[Any]:
    """Chunks as Dask tasks; a task whose worker dies is retried elsewhere (only that chunk is lost)."""
    try:  # dask is an optional extra, and untyped
        from dask.distributed import Client, LocalCluster, as_completed as dask_completed
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
        futures = [client.submit(fn, remote, part, pure=False, retries=2) for part in parts]
        count = 0
        for future in dask_completed(futures):
            count += len(future.result())
            if progress is not None:
                progress(count, len(indices))
        return [future.result() for future in futures]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
