"""What a run returns: every replication's figures, exact sums of the daily series, and the band sample;
their statistics are its :class:`~routesim.results.summary.RunSummary`.

A run keeps, for every replication, only its scalar figures (metrics, per-route figures, incident counts,
events: a few hundred bytes); of the daily series it keeps exact sums over every replication (for the
means) and the series of the first :data:`BAND_SAMPLE` replications (for the percentile bands).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np

from routesim.money import fiscal
from routesim.results import measure, moorings
from routesim.results.summary import Reached, RunSummary, titled
from routesim.scenario.model import Scenario

FAN_PERCENTILES = (5, 10, 50, 90, 95)
FAN_SERIES = ("revenue_loss_usd", "budget_loss_usd")
"""Daily series that also get the percentiles of a fan chart."""
# BAND_SAMPLE (from routesim.runs.budget, with the memory check it sizes): the daily series of a run's
# first BAND_SAMPLE replications (its lowest indices) are kept for the percentile bands. Replications are
# independent and identically distributed, so these are a uniform random sample of them; a run of at most
# BAND_SAMPLE replications keeps them all, and its bands are exact.


@dataclass(frozen=True)
class Replication:
    """One replication: its metrics, per-route figures, incident counts and daily series.

    Rebuilt from a :class:`RunResult` or :class:`Chunk`, ``daily`` is empty unless the replication is in
    the band sample (the first :data:`BAND_SAMPLE` of its run).
    """

    index: int
    metrics: dict[str, float]
    route_exported_bbl: dict[str, float]
    route_availability: dict[str, float]
    route_impaired_days: dict[str, float]
    mooring_days: dict[str, tuple[float, ...]]
    """Per terminal, the days with exactly j of its moorings up, j = 0..n (:mod:`.moorings`) [days]."""
    incidents: dict[str, int]
    daily: dict[str, np.ndarray]
    events: int
    producers: dict[str, dict[str, float]]
    """Per producer, its make-up figures (:data:`measure.PRODUCER_FIGURES`) [bbl]."""
    route_loaded_bbl: dict[str, float] = field(default_factory=dict)
    """Per route a foreign shipper reaches, every shipper's oil that left it within the horizon [bbl]."""


@dataclass(frozen=True)
class Layout:
    """Where each scalar figure of a replication sits in a row of floats: :data:`measure.METRICS`, then
    per route the exported barrels [bbl], availability [-] and impaired days [days], then per route a foreign
    shipper reaches every shipper's barrels loaded [bbl], then per terminal the days with exactly j of its n
    moorings up, j = 0..n [days], then each producer's make-up figures
    (:data:`measure.PRODUCER_FIGURES`) [bbl], then each incident process's count (the last columns:
    replications.csv writes them as whole numbers). The names are those of replications.csv."""

    routes: tuple[str, ...]
    incidents: tuple[str, ...]
    producers: tuple[str, ...] = ()
    terminals: tuple[tuple[str, int], ...] = ()
    """Each route with a terminal and its number of moorings."""
    loaded: tuple[str, ...] = ()
    """The routes a foreign shipper reaches (:meth:`Scenario.foreign_routes`)."""

    @classmethod
    def of(cls, scenario: Scenario) -> Layout:
        """The layout of ``scenario``'s replications."""
        return cls(tuple(scenario.routes), tuple(i.stream_name for i in scenario.incidents), tuple(scenario.producers),
                   moorings.terminals(scenario), tuple(scenario.foreign_routes()))

    @functools.cached_property
    def mooring_names(self) -> tuple[str, ...]:
        """The terminals' columns: ``cpc_moorings_up_0_days`` ... ``cpc_moorings_up_3_days``."""
        return tuple(f"{r}_moorings_up_{j}_days" for r, n in self.terminals for j in range(n + 1))

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        """Column names, in row order."""
        return (
            *measure.METRICS,
            *(f"{r}_exported_bbl" for r in self.routes),
            *(f"{r}_availability" for r in self.routes),
            *(f"{r}_days_impaired" for r in self.routes),
            *(f"{r}_loaded_bbl" for r in self.loaded),
            *self.mooring_names,
            *(f"{p}_{k}" for p in self.producers for k in measure.PRODUCER_FIGURES),
            *(f"{i}_count" for i in self.incidents),
        )

    @functools.cached_property
    def position(self) -> dict[str, int]:
        """Column of each name."""
        return {name: j for j, name in enumerate(self.names)}

    def row(self, rep: Replication) -> list[float]:
        """The figures of ``rep`` in row order."""
        return [
            *(rep.metrics[m] for m in measure.METRICS),
            *(rep.route_exported_bbl[r] for r in self.routes),
            *(rep.route_availability[r] for r in self.routes),
            *(rep.route_impaired_days[r] for r in self.routes),
            *(rep.route_loaded_bbl[r] for r in self.loaded),
            *(days for r, _ in self.terminals for days in rep.mooring_days[r]),
            *(rep.producers[p][k] for p in self.producers for k in measure.PRODUCER_FIGURES),
            *(float(rep.incidents[i]) for i in self.incidents),
        ]

    def replication(
        self, index: int, row: Sequence[float] | np.ndarray, events: int, daily: dict[str, np.ndarray]
    ) -> Replication:
        """A :class:`Replication` from its row of figures (the inverse of :meth:`row`)."""
        m, r, t = len(measure.METRICS), len(self.routes), len(self.mooring_names)
        values = [float(v) for v in row]
        s = m + 3 * r + len(self.loaded)  # where the mooring states begin
        f = s + t + len(self.producers) * len(measure.PRODUCER_FIGURES)  # where the incident counts begin
        states = iter(values[s : s + t])
        figures = iter(values[s + t : f])
        return Replication(
            index=int(index),
            metrics=dict(zip(measure.METRICS, values[:m])),
            route_exported_bbl=dict(zip(self.routes, values[m : m + r])),
            route_availability=dict(zip(self.routes, values[m + r : m + 2 * r])),
            route_impaired_days=dict(zip(self.routes, values[m + 2 * r : m + 3 * r])),
            route_loaded_bbl=dict(zip(self.loaded, values[m + 3 * r : s])),
            mooring_days={route: tuple(next(states) for _ in range(n + 1)) for route, n in self.terminals},
            incidents={i: int(v) for i, v in zip(self.incidents, values[f:])},
            daily=daily,
            events=int(events),
            producers={p: {k: next(figures) for k in measure.PRODUCER_FIGURES} for p in self.producers},
        )


@dataclass(frozen=True)
class Chunk:
    """The replications of one chunk in compact, picklable form: what a worker sends back.

    Iterating over it (or ``len``) gives its replications, rebuilt; ``daily`` only for those kept.
    """

    layout: Layout
    indices: np.ndarray
    """Replication indices, in order [n]."""
    events: np.ndarray
    """Engine events of each replication [n]."""
    figures: np.ndarray
    """Scalar figures, one row per replication in :class:`Layout` order [n x columns]."""
    series: tuple[str, ...]
    """Names of the daily series."""
    block_sums: np.ndarray
    """Sum of each daily series over each block of :data:`executors.BLOCK` replications, added one
    replication after the other from the block's first [blocks x series x days]."""
    kept: np.ndarray
    """Whether each replication is in the band sample [n, bool]."""
    daily: np.ndarray
    """Daily series of the kept replications, in order [kept x series x days]; empty when ``in_place``."""
    in_place: bool = False
    """The kept replications' daily series were written into the run's shared band sample, not sent."""

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[Replication]:
        rows = np.cumsum(self.kept) - 1
        for i, k in enumerate(self.indices):
            daily = dict(zip(self.series, self.daily[rows[i]])) if self.kept[i] and not self.in_place else {}
            yield self.layout.replication(k, self.figures[i], self.events[i], daily)


@dataclass(frozen=True)
class RunResult:
    """Every replication of a scenario, in replication order, aggregated as the chunks came back.

    Kept per replication: the scalar figures (``figures``, one row per :class:`Layout` column; exact, so
    every percentile, VaR and CVaR of the summary is exact). Kept of the daily series: their sums over
    all replications (``daily_sums``, added block by block in run order, the same bits on any executor),
    and the series of the band sample (``sample``: the run's first :data:`BAND_SAMPLE` replications).
    """

    scenario: Scenario
    indices: np.ndarray
    """Replication indices, in run order [n]."""
    events: np.ndarray
    """Engine events of each replication [n]."""
    figures: np.ndarray
    """Scalar figures, one row per :class:`Layout` column, one column per replication [columns x n]."""
    series: tuple[str, ...]
    """Names of the daily series."""
    daily_sums: np.ndarray
    """Each daily series summed over every replication [series x days]."""
    sample_positions: np.ndarray
    """Positions in the run of the band sample's replications [kept]."""
    sample: np.ndarray
    """Daily series of the band sample [series x kept x days]."""
    engine: str = "simpy"
    """The engine that ran the replications (``simpy`` or ``compiled``)."""
    engine_reason: str = "not recorded"
    """Why that engine ran them."""
    settings: tuple[str, ...] = ()
    """The ``--set`` assignments (``key=value``) that changed the scenario file, shown with its name."""
    precision: Reached | None = None
    """For a run to a precision: the rule and what it reached."""

    @property
    def title(self) -> str:
        """The scenario's name, with its ``--set`` assignments when it has any."""
        return titled(self.scenario.name, self.settings)

    @functools.cached_property
    def layout(self) -> Layout:
        """Where each figure sits in ``figures``."""
        return Layout.of(self.scenario)

    @property
    def replications(self) -> Replications:
        """The replications, rebuilt on demand (``daily`` only for those in the band sample)."""
        return Replications(self)

    @property
    def band_sample(self) -> int:
        """How many replications the percentile bands of the daily series come from."""
        return len(self.sample_positions)

    def replication(self, position: int) -> Replication:
        """The replication at ``position`` in the run (not its index), rebuilt."""
        row = int(np.searchsorted(self.sample_positions, position))
        kept = row < len(self.sample_positions) and self.sample_positions[row] == position
        daily = dict(zip(self.series, self.sample[:, row])) if kept else {}
        return self.layout.replication(self.indices[position], self.figures[:, position], self.events[position], daily)

    def metric(self, name: str) -> np.ndarray:
        """One metric (or any :class:`Layout` column) across replications, read-only."""
        column: np.ndarray = self.figures[self.layout.position[name]]
        return column

    def daily_stack(self, key: str) -> np.ndarray:
        """One daily series of every replication in the band sample, replications x days."""
        stack: np.ndarray = self.sample[self.series.index(key)]
        return stack

    def daily_mean(self, key: str) -> np.ndarray:
        """The mean of one daily series over every replication (exact, from the sums) [days]."""
        mean: np.ndarray = self.daily_sums[self.series.index(key)] / len(self.indices)
        return mean

    def summary(self) -> RunSummary:
        """The statistics of every metric and route figure: what summary.json holds."""
        return RunSummary.of(self)

    def price_curve(self, brent: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Losses of the mean exported barrels at each constant Brent (default 20 to 160 USD/bbl); the means
        are exact over every replication."""
        brent = np.arange(20.0, 161.0, 5.0) if brent is None else brent
        width = np.diff(measure.day_edges(self.scenario.horizon_days))
        run = {r: self.daily_mean(f"{r}_exported_bpd") * width for r in self.scenario.routes}
        base = {r: self.daily_mean(f"baseline_{r}_exported_bpd") * width for r in self.scenario.routes}
        return fiscal.loss_vs_price(self.scenario, run, base, brent)

    def daily_bands(self) -> dict[str, np.ndarray]:
        """Daily series: the mean under the plain name; with several replications ``_p5`` and ``_p95``
        after it (and ``_p10``, ``_p50``, ``_p90`` for the cumulative losses).

        The means are over every replication; the percentiles over the band sample, the first
        :data:`BAND_SAMPLE` replications (all of them in a run of at most that many).
        """
        return self._bands

    @functools.cached_property
    def _bands(self) -> dict[str, np.ndarray]:
        several = len(self.indices) > 1

        def bands(key: str) -> np.ndarray | None:
            levels = FAN_PERCENTILES if key in FAN_SERIES else (5, 95)
            return percentiles_by_day(self.daily_stack(key), levels) if several else None

        # np.partition lets go of the GIL: the series' bands are computed on the run's cores side by side.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(self.series), os.cpu_count() or 1) or 1) as pool:
            computed = list(pool.map(bands, self.series))
        out = {}
        for key, band in zip(self.series, computed):
            out[key] = self.daily_mean(key)
            if band is not None:
                levels = FAN_PERCENTILES if key in FAN_SERIES else (5, 95)
                out.update({f"{key}_p{q}": b for q, b in zip(levels, band)})
        return out


class Replications(Sequence[Replication]):
    """The replications of a :class:`RunResult` as a sequence, each rebuilt when asked for."""

    def __init__(self, result: RunResult) -> None:
        self._result = result

    def __len__(self) -> int:
        return len(self._result.indices)

    @overload
    def __getitem__(self, i: int) -> Replication: ...

    @overload
    def __getitem__(self, i: slice) -> list[Replication]: ...

    def __getitem__(self, i: int | slice) -> Replication | list[Replication]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"replication position {i} out of range ({n} replications)")
        return self._result.replication(i % n)


def percentiles_by_day(stack: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """``np.percentile(stack, levels, axis=0)`` (linear interpolation), bit for bit, faster [levels x days].

    Exact, not an approximation: the same order statistics and numpy's interpolation. Faster because the
    days are sorted as contiguous rows (numpy's vectorised sort beats its partition at several positions),
    and a day every replication shares (a baseline, a fixed Brent) is not sorted at all. Equal floats are
    the same bits but for zeros, so a day whose order statistic is a zero, and which has a -0 among its values,
    takes np.percentile's own answer, sign of the zero included.

    Args:
        stack: one daily series of each replication [replications x days].
        levels: percentiles, each in [0, 100].
    """
    stack = np.asarray(stack, dtype=float)
    n = stack.shape[0]
    if n == 0 or stack.ndim != 2 or np.isnan(stack).any():  # numpy's own rules for NaN and empty input
        return np.asarray(np.percentile(stack, levels, axis=0))
    virtual = (n - 1) * np.true_divide(np.asarray(levels, dtype=float), 100)
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above], following[above] = -1, -1
    gamma = (virtual - previous)[:, None]
    previous, following = previous.astype(np.intp), following.astype(np.intp)
    bits = stack.view(np.int64)
    same = (bits == bits[0]).all(axis=0)  # bitwise: +0 and -0 differ
    low = np.empty((len(virtual), stack.shape[1]))
    high = np.empty_like(low)
    low[:, same] = high[:, same] = stack[0, same]
    if not same.all():
        rows = np.ascontiguousarray(stack[:, ~same].T)
        rows.sort(axis=-1)
        low[:, ~same], high[:, ~same] = rows[:, previous].T, rows[:, following].T
    diff = high - low  # numpy's lerp
    out: np.ndarray = low + diff * gamma
    np.subtract(high, diff * (1 - gamma), out=out, where=np.broadcast_to(gamma >= 0.5, out.shape))
    negative_zero = (np.signbit(stack) & (stack == 0)).any(axis=0)  # else every zero is +0, the same bits
    zero = ~same & negative_zero & ((low == 0) | (high == 0)).any(axis=0)
    if zero.any():
        out[:, zero] = np.percentile(stack[:, zero], levels, axis=0)
    return out
