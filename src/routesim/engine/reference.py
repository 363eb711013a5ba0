"""The SimPy engine: a scenario and a seed in, a :class:`~routesim.engine.trace.Trace` out.

SimPy drives an event-driven hybrid model. Rates are constant between events and levels move linearly,
so instead of stepping a clock the engine computes the next threshold crossing (a storage node empty or
full, a waiting tanker's cargo ready, a restart-ramp step) and schedules one timeout for it; a crossing
made stale by an earlier event is ignored. Cost grows with the number of events, not with the horizon.

The network: each producer has a storage node and reaches some routes. A pipeline route takes oil up to
its capacity (and its segments'); with a terminal it delivers at the terminal's loading rate, through its
tank farm if it has one (the tanks fill while loading stops, and stop the pipe when full). A tanker route
lifts full cargoes from its load port's tank farm, or from its one producer's storage.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from .dispatch import Supplier, allocate
from ..errors import SimulationError
from ..disruptions import Impairment, impairments
from ..model import PipelineRoute, Producer, Route, Scenario, TankerShuttleRoute
from .trace import Recorder, Trace

LEVEL_TOL_BBL = 1e-6
"""Levels this close to a bound are on it [bbl]."""
RATE_TOL_BPD = 1e-9
"""Rates this close to zero are zero [bbl/day]."""
Rates = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
"""Net rate per storage node, production per producer, outflow per pipeline [bbl/day]."""
MAX_EVENTS = 20_000_000
"""Guard against a run that never ends."""
MAX_EVENTS_AT_ONE_TIME = 10_000
"""Guard against events that keep firing without time moving on (or moving on by ever smaller steps)."""


def _slack(now: float) -> float:
    """How far apart two computations of the same instant ``now`` can be: a few of its ulps [days]."""
    return 4 * math.ulp(now if now > 1.0 else 1.0)


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
        shuttle = network.lines[hit.target].shuttle if hit.storm else None
        if shuttle is not None:
            shuttle.calm = False
    network.refresh()
    for line in network.lines.values():
        if line.shuttle is not None:
            network.promise_berths(line)
    env.run(until=scenario.horizon_days)
    network.refresh(final=True)
    return network.recorder.freeze(float(scenario.horizon_days), tuple(hits))


def _impair(env: simpy.Environment, network: Network, hit: Impairment) -> Generator[Any, Any, None]:
    """Impair a route or a part of it to a share of its capacity for a while (a storm: stop it)."""
    yield env.timeout(hit.start_day)
    network.impair(hit)
    network.recorder.log(env.now, "storm_start" if hit.storm else "impairment_start", hit.target,
                         f"{hit.source} factor={hit.factor:.4g}")
    yield env.timeout(max(hit.end_day - hit.start_day, 0.0))
    network.restore(hit)
    network.recorder.log(env.now, "storm_end" if hit.storm else "impairment_end", hit.target, hit.source)


@dataclass
class Node:
    """A storage node: a level between 0 and a capacity, moving linearly at ``net_bpd`` between events."""

    name: str
    capacity_bbl: float
    level_bbl: float
    working_bbl: float = 0.0
    """A terminal tank farm's working stock: its outflow drops to the inflow when the level falls to it."""
    net_bpd: float = 0.0
    tol_bbl: float = LEVEL_TOL_BBL

    @property
    def state(self) -> tuple[bool, bool, bool]:
        """(empty, full, above its working stock): what the allocation depends on."""
        level, tol = self.level_bbl, self.tol_bbl
        return level <= tol, level >= self.capacity_bbl - tol, level > self.working_bbl + tol

    @property
    def empty(self) -> bool:
        return self.state[0]

    @property
    def full(self) -> bool:
        return self.state[1]

    @property
    def above_working(self) -> bool:
        return self.state[2]


@dataclass
class Shuttle:
    """Runtime state of a tanker-shuttle route."""

    route: TankerShuttleRoute
    source: Node
    """Where its tankers lift cargoes: the route's tank farm, or its one producer's storage."""
    last_lift_day: float | None = None
    """When the last cargo was lifted (None before the first); the terminal cap spaces lifts from it [days]."""
    lifted_bbl: float = 0.0
    storm_end: simpy.Event | None = None
    """While a storm is on: the event that fires when it ends; tankers wait for it before sailing."""
    calm: bool = True
    """No storm hits the route in this run: a voyage needs no event of its own (see Network._sail)."""
    free_from: list[float] = field(default_factory=list)
    """Berths not promised to a tanker yet: the days they are free from, a heap [days]."""
    returning: deque[float] = field(default_factory=deque)
    """Tankers not promised a berth yet: the days they are (or will be) at the load port, in order [days]."""


@dataclass(order=True)
class CargoRequest:
    """A tanker at berth (from day ``since``) waiting for a full cargo; served in priority order (see
    :class:`Line`), then first come."""

    priority: int
    seq: int
    line: Line = field(compare=False)
    since: float = field(compare=False)
    """When the tanker takes the berth: now, or later for a berth promised to a tanker still at sea [days]."""


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


@dataclass
class Field:
    """Runtime state of a producer."""

    name: str
    spec: Producer
    node: Node
    reach: frozenset[str]
    curtailed_bpd: float | None = None
    """Production while cut back because its storage is full; None when not cut."""
    ramp: Ramp | None = None
    production_bpd: float = 0.0

    def potential(self, now: float) -> float:
        """What it could produce now: nominal, or the value of its restart ramp."""
        if self.ramp is not None:
            self.ramp.advance(now)
            if not self.ramp.done:
                return self.ramp.value_bpd
            self.ramp = None
        return self.spec.production_bpd


@dataclass
class Line:
    """Runtime state of a route.

    Priorities: the committed part of route of netback rank ``r`` has priority ``r``; the rest ``n + r``
    (n routes). A tanker waiting for a cargo takes the priority of its route (committed while the route's
    lifts are behind its committed volume), and producers feeding it hold back oil from worse entries.
    """

    name: str
    spec: Route
    rank: int
    tank_farm: Node | None
    shuttle: Shuttle | None
    outflow_bpd: float = 0.0

    @property
    def is_entry(self) -> bool:
        """Whether producers send it oil as a rate (a pipeline, or a tanker route's load-port tanks)."""
        return self.shuttle is None or self.tank_farm is not None


class Network:
    """Producers' storage nodes, routes with their parts and tank farms, and the shuttles lifting cargoes."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, log: bool = False) -> None:
        self.env = env
        self.horizon_days = float(scenario.horizon_days)
        self.fields = [
            Field(name, p, Node(name, p.storage_bbl, p.initial_storage_bbl), frozenset(scenario.reach(name)))
            for name, p in scenario.producers.items()
        ]
        nodes = {f.name: f.node for f in self.fields}
        order = scenario.routes_by_netback()
        self.lines: dict[str, Line] = {}
        for rank, name in enumerate(order):
            route = scenario.routes[name]
            farm = route.tank_farm
            tank = None if farm is None else Node(
                f"{name}/tank_farm", farm.storage_bbl, farm.initial_storage_bbl, farm.working_storage_bbl
            )
            shuttle = None
            if isinstance(route, TankerShuttleRoute):
                feeders = scenario.feeders(name)
                if tank is not None:
                    source = tank
                elif feeders:
                    source = nodes[feeders[0]]
                else:  # no producer reaches it: its tankers wait all along
                    source = Node(f"{name}/unreached", 0.0, 0.0)
                shuttle = Shuttle(route, source, free_from=[0.0] * route.load_berths,
                                  returning=deque([0.0] * route.tankers))
            self.lines[name] = Line(name, route, rank, tank, shuttle)
            if tank is not None:
                nodes[tank.name] = tank
        self.nodes = list(nodes.values())
        n = len(order)
        entries = [line for line in self.lines.values() if line.is_entry]
        self.entries = [(line, True, line.rank) for line in entries if line.spec.committed_bpd > 0]
        self.entries += [(line, False, n + line.rank) for line in entries]
        """(route, committed part?, priority), in priority order."""
        self.pipelines = [line for line in self.lines.values() if line.shuttle is None]
        self.committed_shuttles = any(line.shuttle and line.spec.committed_bpd for line in self.lines.values())
        self.factors: dict[str, list[float]] = {t: [] for t in scenario.targets()}
        self._factor = dict.fromkeys(self.factors, 1.0)  # the smallest of each target's factors, kept up to date
        self.storms = dict.fromkeys(self.lines, 0)
        self.nominal = {name: self._capacities(line, nominal=True) for name, line in self.lines.items()}
        self.caps = {name: self._capacities(line) for name, line in self.lines.items()}
        """Each route's intake and delivery capacity now (see _capacities), updated when an impairment or storm
        starts or ends."""
        self.available = self._availabilities()
        """Each route's availability now, in route order (see _availability)."""
        self._rates: Rates = ((), (), ())
        """Net rate per node, production per producer and outflow per pipeline, from the last solve."""
        self._recorded: tuple[tuple[float, ...], ...] | None = None
        self._usable_cache: dict[tuple[int, float], frozenset[int]] = {}
        self._refreshing = False
        self._crossing_day = math.inf
        """When the engine next needs a refresh of its own (inf: not before an outside event)."""
        self._due: list[float] = []
        """Days of the crossing timeouts not fired yet, a heap."""
        self.pending: list[CargoRequest] = []
        self._solved: dict[tuple[Any, ...], Rates] = {}
        """Rates of each state seen since the capacities last changed (see _solve)."""
        self.updated_day = 0.0
        self._same_time = 0
        self._seq = 0
        self.recorder = Recorder(
            nodes, [f.name for f in self.fields], [p.name for p in self.pipelines], order,
            [name for name, line in self.lines.items() if line.shuttle is not None], log,
        )

    # -------------------------------------------------------------------------------- called by processes

    def impair(self, hit: Impairment) -> None:
        """An impairment (or a storm) begins."""
        if hit.storm:
            self.storms[hit.target] += 1
            shuttle = self.lines[hit.target].shuttle
            if shuttle is not None and shuttle.storm_end is None:
                shuttle.storm_end = self.env.event()
        else:
            self.factors[hit.target].append(hit.factor)
            self._factor[hit.target] = min(self.factors[hit.target])
        self._update_caps(self.lines[hit.target.split("/")[0]])
        self.refresh()

    def restore(self, hit: Impairment) -> None:
        """An impairment (or a storm) ends."""
        line = self.lines[hit.target.split("/")[0]]
        before = self.caps[line.name]
        if hit.storm:
            self.storms[hit.target] -= 1
            shuttle = line.shuttle
            if shuttle is not None and shuttle.storm_end is not None and not self.storms[hit.target]:
                shuttle.storm_end.succeed()
                shuttle.storm_end = None
        else:
            self.factors[hit.target].remove(hit.factor)
            self._factor[hit.target] = min(self.factors[hit.target], default=1.0)
        after = self._update_caps(line)
        self.refresh(rose=line.name if any(a > b for a, b in zip(after, before)) else None)

    # -------------------------------------------------------------------------------- the tankers

    # A tanker's cycle: it queues for a berth at the load port, waits there for a full cargo (see
    # _serve_cargoes), loads, sails, discharges and sails back; it leaves either port only when no storm is
    # on its route, and keeps its berth while it waits to sail. Tankers are alike and served first come,
    # first served, so a shuttle keeps only days: when each berth not yet promised is free, and when each
    # tanker not yet promised a berth is at the port; the first of each go together (see promise_berths).
    # No step is a SimPy process: the cargo is a crossing of the network; on a route no storm hits in the
    # run, the rest of a voyage is known when its cargo is lifted and is taken then, with its days (see
    # _sail); on a stormy route, leaving each port is a timeout or waits for the storm's end.

    def promise_berths(self, line: Line) -> None:
        """Berths not promised go to the first tankers not promised one, which ask for their cargoes from
        the day both are there (a request ahead of time is only a crossing: see _quiet_wait)."""
        shuttle = line.shuttle
        assert shuttle is not None
        while shuttle.free_from and shuttle.returning:
            since = max(heapq.heappop(shuttle.free_from), shuttle.returning.popleft(), self.env.now)
            self._request_cargo(line, since)

    def _request_cargo(self, line: Line, since: float) -> None:
        """A tanker takes a berth at ``since`` and asks for a cargo. Unless it can lift at once, or its
        waiting changes the allocation, it only adds a crossing (its arrival, its gate opening, or its cargo
        ready): no re-solve. During a refresh, the refresh's own schedule takes it into account."""
        self._seq += 1
        request = CargoRequest(self._priority(line), self._seq, line, since)
        self.pending.append(request)
        if len(self.pending) > 1:
            self.pending.sort()
        if self._refreshing:
            return
        crossing = self._quiet_wait(request)
        if crossing is None:
            if since <= self.env.now:
                self.refresh()
                return
            crossing = since
        if crossing < self._crossing_day:
            self._set_crossing(crossing)

    def _quiet_wait(self, request: CargoRequest) -> float | None:
        """When the waiting of ``request`` next needs a refresh (inf: never by itself), or None if it needs
        one when the tanker takes the berth: a cargo it can lift then, a hold on stock that changes what
        producers may use, or other tankers at its source (or committed routes) whose order it could change.
        For a tanker still at sea, levels are taken forward at today's rates: a refresh before it arrives
        asks again."""
        line, at = request.line, max(request.since, self.env.now)
        shuttle = line.shuttle
        assert shuttle is not None
        source = shuttle.source
        if self.committed_shuttles or len(self.pending) > 1 and any(
            r is not request and r.line.shuttle.source is source for r in self.pending  # type: ignore[union-attr]
        ):
            return None
        gate = self._gate_day(line)
        if gate == math.inf:
            return math.inf
        if not self._gate_open(line, at):
            return gate
        level = source.level_bbl + source.net_bpd * (at - self.updated_day)
        if level >= shuttle.route.tanker_capacity_bbl - source.tol_bbl - abs(source.net_bpd) * _slack(at):
            return None
        for i, f in enumerate(self.fields):
            if f.node is source and self._usable(i, request.priority) != self._usable(i, math.inf):
                return None
        if source.net_bpd > RATE_TOL_BPD:
            return at + (shuttle.route.tanker_capacity_bbl - level) / source.net_bpd
        return math.inf

    def _after(self, days: float, step: Callable[[], None]) -> None:
        self.env.timeout(days).callbacks.append(lambda _event: step())

    def _when_calm(self, shuttle: Shuttle, step: Callable[[], None]) -> bool:
        """Whether the sea is calm; if not, ``step`` is taken when the storm ends (and is calm then)."""
        if shuttle.storm_end is None:
            return True
        shuttle.storm_end.callbacks.append(lambda _event: step())
        return False

    def _sail(self, line: Line, day: float | None = None) -> None:
        """Loaded: leave the berth to the next tanker and sail to discharge, now or at ``day``.

        On a route no storm hits in the run, the whole voyage is known when the cargo is lifted, and is
        taken then, with its days (see _serve_cargoes): the berth goes to the next tanker when loading ends,
        the discharge is recorded (if before the horizon) and the return noted, with no event of its own."""
        shuttle = line.shuttle
        assert shuttle is not None
        if day is None:
            if not self._when_calm(shuttle, lambda: self._sail(line)):
                return
            day = self.env.now
        spec = shuttle.route
        self.recorder.log(day, "tanker_sails", line.name, "{:g} bbl", spec.tanker_capacity_bbl)
        heapq.heappush(shuttle.free_from, day)
        self.promise_berths(line)
        discharged = day + spec.voyage_days + spec.unload_days
        if not shuttle.calm:
            self._after(discharged - self.env.now, lambda: self._discharged(line))
        elif discharged < self.horizon_days:
            self._discharged(line, discharged)
        else:
            self._sail_back(line, discharged)

    def _discharged(self, line: Line, day: float | None = None) -> None:
        """A cargo discharged at ``day`` (default: now)."""
        shuttle = line.shuttle
        assert shuttle is not None
        day = self.env.now if day is None else day
        self.recorder.discharge(line.name, day)
        self.recorder.log(day, "cargo_discharged", line.name, "{:g} bbl", shuttle.route.tanker_capacity_bbl)
        self._sail_back(line, day)

    def _sail_back(self, line: Line, day: float) -> None:
        """Sail back from discharging at ``day``, once calm; the tanker is back at the load port a voyage later."""
        shuttle = line.shuttle
        assert shuttle is not None
        if not shuttle.calm and not self._when_calm(shuttle, lambda: self._sail_back(line, self.env.now)):
            return
        shuttle.returning.append(day + shuttle.route.voyage_days)
        self.promise_berths(line)

    # -------------------------------------------------------------------------------- capacities

    def factor(self, target: str) -> float:
        """Available share of a route or part: the smallest factor among its active impairments."""
        return self._factor[target]

    def _capacities(self, line: Line, nominal: bool = False) -> tuple[float, float]:
        """What the route can take in now (``capacity_bpd`` and the segments before any tank farm), and
        what it can deliver below its tank farm: the segments after the tanks and the terminal (a tanker
        route: its port cap; tanks with nothing below them: ``capacity_bpd``) [bbl/day].

        Without a tank farm the first is the whole line and the second only its terminal (inf without one).
        With ``nominal``, every part fully available.
        """
        spec, name = line.spec, line.name
        factor = (lambda target: 1.0) if nominal else self._factor.__getitem__
        stormy = self.storms[name] > 0 and not nominal
        whole = factor(name)
        pipe = spec.capacity_bpd * whole
        if line.shuttle is not None:
            for segment, part in spec.segments.items():
                pipe = min(pipe, part.capacity_bpd * factor(f"{name}/{segment}") * whole)
            return pipe, 0.0 if stormy else spec.capacity_bpd * whole
        assert isinstance(spec, PipelineRoute)
        before, after = spec.split_segments()
        for segment in before:
            pipe = min(pipe, spec.segments[segment].capacity_bpd * factor(f"{name}/{segment}") * whole)
        out = math.inf
        for segment in after:
            out = min(out, spec.segments[segment].capacity_bpd * factor(f"{name}/{segment}") * whole)
        terminal = spec.terminal
        if terminal is not None:
            moorings = [factor(f"{name}/{m}") for m in terminal.moorings]
            loading = 0.0 if stormy else terminal.capacity_bpd(moorings) * factor(f"{name}/terminal") * whole
            out = min(out, loading)
        if out == math.inf and line.tank_farm is not None:  # tanks at the pipe's end drain at its rate
            out = spec.capacity_bpd * whole
        return pipe, out

    def _update_caps(self, line: Line) -> tuple[float, float]:
        caps = self.caps[line.name] = self._capacities(line)
        self._solved.clear()
        self.available = self._availabilities()
        return caps

    def _availabilities(self) -> tuple[float, ...]:
        return tuple(self._availability(line, *self.caps[name]) for name, line in self.lines.items())

    def _availability(self, line: Line, pipe: float, out: float) -> float:
        """Share of the route's nominal capacity available now: what it can carry through, against what it
        carries with every part available [-]."""
        spec = line.spec
        if not spec.segments and (line.shuttle is not None or getattr(spec, "terminal", None) is None):
            return 0.0 if self.storms[line.name] else self._factor[line.name]  # the simple route: its factor
        full = min(self.nominal[line.name])
        return min(1.0, min(pipe, out) / full) if 0 < full < math.inf else 1.0

    def _priority(self, line: Line) -> int:
        """Priority of a tanker of ``line`` waiting now (see :class:`Line`)."""
        shuttle = line.shuttle
        assert shuttle is not None
        return line.rank if self._behind(line, self.env.now) else len(self.lines) + line.rank

    def _ahead_until(self, line: Line) -> float:
        """When a tanker route's lifts fall back to its committed volume (-inf without a commitment) [days]."""
        shuttle, committed = line.shuttle, line.spec.committed_bpd
        assert shuttle is not None
        return shuttle.lifted_bbl / committed if committed > 0 else -math.inf

    def _behind(self, line: Line, now: float) -> bool:
        """Whether a committed tanker route has lifted no more than its commitment by now."""
        return line.spec.committed_bpd > 0 and now >= self._ahead_until(line) - _slack(now)

    # -------------------------------------------------------------------------------- the hybrid core

    def refresh(self, rose: str | None = None, final: bool = False) -> None:
        """Bring levels to now, serve cargoes, re-solve the rates, record, schedule the next crossing.

        Args:
            rose: a route whose capacity has just come back, so curtailed producers that reach it restart.
            final: the end of the run: record the levels even if no rate changed, and lift no cargo.
        """
        self._refreshing = True
        try:
            self._refresh(rose, final)
        finally:
            self._refreshing = False

    def _refresh(self, rose: str | None, final: bool) -> None:
        now = self.env.now
        self.recorder.events += 1
        # events closer together than a microsecond (1e-11 days), over and over, mean time no longer moves
        self._same_time = self._same_time + 1 if now - self.updated_day <= 1e-11 * max(1.0, now) else 0
        if self.recorder.events > MAX_EVENTS or self._same_time > MAX_EVENTS_AT_ONE_TIME:
            raise SimulationError(f"the run does not progress at day {now:g} ({self.recorder.events} events)")
        slack = _slack(now)
        for node in self.nodes:
            self._advance(node, now, slack)
        self.updated_day = now
        jumped = False
        if self.pending and not final:  # the horizon closes the run: nothing happens at it
            if self.committed_shuttles:
                for request in self.pending:
                    request.priority = self._priority(request.line)
                self.pending.sort()
            before = tuple(node.level_bbl for node in self.nodes)
            jumped = self._serve_cargoes(now, slack)
            if jumped:  # a lift is a jump: keep the level before it, and after it
                self._record(now, before, always=True)
        self._solve(now, rose, slack)
        self._record(now, tuple(node.level_bbl for node in self.nodes), always=jumped or final)
        self._schedule(now, slack)

    def _advance(self, node: Node, now: float, slack: float) -> None:
        """Move a level to ``now`` and snap it onto a bound it reached.

        The tolerance grows with the rate and with the spacing of floats near ``now``: late in a long
        horizon a crossing time cannot be hit more exactly than that.
        """
        node.tol_bbl = LEVEL_TOL_BBL + abs(node.net_bpd) * slack
        level = node.level_bbl + node.net_bpd * (now - self.updated_day)
        if node.working_bbl > 0 and node.level_bbl > node.working_bbl and level <= node.working_bbl + node.tol_bbl:
            level = node.working_bbl  # drawn down to its working stock
        if level <= node.tol_bbl:
            if node.level_bbl > 0:
                self.recorder.log(now, "storage_empty", node.name)
            level = 0.0
        elif level >= node.capacity_bbl - node.tol_bbl:
            if node.level_bbl < node.capacity_bbl:
                self.recorder.log(now, "storage_full", node.name)
            level = node.capacity_bbl
        node.level_bbl = level

    def _gate_day(self, line: Line) -> float:
        """Earliest next lift on a tanker route under its port cap at today's factor (inf while stopped) [days]."""
        shuttle = line.shuttle
        assert shuttle is not None
        rate = self.caps[line.name][1]
        if rate <= 0:
            return math.inf
        if shuttle.last_lift_day is None:
            return -math.inf
        return shuttle.last_lift_day + shuttle.route.tanker_capacity_bbl / rate

    def _gate_open(self, line: Line, now: float, slack: float | None = None) -> bool:
        return now >= self._gate_day(line) - (_slack(now) if slack is None else slack)

    def _serve_cargoes(self, now: float, slack: float) -> bool:
        """Lift full cargoes in priority order; a tanker at an open gate whose cargo is not ready holds its
        source's stock from the tankers behind it. Whether any was lifted."""
        lifted = False
        waiting: set[str] = set()
        for request in list(self.pending):
            shuttle = request.line.shuttle
            assert shuttle is not None
            cargo, source = shuttle.route.tanker_capacity_bbl, shuttle.source
            if request.since > now + slack or source.name in waiting or not self._gate_open(request.line, now, slack):
                continue
            if source.level_bbl < cargo - source.tol_bbl:
                waiting.add(source.name)
            else:
                source.level_bbl = max(source.level_bbl - cargo, 0.0)
                shuttle.last_lift_day = now
                shuttle.lifted_bbl += cargo
                self.pending.remove(request)
                self.recorder.load(request.line.name, now)
                self.recorder.log(now, "cargo_lifted", request.line.name, "{:g} bbl", cargo)
                if shuttle.calm and shuttle.route.load_days > 0:
                    self._sail(request.line, now + shuttle.route.load_days)
                else:
                    self._after(shuttle.route.load_days, functools.partial(self._sail, request.line))
                lifted = True
        return lifted

    def _solve(self, now: float, rose: str | None, slack: float) -> None:
        """The producers' allocation and every node's rate of change, for the state now.

        The rates depend only on the capacities, which producers may use which entries, what each could
        produce and which nodes are empty, full or above their working stock; the allocation of each such
        state is kept until the capacities change, so a state seen before (a tanker waiting again, a cargo
        lifted again) costs a look-up."""
        if rose is not None:
            for f in self.fields:
                if rose in f.reach and f.curtailed_bpd is not None:
                    self._restart(f, now)
        # a tanker waiting at an open gate holds back its source's oil from entries of lower priority
        held: dict[str, int] = {}
        for request in self.pending:
            shuttle = request.line.shuttle
            assert shuttle is not None
            if request.since <= now + slack and self._gate_open(request.line, now, slack):
                held.setdefault(shuttle.source.name, request.priority)
        limits = tuple(held.get(f.name, math.inf) for f in self.fields)
        potentials = tuple(f.potential(now) for f in self.fields)
        key = (limits, potentials, tuple([node.state for node in self.nodes]))
        rates = self._solved.get(key)
        if rates is None:
            rates = self._solved[key] = self._allocate(limits, potentials)
        self._rates = rates
        production, outflows = rates[1], rates[2]
        for f, produced, potential in zip(self.fields, production, potentials):
            f.production_bpd = produced
            cut = produced < potential - RATE_TOL_BPD
            if cut and f.curtailed_bpd is None:
                self.recorder.log(now, "production_cut", f.name, "{:.6g} bpd", produced)
            f.curtailed_bpd = produced if cut else None
        for node, net in zip(self.nodes, rates[0]):
            node.net_bpd = net
        for line, out in zip(self.pipelines, outflows):
            line.outflow_bpd = out

    def _allocate(self, limits: tuple[float, ...], potentials: tuple[float, ...]) -> Rates:
        """Net rate per node, production per producer and outflow per pipeline, given the priority below
        which each producer's stock is held (inf: none) and what each could produce [bbl/day]."""
        capacities = []
        for line, committed, _ in self.entries:
            pipe, terminal = self.caps[line.name]
            farm = line.tank_farm
            if farm is None:
                cap = min(pipe, terminal)
            elif line.shuttle is not None:
                cap = 0.0 if farm.full else pipe
            else:
                cap = min(pipe, terminal) if farm.full else pipe
            promised = line.spec.committed_bpd
            if promised > 0:
                part = min(promised, cap)
                cap = part if committed else cap - part
            capacities.append(cap)
        suppliers = [
            Supplier(potential, f.node.empty, f.node.full, f.spec.production_bpd, self._usable(i, limit))
            for i, (f, limit, potential) in enumerate(zip(self.fields, limits, potentials))
        ]
        alloc = allocate(suppliers, capacities)
        nets = {f.node.name: alloc.production_bpd[i] - alloc.drawn_bpd(i) for i, f in enumerate(self.fields)}
        inflow = dict.fromkeys(self.lines, 0.0)
        for e, (line, _, _) in enumerate(self.entries):
            inflow[line.name] += alloc.entry_bpd(e)
        outflows = []
        for name, line in self.lines.items():
            farm = line.tank_farm
            if line.shuttle is not None:
                if farm is not None:
                    nets[farm.name] = inflow[name]
                continue
            terminal = self.caps[name][1]
            if farm is None:
                outflows.append(inflow[name])
            else:
                out = terminal if farm.above_working else min(terminal, inflow[name])
                outflows.append(out)
                nets[farm.name] = inflow[name] - out
        return tuple(nets[node.name] for node in self.nodes), alloc.production_bpd, tuple(outflows)

    def _usable(self, i: int, limit: float) -> frozenset[int]:
        """The entries producer ``i`` may use while its stock is held from priorities ``limit`` and worse."""
        usable = self._usable_cache.get((i, limit))
        if usable is None:
            reach = self.fields[i].reach
            usable = self._usable_cache[i, limit] = frozenset(
                e for e, (line, _, prio) in enumerate(self.entries) if line.name in reach and prio < limit
            )
        return usable

    def _restart(self, f: Field, now: float) -> None:
        """Capacity came back while ``f`` was cut: it climbs from the rate it was cut to, linearly to nominal
        over its ``restart_ramp_days``. Space freed by a tanker lift is not capacity returning."""
        assert f.curtailed_bpd is not None
        self.recorder.log(now, "production_restarts", f.name, "from {:.6g} bpd", f.curtailed_bpd)
        days = f.spec.restart_ramp_days
        if days > 0:
            steps = max(1, math.ceil(days))
            f.ramp = Ramp(now, f.curtailed_bpd, f.spec.production_bpd, steps, days / steps)
        f.curtailed_bpd = None

    def _schedule(self, now: float, slack: float) -> None:
        waits = []
        for node in self.nodes:
            if node.net_bpd < -RATE_TOL_BPD and node.level_bbl > 0:
                floor = node.working_bbl if node.level_bbl > node.working_bbl else 0.0
                waits.append((node.level_bbl - floor) / -node.net_bpd)
            if node.net_bpd > RATE_TOL_BPD and node.level_bbl < node.capacity_bbl:
                waits.append((node.capacity_bbl - node.level_bbl) / node.net_bpd)
        waiting: set[str] = set()  # sources whose stock a tanker at an open gate holds (see _serve_cargoes)
        for request in self.pending:
            shuttle = request.line.shuttle
            assert shuttle is not None
            if request.since > now + slack:  # still at sea
                crossing = self._quiet_wait(request)
                day = request.since if crossing is None else crossing
                if day < math.inf:
                    waits.append(day - now)
                continue
            gate = self._gate_day(request.line)
            if gate == math.inf:
                continue
            if now < gate - slack:
                waits.append(gate - now)
            elif shuttle.source.name not in waiting:
                waiting.add(shuttle.source.name)
                if shuttle.source.net_bpd > RATE_TOL_BPD:
                    level, net = shuttle.source.level_bbl, shuttle.source.net_bpd
                    waits.append((shuttle.route.tanker_capacity_bbl - level) / net)
            if request.line.spec.committed_bpd > 0 and not self._behind(request.line, now):
                waits.append(self._ahead_until(request.line) - now)  # ahead of its commitment until then
        for f in self.fields:
            if f.ramp is not None:
                waits.append(f.ramp.next_day - now)
        self._set_crossing(now + max(min(waits), 0.0) if waits else math.inf)

    def _set_crossing(self, day: float) -> None:
        """Refresh at ``day`` (inf: at no crossing), not at the crossing set before.

        SimPy cannot take back a timeout, so one already due no later than ``day`` is kept, and arms the
        next when it fires early; a timeout is added only for a crossing earlier than every one due."""
        self._crossing_day = day
        if day < math.inf and not (self._due and self._due[0] <= day):
            heapq.heappush(self._due, day)
            self.env.timeout(day - self.env.now).callbacks.append(lambda _event: self._on_crossing(day))

    def _on_crossing(self, day: float) -> None:
        heapq.heappop(self._due)  # timeouts fire in the order of their days: this is the first
        if day == self._crossing_day:
            self.refresh()
        else:
            self._set_crossing(self._crossing_day)

    def _record(self, now: float, levels: tuple[float, ...], always: bool = False) -> None:
        """Record the levels now and the rates from now on, unless the rates are those last recorded (the
        levels then follow from the last record)."""
        rates = (*self._rates, self.available)
        if always or rates != self._recorded:
            self._recorded = rates
            self.recorder.point(now, levels, *rates)
