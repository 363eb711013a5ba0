"""The batch shuttle route component: whole cargoes lifted at a load port, carried round a cycle.

Tankers today (wagon trains tomorrow, with other numbers): each one a SimPy process holding a load berth
(a ``Resource``) while it waits for a full cargo and loads it. A cargo is lifted by a refresh of the
network (see :class:`CargoDesk`), from the load port's tank farm or, without one, from the one producer's
storage. The port cap spaces lifts at least ``cargo / cap`` apart; a storm stops lifts and departures.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from routesim.scenario.model import TankerShuttleRoute

from . import capacity
from .capacity import Capacities
from .limits import RATE_TOL_BPD
from .state import RouteState, Settled, Storage
from .trace import Recorder

if TYPE_CHECKING:
    from .reference import Network


class Shuttle:
    """A tanker-shuttle route (see :class:`.state.RouteComponent`)."""

    continuous = False

    def __init__(self, state: RouteState, env: simpy.Environment, source: Storage | None, routes: int) -> None:
        assert isinstance(state.spec, TankerShuttleRoute)
        self.state = state
        self.spec: TankerShuttleRoute = state.spec
        self.is_entry = state.tank_farm is not None
        self.source = source
        """Where its tankers lift cargoes: its tank farm, or its one producer's storage (None: no producer
        reaches it, and its tankers never sail)."""
        self.env = env
        self.berths = simpy.Resource(env, capacity=self.spec.load_berths)
        self.routes = routes
        """How many routes the network has (priorities run from 0 to 2 x routes - 1)."""
        self.last_lift_day: float | None = None
        """When the last cargo was lifted (None before the first) [days]."""
        self.lifted_bbl = 0.0
        self.calm: simpy.Event | None = None
        """While a storm is on: the event that fires when the last one ends."""

    # ---------------------------------------------------------------------------- the component

    def capacities(self, factors: dict[str, float], stormy: bool) -> Capacities:
        return capacity.shuttle_bpd(self.state.name, self.spec, factors, stormy)

    def availability(self, factors: dict[str, float]) -> float:
        if not self.spec.segments:
            return capacity.simple_availability(capacity.factor(factors, self.state.name), self.state.storms > 0)
        return capacity.availability(self.state.caps, self.state.nominal)

    def entry_bpd(self) -> float:
        farm = self.state.tank_farm
        return capacity.entry_bpd(self.state.caps, farm is not None, farm is not None and farm.bounds.full, False)

    def stretches_bpd(self, factors: dict[str, float]) -> tuple[float, ...]:
        """Producers join only pipelines part-way."""
        return ()

    def settle(self, inflow_bpd: float) -> Settled:
        """The load port's tanks keep what arrives; tankers take it out in cargoes."""
        return Settled(None if self.state.tank_farm is None else inflow_bpd, 0.0)

    def weather(self) -> None:
        if self.state.storms and self.calm is None:
            self.calm = self.env.event()
        elif not self.state.storms and self.calm is not None:
            self.calm.succeed()
            self.calm = None

    def start(self, network: Network) -> None:
        if self.source is not None:  # unreached: its tankers wait for ever, without a process
            for _ in range(self.spec.tankers):
                network.env.process(self.tanker(network))

    # ---------------------------------------------------------------------------- a tanker

    def tanker(self, network: Network) -> Generator[simpy.Event, Any, None]:
        """One tanker's cycle, for ever: berth, cargo, load, sail, discharge, sail back."""
        env, spec, name = network.env, self.spec, self.state.name
        while True:
            with self.berths.request() as berth:  # first come, first served
                yield berth
                yield network.request_cargo(self)  # until a refresh lifts a full cargo
                yield env.timeout(spec.load_days)
                yield from self.wait_for_calm()
            network.recorder.log(env.now, "tanker_sails", name, "{:g} bbl", spec.tanker_capacity_bbl)
            yield env.timeout(spec.voyage_days + spec.unload_days)
            network.recorder.discharge(name, env.now)
            network.recorder.log(env.now, "cargo_discharged", name, "{:g} bbl", spec.tanker_capacity_bbl)
            yield from self.wait_for_calm()
            yield env.timeout(spec.voyage_days)

    def wait_for_calm(self) -> Generator[simpy.Event, Any, None]:
        """Stay in port while a storm is on the route."""
        while self.calm is not None:
            yield self.calm

    # ---------------------------------------------------------------------------- cargo rules

    def gate_day(self) -> float:
        """Earliest next lift under the port cap at today's factor (inf while stopped, -inf before the
        first lift) [days]."""
        gap = capacity.lift_gap_days(self.spec.tanker_capacity_bbl, self.state.caps.delivery_bpd)
        if gap == math.inf:
            return math.inf
        return -math.inf if self.last_lift_day is None else self.last_lift_day + gap

    def gate_open(self, now: float, slack: float) -> bool:
        return now >= self.gate_day() - slack

    def ahead_until(self) -> float:
        """When the lifts fall back to the committed volume (-inf without a commitment) [days]."""
        committed = self.spec.committed_bpd
        return self.lifted_bbl / committed if committed > 0 else -math.inf

    def behind(self, now: float, slack: float) -> bool:
        """Whether a committed route has lifted no more than its commitment by now."""
        return self.spec.committed_bpd > 0 and now >= self.ahead_until() - slack

    def priority(self, now: float, slack: float) -> int:
        """Priority of its waiting tankers now (see :class:`.state.RouteState`)."""
        return self.state.rank if self.behind(now, slack) else self.routes + self.state.rank


@dataclass(order=True)
class CargoRequest:
    """A tanker at berth waiting for a full cargo; served in priority order, then first come."""

    priority: int
    seq: int
    shuttle: Shuttle = field(compare=False)
    lifted: simpy.Event = field(compare=False)
    """Fires when its cargo is lifted."""


class CargoDesk:
    """The tankers at berth waiting for cargoes, across every shuttle route (they may share a source)."""

    def __init__(self) -> None:
        self.pending: list[CargoRequest] = []
        self._seq = 0

    def add(self, shuttle: Shuttle, now: float, slack: float, lifted: simpy.Event) -> None:
        """A tanker of ``shuttle`` takes a berth and asks for a cargo."""
        self._seq += 1
        self.pending.append(CargoRequest(shuttle.priority(now, slack), self._seq, shuttle, lifted))
        self.pending.sort()

    def reprioritise(self, now: float, slack: float) -> None:
        """Priorities now: a committed route ranks first while it is behind its commitment."""
        for request in self.pending:
            request.priority = request.shuttle.priority(now, slack)
        self.pending.sort()

    def serve(self, now: float, slack: float, recorder: Recorder) -> bool:
        """Lift full cargoes in priority order; a tanker at an open gate whose cargo is not ready holds its
        source's stock from the tankers behind it. Whether any was lifted."""
        lifted = False
        waiting: set[str] = set()
        for request in list(self.pending):
            shuttle = request.shuttle
            source, cargo = shuttle.source, shuttle.spec.tanker_capacity_bbl
            assert source is not None
            if source.name in waiting or not shuttle.gate_open(now, slack):
                continue
            if source.level_bbl < cargo - source.tol_bbl:
                waiting.add(source.name)
                continue
            source.level_bbl = max(source.level_bbl - cargo, 0.0)
            shuttle.last_lift_day = now
            shuttle.lifted_bbl += cargo
            self.pending.remove(request)
            recorder.load(shuttle.state.name, now)
            recorder.log(now, "cargo_lifted", shuttle.state.name, "{:g} bbl", cargo)
            request.lifted.succeed()
            lifted = True
        return lifted

    def holds(self, now: float, slack: float) -> Mapping[str, int]:
        """Per source, the priority of the first tanker waiting at an open gate: producers feeding it hold
        back its oil from entries of that priority and worse."""
        held: dict[str, int] = {}
        for request in self.pending:
            shuttle = request.shuttle
            assert shuttle.source is not None
            if shuttle.gate_open(now, slack):
                held.setdefault(shuttle.source.name, request.priority)
        return held

    def waits(self, now: float, slack: float) -> list[float]:
        """Days until the waiting tankers next need a refresh: a gate opening, a cargo ready at today's
        rates, a committed route falling back to its commitment [days]."""
        waits = []
        waiting: set[str] = set()  # sources whose stock a tanker at an open gate holds (see serve)
        for request in self.pending:
            shuttle = request.shuttle
            source, cargo = shuttle.source, shuttle.spec.tanker_capacity_bbl
            assert source is not None
            gate = shuttle.gate_day()
            if gate == math.inf:
                continue
            if now < gate - slack:
                waits.append(gate - now)
            elif source.name not in waiting:
                waiting.add(source.name)
                if source.net_bpd > RATE_TOL_BPD:
                    waits.append((cargo - source.level_bbl) / source.net_bpd)
            if shuttle.spec.committed_bpd > 0 and not shuttle.behind(now, slack):
                waits.append(shuttle.ahead_until() - now)  # ahead of its commitment until then
        return waits
