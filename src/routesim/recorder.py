"""Append-only record of one simulated run: piecewise-constant rates and piecewise-linear levels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .disruptions import Impairment


@dataclass(frozen=True)
class Trace:
    """What one run observed; the engine never summarises, :mod:`routesim.results` does.

    Record ``i`` holds at time ``times[i]``; rates hold from ``times[i]`` to ``times[i + 1]``, and the storage
    level moves linearly between the two records. Two records may share a time (a cargo lifted at once).

    Attributes:
        horizon_days: simulated period [days].
        times: record times, non-decreasing, first 0 and last ``horizon_days`` [days].
        storage_bbl: storage level at each record [bbl].
        production_bpd: production rate from each record to the next [bbl/day].
        flows_bpd: per continuous route, draw from storage from each record to the next [bbl/day].
        capacity_factor: per route, available share of capacity from each record to the next [-].
        loads: per tanker-shuttle route, times a cargo was lifted from storage [days].
        discharges: per tanker-shuttle route, times a cargo finished discharging [days].
        events: how many times the engine re-solved the rates.
        impairments: what impaired which route when (outages, incidents, failures).
        log: with logging on, (time, event, target, detail) rows in time order; else empty.
    """

    horizon_days: float
    times: np.ndarray
    storage_bbl: np.ndarray
    production_bpd: np.ndarray
    flows_bpd: Mapping[str, np.ndarray]
    capacity_factor: Mapping[str, np.ndarray]
    loads: Mapping[str, np.ndarray]
    discharges: Mapping[str, np.ndarray]
    events: int
    impairments: tuple[Impairment, ...] = ()
    log: tuple[tuple[float, str, str, str], ...] = ()


class Recorder:
    """Collects records during a run and freezes them into a :class:`Trace`."""

    def __init__(
        self, pipelines: Iterable[str], routes: Iterable[str], shuttles: Iterable[str], log: bool = False
    ) -> None:
        self._log: list[tuple[float, str, str, str]] | None = [] if log else None
        self._pipelines, self._routes = list(pipelines), list(routes)
        self._rows: list[tuple[float, float, float, tuple[float, ...], tuple[float, ...]]] = []
        self._loads: dict[str, list[float]] = {r: [] for r in shuttles}
        self._discharges: dict[str, list[float]] = {r: [] for r in shuttles}
        self.events = 0

    def point(
        self, time: float, storage: float, production: float, flows: tuple[float, ...], factors: tuple[float, ...]
    ) -> None:
        """Record the state at ``time`` and the rates that hold from then on (flows per pipeline and
        factors per route, in the orders given at construction)."""
        self._rows.append((time, storage, production, flows, factors))

    def load(self, route: str, time: float) -> None:
        """A tanker of ``route`` lifted a cargo from storage at ``time``."""
        self._loads[route].append(time)

    def discharge(self, route: str, time: float) -> None:
        """A tanker of ``route`` finished discharging a cargo at ``time``."""
        self._discharges[route].append(time)

    def log(self, time: float, event: str, target: str, detail: str = "") -> None:
        """Note an event in the log, if logging is on."""
        if self._log is not None:
            self._log.append((time, event, target, detail))

    def freeze(self, horizon_days: float, impairments: tuple[Impairment, ...] = ()) -> Trace:
        """The finished record."""

        def arrays(d: dict[str, list[float]]) -> dict[str, np.ndarray]:
            return {k: np.asarray(v, dtype=float) for k, v in d.items()}

        times, storage, production, flows, factors = zip(*self._rows)
        flow_columns = np.array(flows, dtype=float).reshape(len(self._rows), len(self._pipelines)).T
        factor_columns = np.array(factors, dtype=float).reshape(len(self._rows), len(self._routes)).T
        return Trace(
            horizon_days=horizon_days,
            times=np.asarray(times, dtype=float),
            storage_bbl=np.asarray(storage, dtype=float),
            production_bpd=np.asarray(production, dtype=float),
            flows_bpd=dict(zip(self._pipelines, flow_columns)),
            capacity_factor=dict(zip(self._routes, factor_columns)),
            loads=arrays(self._loads),
            discharges=arrays(self._discharges),
            events=self.events,
            impairments=impairments,
            log=tuple(self._log or ()),
        )
