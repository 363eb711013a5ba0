"""The discrete-event engine: a scenario and a seed in, a :class:`~routesim.recorder.Trace` out.

SimPy drives an event-driven hybrid model. Rates are constant between events and levels move linearly,
so instead of stepping a clock the engine computes the next threshold crossing (storage empty or full,
a waiting tanker's cargo ready, a restart-ramp step) and schedules one timeout for it; a crossing made
stale by an earlier event is ignored. Cost grows with the number of events, not with the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from .dispatch import Allocation, dispatch
from .errors import SimulationError
from .disruptions import Impairment, impairments
from .model import Scenario, TankerShuttleRoute
from .recorder import Recorder, Trace

LEVEL_TOL_BBL = 1e-6
"""Levels this close to a bound are on it [bbl]."""
RATE_TOL_BPD = 1e-9
"""Rates this close to zero are zero [bbl/day]."""
MAX_EVENTS = 20_000_000
"""Guard against a run that never ends."""
MAX_EVENTS_AT_ONE_TIME = 10_000
"""Guard against events that keep firing without time moving on (or moving on by ever smaller steps)."""


def simulate(scenario: Scenario, replication: int = 0, log: bool = False) -> Trace:
    """Run replication ``replication`` of ``scenario``.

    Args:
        scenario: validated scenario.
        replication: index k; random inputs come from ``scenario.seed`` and k (see :mod:`.disruptions`).
        log: keep an event log (time, event, target, detail) in the trace.

    Returns:
        The run's trace; a pure function of ``(scenario, replication)``.
    """
    env = simpy.Environment()
    network = Network(env, scenario, log)
    hits = impairments(scenario, replication)
    for hit in hits:
        env.process(_impair(env, network, hit))
    for name, shuttle in network.shuttles.items():
        for _ in range(shuttle.route.tankers):
            env.process(_tanker(env, network, name))
    network.refresh()
    env.run(until=scenario.horizon_days)
    network.refresh()
    return network.recorder.freeze(float(scenario.horizon_days), tuple(hits))


def _impair(env: simpy.Environment, network: Network, hit: Impairment) -> Generator[Any, Any, None]:
    """Impair a route to a share of its capacity for a while."""
    yield env.timeout(hit.start_day)
    network.impair(hit.target, hit.factor)
    network.recorder.log(env.now, "impairment_start", hit.target, f"{hit.source} factor={hit.factor:.4g}")
    yield env.timeout(max(hit.end_day - hit.start_day, 0.0))
    network.restore(hit.target, hit.factor)
    network.recorder.log(env.now, "impairment_end", hit.target, hit.source)


def _tanker(env: simpy.Environment, network: Network, route: str) -> Generator[Any, Any, None]:
    """One tanker: queue for a berth, wait for a full cargo, load, sail, discharge, sail back."""
    shuttle = network.shuttles[route]
    spec = shuttle.route
    while True:
        with shuttle.berths.request() as berth:
            yield berth
            yield network.request_cargo(route)
            yield env.timeout(spec.load_days)
        network.recorder.log(env.now, "tanker_sails", route, f"{spec.tanker_capacity_bbl:g} bbl")
        yield env.timeout(spec.voyage_days + spec.unload_days)
        network.recorder.discharge(route, env.now)
        network.recorder.log(env.now, "cargo_discharged", route, f"{spec.tanker_capacity_bbl:g} bbl")
        yield env.timeout(spec.voyage_days)


@dataclass
class Shuttle:
    """Runtime state of a tanker-shuttle route."""

    route: TankerShuttleRoute
    rank: int
    berths: simpy.Resource
    last_lift_day: float | None = None
    """When the last cargo was lifted (None before the first); the terminal cap spaces lifts from it [days]."""


@dataclass(order=True)
class CargoRequest:
    """A tanker at berth waiting for a full cargo; served best netback first, then first come."""

    rank: int
    seq: int
    route: str = field(compare=False)
    event: simpy.Event = field(compare=False)


@dataclass
class Ramp:
    """Linear climb from a curtailed rate back to nominal, in steps whose midpoint values make the volume exact."""

    start_day: float
    from_bpd: float
    to_bpd: float
    steps: int
    step_days: float
    k: int = 0

    def advance(self, now: float) -> None:
        """Move to the step that holds at ``now``."""
        while self.k < self.steps and now >= self.next_day - 1e-12:
            self.k += 1

    @property
    def done(self) -> bool:
        return self.k >= self.steps

    @property
    def next_day(self) -> float:
        return self.start_day + (self.k + 1) * self.step_days

    @property
    def value_bpd(self) -> float:
        return self.from_bpd + (self.to_bpd - self.from_bpd) * (self.k + 0.5) / self.steps


class Network:
    """A producer's storage node, the continuous routes drawing from it, and the shuttles lifting from it."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, log: bool = False) -> None:
        self.env = env
        producer = scenario.producer
        self.nominal_bpd = producer.production_bpd
        self.capacity_bbl = producer.storage_bbl
        self.level_bbl = producer.initial_storage_bbl
        self.ramp_days = producer.restart_ramp_days
        order = scenario.routes_by_netback()
        self.rank = {name: i for i, name in enumerate(order)}
        self.capacity_bpd = {name: scenario.routes[name].capacity_bpd for name in order}
        self.pipelines = [n for n in order if not isinstance(scenario.routes[n], TankerShuttleRoute)]
        self.shuttles: dict[str, Shuttle] = {}
        for name in order:
            route = scenario.routes[name]
            if isinstance(route, TankerShuttleRoute):
                self.shuttles[name] = Shuttle(route, self.rank[name], simpy.Resource(env, route.load_berths))
        self.factors: dict[str, list[float]] = {name: [] for name in order}
        self._factor = {name: 1.0 for name in order}  # the smallest of each route's factors, kept up to date
        self.pending: list[CargoRequest] = []
        self.curtailed_bpd: float | None = None
        self.ramp: Ramp | None = None
        self.alloc = Allocation(0.0, tuple(0.0 for _ in self.pipelines))
        self.updated_day = 0.0
        self.tol_bbl = LEVEL_TOL_BBL
        self._same_time = 0
        self.version = 0
        self._seq = 0
        self.recorder = Recorder(self.pipelines, order, list(self.shuttles), log)

    # -------------------------------------------------------------------------------- called by processes

    def impair(self, route: str, factor: float) -> None:
        """An impairment of ``route`` to ``factor`` of capacity begins."""
        self.factors[route].append(factor)
        self._factor[route] = min(self.factors[route])
        self.refresh()

    def restore(self, route: str, factor: float) -> None:
        """An impairment of ``route`` to ``factor`` ends."""
        before = self.factor(route)
        self.factors[route].remove(factor)
        self._factor[route] = min(self.factors[route], default=1.0)
        self.refresh(capacity_rose=self.factor(route) > before)

    def request_cargo(self, route: str) -> simpy.Event:
        """An event that fires when a full cargo for ``route`` has been lifted from storage."""
        self._seq += 1
        request = CargoRequest(self.shuttles[route].rank, self._seq, route, self.env.event())
        self.pending.append(request)
        self.pending.sort()
        self.refresh()
        return request.event

    def factor(self, route: str) -> float:
        """Available share of ``route``'s capacity: the smallest factor among its active impairments."""
        return self._factor[route]

    # -------------------------------------------------------------------------------- the hybrid core

    def refresh(self, capacity_rose: bool = False) -> None:
        """Bring levels to now, serve cargoes, re-solve the rates, record, schedule the next crossing.

        Args:
            capacity_rose: a route's capacity has just come back, so a curtailed producer starts its ramp.
        """
        now = self.env.now
        self.recorder.events += 1
        # events closer together than a microsecond (1e-11 days), over and over, mean time no longer moves
        self._same_time = self._same_time + 1 if now - self.updated_day <= 1e-11 * max(1.0, now) else 0
        if self.recorder.events > MAX_EVENTS or self._same_time > MAX_EVENTS_AT_ONE_TIME:
            raise SimulationError(f"the run does not progress at day {now:g} ({self.recorder.events} events)")
        self._advance(now)
        before = self.level_bbl
        self._serve_cargoes(now)
        if self.level_bbl != before:  # a lift is a jump: keep the level just before it too
            self._record(now, before)
        potential = self._potential(now, capacity_rose)
        caps = self._pipeline_capacities(now)
        self.alloc = dispatch(
            empty=self.level_bbl <= self.tol_bbl,
            full=self.level_bbl >= self.capacity_bbl - self.tol_bbl,
            potential_bpd=potential,
            capacities_bpd=caps,
        )
        cut = self.alloc.production_bpd < potential - RATE_TOL_BPD
        if cut and self.curtailed_bpd is None:
            self.recorder.log(now, "production_cut", "producer", f"{self.alloc.production_bpd:.6g} bpd")
        self.curtailed_bpd = self.alloc.production_bpd if cut else None
        self._record(now, self.level_bbl)
        self._schedule(now)

    def _advance(self, now: float) -> None:
        """Move the level to ``now`` and snap it onto a bound it reached.

        The tolerance grows with the rate and with the spacing of floats near ``now``: late in a long
        horizon a crossing time cannot be hit more exactly than that.
        """
        self.tol_bbl = LEVEL_TOL_BBL + abs(self.alloc.net_bpd) * 4 * math.ulp(max(now, 1.0))
        level = self.level_bbl + self.alloc.net_bpd * (now - self.updated_day)
        if level <= self.tol_bbl:
            if self.level_bbl > 0:
                self.recorder.log(now, "storage_empty", "storage")
            level = 0.0
        elif level >= self.capacity_bbl - self.tol_bbl:
            if self.level_bbl < self.capacity_bbl:
                self.recorder.log(now, "storage_full", "storage")
            level = self.capacity_bbl
        self.level_bbl, self.updated_day = level, now

    def _gate_day(self, route: str) -> float:
        """Earliest next lift on ``route`` under its terminal cap at today's factor (inf while stopped) [days]."""
        rate = self.capacity_bpd[route] * self.factor(route)
        if rate <= 0:
            return math.inf
        shuttle = self.shuttles[route]
        if shuttle.last_lift_day is None:
            return -math.inf
        return shuttle.last_lift_day + shuttle.route.tanker_capacity_bbl / rate

    def _gate_open(self, route: str, now: float) -> bool:
        return now >= self._gate_day(route) - 4 * math.ulp(max(now, 1.0))

    def _serve_cargoes(self, now: float) -> None:
        for request in list(self.pending):
            shuttle = self.shuttles[request.route]
            cargo = shuttle.route.tanker_capacity_bbl
            if self._gate_open(request.route, now) and self.level_bbl >= cargo - self.tol_bbl:
                self.level_bbl = max(self.level_bbl - cargo, 0.0)
                shuttle.last_lift_day = now
                self.pending.remove(request)
                self.recorder.load(request.route, now)
                self.recorder.log(now, "cargo_lifted", request.route, f"{cargo:g} bbl")
                request.event.succeed()

    def _potential(self, now: float, capacity_rose: bool) -> float:
        """What the producer could produce now: nominal, or on the restart ramp.

        A producer cut back because storage is full restarts, when capacity returns while it is cut, from
        the rate it was cut to and climbs linearly to nominal over ``restart_ramp_days``. Space freed by a
        tanker lift is refilled at the current potential: a lift is not capacity returning.
        """
        if capacity_rose and self.curtailed_bpd is not None:
            self.recorder.log(now, "production_restarts", "producer", f"from {self.curtailed_bpd:.6g} bpd")
            if self.ramp_days > 0:
                steps = max(1, math.ceil(self.ramp_days))
                self.ramp = Ramp(now, self.curtailed_bpd, self.nominal_bpd, steps, self.ramp_days / steps)
            self.curtailed_bpd = None
        if self.ramp is not None:
            self.ramp.advance(now)
            if not self.ramp.done:
                return self.ramp.value_bpd
            self.ramp = None
        return self.nominal_bpd

    def _waiting_rank(self, now: float) -> int:
        """Rank of the best shuttle with a tanker waiting for stock it could load now (or past the worst)."""
        for request in self.pending:
            if self._gate_open(request.route, now):
                return request.rank
        return len(self.rank)

    def _pipeline_capacities(self, now: float) -> list[float]:
        """Available capacity of each pipeline; those ranked below a waiting better shuttle yield the stock to it."""
        waiting = self._waiting_rank(now)
        return [
            self.capacity_bpd[p] * self.factor(p) if self.rank[p] < waiting else 0.0 for p in self.pipelines
        ]

    def _schedule(self, now: float) -> None:
        net = self.alloc.net_bpd
        level = self.level_bbl
        waits = []
        if net < -RATE_TOL_BPD and level > 0:
            waits.append(level / -net)
        if net > RATE_TOL_BPD and level < self.capacity_bbl:
            waits.append((self.capacity_bbl - level) / net)
        for request in self.pending:
            gate = self._gate_day(request.route)
            if gate == math.inf:
                continue
            if not self._gate_open(request.route, now):
                waits.append(gate - now)
            elif net > RATE_TOL_BPD:
                waits.append((self.shuttles[request.route].route.tanker_capacity_bbl - level) / net)
        if self.ramp is not None:
            waits.append(self.ramp.next_day - now)
        if not waits:
            return
        self.version += 1
        version = self.version
        crossing = self.env.timeout(max(min(waits), 0.0))
        crossing.callbacks.append(lambda _event: self._on_crossing(version))

    def _on_crossing(self, version: int) -> None:
        if version == self.version:
            self.refresh()

    def _record(self, now: float, level: float) -> None:
        self.recorder.point(now, level, self.alloc.production_bpd, self.alloc.flows_bpd, tuple(self._factor.values()))
