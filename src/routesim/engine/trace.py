"""Append-only record of one simulated run: piecewise-constant rates and piecewise-linear levels."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .disruptions import Impairment


class _Rates:
    """What a record of runs derives from its per-name arrays (records of one run, or of several in turn)."""

    times: np.ndarray
    levels_bbl: Mapping[str, np.ndarray]
    production: Mapping[str, np.ndarray]
    flows_bpd: Mapping[str, np.ndarray]
    foreign_bpd: Mapping[str, np.ndarray]
    foreign_producers: tuple[str, ...]

    @property
    def storage_bbl(self) -> np.ndarray:
        """Oil in every storage node together at each record [bbl]."""
        return np.asarray(sum(self.levels_bbl.values(), np.zeros_like(self.times)))

    @property
    def production_bpd(self) -> np.ndarray:
        """Production of the country's producers together (foreign shippers' not counted) from each record
        to the next [bbl/day]."""
        own = (rate for p, rate in self.production.items() if p not in self.foreign_producers)
        return np.asarray(sum(own, np.zeros_like(self.times)))

    def country_flow_bpd(self, route: str) -> np.ndarray:
        """What leaves continuous route ``route`` of the country's oil (its flow less the foreign shippers')
        from each record to the next [bbl/day]."""
        flow = self.flows_bpd[route]
        return flow - self.foreign_bpd[route] if route in self.foreign_bpd else flow


@dataclass(frozen=True)
class Trace(_Rates):
    """What one run observed; the engine never summarises, :mod:`routesim.results` does.

    Record ``i`` holds at time ``times[i]``; rates hold from ``times[i]`` to ``times[i + 1]``, and each storage
    level moves linearly between the two records. Two records may share a time (a cargo lifted at once).

    Attributes:
        horizon_days: simulated period [days].
        times: record times, non-decreasing, first 0 and last ``horizon_days`` [days].
        levels_bbl: per storage node (each producer's storage by the producer's name, each tank farm as
            ``route/tank_farm``), its level at each record [bbl].
        net_bpd: per storage node, its rate of change from each record to the next [bbl/day].
        production: per producer, production rate from each record to the next [bbl/day].
        flows_bpd: per continuous route, what leaves it towards the sale point (the terminal's loading, or
            the pipe's draw) from each record to the next [bbl/day].
        capacity_factor: per route, available share of its capacity from each record to the next [-].
        loads: per tanker-shuttle route, times a cargo was lifted from storage [days].
        discharges: per tanker-shuttle route, times a cargo finished discharging [days].
        events: how many times the engine re-solved the rates.
        impairments: what impaired which route or part when (outages, incidents, failures, storms).
        log: with logging on, (time, event, target, detail) rows in time order; else empty.
        backlog_bbl: per producer that makes up deferred oil, the barrels it owes at each record [bbl].
        backlog_net_bpd: per such producer, the backlog's rate of change from each record to the next
            [bbl/day].
        foreign_bpd: per route a foreign shipper reaches, the foreign oil in ``flows_bpd`` from each record
            to the next [bbl/day].
        foreign_producers: the producers that are foreign shippers (see ``Producer.foreign``).
    """

    horizon_days: float
    times: np.ndarray
    levels_bbl: Mapping[str, np.ndarray]
    net_bpd: Mapping[str, np.ndarray]
    production: Mapping[str, np.ndarray]
    flows_bpd: Mapping[str, np.ndarray]
    capacity_factor: Mapping[str, np.ndarray]
    loads: Mapping[str, np.ndarray]
    discharges: Mapping[str, np.ndarray]
    events: int
    impairments: tuple[Impairment, ...] = ()
    log: tuple[tuple[float, str, str, str], ...] = ()
    backlog_bbl: Mapping[str, np.ndarray] = field(default_factory=dict)
    backlog_net_bpd: Mapping[str, np.ndarray] = field(default_factory=dict)
    foreign_bpd: Mapping[str, np.ndarray] = field(default_factory=dict)
    foreign_producers: tuple[str, ...] = ()


def starts_of(lengths: Iterable[int]) -> np.ndarray:
    """Where each of several runs starts when their values are put one after the other, and the end [n + 1]."""
    return np.fromiter(itertools.accumulate(lengths, initial=0), dtype=np.int64)


class Ragged(NamedTuple):
    """Values of several runs one run after the other: run i's are ``values[starts[i]:starts[i + 1]]``."""

    values: np.ndarray
    starts: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        """How many values each run has [n]."""
        return np.diff(self.starts)

    def run(self, i: int) -> np.ndarray:
        return self.values[self.starts[i] : self.starts[i + 1]]

    def part(self, a: int, b: int) -> Ragged:
        """Runs ``a`` to ``b - 1``."""
        return Ragged(self.values[self.starts[a] : self.starts[b]], self.starts[a : b + 1] - self.starts[a])

    @classmethod
    def of(cls, rows: Sequence[np.ndarray]) -> Ragged:
        values = np.concatenate(rows) if rows else np.empty(0)
        return cls(values.astype(float, copy=False), starts_of(len(r) for r in rows))


@dataclass(frozen=True)
class Traces(_Rates):
    """Several runs of one scenario as one record: each per-record array holds every run's records, one run
    after the other (run i's are ``starts[i]`` to ``starts[i + 1] - 1``). What a chunk's results read at
    once; ``traces[i]`` is run i's :class:`Trace` (views, not copies). Fields as :class:`Trace`'s, but for
    ``loads``, ``discharges`` (:class:`Ragged`), ``events`` [n] and ``impairments`` (per run)."""

    horizon_days: float
    times: np.ndarray
    starts: np.ndarray
    levels_bbl: Mapping[str, np.ndarray]
    net_bpd: Mapping[str, np.ndarray]
    production: Mapping[str, np.ndarray]
    flows_bpd: Mapping[str, np.ndarray]
    capacity_factor: Mapping[str, np.ndarray]
    loads: Mapping[str, Ragged]
    discharges: Mapping[str, Ragged]
    events: np.ndarray
    impairments: tuple[tuple[Impairment, ...], ...]
    backlog_bbl: Mapping[str, np.ndarray]
    backlog_net_bpd: Mapping[str, np.ndarray]
    foreign_bpd: Mapping[str, np.ndarray]
    foreign_producers: tuple[str, ...]

    _RECORDS = ("levels_bbl", "net_bpd", "production", "flows_bpd", "capacity_factor", "backlog_bbl",
                "backlog_net_bpd", "foreign_bpd")
    """The fields that hold an array over records per name."""

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __iter__(self) -> Iterator[Trace]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: int) -> Trace:
        a, b = self.starts[i], self.starts[i + 1]
        records: dict[str, Any] = {f: {k: v[a:b] for k, v in getattr(self, f).items()} for f in self._RECORDS}
        return Trace(horizon_days=self.horizon_days, times=self.times[a:b],
                     loads={k: v.run(i) for k, v in self.loads.items()},
                     discharges={k: v.run(i) for k, v in self.discharges.items()}, events=int(self.events[i]),
                     impairments=self.impairments[i], foreign_producers=self.foreign_producers, **records)

    def part(self, a: int, b: int) -> Traces:
        """Runs ``a`` to ``b - 1``, as views."""
        x, y = self.starts[a], self.starts[b]
        records = {f: {k: v[x:y] for k, v in getattr(self, f).items()} for f in self._RECORDS}
        return Traces(horizon_days=self.horizon_days, times=self.times[x:y], starts=self.starts[a : b + 1] - x,
                      loads={k: v.part(a, b) for k, v in self.loads.items()},
                      discharges={k: v.part(a, b) for k, v in self.discharges.items()}, events=self.events[a:b],
                      impairments=self.impairments[a:b], foreign_producers=self.foreign_producers, **records)

    @classmethod
    def of(cls, traces: Sequence[Trace]) -> Traces:
        """Runs of one scenario (at least one), one after the other."""
        first = traces[0]
        records = {f: {k: np.concatenate([getattr(t, f)[k] for t in traces]) for k in getattr(first, f)}
                   for f in cls._RECORDS}
        return cls(horizon_days=first.horizon_days, times=np.concatenate([t.times for t in traces]),
                   starts=starts_of(len(t.times) for t in traces),
                   loads={k: Ragged.of([t.loads[k] for t in traces]) for k in first.loads},
                   discharges={k: Ragged.of([t.discharges[k] for t in traces]) for k in first.discharges},
                   events=np.array([t.events for t in traces], dtype=np.int64),
                   impairments=tuple(t.impairments for t in traces), foreign_producers=first.foreign_producers,
                   **records)


Rates = tuple[float, ...]
Row = tuple[float, Rates, Rates, Rates, Rates, Rates, Rates, Rates, Rates]


class Recorder:
    """Collects records during a run and freezes them into a :class:`Trace`."""

    def __init__(
        self,
        nodes: Iterable[str],
        producers: Iterable[str],
        pipelines: Iterable[str],
        routes: Iterable[str],
        shuttles: Iterable[str],
        log: bool = False,
        backlogs: Iterable[str] = (),
        foreign: Iterable[str] = (),
    ) -> None:
        self._log: list[tuple[float, str, str, str]] | None = [] if log else None
        self._names = [list(nodes), list(producers), list(pipelines), list(routes), list(backlogs), list(foreign)]
        self._rows: list[Row] = []
        self._loads: dict[str, list[float]] = {r: [] for r in shuttles}
        self._discharges: dict[str, list[float]] = {r: [] for r in shuttles}
        self.events = 0

    def point(
        self,
        time: float,
        levels: tuple[float, ...],
        nets: tuple[float, ...],
        production: tuple[float, ...],
        flows: tuple[float, ...],
        factors: tuple[float, ...],
        backlogs: tuple[float, ...] = (),
        backlog_nets: tuple[float, ...] = (),
        foreign: tuple[float, ...] = (),
    ) -> None:
        """Record the levels at ``time`` and the rates that hold from then on (per node, producer, pipeline,
        route, backlog and route a foreign shipper reaches, in the orders given at construction)."""
        self._rows.append((time, levels, nets, production, flows, factors, backlogs, backlog_nets, foreign))

    def load(self, route: str, time: float) -> None:
        """A tanker of ``route`` lifted a cargo from storage at ``time``."""
        self._loads[route].append(time)

    def discharge(self, route: str, time: float) -> None:
        """A tanker of ``route`` finished discharging a cargo at ``time``."""
        self._discharges[route].append(time)

    def log(self, time: float, event: str, target: str, detail: str = "", *values: float) -> None:
        """Note an event in the log, if logging is on; ``detail`` is formatted with ``values`` only then."""
        if self._log is not None:
            self._log.append((time, event, target, detail.format(*values) if values else detail))

    def freeze(self, horizon_days: float, impairments: tuple[Impairment, ...] = (),
               foreign_producers: tuple[str, ...] = ()) -> Trace:
        """The finished record."""

        def arrays(d: dict[str, list[float]]) -> dict[str, np.ndarray]:
            return {k: np.asarray(v, dtype=float) for k, v in d.items()}

        times, *columns = zip(*self._rows)
        nodes, producers, pipelines, routes, backlogs, foreign = self._names
        levels, nets, production, flows, factors, owed, owed_net, foreign_flows = (
            dict(zip(names, np.array(col, dtype=float).reshape(len(self._rows), len(names)).T))
            for names, col in zip((nodes, nodes, producers, pipelines, routes, backlogs, backlogs, foreign), columns)
        )
        return Trace(
            horizon_days=horizon_days,
            times=np.asarray(times, dtype=float),
            levels_bbl=levels,
            net_bpd=nets,
            production=production,
            flows_bpd=flows,
            capacity_factor=factors,
            loads=arrays(self._loads),
            discharges=arrays(self._discharges),
            events=self.events,
            impairments=impairments,
            log=tuple(sorted(self._log or (), key=lambda row: row[0])),  # voyages are logged when they start
            backlog_bbl=owed,
            backlog_net_bpd=owed_net,
            foreign_bpd=foreign_flows,
            foreign_producers=foreign_producers,
        )
