"""Replications of a scenario, each paired with its no-disruption baseline, run serially or in
processes. Replication k is a pure function of (scenario, k), so the results are the same in any order,
on any number of workers.

Memory stays bounded however many replications a run has: chunks of replications come back as compact
:class:`~routesim.results.run.Chunk` aggregates and are folded into the
:class:`~routesim.results.run.RunResult` in chunk order as they arrive (what it keeps: see there).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

from routesim.engine import Choice, choose, simulate, simulate_many
from routesim.engine.trace import Traces
from routesim.errors import SimulationError
from routesim.money import market
from routesim.results import measure, moorings
from routesim.results.run import Chunk, Layout, Replication, RunResult
from routesim.results.summary import Reached
from routesim.scenario.model import Scenario
from routesim.streams import replication_seed

from . import budget
from .budget import BAND_SAMPLE
from .executors import BLOCK, Inherited
from .precision import Precision
from .progress import Bar

Progress = Callable[[int, int], None]
"""Called with (replications done, replications in all) as chunks come back."""

BandTarget = Inherited[tuple[np.ndarray, dict[int, int]]]
"""The band sample [series x kept x days] in shared memory, and the row of each replication index in it."""


def _band_target(scenario: Scenario, todo: list[int], keep_through: int | None, sample: int,
                 engine: str) -> tuple[BandTarget, tuple[str, ...]]:
    """A shared band sample for the workers to write into, and its series' names. Running the first
    replication here to learn the shape also loads the engine, which the forked workers then inherit."""
    from .executors import shared_empty

    probe = run_chunk(scenario, todo[:1], engine=engine)
    order = np.asarray(todo)
    positions = np.flatnonzero(order <= keep_through if keep_through is not None else np.ones(len(order), bool))
    rows = {int(k): r for r, k in enumerate(order[positions[:sample]].tolist())}
    array = shared_empty((len(probe.series), sample, probe.daily.shape[-1]))
    return Inherited((array, rows)), probe.series


class _Aggregate:
    """Folds chunks, in run order, into the arrays of a :class:`RunResult`."""

    def __init__(self, scenario: Scenario, n: int, sample: int, shared: np.ndarray | None = None,
                 series: tuple[str, ...] = ()) -> None:
        self.scenario, self.n, self.filled, self.kept = scenario, n, 0, 0
        self.layout = Layout.of(scenario)
        self.indices = np.empty(n, dtype=np.int64)
        self.events = np.empty(n, dtype=np.int64)
        self.figures = np.empty((len(self.layout.names), n))
        self.sample_positions = np.empty(sample, dtype=np.int64)
        self.series: tuple[str, ...] = series
        self.sums: np.ndarray | None = None
        self.sample: np.ndarray | None = shared

    def __call__(self, chunk: Chunk) -> None:
        a, b = self.filled, self.filled + len(chunk)
        self.indices[a:b], self.events[a:b], self.figures[:, a:b] = chunk.indices, chunk.events, chunk.figures.T
        self.filled = b
        for block in chunk.block_sums:
            if self.sums is None:
                self.sums = block.copy()
            else:
                self.sums += block
        if self.sample is None:
            self.series = chunk.series
            days = chunk.block_sums.shape[-1]
            self.sample = np.empty((len(chunk.series), len(self.sample_positions), days))
        elif chunk.series != self.series:
            raise SimulationError(f"a chunk's daily series {chunk.series} differ from the run's {self.series}")
        take = min(int(np.count_nonzero(chunk.kept)), len(self.sample_positions) - self.kept)
        if take > 0:
            if not chunk.in_place:  # else a worker has written them into the shared sample
                self.sample[:, self.kept : self.kept + take] = chunk.daily[:take].transpose(1, 0, 2)
            self.sample_positions[self.kept : self.kept + take] = a + np.flatnonzero(chunk.kept)[:take]
            self.kept += take

    def result(self, engine: Choice, reached: Reached | None = None) -> RunResult:
        """The replications folded so far (all of them, but for a run to a precision that stopped early)."""
        assert self.sums is not None and self.sample is not None and (self.filled == self.n or reached)
        n = self.filled
        indices, events, figures = self.indices[:n], self.events[:n], self.figures[:, :n]
        for array in (indices, events, figures, self.sums):
            array.flags.writeable = False
        return RunResult(self.scenario, indices, events, figures, self.series, self.sums,
                         self.sample_positions[: self.kept], self.sample[:, : self.kept], engine.engine, engine.reason,
                         precision=reached)


def run_replication(
    scenario: Scenario, k: int, baseline: measure.Measured | None = None, engine: str = "auto"
) -> Replication:
    """Replication ``k`` of ``scenario`` and its baseline without disruptions, on the same random numbers
    (pass the measured baseline when it does not depend on k), on ``engine`` (see :mod:`.engine`)."""
    try:
        trace = simulate(scenario, k, engine=engine)
        if baseline is None:
            baseline = measure.measure(scenario, simulate(scenario.without_disruptions(), k, engine=engine))
        run = measure.measure(scenario, trace)
        brent = market.brent_by_day(scenario, k)
        money = measure.money_by_day(scenario, run, brent)
        base_money = measure.money_by_day(scenario, baseline, brent)
        counts = {i.stream_name: 0 for i in scenario.incidents}
        for hit in trace.impairments:
            if hit.source in counts:
                counts[hit.source] += 1
        return Replication(
            index=k,
            metrics=measure.metrics(scenario, run.volumes, baseline.volumes, money, base_money),
            route_exported_bbl=run.volumes.exported_bbl,
            route_availability=run.volumes.availability,
            route_impaired_days=run.volumes.impaired_days,
            route_loaded_bbl=run.volumes.loaded_bbl,
            mooring_days={r: tuple(d.tolist()) for r, d in moorings.state_days(scenario, trace.impairments).items()},
            incidents=counts,
            daily=measure.daily(scenario, run, baseline, brent, money, base_money),
            events=trace.events,
            producers=run.volumes.producers,
        )
    except Exception as exc:
        raise _failed(scenario, k, exc) from exc


def run_chunk(
    scenario: Scenario,
    indices: Sequence[int],
    keep_through: int | None = None,
    engine: str = "auto",
    band: BandTarget | None = None,
) -> Chunk:
    """Replications ``indices``, in order, on ``engine``, as a :class:`Chunk`: their figures, their daily
    series summed by block of :data:`executors.BLOCK` (the chunk must start on a block of its run), and the
    daily series of those with an index up to ``keep_through`` (of all when None): written into ``band``'s
    shared sample where this process sees it (a process forked from the run's), else sent in the chunk.

    The engine runs each replication; their results are then computed together, array-wise (bitwise those
    of :func:`run_replication`, one at a time).
    """
    layout = Layout.of(scenario)
    indices = [int(k) for k in indices]
    if not indices:
        return Chunk(layout, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64),
                     np.empty((0, len(layout.names))), (), np.empty((0, 0, 0)), np.zeros(0, dtype=bool),
                     np.empty((0, 0, 0)))
    # The baseline has no random input, so one run serves every replication of the chunk.
    baseline = measure.measure(scenario, simulate(scenario.without_disruptions(), indices[0], engine=engine))
    try:
        traces = simulate_many(scenario, indices, engine=engine)
    except Exception:
        for k in indices:  # name the replication that fails
            try:
                simulate(scenario, k, engine=engine)
            except Exception as exc:
                raise _failed(scenario, k, exc) from exc
        raise
    try:
        figures, series, daily = _chunk_results(scenario, layout, indices, traces, baseline)
    except Exception:
        for k in indices:  # name the replication that fails alone, if one does
            run_replication(scenario, k, baseline, engine)
        raise
    n = len(indices)
    sums = np.empty((math.ceil(n / BLOCK), len(series), daily.shape[-1]))
    for b, a in enumerate(range(0, n, BLOCK)):  # one replication after the other, as the block's sum
        sums[b] = daily[a]
        for i in range(a + 1, min(a + BLOCK, n)):
            sums[b] += daily[i]
    kept = np.ones(n, dtype=bool) if keep_through is None else np.asarray(indices) <= keep_through
    events = traces.events
    target = band.value if band is not None else None
    if target is not None:
        sample, rows = target
        for i in np.flatnonzero(kept).tolist():
            sample[:, rows[indices[i]]] = daily[i]
        return Chunk(layout, np.asarray(indices, dtype=np.int64), events, figures, series, sums, kept,
                     daily[:0], in_place=True)
    return Chunk(layout, np.asarray(indices, dtype=np.int64), events, figures, series, sums, kept, daily[kept])


def _chunk_results(
    scenario: Scenario, layout: Layout, indices: list[int], traces: Traces, baseline: measure.Measured
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """Figures [n x columns], series names and daily series [n x series x days] of a chunk's traces."""
    run = measure.measure_chunk(scenario, traces)
    shared_brent = scenario.market.brent_process is None  # then every replication has the same prices
    if shared_brent:
        one = market.brent_by_day(scenario, indices[0])
        brent = np.broadcast_to(one, (len(indices), len(one)))
        base_money = measure.money_by_day(scenario, baseline, one)
    else:
        brent = np.array([market.brent_by_day(scenario, k) for k in indices])
        base_money = measure.money_by_day(scenario, baseline, brent)
    money = measure.money_by_day(scenario, run, brent)
    metrics = measure.chunk_metrics(scenario, run, baseline.volumes, money, base_money)
    moved = market.moved_brent(scenario, brent, run.impaired_by_day)
    daily = measure.chunk_daily(scenario, run, baseline, moved, money, base_money)
    n, series = len(indices), tuple(daily)
    figures = np.empty((n, len(layout.names)))
    columns = [*(metrics[m] for m in measure.METRICS), *(run.exported_bbl[r] for r in layout.routes),
               *(run.availability[r] for r in layout.routes), *(run.impaired_days[r] for r in layout.routes),
               *(run.loaded_bbl[r] for r in layout.loaded), *moorings.state_table(scenario, traces.impairments).T,
               *(run.producers[p][k] for p in layout.producers for k in measure.PRODUCER_FIGURES)]
    for j, column in enumerate(columns):
        figures[:, j] = column
    position = {name: j for j, name in enumerate(layout.incidents)}
    counts = np.zeros((n, len(layout.incidents)))
    for i, hits in enumerate(traces.impairments):
        for hit in hits:
            place = position.get(hit.source)
            if place is not None:
                counts[i, place] += 1
    figures[:, len(columns):] = counts
    stack = np.empty((n, len(series), len(one) if shared_brent else brent.shape[1]))
    for s, key in enumerate(series):
        stack[:, s] = daily[key]
    return figures, series, stack


def _failed(scenario: Scenario, k: int, exc: Exception) -> SimulationError:
    entropy = replication_seed(scenario.seed, k)
    return SimulationError(
        f"scenario {scenario.name!r}, replication {k} (SeedSequence({entropy.entropy}, spawn_key={entropy.spawn_key})) "
        f"failed: {type(exc).__name__}: {exc}; reproduce it with --rep {k} --trace"
    )


def run(
    scenario: Scenario,
    workers: int = 1,
    indices: Sequence[int] | None = None,
    progress: Progress | bool | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    engine: str = "auto",
    precision: Precision | None = None,
    band_sample: int | None = None,
) -> RunResult:
    """Run replications (all of ``scenario.replications``, or ``indices``) on ``workers`` processes, here
    (``executor="local"``) or on Dask (``"dask"`` at ``scheduler``, or ``"dask-local"``), on ``engine``
    (``"auto"``, ``"simpy"`` or ``"compiled"``; see :mod:`.engine`). The engine is chosen once, here.

    With ``precision``, replications 0, 1, ... run in rounds until its rule is met or its cap reached
    (:mod:`.precision`); the result, bit for bit that of a run of the count used, records what was reached.

    ``progress`` is called with (done, total) as chunks come back; ``True`` shows a bar (a widget in a
    notebook) once the run has taken a second.

    ``band_sample`` caps the replications whose daily series are kept (default :data:`BAND_SAMPLE`; 0: none,
    for a caller that needs only the figures of each replication; the daily means are kept in any case).

    The result is identical on every executor and any number of workers: replication k depends only on
    (scenario, k), the chunks are folded in in order, and the daily sums are added block by block. Memory
    grows with the replications only by their scalar figures (:class:`RunResult`), within :mod:`.budget`.

    Raises:
        ScenarioError: the replications would keep more values than the budget allows; nothing has run.
    """
    from .executors import forks_workers, map_chunks

    if precision is not None and indices is not None:
        raise ValueError("a run to a precision runs replications 0, 1, ...: give no indices")
    planned = precision.max_replications if precision else scenario.replications if indices is None else len(indices)
    budget.check(scenario, planned)  # before listing them
    todo = list(range(planned)) if indices is None else list(indices)
    sample = min(len(todo), BAND_SAMPLE if band_sample is None else band_sample)
    choice = choose(scenario, engine)
    keep_through = None
    if len(todo) > sample:  # keep the daily series of the lowest indices only
        keep_through = int(np.partition(np.asarray(todo), sample - 1)[sample - 1]) if sample else -1
    band: BandTarget | None = None
    series: tuple[str, ...] = ()
    if sample and forks_workers(executor, workers, len(todo)) and len(set(todo)) == len(todo):
        # the workers write the band sample in place rather than pickle ~76 KB a replication back
        band, series = _band_target(scenario, todo, keep_through, sample, choice.engine)
    fn: Callable[[Scenario, list[int]], Chunk] = functools.partial(
        run_chunk, keep_through=keep_through, engine=choice.engine, band=band
    )
    aggregate = _Aggregate(scenario, len(todo), sample, band.value[0] if band and band.value else None, series)
    bar = Bar(scenario.name) if progress is True else None
    callback = bar if bar is not None else progress if callable(progress) else None
    reached = None
    start, stop = 0, len(todo) if precision is None else precision.first_total()
    try:
        while True:
            report = None if callback is None else _offset(callback, start, stop)
            map_chunks(fn, scenario, todo[start:stop], executor, workers, scheduler, report, fold=aggregate)
            if precision is None:
                break
            reached = precision.reached(aggregate.figures[aggregate.layout.position[precision.metric], :stop])
            if reached.met or stop == len(todo):
                break
            start, stop = stop, precision.next_total(reached)
    finally:
        if bar is not None:
            bar.close()
        if band is not None:
            band.close()
    return aggregate.result(choice, reached)


def _offset(progress: Progress, start: int, total: int) -> Progress:
    """``progress`` of a round that starts after ``start`` replications, out of ``total`` so far."""
    return lambda done, _round: progress(start + done, total)
