"""The SimPy engine, the specification of the model: a scenario and a seed in, a :class:`.trace.Trace` out.

An event-driven hybrid model: rates are constant between events and storage levels move linearly. At
every event the network refreshes: levels brought to now, cargoes lifted, rates re-solved (see
:mod:`.dispatch`), the next threshold crossing (a storage node empty or full, a waiting tanker's cargo
ready, a restart-ramp step, a make-up backlog's next change: see :mod:`.backlog`) scheduled as one timeout; a
crossing superseded by a later refresh is ignored.

Processes: every impairment (outage, incident, failure, storm) starts and ends in its own process; every
tanker is a process (see :mod:`.shuttle`). Route kinds are components (:mod:`.pipeline`, :mod:`.shuttle`)
behind :class:`.state.RouteComponent`; their capacity rules are the pure functions of :mod:`.capacity`.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, NamedTuple

import simpy

from routesim.errors import SimulationError
from routesim.scenario.model import PipelineRoute, Scenario, TankerShuttleRoute

from . import plan
from .backlog import Backlog
from .capacity import COMMITTED, PLANNED, SPARE, Capacities, entry_part_bpd
from .dispatch import Stretch, Supplier, allocate
from .disruptions import Impairment, impairments
from .limits import LEVEL_TOL_BBL, MAX_EVENTS, MAX_EVENTS_AT_ONE_TIME, RATE_TOL_BPD, SAME_TIME_DAYS
from .parcels import Parcels
from .pipeline import Pipeline
from .shuttle import CargoDesk, Shuttle
from .state import Curtailment, Entry, ProducerState, Ramp, RouteComponent, RouteState, Storage, slack_days
from .trace import Recorder, Trace

__all__ = ["LEVEL_TOL_BBL", "MAX_EVENTS", "MAX_EVENTS_AT_ONE_TIME", "RATE_TOL_BPD", "Network", "simulate"]



class Rates(NamedTuple):
    """What one solve fixes until the next [bbl/day]."""

    net_bpd: tuple[float, ...]
    """Per storage node, its rate of change."""
    production_bpd: tuple[float, ...]
    """Per producer, what it produces."""
    flows_bpd: tuple[float, ...]
    """Per continuous route, what leaves it towards its sale point."""
    foreign_bpd: tuple[float, ...] = ()
    """Per route a foreign shipper reaches, the foreign oil in what leaves it."""


def simulate(scenario: Scenario, replication: int = 0, log: bool = False) -> Trace:
    """Run replication ``replication`` of ``scenario``.

    Args:
        scenario: validated scenario.
        replication: index k; random inputs come from ``scenario.seed`` and k (see :mod:`routesim.disruptions`).
        log: keep an event log (time, event, target, detail) in the trace.

    Returns:
        The run's trace; a pure function of ``(scenario, replication)``.
    """
    env = simpy.Environment()
    network = Network(env, scenario, log)
    network.refresh()
    for route in network.routes:  # tankers first: at day 0 they take their berths before any impairment
        route.start(network)
    hits = impairments(scenario, replication)
    for hit in hits:
        env.process(impairment(env, network, hit))
    env.run(until=scenario.horizon_days)  # nothing at the horizon itself is processed
    network.refresh(final=True)
    return network.recorder.freeze(float(scenario.horizon_days), tuple(hits),
                                   tuple(network.producers[i].name for i in network.foreign))


def impairment(env: simpy.Environment, network: Network, hit: Impairment) -> Generator[simpy.Event, Any, None]:
    """Impair a route or a part of it to a share of its capacity for a while (a storm: stop it)."""
    yield env.timeout(hit.start_day)
    end = env.timeout(max(hit.end_day - hit.start_day, 0.0))  # due before a crossing the start schedules for then
    network.impair(hit)
    network.recorder.log(env.now, "storm_start" if hit.storm else "impairment_start", hit.target,
                         f"{hit.source} factor={hit.factor:.4g}")
    yield end
    network.restore(hit)
    network.recorder.log(env.now, "storm_end" if hit.storm else "impairment_end", hit.target, hit.source)


def build_route(state: RouteState, scenario: Scenario, env: simpy.Environment,
                storages: dict[str, Storage]) -> RouteComponent:
    """The component of a route's kind: the one place that maps kinds to components."""
    if isinstance(state.spec, PipelineRoute):
        return Pipeline(state)
    assert isinstance(state.spec, TankerShuttleRoute)
    feeders = scenario.feeders(state.name)
    source = state.tank_farm or (storages[feeders[0]] if feeders else None)
    return Shuttle(state, env, source, len(scenario.routes))


class Network:
    """Producers' storage, the routes with their parts and tank farms, the tankers waiting for cargoes."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, log: bool = False) -> None:
        self.env = env
        self.producers = [
            ProducerState(name, p, Storage(name, p.storage_bbl, p.initial_storage_bbl), frozenset(scenario.reach(name)),
                          backlog=Backlog(p.makeup_window_days or math.inf) if p.makes_up else None)
            for name, p in scenario.producers.items()
        ]
        self.producer_names = frozenset(p.name for p in self.producers)
        self.owing = [p for p in self.producers if p.backlog is not None]
        """The producers that make up deferred oil, in producer order."""
        storages = {p.name: p.storage for p in self.producers}
        order = scenario.routes_by_netback()
        self.factors: dict[str, list[float]] = {t: [] for t in scenario.targets()}
        """Per target, the factors of its active impairments."""
        self.factor = dict.fromkeys(self.factors, 1.0)
        """Per target, the smallest of its active factors (1 when none)."""
        self.routes: list[RouteComponent] = []
        for rank, name in enumerate(order):
            spec = scenario.routes[name]
            farm = spec.tank_farm
            tank = None if farm is None else Storage(
                f"{name}/tank_farm", farm.storage_bbl, farm.initial_storage_bbl, farm.working_storage_bbl
            )
            starts, members = plan.joining(scenario, name)
            state = RouteState(name, spec, rank, tank, Capacities(0.0, 0.0), Capacities(0.0, 0.0),
                               starts=starts, members=members)
            route = build_route(state, scenario, env, storages)
            state.nominal = route.capacities({}, stormy=False)
            state.caps = route.capacities(self.factor, stormy=False)
            state.rooms_bpd = route.stretches_bpd(self.factor)
            self.routes.append(route)
            if tank is not None:
                storages[tank.name] = tank
        self.by_name = {route.state.name: route for route in self.routes}
        self.joined = [route for route in self.routes if route.state.rooms_bpd]
        """The routes producers join part-way."""
        self.storages = list(storages.values())
        n = len(order)
        entries = [route for route in self.routes if route.is_entry]
        self.entries = [Entry(r, COMMITTED, r.state.rank) for r in entries if r.state.spec.committed_bpd > 0]
        self.entries += [Entry(r, PLANNED, n + r.state.rank) for r in entries]
        self.entries += [Entry(r, SPARE, 2 * n + r.state.rank) for r in entries if r.state.spec.plan_bpd is not None]
        """Route capacities producers share, in priority order."""
        self.reachable = [[e for e, entry in enumerate(self.entries) if entry.route.state.name in p.reach]
                          for p in self.producers]
        """Per producer, the entries of the routes it reaches."""
        assert plan.entries(scenario) == [(e.route.state.name, e.part) for e in self.entries]
        self.plans = plan.planned_bpd(scenario)
        """Per producer, its planned flow into each entry: the steady state's (:mod:`.plan`)."""
        self.quotas = plan.quotas_bpd(scenario)
        """Per producer, its quota weight in each entry (empty: its production everywhere)."""
        self.entry_plans = plan.entry_plans_bpd(self.plans)
        self.route_plans = plan.route_plans_bpd(scenario, self.plans)
        """Each entry's and each route's planned intake [bbl/day]."""
        self.entry_routes = tuple(entry.route.state.rank for entry in self.entries)
        self.foreign = [i for i, p in enumerate(self.producers) if p.spec.foreign]
        """The foreign shippers, by index."""
        self.foreign_routes = [self.by_name[name] for name in scenario.foreign_routes()]
        """The routes they reach (pipelines), whose oil is attributed to them or to the country."""
        for route in self.foreign_routes:
            tanks = route.state.tank_farm
            if tanks is not None:  # its stock at the start: the plan's mix
                on = [e for e, entry in enumerate(self.entries) if entry.route is route]
                total = sum(self.entry_plans[e] for e in on)
                foreign = sum(self.plans[i][e] for i in self.foreign for e in on)
                route.state.parcels = Parcels(tanks.level_bbl, foreign / total if total > 0 else 0.0)
        self.stranded_first = scenario.sharing_rule == "stranded_first"
        self.displaced_since: float | None = None
        """When the displacement going on began (some route's capacity below its plan), or None [days]."""
        self.available = self._availabilities()
        """Each route's availability now, in route order."""
        self.desk = CargoDesk()
        self.recorder = Recorder(
            storages, [p.name for p in self.producers], [r.state.name for r in self.routes if r.continuous], order,
            [r.state.name for r in self.routes if not r.continuous], log, [p.name for p in self.owing],
            [r.state.name for r in self.foreign_routes],
        )
        self._rates = Rates((), (), ())
        self._owed_net: tuple[float, ...] = ()
        """Per producer that makes up oil, its backlog's rate of change from the last solve [bbl/day]."""
        self._recorded: tuple[tuple[float, ...], ...] | None = None
        self._generation = 0
        """Counts refreshes: a crossing scheduled by an earlier refresh than the last is stale."""
        self.updated_day = 0.0
        self._same_time = 0

    # -------------------------------------------------------------------------------- called by processes

    def impair(self, hit: Impairment) -> None:
        """An impairment (or a storm) begins."""
        if hit.target in self.producer_names:  # a producer's output: nothing on the routes changes
            self._set_factor(hit, begins=True)
            self.refresh()
            return
        route = self.by_name[hit.target.split("/")[0]]
        before = route.state.caps
        if hit.storm:
            route.state.storms += 1
            route.weather()
        else:
            self._set_factor(hit, begins=True)
        after = self._update_caps(route)
        self.refresh(changed=route.state.name if after != before else None)

    def restore(self, hit: Impairment) -> None:
        """An impairment (or a storm) ends; producers cut back restart if a capacity of the route rose."""
        if hit.target in self.producer_names:
            self._set_factor(hit, begins=False)
            self.refresh()
            return
        route = self.by_name[hit.target.split("/")[0]]
        before = route.state.caps
        if hit.storm:
            route.state.storms -= 1
            route.weather()
        else:
            self._set_factor(hit, begins=False)
        after = self._update_caps(route)
        rose = any(a > b for a, b in zip(after, before))
        self.refresh(rose=route.state.name if rose else None, changed=route.state.name if after != before else None)

    def _set_factor(self, hit: Impairment, begins: bool) -> None:
        """A (non-storm) impairment's factor joins or leaves its target's; the target's is the smallest."""
        if begins:
            self.factors[hit.target].append(hit.factor)
        else:
            self.factors[hit.target].remove(hit.factor)
        self.factor[hit.target] = min(self.factors[hit.target], default=1.0)

    def request_cargo(self, shuttle: Shuttle) -> simpy.Event:
        """A tanker has taken a berth: it asks for a cargo, and the network refreshes. The event fires when
        the cargo is lifted."""
        lifted = self.env.event()
        self.desk.add(shuttle, self.env.now, slack_days(self.env.now), lifted)
        self.refresh()
        return lifted

    # -------------------------------------------------------------------------------- capacities

    def _update_caps(self, route: RouteComponent) -> Capacities:
        caps = route.state.caps = route.capacities(self.factor, stormy=route.state.storms > 0)
        route.state.rooms_bpd = route.stretches_bpd(self.factor)
        self.available = self._availabilities()
        return caps

    def _availabilities(self) -> tuple[float, ...]:
        return tuple(route.availability(self.factor) for route in self.routes)

    # -------------------------------------------------------------------------------- the refresh

    def refresh(self, rose: str | None = None, final: bool = False, changed: str | None = None) -> None:
        """Bring levels to now, lift cargoes, re-solve the rates, record, schedule the next crossing.

        Args:
            rose: a route whose capacity has just come back, so curtailed producers that reach it restart.
            final: the end of the run: record the levels even if no rate changed, and lift no cargo.
            changed: a route whose capacity has just changed: the curtailments of the producers that reach
                it and do not restart begin again (a restart's rate is the mean under the last capacities).
        """
        now = self.env.now
        self.recorder.events += 1
        # refreshes closer together than a microsecond, over and over, mean time no longer moves
        self._same_time = self._same_time + 1 if now - self.updated_day <= SAME_TIME_DAYS * max(1.0, now) else 0
        if self.recorder.events > MAX_EVENTS or self._same_time > MAX_EVENTS_AT_ONE_TIME:
            raise SimulationError(f"the run does not progress at day {now:g} ({self.recorder.events} events)")
        slack = slack_days(now)
        for storage in self.storages:
            self._advance(storage, now, slack)
        for route in self.foreign_routes:  # whose oil the tanks hold, first in first out
            state, farm = route.state, route.state.tank_farm
            if state.parcels is not None and farm is not None:
                dt = now - self.updated_day
                state.parcels.advance(state.inflow_bpd * dt, state.foreign_share, state.outflow_bpd * dt,
                                      LEVEL_TOL_BBL + state.outflow_bpd * slack)
                state.parcels.match(farm.level_bbl, state.foreign_share)
        for p in self.owing:
            assert p.backlog is not None
            p.backlog.advance(self.updated_day, now, slack)
        for p in self.producers:
            if p.cut is not None:
                p.cut.produced_bbl += p.production_bpd * (now - self.updated_day)
        self.updated_day = now
        jumped = False
        if self.desk.pending and not final:  # the horizon closes the run: nothing happens at it
            self.desk.reprioritise(now, slack)
            before = self._levels()
            jumped = self.desk.serve(now, slack, self.recorder)
            if jumped:  # a lift is a jump: keep the level before it, and after it
                self._record(now, before, always=True)
        self._displacement(now)
        self._solve(now, rose, changed, slack)
        self._record(now, self._levels(), always=jumped or final)
        self._schedule(now, slack)

    def _levels(self) -> tuple[float, ...]:
        return tuple(storage.level_bbl for storage in self.storages)

    def _advance(self, storage: Storage, now: float, slack: float) -> None:
        """Move a level to ``now`` and snap it onto a bound it reached.

        The tolerance grows with the rate and with the spacing of floats near ``now``: late in a long
        horizon a crossing time cannot be hit more exactly than that.
        """
        s = storage
        s.tol_bbl = LEVEL_TOL_BBL + abs(s.net_bpd) * slack
        level = s.level_bbl + s.net_bpd * (now - self.updated_day)
        if s.working_bbl > 0 and s.level_bbl > s.working_bbl and level <= s.working_bbl + s.tol_bbl:
            level = s.working_bbl  # drawn down to its working stock
        if level <= s.tol_bbl:
            if s.level_bbl > 0:
                self.recorder.log(now, "storage_empty", s.name)
            level = 0.0
        elif level >= s.capacity_bbl - s.tol_bbl:
            if s.level_bbl < s.capacity_bbl:
                self.recorder.log(now, "storage_full", s.name)
            level = s.capacity_bbl
        s.level_bbl = level

    def _displacement(self, now: float) -> None:
        """A displacement starts when a route's capacity falls below its planned intake, and ends when every
        route can take its plan again."""
        displaced = any(min(r.state.caps) < planned for r, planned in zip(self.routes, self.route_plans))
        if not displaced:
            self.displaced_since = None
        elif self.displaced_since is None:
            self.displaced_since = now
            self.recorder.log(now, "displacement_starts", "")

    def _nominating(self, route: RouteComponent, now: float, slack: float) -> bool:
        """Whether ``route`` is still within its reroute lag of the displacement going on: it takes no more
        than its plan."""
        lag = route.state.spec.reroute_lag_days
        return lag > 0 and self.displaced_since is not None and now < self.displaced_since + lag - slack

    def _solve(self, now: float, rose: str | None, changed: str | None, slack: float) -> None:
        """The producers' allocation and every node's rate of change, for the state now."""
        for p in self.producers:
            if rose is not None and rose in p.reach and p.cut is not None:
                self._restart(p, now)
            elif changed is not None and changed in p.reach:
                p.cut = None  # under new capacities: its curtailment begins again at its next cut
        held = self.desk.holds(now, slack)  # a tanker at an open gate holds back its source's oil
        limits = tuple(held.get(p.name, math.inf) for p in self.producers)
        potentials = tuple(p.potential_bpd(now) * self.factor[p.name] for p in self.producers)  # an outage cuts it
        self._rates = rates = self._allocate(limits, potentials, now, slack)
        for p, produced, potential in zip(self.producers, rates.production_bpd, potentials):
            p.production_bpd = produced
            cut = produced < potential - RATE_TOL_BPD
            if cut and p.curtailed_bpd is None:
                self.recorder.log(now, "production_cut", p.name, "{:.6g} bpd", produced)
            p.curtailed_bpd = produced if cut else None
        for storage, net in zip(self.storages, rates.net_bpd):
            storage.net_bpd = net
        for p in self.producers:  # a curtailment lasts through the refills of room a tanker lift frees
            if p.curtailed_bpd is not None and p.cut is None:
                p.cut = Curtailment(now, p.production_bpd, p.production_bpd)
            elif p.cut is not None and p.curtailed_bpd is None and p.storage.net_bpd <= RATE_TOL_BPD:
                p.cut = None  # the routes take what it produces: over without a restart
            elif p.cut is not None:
                p.cut.hold(p.production_bpd)
        for p in self.owing:  # the backlog takes the make-up share of a shortfall, and gives up an excess
            assert p.backlog is not None
            short = p.spec.production_bpd - p.production_bpd  # below plan; negative: above it
            p.backlog.inflow_bpd = p.spec.makeup_share * short if short > RATE_TOL_BPD else 0.0
            p.backlog.draw_bpd = -short if -short > RATE_TOL_BPD else 0.0
        self._owed_net = tuple(p.backlog.net_bpd(now) for p in self.owing if p.backlog is not None)

    def _allocate(self, limits: tuple[float, ...], potentials: tuple[float, ...], now: float, slack: float) -> Rates:
        """The rates, given the priority from which each producer's stock is held (inf: none) and what each
        could produce [bbl/day]."""
        capacities = []
        for entry, entry_plan in zip(self.entries, self.entry_plans):
            spec = entry.route.state.spec
            cap = entry_part_bpd(entry.route.entry_bpd(), spec.committed_bpd, plan.plan_cap_bpd(spec), entry.part)
            if self._nominating(entry.route, now, slack):
                cap = min(cap, entry_plan)
            capacities.append(cap)
        suppliers = []
        for p, reachable, limit, potential, planned, quotas in zip(self.producers, self.reachable, limits, potentials,
                                                                    self.plans, self.quotas):
            bounds = p.storage.bounds
            usable = frozenset(e for e in reachable if self.entries[e].priority < limit)
            suppliers.append(Supplier(potential, bounds.empty, bounds.full, p.spec.production_bpd, usable, planned,
                                      quotas))
        above = {r.state.rank: [Stretch(m, room) for m, room in zip(r.state.members, r.state.rooms_bpd)]
                 for r in self.joined}
        alloc = allocate(suppliers, capacities, self.entry_routes, self.stranded_first, above)
        nets = {p.storage.name: alloc.production_bpd[i] - alloc.drawn_bpd(i) for i, p in enumerate(self.producers)}
        inflow = {route.state.name: 0.0 for route in self.routes}
        for e, entry in enumerate(self.entries):
            inflow[entry.route.state.name] += alloc.entry_bpd(e)
        flows = []
        for route in self.routes:
            settled = route.settle(inflow[route.state.name])
            if settled.farm_net_bpd is not None:
                assert route.state.tank_farm is not None
                nets[route.state.tank_farm.name] = settled.farm_net_bpd
            route.state.inflow_bpd, route.state.outflow_bpd = inflow[route.state.name], settled.outflow_bpd
            if route.continuous:
                flows.append(settled.outflow_bpd)
        foreign = []
        for route in self.foreign_routes:
            state = route.state
            sent = sum(alloc.flows_bpd[i][e] for i in self.foreign for e, entry in enumerate(self.entries)
                       if entry.route is route)
            state.foreign_share = sent / state.inflow_bpd if state.inflow_bpd > 0 else 0.0
            share = state.foreign_share if state.parcels is None else state.parcels.out_share(state.foreign_share)
            foreign.append(state.outflow_bpd * share)
        return Rates(tuple(nets[s.name] for s in self.storages), alloc.production_bpd, tuple(flows), tuple(foreign))

    def _restart(self, p: ProducerState, now: float) -> None:
        """Capacity came back while ``p`` was curtailed: it climbs from its mean production over the
        curtailment (tanker lifts' refills included), linearly to nominal over its ``restart_ramp_days`` (to
        its maximum if it makes up oil: the ramp caps what it offers). Space freed by a tanker lift is not
        capacity returning."""
        assert p.cut is not None
        start = p.cut.mean_bpd(now)
        self.recorder.log(now, "production_restarts", p.name, "from {:.6g} bpd", start)
        days = p.spec.restart_ramp_days
        if days > 0:
            steps = max(1, math.ceil(days))
            p.ramp = Ramp(now, start, p.ramp_to_bpd, steps, days / steps)
        p.curtailed_bpd = None
        p.cut = None

    def _schedule(self, now: float, slack: float) -> None:
        """Schedule a refresh at the next crossing; every crossing scheduled before is now stale."""
        waits = []
        for s in self.storages:
            if s.net_bpd < -RATE_TOL_BPD and s.level_bbl > 0:
                floor = s.working_bbl if s.level_bbl > s.working_bbl else 0.0
                waits.append((s.level_bbl - floor) / -s.net_bpd)
            if s.net_bpd > RATE_TOL_BPD and s.level_bbl < s.capacity_bbl:
                waits.append((s.capacity_bbl - s.level_bbl) / s.net_bpd)
        waits += self.desk.waits(now, slack)
        for route in self.foreign_routes:  # the oldest parcel in the tanks has gone
            parcels, out = route.state.parcels, route.state.outflow_bpd
            head = math.inf if parcels is None else parcels.head_bbl(route.state.foreign_share)
            if out > RATE_TOL_BPD and head < math.inf:
                waits.append(head / out)
        for route in self.routes:  # a reroute lag ends
            if self._nominating(route, now, slack):
                assert self.displaced_since is not None
                waits.append(self.displaced_since + route.state.spec.reroute_lag_days - now)
        for p in self.producers:
            if p.ramp is not None:
                waits.append(p.ramp.next_day - now)
            if p.backlog is not None and (wait := p.backlog.wait_days(now)) < math.inf:
                waits.append(wait)
        self._generation += 1
        if waits:
            generation = self._generation
            timeout = self.env.timeout(max(min(waits), 0.0))
            timeout.callbacks.append(lambda _event: self._on_crossing(generation))

    def _on_crossing(self, generation: int) -> None:
        if generation == self._generation:
            self.refresh()

    def _record(self, now: float, levels: tuple[float, ...], always: bool = False) -> None:
        """Record the levels now and the rates from now on, unless the rates are those last recorded (the
        levels then follow from the last record)."""
        owed, r = self._owed_net, self._rates
        rates = (*r, self.available, owed)
        if always or rates != self._recorded:
            self._recorded = rates
            self.recorder.point(now, levels, r.net_bpd, r.production_bpd, r.flows_bpd, self.available,
                                tuple(p.backlog.level_bbl for p in self.owing if p.backlog is not None), owed,
                                r.foreign_bpd)
