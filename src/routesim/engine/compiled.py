"""The compiled engine: the reference model (:mod:`.reference`) as one event loop compiled with numba.

The scenario is lowered once into arrays (:class:`Model`), a replication's impairments into a few more
(:class:`Hits`); :func:`_run` replays them with the reference's rules, step for step (:func:`_run_many`
replays a chunk's replications in one call, their records one run after the other): the same refreshes
(at the start, when an impairment or storm starts or ends, when a tanker takes a berth, at the current
crossing, at the horizon), the same allocation (:mod:`.dispatch`), the same tolerances (:mod:`.limits`)
and the same arithmetic, so the two engines agree to rounding. The tests in tests/test_engines.py hold
them to it. Events at one instant are taken in the order they were scheduled, as SimPy does.

A tanker route's tankers are alike, so the loop keeps counts of them at each step (queued for a berth,
waiting for calm to sail, waiting for calm to sail back) and the pending cargo requests, not the tankers.
A producer's make-up backlog (:mod:`.backlog`) is a ring of segments in fixed arrays, its arithmetic that
of :class:`.backlog.Backlog`, operation for operation.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from routesim.errors import SimulationError
from routesim.scenario.model import PipelineRoute, Scenario, TankerShuttleRoute

from . import plan
from .capacity import COMMITTED, PLANNED, SPARE, mooring_shares
from .disruptions import Impairment, impairments
from .limits import LEVEL_TOL_BBL, MAX_EVENTS, MAX_EVENTS_AT_ONE_TIME, RATE_TOL_BPD, SAME_TIME_DAYS, TIME_TOL_DAYS
from .parcels import SAME_SHARE
from .trace import Ragged, Trace, Traces, starts_of

log = logging.getLogger(__name__)

try:
    from numba import njit
    from numba.core import event
except ImportError as exc:  # pragma: no cover - numba is a core dependency
    NUMBA_MISSING: str | None = f"numba cannot be imported ({exc})"
else:
    NUMBA_MISSING = None

    class _Announce(event.Listener):
        """Say once that numba compiles the engine: the first run after an install takes a minute or two
        more, later runs load it from numba's cache."""

        said = False

        def on_start(self, event_: event.Event) -> None:
            dispatcher = (event_.data or {}).get("dispatcher")
            if not self.said and getattr(dispatcher, "__name__", "") in ("_run", "_run_many"):
                _Announce.said = True
                log.warning("compiling the engine for this machine, once (a minute or two); "
                            "later runs load it from numba's cache")

        def on_end(self, event_: event.Event) -> None:
            pass

    event.register("numba:compile", _Announce())  # type: ignore[no-untyped-call]

_warned = False
LOWERED = (PipelineRoute, TankerShuttleRoute)
"""The route kinds :func:`lower` turns into arrays; a scenario with another runs on SimPy, and says so."""


def unsupported(scenario: Scenario) -> str | None:
    """Why the compiled engine cannot run ``scenario`` (None if it can).

    It expresses every feature of the model today: a missing numba (with one warning), or a route kind
    that :func:`lower` does not know, sends runs to SimPy."""
    global _warned
    if NUMBA_MISSING is not None:
        if not _warned:
            log.warning("%s: runs use the SimPy engine", NUMBA_MISSING)
            _warned = True
        return NUMBA_MISSING
    for name, route in scenario.routes.items():
        if not isinstance(route, LOWERED):
            return f"route {name!r} is of kind {route.kind!r}, which the compiled engine does not lower yet"
    return None


# ---------------------------------------------------------------------------------------- lowering


class Model(NamedTuple):
    """A scenario as arrays. Routes are in netback order (the reference's ranks); storage nodes are the
    producers' (in producer order), then the tank farms (in route order)."""

    horizon_days: float
    node_capacity_bbl: np.ndarray
    node_initial_bbl: np.ndarray
    node_working_bbl: np.ndarray
    nominal_bpd: np.ndarray
    """Per producer: nominal production, also its quota weight [bbl/day]."""
    ramp_days: np.ndarray
    peak_bpd: np.ndarray
    """Per producer: what it produces at most while it owes deferred oil (its plan if it makes up none) [bbl/day]."""
    makes_up: np.ndarray
    """Per producer: shut-in oil goes into its backlog (:mod:`.backlog`)."""
    makeup_share: np.ndarray
    window_days: np.ndarray
    """Per producer: its make-up window (inf: none) [days]."""
    reach: np.ndarray
    """[producer, route]: whether the producer reaches the route."""
    plan_bpd: np.ndarray
    """[producer, entry]: its planned flow (:mod:`.plan`) [bbl/day]."""
    quota_bpd: np.ndarray
    """[producer, entry]: its quota weight (plan.quotas_bpd; its production where it nominates none) [bbl/day]."""
    nominated: bool
    """Some producer nominates: the quota weights differ by entry."""
    entry_plan_bpd: np.ndarray
    """Per entry: its planned intake, the producers' plans summed [bbl/day]."""
    route_plan_bpd: np.ndarray
    """Per route: its planned intake, its entries' summed [bbl/day]."""
    lag_days: np.ndarray
    """Per route: its reroute lag [days]."""
    plan_cap_bpd: np.ndarray
    """Per route: its ``plan_bpd``, inf without one [bbl/day]."""
    stranded_first: bool
    """The ``stranded_first`` sharing rule, else ``pro_rata``."""
    prod_target: np.ndarray
    """Per producer: the factor index of its output."""
    shuttle: np.ndarray
    """Per route: a batch shuttle (tankers), else a pipeline."""
    farm: np.ndarray
    """Per route: its tank farm's node, or -1."""
    committed_bpd: np.ndarray
    capacity_bpd: np.ndarray
    whole: np.ndarray
    """Per route: its own target (factor index)."""
    simple: np.ndarray
    """Per route: no parts that cap it apart (its availability is its factor)."""
    seg_start: np.ndarray
    """Per route r: its segments are seg_start[r]:seg_start[r + 1]."""
    seg_capacity_bpd: np.ndarray
    seg_target: np.ndarray
    seg_after: np.ndarray
    """Per segment: below the tank farm (it drains the tanks), else above."""
    terminal: np.ndarray
    """Per route: it has a terminal."""
    terminal_target: np.ndarray
    active_moorings: np.ndarray
    mooring_rate_bpd: np.ndarray
    """Per route: its fastest mooring's rate."""
    moor_start: np.ndarray
    moor_target: np.ndarray
    moor_weight: np.ndarray
    """Per mooring: its rate as a share of its terminal's fastest."""
    source: np.ndarray
    """Per tanker route: the node its tankers lift from (-1: none reaches it, its tankers wait)."""
    cargo_bbl: np.ndarray
    berths: np.ndarray
    tankers: np.ndarray
    load_days: np.ndarray
    voyage_days: np.ndarray
    unload_days: np.ndarray
    entry_route: np.ndarray
    entry_part: np.ndarray
    """Per entry: its part of its route (:data:`.capacity.COMMITTED`, ``PLANNED``, ``SPARE``)."""
    entry_priority: np.ndarray
    pipelines: np.ndarray
    """Routes whose outflow the trace records (the pipelines), in route order."""
    stretch_start: np.ndarray
    """Per route r: its stretches between joining points (:func:`.capacity.stretches_bpd`) are
    stretch_start[r]:stretch_start[r + 1], the last every shipper's; none where every producer joins at the head."""
    stretch_first: np.ndarray
    stretch_end: np.ndarray
    """Per stretch: its segments are stretch_first:stretch_end (global segment indices)."""
    stretch_member: np.ndarray
    """[stretch, producer]: the producer's oil passes the stretch."""
    foreign: np.ndarray
    """Per producer: a foreign shipper."""
    foreign_route: np.ndarray
    foreign_pipe: np.ndarray
    """Per route a foreign shipper reaches (in file order, as the trace names them): its route and its
    pipeline index."""
    parcel_share: np.ndarray
    """Per such route: the foreign share of its tank farm's stock at the start (the plan's mix) [-]."""
    targets: int


class Hits(NamedTuple):
    """A replication's impairments, in the order of :func:`routesim.disruptions.impairments`."""

    start_day: np.ndarray
    end_day: np.ndarray
    factor: np.ndarray
    target: np.ndarray
    """The factor index it lowers (a storm: its route)."""
    route: np.ndarray
    """The route it impairs (-1: a producer)."""
    storm: np.ndarray
    by_target_start: np.ndarray
    """The non-storm impairments of target t are by_target[by_target_start[t]:by_target_start[t + 1]]."""
    by_target: np.ndarray


class Names(NamedTuple):
    """What the trace calls each array's entries."""

    nodes: list[str]
    producers: list[str]
    pipelines: list[str]
    routes: list[str]
    shuttles: list[str]
    targets: dict[str, int]
    route_index: dict[str, int]
    foreign_routes: list[str]
    """The routes a foreign shipper reaches, in file order."""
    foreign_producers: tuple[str, ...]


def lower(scenario: Scenario) -> tuple[Model, Names]:
    """The arrays of ``scenario`` (see :class:`Model`)."""
    order = scenario.routes_by_netback()
    producers = list(scenario.producers)
    targets = {t: i for i, t in enumerate(scenario.targets())}
    nodes = list(producers)
    node_cap = [scenario.producers[p].storage_bbl for p in producers]
    node_init = [scenario.producers[p].initial_storage_bbl for p in producers]
    node_work = [0.0] * len(producers)
    farm, source = [], []
    for name in order:
        route = scenario.routes[name]
        tank = route.tank_farm
        if tank is None:
            farm.append(-1)
        else:
            farm.append(len(nodes))
            nodes.append(f"{name}/tank_farm")
            node_cap.append(tank.storage_bbl)
            node_init.append(tank.initial_storage_bbl)
            node_work.append(tank.working_storage_bbl)
        feeders = scenario.feeders(name)
        source.append(farm[-1] if tank is not None else (producers.index(feeders[0]) if feeders else -1))
    seg_start, seg_cap, seg_target, seg_after = [0], [], [], []
    moor_start, moor_target = [0], []
    moor_weight: list[float] = []
    terminal, terminal_target, active, rate = [], [], [], []
    for name in order:
        route = scenario.routes[name]
        below = set(route.split_segments()[1]) if isinstance(route, PipelineRoute) else set()
        for seg, part in route.segments.items():
            seg_cap.append(part.capacity_bpd)
            seg_target.append(targets[f"{name}/{seg}"])
            seg_after.append(seg in below)
        seg_start.append(len(seg_cap))
        term = route.terminal if isinstance(route, PipelineRoute) else None
        terminal.append(term is not None)
        terminal_target.append(targets[f"{name}/terminal"] if term is not None else -1)
        active.append(term.active_moorings if term is not None else 0)
        top, shares = mooring_shares(term.rates_bpd) if term is not None else (0.0, ())
        rate.append(top)
        moor_target += [targets[f"{name}/{m}"] for m in (term.moorings if term is not None else ())]
        moor_weight += list(shares)
        moor_start.append(len(moor_target))
    routes = [scenario.routes[name] for name in order]
    shuttles = [r if isinstance(r, TankerShuttleRoute) else None for r in routes]
    is_entry = [s is None or f >= 0 for s, f in zip(shuttles, farm)]
    n = len(order)
    entries = [(r, COMMITTED, r) for r in range(n) if is_entry[r] and routes[r].committed_bpd > 0]
    entries += [(r, PLANNED, n + r) for r in range(n) if is_entry[r]]
    entries += [(r, SPARE, 2 * n + r) for r in range(n) if is_entry[r] and routes[r].plan_bpd is not None]

    def floats(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64).reshape(len(values))

    def ints(values: list[int]) -> np.ndarray:
        return np.asarray(values, dtype=np.int64).reshape(len(values))

    def bools(values: list[bool]) -> np.ndarray:
        return np.asarray(values, dtype=np.bool_).reshape(len(values))

    def each(attr: str, default: float) -> list[float]:
        return [getattr(s, attr) if s is not None else default for s in shuttles]

    plans = plan.planned_bpd(scenario)
    stretch_start, stretch_first, stretch_end, member = [0], [], [], []
    for r, name in enumerate(order):
        route = scenario.routes[name]
        starts, passing = plan.joining(scenario, name)
        if isinstance(route, PipelineRoute) and starts != (0,):
            above = len(route.split_segments()[0])
            for k, start in enumerate(starts):
                stretch_first.append(seg_start[r] + start)
                stretch_end.append(seg_start[r] + (starts[k + 1] if k + 1 < len(starts) else above))
                member.append([k == len(passing) or i in passing[k] for i in range(len(producers))])
        stretch_start.append(len(stretch_first))
    pipes = [name for name in order if shuttles[order.index(name)] is None]
    foreign = [i for i, p in enumerate(producers) if scenario.producers[p].foreign]
    foreign_routes = [order.index(name) for name in scenario.foreign_routes()]
    entry_plans = plan.entry_plans_bpd(plans)
    parcel_share = []
    for r in foreign_routes:  # as the reference's Network
        on = [e for e, entry in enumerate(entries) if entry[0] == r]
        total = sum(entry_plans[e] for e in on)
        sent = sum(plans[i][e] for i in foreign for e in on)
        parcel_share.append(sent / total if total > 0 else 0.0)
    model = Model(
        horizon_days=float(scenario.horizon_days),
        node_capacity_bbl=floats(node_cap),
        node_initial_bbl=floats(node_init),
        node_working_bbl=floats(node_work),
        nominal_bpd=floats([scenario.producers[p].production_bpd for p in producers]),
        ramp_days=floats([scenario.producers[p].restart_ramp_days for p in producers]),
        peak_bpd=floats([scenario.producers[p].peak_bpd for p in producers]),
        makes_up=bools([scenario.producers[p].makes_up for p in producers]),
        makeup_share=floats([scenario.producers[p].makeup_share for p in producers]),
        window_days=floats([scenario.producers[p].makeup_window_days or math.inf for p in producers]),
        reach=np.array([[name in scenario.reach(p) for name in order] for p in producers], dtype=np.bool_),
        plan_bpd=np.array(plans, dtype=np.float64).reshape(len(producers), len(entries)),
        nominated=any(p.nominations_bpd for p in scenario.producers.values()),
        quota_bpd=np.array([q or [scenario.producers[p].production_bpd] * len(entries)
                            for p, q in zip(producers, plan.quotas_bpd(scenario))],
                           dtype=np.float64).reshape(len(producers), len(entries)),
        entry_plan_bpd=floats(list(plan.entry_plans_bpd(plans))),
        route_plan_bpd=floats(list(plan.route_plans_bpd(scenario, plans))),
        lag_days=floats([r.reroute_lag_days for r in routes]),
        plan_cap_bpd=floats([plan.plan_cap_bpd(r) for r in routes]),
        stranded_first=scenario.sharing_rule == "stranded_first",
        prod_target=ints([targets[p] for p in producers]),
        shuttle=bools([s is not None for s in shuttles]),
        farm=ints(farm),
        committed_bpd=floats([r.committed_bpd for r in routes]),
        capacity_bpd=floats([r.capacity_bpd for r in routes]),
        whole=ints([targets[name] for name in order]),
        simple=bools([not r.segments and (s is not None or not t) for r, s, t in zip(routes, shuttles, terminal)]),
        seg_start=ints(seg_start),
        seg_capacity_bpd=floats(seg_cap),
        seg_target=ints(seg_target),
        seg_after=bools(seg_after),
        terminal=bools(terminal),
        terminal_target=ints(terminal_target),
        active_moorings=ints(active),
        mooring_rate_bpd=floats(rate),
        moor_start=ints(moor_start),
        moor_target=ints(moor_target),
        moor_weight=floats(moor_weight),
        source=ints(source),
        cargo_bbl=floats(each("tanker_capacity_bbl", 0.0)),
        berths=ints([int(v) for v in each("load_berths", 0)]),
        tankers=ints([int(v) for v in each("tankers", 0)]),
        load_days=floats(each("load_days", 0.0)),
        voyage_days=floats(each("voyage_days", 0.0)),
        unload_days=floats(each("unload_days", 0.0)),
        entry_route=ints([e[0] for e in entries]),
        entry_part=ints([e[1] for e in entries]),
        entry_priority=ints([e[2] for e in entries]),
        pipelines=ints([r for r in range(n) if shuttles[r] is None]),
        stretch_start=ints(stretch_start),
        stretch_first=ints(stretch_first),
        stretch_end=ints(stretch_end),
        stretch_member=np.array(member, dtype=np.bool_).reshape(len(member), len(producers)),
        foreign=bools([scenario.producers[p].foreign for p in producers]),
        foreign_route=ints(foreign_routes),
        foreign_pipe=ints([pipes.index(order[r]) for r in foreign_routes]),
        parcel_share=floats(parcel_share),
        targets=len(targets),
    )
    names = Names(nodes, producers, [order[r] for r in range(n) if shuttles[r] is None], list(order),
                  [order[r] for r in range(n) if shuttles[r] is not None], targets,
                  {name: r for r, name in enumerate(order)}, scenario.foreign_routes(),
                  tuple(producers[i] for i in foreign))
    return model, names


def lower_hits(names: Names, hits: list[Impairment]) -> Hits:
    """The arrays of a replication's impairments (see :class:`Hits`)."""
    n = len(hits)
    if n == 0:
        return _no_hits(len(names.targets))
    days = np.array([(h.start_day, h.end_day, h.factor) for h in hits], dtype=np.float64).reshape(n, 3)
    index = names.route_index
    where = np.array([(r := index.get(h.target.split("/", 1)[0], -1), r if h.storm else names.targets[h.target], h.storm)
                      for h in hits], dtype=np.int64).reshape(n, 3)
    storm = where[:, 2].astype(np.bool_)
    plain = np.flatnonzero(~storm)
    target = where[:, 1].copy()
    counts = np.bincount(target[plain], minlength=len(names.targets))
    return Hits(
        start_day=days[:, 0].copy(),
        end_day=days[:, 1].copy(),
        factor=days[:, 2].copy(),
        target=target,
        route=where[:, 0].copy(),
        storm=storm,
        by_target_start=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        by_target=plain[np.argsort(target[plain], kind="stable")].astype(np.int64),
    )


@functools.cache
def _no_hits(targets: int) -> Hits:
    """A replication without impairments (the loop only reads its arrays)."""
    nothing = np.empty(0, dtype=np.int64)
    return Hits(np.empty(0), np.empty(0), np.empty(0), nothing, nothing, np.empty(0, dtype=np.bool_),
                np.zeros(targets + 1, dtype=np.int64), nothing)


_MODELS: dict[int, tuple[Scenario, Model, Names]] = {}
_ROOM: dict[int, tuple[int, int, int, int]] = {}
"""Per lowered model: the room (records, events due, lifts, backlog segments) that its runs have needed so far."""


def _lowered(scenario: Scenario) -> tuple[Model, Names]:
    """The lowered scenario, kept for the few scenarios a process runs (keyed by identity)."""
    hit = _MODELS.get(id(scenario))
    if hit is None or hit[0] is not scenario:
        if len(_MODELS) >= 16:
            _ROOM.pop(id(_MODELS.pop(next(iter(_MODELS)))[1]), None)
        hit = _MODELS[id(scenario)] = (scenario, *lower(scenario))
    return hit[1], hit[2]


class _Chunk(NamedTuple):
    """Runs' records one run after the other, as :func:`_run_many` gives them: each name's records in a row
    of its own ([columns x records]), run i's records ``starts[i]`` to ``starts[i + 1] - 1``; lifts and
    discharges as (route, day, where each run's start)."""

    events: np.ndarray
    starts: np.ndarray
    times: np.ndarray
    levels: np.ndarray
    nets: np.ndarray
    production: np.ndarray
    flows: np.ndarray
    factors: np.ndarray
    owed: np.ndarray
    owed_net: np.ndarray
    foreign: np.ndarray
    lifts: tuple[np.ndarray, np.ndarray, np.ndarray]
    discharges: tuple[np.ndarray, np.ndarray, np.ndarray]


def _replay(scenario: Scenario, replications: Sequence[int]) -> tuple[Model, Names, list[list[Impairment]], _Chunk]:
    """Replications of ``scenario`` in one call of the loop, with the model, names and impairments."""
    if NUMBA_MISSING is not None:
        raise RuntimeError(NUMBA_MISSING)
    model, names = _lowered(scenario)
    hits = [impairments(scenario, k) for k in replications]
    lowered = [lower_hits(names, h) for h in hits]
    room = np.array(_ROOM.get(id(model), (1024, 256, 512, 64)), dtype=np.int64)
    (status, day, events, starts, times, levels, nets, production, flows, factors, owed, owed_net, foreign, lifts,
     discharges) = _run_many(model, *(np.concatenate([getattr(h, f) for h in lowered]) for f in _HIT_FIELDS),
                             starts_of(len(h.start_day) for h in lowered), np.array([h.by_target_start for h in lowered]),
                             np.concatenate([h.by_target for h in lowered]),
                             starts_of(len(h.by_target) for h in lowered), room)
    _ROOM[id(model)] = tuple(int(r) for r in room)  # type: ignore[assignment]
    if status != 0:
        raise SimulationError(f"the run does not progress at day {day:g} ({events[-1]} events)")
    return model, names, hits, _Chunk(events, starts, times, levels, nets, production, flows, factors, owed,
                                      owed_net, foreign, lifts, discharges)


_HIT_FIELDS = ("start_day", "end_day", "factor", "target", "route", "storm")
"""The fields of :class:`Hits` that hold one value per impairment."""


def simulate(scenario: Scenario, replication: int = 0) -> Trace:
    """Replication ``replication`` of ``scenario`` on the compiled engine; the same trace as the reference's
    (without its event log), and as ``simulate_many(scenario, [replication])[0]``."""
    model, names, hits, run = _replay(scenario, [replication])

    def cargoes(field: str, route: int) -> np.ndarray:
        routes, days, _ = getattr(run, field)
        picked: np.ndarray = days[routes == route]
        return picked

    fields = _records(model, names, lambda field: getattr(run, field), cargoes)
    return Trace(horizon_days=float(scenario.horizon_days), times=run.times, events=int(run.events[0]),
                 impairments=tuple(hits[0]), **fields)


def simulate_many(scenario: Scenario, replications: Sequence[int]) -> Traces:
    """Replications of ``scenario`` on the compiled engine, their records one after the other: each run's
    :class:`Trace` is what :func:`simulate` gives."""
    model, names, hits, runs = _replay(scenario, replications)

    def cargoes(field: str, route: int) -> Ragged:
        routes, days, starts = getattr(runs, field)
        picked = routes == route
        return Ragged(days[picked], np.concatenate(([0], np.cumsum(picked)))[starts].astype(np.int64))

    return Traces(horizon_days=float(scenario.horizon_days), times=runs.times, starts=runs.starts,
                  events=runs.events, impairments=tuple(tuple(h) for h in hits),
                  **_records(model, names, lambda field: getattr(runs, field), cargoes))


def _records(model: Model, names: Names, records: Callable[[str], np.ndarray],
             cargoes: Callable[[str, int], Any]) -> dict[str, Any]:
    """A trace's fields by name: ``records(field)`` is one of the loop's records [columns x records] (of a run,
    or of several one after the other), ``cargoes(field, route)`` one shuttle route's lifts or discharges."""

    def columns(field: str, of: Sequence[str], keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
        rows = records(field)
        return {name: rows[j] for j, name in enumerate(of) if keep is None or keep[j]}

    shuttles = [(s, names.route_index[s]) for s in names.shuttles]
    return {
        "levels_bbl": columns("levels", names.nodes),
        "net_bpd": columns("nets", names.nodes),
        "production": columns("production", names.producers),
        "flows_bpd": columns("flows", names.pipelines),
        "capacity_factor": columns("factors", names.routes),
        "loads": {s: cargoes("lifts", r) for s, r in shuttles},
        "discharges": {s: cargoes("discharges", r) for s, r in shuttles},
        "backlog_bbl": columns("owed", names.producers, model.makes_up),
        "backlog_net_bpd": columns("owed_net", names.producers, model.makes_up),
        "foreign_bpd": columns("foreign", names.foreign_routes),
        "foreign_producers": names.foreign_producers,
    }


# ---------------------------------------------------------------------------------------- the loop

# event kinds; events at one time are taken in the order scheduled (SimPy's rule)
_START, _END, _CROSSING, _BERTH, _AT_PORT, _LIFTED, _LOADED, _RELEASE, _DISCHARGED, _CALM = range(10)


def _jit(fn):  # type: ignore[no-untyped-def]
    return fn if NUMBA_MISSING is not None else njit(cache=True)(fn)


def _inline(fn):  # type: ignore[no-untyped-def]
    """A helper of the loop, inlined into it: a call would copy the model's tuple of arrays, and count
    references to each, every time."""
    return fn if NUMBA_MISSING is not None else njit(cache=True, inline="always")(fn)


@_inline
def _slack(now):  # type: ignore[no-untyped-def]
    """A few ulps of ``now`` (at least of 1): how far two computations of one instant can be [days]."""
    x = now if now > 1.0 else 1.0
    _, e = math.frexp(x)
    return 4.0 * math.ldexp(1.0, e - 53)


@_inline
def _expiring(end_day, density, left, draw, now, window):  # type: ignore[no-untyped-def]
    """Whether a backlog's front barrel is expiring now (backlog.expiring)."""
    front = end_day - left / density
    return now - window >= front - TIME_TOL_DAYS and draw < density


@_inline
def _factor_of(h, active, t):  # type: ignore[no-untyped-def]
    """The smallest factor among the active (non-storm) impairments of target ``t`` (1 without any)."""
    f = 1.0
    for j in range(h.by_target_start[t], h.by_target_start[t + 1]):
        i = h.by_target[j]
        if active[i] and h.factor[i] < f:
            f = h.factor[i]
    return f


@_inline
def _capacities(m, r, fac, stormy):  # type: ignore[no-untyped-def]
    """What route ``r`` takes in (its capacity and the segments above any tank farm) and delivers (below
    the tanks: segments and terminal; a tanker route: its port cap) [bbl/day]: the rules of
    :func:`.capacity.pipeline_bpd` and :func:`.capacity.shuttle_bpd`, over arrays."""
    whole = fac[m.whole[r]]
    pipe = m.capacity_bpd[r] * whole
    if m.shuttle[r]:
        for s in range(m.seg_start[r], m.seg_start[r + 1]):
            pipe = min(pipe, m.seg_capacity_bpd[s] * fac[m.seg_target[s]] * whole)
        return pipe, 0.0 if stormy else m.capacity_bpd[r] * whole
    out = math.inf
    for s in range(m.seg_start[r], m.seg_start[r + 1]):
        if m.seg_after[s]:
            out = min(out, m.seg_capacity_bpd[s] * fac[m.seg_target[s]] * whole)
        else:
            pipe = min(pipe, m.seg_capacity_bpd[s] * fac[m.seg_target[s]] * whole)
    if m.terminal[r]:
        a, b = m.moor_start[r], m.moor_start[r + 1]
        moorings = np.empty(b - a)
        for j in range(a, b):
            moorings[j - a] = m.moor_weight[j] * fac[m.moor_target[j]]
        best = np.sort(moorings)[::-1]
        total = 0.0
        for j in range(min(m.active_moorings[r], b - a)):
            total += best[j]
        loading = 0.0 if stormy else m.mooring_rate_bpd[r] * total * fac[m.terminal_target[r]] * whole
        out = min(out, loading)
    if out == math.inf and m.farm[r] >= 0:
        out = m.capacity_bpd[r] * whole
    return pipe, out


@_inline
def _rooms(m, r, fac, rooms):  # type: ignore[no-untyped-def]
    """What each stretch of route ``r`` between joining points carries now, into ``rooms`` (capacity.stretches_bpd)."""
    whole = fac[m.whole[r]]
    a, b = m.stretch_start[r], m.stretch_start[r + 1]
    for k in range(a, b):
        cap = m.capacity_bpd[r] * whole if k == b - 1 else math.inf
        for s in range(m.stretch_first[k], m.stretch_end[k]):
            cap = min(cap, m.seg_capacity_bpd[s] * fac[m.seg_target[s]] * whole)
        rooms[k] = cap


@_inline
def _availability(m, r, fac, storms, pipe, out, nominal_pipe, nominal_out):  # type: ignore[no-untyped-def]
    """Share of route ``r``'s nominal capacity it can carry through now [-]."""
    if m.simple[r]:
        return 0.0 if storms[r] > 0 else fac[m.whole[r]]
    full = min(nominal_pipe[r], nominal_out[r])
    if 0.0 < full < math.inf:
        return min(1.0, min(pipe, out) / full)
    return 1.0


@_inline
def _share(capacity, supplies, weights, out, active, fair):  # type: ignore[no-untyped-def]
    """Water-fill ``capacity`` over suppliers pro rata to ``weights``, none above its supply (dispatch.share);
    ``active`` and ``fair`` are work buffers of the suppliers' length."""
    n = len(supplies)
    out[:] = 0.0
    active[:] = False
    fair[:] = 0.0
    count = 0
    for i in range(n):
        if supplies[i] > 0:
            active[i] = True
            count += 1
    left = max(capacity, 0.0)
    while count > 0 and left > 0:
        if count == 1:
            for i in range(n):
                if active[i]:
                    out[i] = min(left, supplies[i])
            break
        total = 0.0
        for i in range(n):
            if active[i]:
                total += weights[i]
        shorts = 0
        for i in range(n):
            if active[i]:
                fair[i] = left * (weights[i] / total if total > 0 else 1.0 / count)
                if supplies[i] <= fair[i]:
                    shorts += 1
        if shorts == 0:
            for i in range(n):
                if active[i]:
                    out[i] = fair[i]
            break
        for i in range(n):
            if active[i] and supplies[i] <= fair[i]:
                out[i] = supplies[i]
                left -= supplies[i]
                active[i] = False
                count -= 1


@_jit
def _level(amounts, supplies, weights, inside, k, frozen):  # type: ignore[no-untyped-def]
    """The water level of a share over the free suppliers of stretch ``k`` (all with ``inside``; dispatch._level)."""
    any_open = False
    weighted = -math.inf
    plain = -math.inf
    for i in range(len(amounts)):
        if (inside[k, i] if k >= 0 else True) and not frozen[i] and amounts[i] < supplies[i]:
            any_open = True
            plain = max(plain, amounts[i])
            if weights[i] > 0:
                weighted = max(weighted, amounts[i] / weights[i])
    if not any_open:
        return math.inf
    return weighted if weighted > -math.inf else plain


@_jit
def _share_within(capacity, supplies, weights, out, active, fair, r, st_start, member, room,  # type: ignore[no-untyped-def]
                  frozen, sub, trial, best):
    """_share, with the producers passing each stretch of route ``r`` above its last together below its
    ``room`` (dispatch.share_within), and what they take out of the rooms (dispatch._take); ``frozen``,
    ``sub``, ``trial`` and ``best`` are work buffers. Called, not inlined: only routes that producers join
    part-way need it, and inlined it would slow every other run's loop."""
    a, b = st_start[r], st_start[r + 1]
    n = len(supplies)
    out[:] = 0.0
    frozen[:] = False
    k0 = a
    while k0 < b:
        best_level = math.inf
        best_k = -1
        for k in range(k0, b):
            last = k == b - 1
            held = 0.0
            for i in range(n):
                inside = last or member[k, i]
                if inside and frozen[i]:
                    held += out[i]
                sub[i] = supplies[i] if inside and not frozen[i] else 0.0
            left = (capacity if last else room[k]) - held
            _share(left, sub, weights, trial, active, fair)
            level = _level(trial, supplies, weights, member, -1 if last else k, frozen)
            if best_k < 0 or level < best_level:
                best_level, best_k = level, k
                _copy(trial, best)
        for i in range(n):
            if (best_k == b - 1 or member[best_k, i]) and not frozen[i]:
                out[i] = best[i]
                frozen[i] = True
        k0 = best_k + 1
    _take(r, out, st_start, member, room)


@_jit
def _take(r, amounts, st_start, member, room):  # type: ignore[no-untyped-def]
    """What ``amounts`` take of the room of each stretch of route ``r`` above its last (dispatch._take)."""
    for k in range(st_start[r], st_start[r + 1] - 1):
        total = 0.0
        for i in range(len(amounts)):
            if member[k, i]:
                total += amounts[i]
        room[k] = room[k] - total


@_inline
def _plan_wants(plan, usable, capacities, asked, wants):  # type: ignore[no-untyped-def]
    """Each producer's plans into the entries it may use, scaled down to an entry's capacity where they ask
    more (dispatch.plans_first), into ``wants``; ``asked`` is a work buffer."""
    n_p, n_e = wants.shape
    asked[:] = 0.0
    wants[:, :] = 0.0
    for i in range(n_p):
        for e in range(n_e):
            if usable[i, e]:
                asked[e] += plan[i, e]
    for i in range(n_p):
        for e in range(n_e):
            if usable[i, e] and asked[e] > 0:
                wants[i, e] = plan[i, e] * (1.0 if capacities[e] >= asked[e] else max(capacities[e], 0.0) / asked[e])


@_inline
def _fill_plans(capacities, left, flows, rest, wants):  # type: ignore[no-untyped-def]
    """If a producer cannot send its ``wants``, fill every producer's first, into ``flows`` and out of
    ``left``; the capacities left to the others into ``rest``. Returns whether it filled them
    (dispatch.plans_first)."""
    n_p, n_e = flows.shape
    short = False
    for i in range(n_p):
        total = 0.0
        for e in range(n_e):
            total += wants[i, e]
        if not left[i] >= total:
            short = True
    for e in range(n_e):
        rest[e] = capacities[e]
    if not short:
        return False
    for i in range(n_p):
        total = 0.0
        for e in range(n_e):
            total += wants[i, e]
        if total <= 0:
            continue
        scale = 1.0 if left[i] >= total else left[i] / total
        for e in range(n_e):
            take = wants[i, e] * scale
            flows[i, e] = take
            rest[e] -= take
        left[i] = max(left[i] - total * scale, 0.0)
    return True


@_inline
def _plans_first(plan, usable, capacities, left, flows, rest, asked, wants):  # type: ignore[no-untyped-def]
    """Rule 4 of :mod:`.dispatch` (dispatch.plans_first) without stretches (see :func:`_allocate`): the
    capacities left to the others into ``rest``; ``asked`` [entry] and ``wants`` [producer, entry] are work
    buffers."""
    _plan_wants(plan, usable, capacities, asked, wants)
    _fill_plans(capacities, left, flows, rest, wants)


@_inline
def _split_stranded(e, usable, entry_route, capacities, offers, alone, others):  # type: ignore[no-untyped-def]
    """Entry ``e``'s offers of the producers with no other open route (``alone``) and of the others."""
    n_p, n_e = usable.shape
    for i in range(n_p):
        stranded = True
        for f in range(n_e):
            if usable[i, f] and entry_route[f] != entry_route[e] and capacities[f] > 0:
                stranded = False
        alone[i] = offers[i] if stranded else 0.0
        others[i] = 0.0 if stranded else offers[i]


@_inline
def _one_producer(usable, potential, full, left, rest, flows, production):  # type: ignore[no-untyped-def]
    """One producer fills the entries left in order (dispatch.allocate)."""
    n_e = flows.shape[1]
    supply = left[0]
    drawn = 0.0
    for e in range(n_e):
        take = 0.0
        if usable[0, e] and supply > 0 and rest[e] > 0:
            take = min(rest[e], supply)
        flows[0, e] += take
        supply -= take
    for e in range(n_e):
        drawn += flows[0, e]
    production[0] = min(potential[0], drawn) if full[0] else potential[0]


@_inline
def _produced(potential, full, flows, production):  # type: ignore[no-untyped-def]
    """What each producer produces: its potential, or with its storage full what the routes take."""
    n_p, n_e = flows.shape
    for i in range(n_p):
        if full[i]:
            drawn = 0.0
            for e in range(n_e):
                drawn += flows[i, e]
            production[i] = min(potential[i], drawn)
        else:
            production[i] = potential[i]


@_inline
def _allocate(weights, plan, usable, potential, empty, full, capacities, production, flows,  # type: ignore[no-untyped-def]
              entry_route, stranded_first, bufs):
    """Production per producer and flows [producer, entry] (dispatch.allocate) where no producer joins a pipe
    part-way and none nominates: :func:`_allocate_within` without its stretches and quotas, written apart
    because those, inlined into the loop or called from it, slowed every run by a quarter (measured); the
    agreement tests hold both to the reference. ``bufs``: the buffers of :func:`_buffers`, made once a run (an
    allocation per event would cost more than the rest of it)."""
    left, rest, offers, amounts, alone, others, second, asked, wants, active, fair = bufs[:11]
    n_p, n_e = flows.shape
    flows[:, :] = 0.0
    for i in range(n_p):
        left[i] = potential[i] if empty[i] else math.inf
    _plans_first(plan, usable, capacities, left, flows, rest, asked, wants)
    if n_p == 1:
        _one_producer(usable, potential, full, left, rest, flows, production)
        return
    for e in range(n_e):
        for i in range(n_p):
            offers[i] = left[i] if usable[i, e] else 0.0
        if stranded_first:  # those with no other open route first, then the others (dispatch.allocate)
            _split_stranded(e, usable, entry_route, capacities, offers, alone, others)
            _share(rest[e], alone, weights, amounts, active, fair)
            taken = 0.0
            for i in range(n_p):
                taken += amounts[i]
            _share(rest[e] - taken, others, weights, second, active, fair)
            for i in range(n_p):
                amounts[i] = amounts[i] + second[i]
        else:
            _share(rest[e], offers, weights, amounts, active, fair)
        for i in range(n_p):
            if amounts[i] > 0:
                flows[i, e] += amounts[i]
                left[i] -= amounts[i]
    _produced(potential, full, flows, production)


@_inline
def _plans_first_within(plan, usable, capacities, left, flows, rest, asked, wants,  # type: ignore[no-untyped-def]
                        entry_route, st_start, member, room, per):
    """Rule 4 of :mod:`.dispatch` (dispatch.plans_first), under the stretches' rooms of rule 5: the capacities
    left to the others into ``rest``; ``asked`` [entry], ``wants`` [producer, entry] and ``per`` [producer]
    are work buffers."""
    _plan_wants(plan, usable, capacities, asked, wants)
    if len(member) > 0:  # and to each stretch's room
        _wants_within(wants, entry_route, st_start, member, room)
    if _fill_plans(capacities, left, flows, rest, wants) and len(member) > 0:
        _plans_take(flows, entry_route, st_start, member, room, per)


@_inline
def _wants_within(wants, entry_route, st_start, member, room):  # type: ignore[no-untyped-def]
    """The plans scaled down to each stretch's room, from the head down (dispatch.plans_first)."""
    n_p, n_e = wants.shape
    for r in range(len(st_start) - 1):
        for k in range(st_start[r], st_start[r + 1] - 1):
            total = 0.0
            for i in range(n_p):
                if member[k, i]:
                    for e in range(n_e):
                        if entry_route[e] == r:
                            total += wants[i, e]
            if total > room[k]:
                scale = max(room[k], 0.0) / total
                for i in range(n_p):
                    if member[k, i]:
                        for e in range(n_e):
                            if entry_route[e] == r:
                                wants[i, e] *= scale


@_inline
def _plans_take(flows, entry_route, st_start, member, room, per):  # type: ignore[no-untyped-def]
    """What the plans filled take of each stretch's room (dispatch.plans_first)."""
    n_p, n_e = flows.shape
    for r in range(len(st_start) - 1):
        if st_start[r + 1] - st_start[r] > 1:
            for i in range(n_p):
                per[i] = 0.0
                for e in range(n_e):
                    if entry_route[e] == r:
                        per[i] += flows[i, e]
            _take(r, per, st_start, member, room)


@_inline
def _fill_within(quotas, usable, capacities, flows, entry_route, stranded_first, bufs, st_start,  # type: ignore[no-untyped-def]
                 member):
    """The entries' shares under the stretches' rooms (dispatch.allocate, rules 1, 2 and 5), into ``flows``
    and out of the buffers ``left`` and ``room`` (see :func:`_allocate`)."""
    left, rest, offers, amounts, alone, others, second, _, _, active, fair, frozen, sub, trial, best, room, weights = bufs
    n_p, n_e = flows.shape
    for e in range(n_e):
        r = entry_route[e]
        joined = st_start[r + 1] - st_start[r] > 1
        for i in range(n_p):
            offers[i] = left[i] if usable[i, e] else 0.0
            weights[i] = quotas[i, e]
        if stranded_first:  # those with no other open route first, then the others (dispatch.allocate)
            _split_stranded(e, usable, entry_route, capacities, offers, alone, others)
            if joined:
                _share_within(rest[e], alone, weights, amounts, active, fair, r, st_start, member, room, frozen,
                              sub, trial, best)
            else:
                _share(rest[e], alone, weights, amounts, active, fair)
            taken = 0.0
            for i in range(n_p):
                taken += amounts[i]
            if joined:
                _share_within(rest[e] - taken, others, weights, second, active, fair, r, st_start, member, room,
                              frozen, sub, trial, best)
            else:
                _share(rest[e] - taken, others, weights, second, active, fair)
            for i in range(n_p):
                amounts[i] = amounts[i] + second[i]
        elif joined:
            _share_within(rest[e], offers, weights, amounts, active, fair, r, st_start, member, room, frozen, sub,
                          trial, best)
        else:
            _share(rest[e], offers, weights, amounts, active, fair)
        for i in range(n_p):
            if amounts[i] > 0:
                flows[i, e] += amounts[i]
                left[i] -= amounts[i]


@_jit
def _allocate_within(quotas, plan, usable, potential, empty, full, capacities, production,  # type: ignore[no-untyped-def]
                     flows, entry_route, stranded_first, bufs, st_start, member, rooms):
    """Production per producer and flows [producer, entry] (dispatch.allocate) with quotas by entry and under
    the stretches' ``rooms``: where producers join a pipe part-way or nominate (else :func:`_allocate`);
    called, not inlined. ``bufs``: the buffers of :func:`_buffers`."""
    left, rest, asked, wants, sub, room = bufs[0], bufs[1], bufs[7], bufs[8], bufs[12], bufs[15]
    n_p = flows.shape[0]
    flows[:, :] = 0.0
    for i in range(n_p):
        left[i] = potential[i] if empty[i] else math.inf
    for k in range(len(rooms)):
        room[k] = rooms[k]
    _plans_first_within(plan, usable, capacities, left, flows, rest, asked, wants, entry_route, st_start, member,
                        room, sub)
    if n_p == 1:
        _one_producer(usable, potential, full, left, rest, flows, production)
        return
    _fill_within(quotas, usable, capacities, flows, entry_route, stranded_first, bufs, st_start, member)
    _produced(potential, full, flows, production)


@_inline
def _buffers(n_p, n_e, n_s):  # type: ignore[no-untyped-def]
    """The work buffers of :func:`_allocate`: left, rest, offers, amounts, alone, others, second, asked,
    wants, active, fair, frozen, sub, trial, best, room (the stretches' rooms as entries take oil), weights
    (the entry's quotas)."""
    return (np.empty(n_p), np.empty(n_e), np.empty(n_p), np.empty(n_p), np.empty(n_p), np.empty(n_p),
            np.empty(n_p), np.empty(n_e), np.empty((n_p, n_e)), np.empty(n_p, dtype=np.bool_), np.empty(n_p),
            np.empty(n_p, dtype=np.bool_), np.empty(n_p), np.empty(n_p), np.empty(n_p), np.empty(n_s), np.empty(n_p))


@_inline
def _copy_rates(row, net, production, outflow, avail, nets, prods, flows, avails):  # type: ignore[no-untyped-def]
    """Rates into row ``row`` of the record arrays."""
    _copy(net, nets[row])
    _copy(production, prods[row])
    _copy(outflow, flows[row])
    _copy(avail, avails[row])


@_inline
def _owed(seg_r, seg_head, seg_n, cap_seg, owed_net, owed_row, net_row, last_net):  # type: ignore[no-untyped-def]
    """Each backlog's level (its segments summed oldest first, as Backlog.level_bbl) and rate into a record row."""
    for i in range(len(seg_n)):
        total = 0.0
        for j in range(seg_n[i]):
            total += seg_r[i, (seg_head[i] + j) % cap_seg]
        owed_row[i] = total
        net_row[i] = owed_net[i]
        last_net[i] = owed_net[i]


@_inline
def _copy(src, dst):  # type: ignore[no-untyped-def]
    """``dst[:] = src`` as a loop: numba's slice assignment may copy ``src`` to a temporary first."""
    for i in range(len(src)):
        dst[i] = src[i]


# The loop's helpers below are written out, not factored into smaller ones (a swap, a record row, a
# comparison of rows): measured in separate processes, the factored loop took 1.5-2x as long.


@_inline
def _push(heap_t, heap_s, heap_k, heap_a, size, seq, t, kind, arg):  # type: ignore[no-untyped-def]
    """Add an event to the binary heap ordered by (time, sequence); the arrays have room."""
    i = size
    heap_t[i], heap_s[i], heap_k[i], heap_a[i] = t, seq, kind, arg
    while i > 0:
        parent = (i - 1) // 2
        if heap_t[parent] < heap_t[i] or (heap_t[parent] == heap_t[i] and heap_s[parent] < heap_s[i]):
            break
        heap_t[i], heap_t[parent] = heap_t[parent], heap_t[i]
        heap_s[i], heap_s[parent] = heap_s[parent], heap_s[i]
        heap_k[i], heap_k[parent] = heap_k[parent], heap_k[i]
        heap_a[i], heap_a[parent] = heap_a[parent], heap_a[i]
        i = parent


@_inline
def _pop(heap_t, heap_s, heap_k, heap_a, size):  # type: ignore[no-untyped-def]
    """Remove the first event (the heap has ``size`` > 0 of them); the caller read it at index 0."""
    last = size - 1
    heap_t[0], heap_s[0], heap_k[0], heap_a[0] = heap_t[last], heap_s[last], heap_k[last], heap_a[last]
    i = 0
    while True:
        a, b, smallest = 2 * i + 1, 2 * i + 2, i
        for c in (a, b):
            if c < last and (heap_t[c] < heap_t[smallest]
                             or (heap_t[c] == heap_t[smallest] and heap_s[c] < heap_s[smallest])):
                smallest = c
        if smallest == i:
            break
        heap_t[i], heap_t[smallest] = heap_t[smallest], heap_t[i]
        heap_s[i], heap_s[smallest] = heap_s[smallest], heap_s[i]
        heap_k[i], heap_k[smallest] = heap_k[smallest], heap_k[i]
        heap_a[i], heap_a[smallest] = heap_a[smallest], heap_a[i]
        i = smallest


@_jit
def _advance_parcels(foreign_route, foreign_pipe, farm, inflow, outflow, level, in_share, par_v, par_s,  # type: ignore[no-untyped-def]
                     par_head, par_n, dt, slack):
    """Whose oil each tank farm holds after ``dt``, first in first out (Parcels.advance, Parcels.match);
    False if a ring needs more room. Called, not inlined, as :func:`_share_within`."""
    cap = par_v.shape[1]
    for j in range(len(foreign_route)):
        r = foreign_route[j]
        f = farm[r]
        if f < 0:
            continue
        if par_n[j] + 1 > cap:
            return False
        got, gone = inflow[r] * dt, outflow[foreign_pipe[j]] * dt
        if got > 0:
            k = (par_head[j] + par_n[j] - 1) % cap
            if par_n[j] > 0 and abs(par_s[j, k] - in_share[j]) < SAME_SHARE:
                par_v[j, k] += got
            else:
                k = (par_head[j] + par_n[j]) % cap
                par_v[j, k], par_s[j, k] = got, in_share[j]
                par_n[j] += 1
        while gone > 0 and par_n[j] > 0:
            k = par_head[j]
            take = min(par_v[j, k], gone)
            par_v[j, k] -= take
            gone -= take
            if par_v[j, k] <= 0 or (par_n[j] > 1 and par_v[j, k] <= 1e-9 * take):
                par_head[j] = (k + 1) % cap
                par_n[j] -= 1
        while par_n[j] > 1 and par_v[j, par_head[j]] <= LEVEL_TOL_BBL + outflow[foreign_pipe[j]] * slack:
            par_head[j] = (par_head[j] + 1) % cap
            par_n[j] -= 1
        if level[f] <= 0:
            par_n[j] = 0
            continue
        total = 0.0
        for q in range(par_n[j]):
            total += par_v[j, (par_head[j] + q) % cap]
        gap = level[f] - total
        while gap < 0 and par_n[j] > 0:
            k = (par_head[j] + par_n[j] - 1) % cap
            cut = min(par_v[j, k], -gap)
            par_v[j, k] -= cut
            gap += cut
            if par_v[j, k] <= 0:
                par_n[j] -= 1
        if gap > 0:
            if par_n[j] > 0:
                par_v[j, (par_head[j] + par_n[j] - 1) % cap] += gap
            else:
                par_v[j, par_head[j]], par_s[j, par_head[j]] = gap, in_share[j]
                par_n[j] = 1
    return True


@_inline
def _cut(rows, times, level, net, prod, flow, fac, owed, owed_net, foreign, lift_route, lift_day, dis_route,  # type: ignore[no-untyped-def]
         dis_day):
    """The records of a run, cut to their rows (views: :func:`_run_many` copies them)."""
    return (times[:rows], level[:rows], net[:rows], prod[:rows], flow[:rows], fac[:rows], owed[:rows],
            owed_net[:rows], foreign[:rows], lift_route, lift_day, dis_route, dis_day)


@_jit
def _run(m, h, cap_rows, cap_heap, cap_lifts, cap_seg):  # type: ignore[no-untyped-def]
    """Replay the impairments ``h`` on the model ``m`` (see the module); returns (status, day, events, times,
    levels, nets, production, flows, factors, backlogs, backlog rates, foreign flows, lift routes, lift days,
    discharge routes, discharge days), the records [records x columns] cut to their rows; status 1 if the run did not
    progress at ``day``, 2 if it needs more room than ``cap_rows`` records, ``cap_heap`` events due,
    ``cap_lifts`` lifts or discharges or ``cap_seg`` segments of a backlog (the caller runs it again with
    more: the arrays never grow, so the loop keeps no reference counts on them)."""
    # the model's and the hits' arrays as locals: reading them through the tuples in the loop would count
    # references each time
    berths = m.berths
    capacity_bpd = m.capacity_bpd
    cargo_bbl = m.cargo_bbl
    committed_bpd = m.committed_bpd
    entry_part = m.entry_part
    plan_cap_bpd = m.plan_cap_bpd
    entry_priority = m.entry_priority
    entry_route = m.entry_route
    farm = m.farm
    horizon_days = m.horizon_days
    load_days = m.load_days
    node_capacity_bbl = m.node_capacity_bbl
    node_initial_bbl = m.node_initial_bbl
    node_working_bbl = m.node_working_bbl
    nominal_bpd = m.nominal_bpd
    plan_bpd = m.plan_bpd
    quota_bpd = m.quota_bpd
    generic = m.nominated or len(m.stretch_first) > 0  # stretches or quotas: the allocation that has them
    entry_plan_bpd = m.entry_plan_bpd
    route_plan_bpd = m.route_plan_bpd
    lag_days = m.lag_days
    stranded_first = m.stranded_first
    prod_target = m.prod_target
    pipelines = m.pipelines
    ramp_days = m.ramp_days
    peak_bpd = m.peak_bpd
    makes_up = m.makes_up
    makeup_share = m.makeup_share
    window_days = m.window_days
    reach = m.reach
    shuttle = m.shuttle
    source = m.source
    tankers = m.tankers
    targets = m.targets
    unload_days = m.unload_days
    voyage_days = m.voyage_days
    end_day = h.end_day
    route = h.route
    start_day = h.start_day
    storm = h.storm
    target = h.target
    n_n = len(node_capacity_bbl)
    n_p = len(nominal_bpd)
    n_r = len(capacity_bpd)
    n_e = len(entry_route)
    n_l = len(pipelines)
    n_i = len(start_day)
    horizon = horizon_days
    big = 1 << 62
    # storage nodes
    level = node_initial_bbl.copy()
    net = np.zeros(n_n)
    tol = np.full(n_n, LEVEL_TOL_BBL)
    # impairments and capacities
    fac = np.ones(targets)
    active = np.zeros(n_i, dtype=np.bool_)
    storms = np.zeros(n_r, dtype=np.int64)
    pipe = np.empty(n_r)
    out = np.empty(n_r)
    nominal_pipe = np.empty(n_r)
    nominal_out = np.empty(n_r)
    avail = np.empty(n_r)
    for r in range(n_r):
        nominal_pipe[r], nominal_out[r] = _capacities(m, r, fac, False)
        pipe[r], out[r] = nominal_pipe[r], nominal_out[r]
    for r in range(n_r):
        avail[r] = _availability(m, r, fac, storms, pipe[r], out[r], nominal_pipe, nominal_out)
    # where producers join a pipe part-way: its stretches' rooms
    stretch_start = m.stretch_start
    stretch_member = m.stretch_member
    rooms = np.zeros(len(m.stretch_first))
    for r in range(n_r):
        _rooms(m, r, fac, rooms)
    # foreign shippers: per route they reach, its tank farm's stock as parcels (parcels.Parcels), a ring
    foreign = m.foreign
    foreign_route = m.foreign_route
    foreign_pipe = m.foreign_pipe
    n_f = len(foreign_route)
    par_v = np.zeros((n_f, cap_seg))
    par_s = np.zeros((n_f, cap_seg))
    par_head = np.zeros(n_f, dtype=np.int64)
    par_n = np.zeros(n_f, dtype=np.int64)
    in_share = np.zeros(n_f)
    foreign_out = np.zeros(n_f)
    for j in range(n_f):
        f = farm[foreign_route[j]]
        if f >= 0 and node_initial_bbl[f] > 0:
            par_v[j, 0], par_s[j, 0], par_n[j] = node_initial_bbl[f], m.parcel_share[j], 1
    # producers
    production = np.zeros(n_p)
    curtailed = np.full(n_p, np.nan)
    ramp_on = np.zeros(n_p, dtype=np.bool_)
    ramp_start = np.zeros(n_p)
    ramp_from = np.zeros(n_p)
    ramp_steps = np.zeros(n_p, dtype=np.int64)
    ramp_step = np.zeros(n_p)
    ramp_k = np.zeros(n_p, dtype=np.int64)
    ramp_to = nominal_bpd.copy()
    cut_on = np.zeros(n_p, dtype=np.bool_)  # in a curtailment (state.Curtailment): from, least, most, produced
    cut_start = np.zeros(n_p)
    cut_lo = np.zeros(n_p)
    cut_hi = np.zeros(n_p)
    cut_bbl = np.zeros(n_p)
    potential = np.zeros(n_p)
    limit = np.zeros(n_p, dtype=np.int64)
    # backlogs of deferred oil (backlog.Backlog): per producer a ring of segments from seg_head
    any_makeup = False
    for i in range(n_p):
        if makes_up[i]:
            any_makeup = True
    seg_end = np.zeros((n_p, cap_seg))
    seg_q = np.zeros((n_p, cap_seg))
    seg_r = np.zeros((n_p, cap_seg))
    seg_head = np.zeros(n_p, dtype=np.int64)
    seg_n = np.zeros(n_p, dtype=np.int64)
    inflow_b = np.zeros(n_p)
    draw_b = np.zeros(n_p)
    owed_net = np.zeros(n_p)
    empty = np.zeros(n_p, dtype=np.bool_)
    full = np.zeros(n_p, dtype=np.bool_)
    usable = np.zeros((n_p, n_e), dtype=np.bool_)
    capacities = np.zeros(n_e)
    flows = np.zeros((n_p, n_e))
    bufs = _buffers(n_p, n_e, len(rooms))
    inflow = np.zeros(n_r)
    outflow = np.zeros(n_l)
    # tanker routes
    last_lift = np.full(n_r, np.nan)
    lifted_bbl = np.zeros(n_r)
    free_berths = berths.copy()
    queued = np.zeros(n_r, dtype=np.int64)
    to_sail = np.zeros(n_r, dtype=np.int64)
    to_sail_back = np.zeros(n_r, dtype=np.int64)
    committed_shuttles = False
    for r in range(n_r):
        if shuttle[r] and committed_bpd[r] > 0:
            committed_shuttles = True
    n_k = max(1, int(tankers.sum()))
    req_prio = np.zeros(n_k, dtype=np.int64)
    req_seq = np.zeros(n_k, dtype=np.int64)
    req_route = np.zeros(n_k, dtype=np.int64)
    n_req = 0
    req_count = 0
    waiting = np.zeros(n_n + 1, dtype=np.bool_)  # the last: a tanker route no producer reaches
    # records
    times = np.empty(cap_rows)
    rec_level = np.empty((cap_rows, n_n))
    rec_net = np.empty((cap_rows, n_n))
    rec_prod = np.empty((cap_rows, n_p))
    rec_flow = np.empty((cap_rows, n_l))
    rec_fac = np.empty((cap_rows, n_r))
    rec_owed = np.zeros((cap_rows, n_p))
    rec_owed_net = np.zeros((cap_rows, n_p))
    rec_foreign = np.zeros((cap_rows, n_f))
    last_foreign = np.zeros(n_f)
    last_owed_net = np.zeros(n_p)
    rows = 0
    last_net = np.zeros((1, n_n))
    last_prod = np.zeros((1, n_p))
    last_flow = np.zeros((1, n_l))
    last_avail = np.zeros((1, n_r))
    recorded = False
    before = np.empty(n_n)
    lift_route = np.empty(cap_lifts, dtype=np.int64)
    lift_day = np.empty(cap_lifts)
    n_lift = 0
    dis_route = np.empty(cap_lifts, dtype=np.int64)
    dis_day = np.empty(cap_lifts)
    n_dis = 0
    # the event heap
    cap_heap = max(cap_heap, 3 * n_k + n_i + 8)  # room for the start's events
    heap_t = np.empty(cap_heap)
    heap_s = np.empty(cap_heap, dtype=np.int64)
    heap_k = np.empty(cap_heap, dtype=np.int64)
    heap_a = np.empty(cap_heap, dtype=np.int64)
    size = 0
    seq = 0
    generation = 0
    events = 0
    same_time = 0
    updated = 0.0
    now = 0.0
    phase = 0  # 0: the start; 1: the event loop; 2: the horizon
    pending_refresh = True
    rose = -1
    changed = -1
    status = 0
    displaced = False  # a displacement going on (a route's capacity below its plan), since day since
    since = 0.0
    while True:
        # ------------------------------------------------------------ refresh (the hybrid core)
        if pending_refresh:
            pending_refresh = False
            final = phase == 2
            events += 1
            same_time = same_time + 1 if now - updated <= SAME_TIME_DAYS * max(1.0, now) else 0
            if events > MAX_EVENTS or same_time > MAX_EVENTS_AT_ONE_TIME:
                return (1, now, events, *_cut(rows, times, rec_level, rec_net, rec_prod, rec_flow, rec_fac, rec_owed,
                                              rec_owed_net, rec_foreign, lift_route[:n_lift], lift_day[:n_lift],
                                              dis_route[:n_dis], dis_day[:n_dis]))
            slack = _slack(now)
            for j in range(n_n):  # advance every level to now, snapped onto a bound it reached
                tol[j] = LEVEL_TOL_BBL + abs(net[j]) * slack
                lv = level[j] + net[j] * (now - updated)
                work = node_working_bbl[j]
                if work > 0 and level[j] > work and lv <= work + tol[j]:
                    lv = work
                if lv <= tol[j]:
                    lv = 0.0
                elif lv >= node_capacity_bbl[j] - tol[j]:
                    lv = node_capacity_bbl[j]
                level[j] = lv
            if n_f > 0 and not _advance_parcels(foreign_route, foreign_pipe, farm, inflow, outflow, level, in_share,
                                                par_v, par_s, par_head, par_n, now - updated, slack):
                status = 2
                break
            if any_makeup:
                grow = False
                for i in range(n_p):
                    if makes_up[i] and seg_n[i] + 1 > cap_seg:
                        grow = True
                if grow:
                    status = 2
                    break
                for i in range(n_p):  # Backlog.advance
                    if not makes_up[i]:
                        continue
                    dt = now - updated
                    if dt > 0 and seg_n[i] > 0:
                        k = seg_head[i]
                        b, q, rr = seg_end[i, k], seg_q[i, k], seg_r[i, k]
                        rate = q if _expiring(b, q, rr, draw_b[i], updated, window_days[i]) else draw_b[i]
                        seg_r[i, k] = rr - rate * dt
                    q = inflow_b[i]
                    if dt > 0 and q > 0:
                        k = (seg_head[i] + seg_n[i] - 1) % cap_seg
                        if seg_n[i] > 0 and seg_end[i, k] == updated and seg_q[i, k] == q:
                            seg_end[i, k] = now
                            seg_r[i, k] += q * dt
                        else:
                            k = (seg_head[i] + seg_n[i]) % cap_seg
                            seg_end[i, k], seg_q[i, k], seg_r[i, k] = now, q, q * dt
                            seg_n[i] += 1
                    while seg_n[i] > 0 and (seg_r[i, seg_head[i]]
                                            <= LEVEL_TOL_BBL + max(seg_q[i, seg_head[i]], draw_b[i]) * slack):
                        seg_head[i] = (seg_head[i] + 1) % cap_seg
                        seg_n[i] -= 1
            for i in range(n_p):
                if cut_on[i]:
                    cut_bbl[i] += production[i] * (now - updated)
            updated = now
            if rows + 2 > cap_rows or n_lift + n_req > cap_lifts:
                status = 2
                break
            jumped = False
            if n_req > 0 and not final:  # nothing happens at the horizon
                if committed_shuttles:
                    for q in range(n_req):
                        r = req_route[q]
                        ahead = lifted_bbl[r] / committed_bpd[r] if committed_bpd[r] > 0 else -math.inf
                        behind = committed_bpd[r] > 0 and now >= ahead - slack
                        req_prio[q] = r if behind else n_r + r
                for q in range(1, n_req):  # insertion sort by (priority, sequence)
                    p_, s_, r_ = req_prio[q], req_seq[q], req_route[q]
                    j = q - 1
                    while j >= 0 and (req_prio[j] > p_ or (req_prio[j] == p_ and req_seq[j] > s_)):
                        req_prio[j + 1], req_seq[j + 1], req_route[j + 1] = req_prio[j], req_seq[j], req_route[j]
                        j -= 1
                    req_prio[j + 1], req_seq[j + 1], req_route[j + 1] = p_, s_, r_
                _copy(level, before)
                waiting[:] = False
                kept = 0
                for q in range(n_req):  # lift full cargoes in priority order
                    r = req_route[q]
                    src = source[r]
                    w = src if src >= 0 else n_n
                    gate_open = out[r] > 0 and (np.isnan(last_lift[r])
                                                or now >= last_lift[r] + cargo_bbl[r] / out[r] - slack)
                    lift = False
                    if not waiting[w] and gate_open:
                        if src < 0 or level[src] < cargo_bbl[r] - tol[src]:
                            waiting[w] = True
                        else:
                            lift = True
                    if lift:
                        level[src] = max(level[src] - cargo_bbl[r], 0.0)
                        last_lift[r] = now
                        lifted_bbl[r] += cargo_bbl[r]
                        lift_route[n_lift], lift_day[n_lift] = r, now
                        n_lift += 1
                        _push(heap_t, heap_s, heap_k, heap_a, size, seq, now, _LIFTED, r)
                        size += 1
                        seq += 1
                        jumped = True
                    else:
                        req_prio[kept], req_seq[kept], req_route[kept] = req_prio[q], req_seq[q], req_route[q]
                        kept += 1
                n_req = kept
                if jumped:  # a lift is a jump: keep the level before it, and after it
                    times[rows] = now
                    _copy(before, rec_level[rows])
                    _copy_rates(rows, net, production, outflow, avail, rec_net, rec_prod, rec_flow, rec_fac)
                    _copy_rates(0, net, production, outflow, avail, last_net, last_prod, last_flow, last_avail)
                    if any_makeup:
                        _owed(seg_r, seg_head, seg_n, cap_seg, owed_net, rec_owed[rows], rec_owed_net[rows],
                              last_owed_net)
                    for j in range(n_f):
                        rec_foreign[rows, j] = foreign_out[j]
                        last_foreign[j] = foreign_out[j]
                    recorded = True
                    rows += 1
            # ---- the displacement: it starts when a route's capacity falls below its plan, ends when none is
            below = False
            for r in range(n_r):
                if min(pipe[r], out[r]) < route_plan_bpd[r]:
                    below = True
            if not below:
                displaced = False
            elif not displaced:
                displaced, since = True, now
            # ---- solve: restarts, holds, potentials, allocation
            if rose >= 0 or changed >= 0:
                for i in range(n_p):
                    if changed >= 0 and reach[i, changed] and not (rose >= 0 and reach[i, rose] and cut_on[i]):
                        cut_on[i] = False  # under new capacities: its curtailment begins again at its next cut
                        continue
                    if rose >= 0 and reach[i, rose] and cut_on[i]:
                        days = ramp_days[i]  # from the mean over the curtailment (Curtailment.mean_bpd)
                        if cut_lo[i] == cut_hi[i] or now <= cut_start[i]:
                            start = cut_lo[i]
                        else:
                            start = cut_bbl[i] / (now - cut_start[i])
                        if days > 0:
                            steps = max(1, int(math.ceil(days)))
                            ramp_on[i] = True
                            ramp_start[i], ramp_from[i] = now, start
                            ramp_to[i] = peak_bpd[i] if makes_up[i] else nominal_bpd[i]
                            ramp_steps[i], ramp_step[i], ramp_k[i] = steps, days / steps, 0
                        curtailed[i] = np.nan
                        cut_on[i] = False
                rose = -1
                changed = -1
            limit[:] = big
            for q in range(n_req):  # a tanker at an open gate holds its producer's stock from worse entries
                r = req_route[q]
                src = source[r]
                gate_open = out[r] > 0 and (np.isnan(last_lift[r])
                                            or now >= last_lift[r] + cargo_bbl[r] / out[r] - slack)
                if 0 <= src < n_p and gate_open and limit[src] == big:
                    limit[src] = req_prio[q]
            for i in range(n_p):
                ceiling = peak_bpd[i] if makes_up[i] and seg_n[i] > 0 else nominal_bpd[i]
                pot = ceiling
                if ramp_on[i]:
                    while ramp_k[i] < ramp_steps[i] and now >= ramp_start[i] + (ramp_k[i] + 1) * ramp_step[i] - 1e-12:
                        ramp_k[i] += 1
                    if ramp_k[i] < ramp_steps[i]:
                        pot = ramp_from[i] + (ramp_to[i] - ramp_from[i]) * (ramp_k[i] + 0.5) / ramp_steps[i]
                        if makes_up[i]:
                            pot = min(pot, ceiling)
                    else:
                        ramp_on[i] = False
                potential[i] = pot * fac[prod_target[i]]  # an outage of its output cuts it
                empty[i] = level[i] <= tol[i]
                full[i] = level[i] >= node_capacity_bbl[i] - tol[i]
                for e in range(n_e):
                    usable[i, e] = reach[i, entry_route[e]] and entry_priority[e] < limit[i]
            for e in range(n_e):
                r = entry_route[e]
                f = farm[r]
                into = pipe[r]  # every shipper's oil passes the last stretch below the joining points
                if stretch_start[r + 1] > stretch_start[r]:
                    into = rooms[stretch_start[r + 1] - 1]
                if f < 0:
                    cap = min(into, out[r])
                elif shuttle[r]:
                    cap = 0.0 if level[f] >= node_capacity_bbl[f] - tol[f] else pipe[r]
                else:
                    cap = min(into, out[r]) if level[f] >= node_capacity_bbl[f] - tol[f] else into
                promised = committed_bpd[r]  # capacity.entry_part_bpd
                part = min(promised, cap) if promised > 0 else 0.0
                if entry_part[e] == COMMITTED:
                    cap = part
                else:
                    planned = min(cap, plan_cap_bpd[r])
                    cap = planned - part if entry_part[e] == PLANNED else cap - planned
                if lag_days[r] > 0 and displaced and now < since + lag_days[r] - slack:  # within its reroute lag
                    cap = min(cap, entry_plan_bpd[e])
                capacities[e] = cap
            if generic:
                _allocate_within(quota_bpd, plan_bpd, usable, potential, empty, full, capacities, production,
                                 flows, entry_route, stranded_first, bufs, stretch_start, stretch_member, rooms)
            else:
                _allocate(nominal_bpd, plan_bpd, usable, potential, empty, full, capacities, production, flows,
                          entry_route, stranded_first, bufs)
            for i in range(n_p):
                drawn = 0.0
                for e in range(n_e):
                    drawn += flows[i, e]
                net[i] = production[i] - drawn
                cut = production[i] < potential[i] - RATE_TOL_BPD
                curtailed[i] = production[i] if cut else np.nan
                if makes_up[i]:  # the backlog takes the make-up share of a shortfall, and gives up an excess
                    short, plan = nominal_bpd[i] - production[i], nominal_bpd[i]
                    inflow_b[i] = makeup_share[i] * short if short > RATE_TOL_BPD else 0.0
                    draw_b[i] = production[i] - plan if production[i] - plan > RATE_TOL_BPD else 0.0
                    if seg_n[i] > 0:  # Backlog.net_bpd
                        k = seg_head[i]
                        b, q = seg_end[i, k], seg_q[i, k]
                        gone = q if _expiring(b, q, seg_r[i, k], draw_b[i], now, window_days[i]) else draw_b[i]
                        owed_net[i] = inflow_b[i] - gone
                    else:
                        owed_net[i] = inflow_b[i]
            for i in range(n_p):  # a curtailment lasts through the refills of room a tanker lift frees
                if not np.isnan(curtailed[i]) and not cut_on[i]:
                    cut_on[i] = True
                    cut_start[i], cut_lo[i], cut_hi[i], cut_bbl[i] = now, production[i], production[i], 0.0
                elif cut_on[i] and np.isnan(curtailed[i]) and net[i] <= RATE_TOL_BPD:
                    cut_on[i] = False  # the routes take what it produces: over without a restart
                elif cut_on[i]:
                    cut_lo[i] = min(cut_lo[i], production[i])
                    cut_hi[i] = max(cut_hi[i], production[i])
            inflow[:] = 0.0
            for e in range(n_e):
                into = 0.0
                for i in range(n_p):
                    into += flows[i, e]
                inflow[entry_route[e]] += into
            for li in range(n_l):
                r = pipelines[li]
                f = farm[r]
                if f < 0:
                    outflow[li] = inflow[r]
                else:
                    above = level[f] > node_working_bbl[f] + tol[f]
                    o = out[r] if above else min(out[r], inflow[r])
                    outflow[li] = o
                    net[f] = inflow[r] - o
            for r in range(n_r):
                if shuttle[r] and farm[r] >= 0:
                    net[farm[r]] = inflow[r]
            for j in range(n_f):  # the foreign oil in what leaves each route a foreign shipper reaches
                r = foreign_route[j]
                sent = 0.0
                for i in range(n_p):
                    if foreign[i]:
                        for e in range(n_e):
                            if entry_route[e] == r:
                                sent += flows[i, e]
                in_share[j] = sent / inflow[r] if inflow[r] > 0 else 0.0
                share = in_share[j]
                if farm[r] >= 0 and par_n[j] > 0:
                    share = par_s[j, par_head[j]]
                foreign_out[j] = outflow[foreign_pipe[j]] * share
            # ---- record (only when a rate changed, a level jumped, or at the horizon)
            same = recorded
            if same:
                for j in range(n_n):
                    if net[j] != last_net[0, j]:
                        same = False
                for i in range(n_p):
                    if production[i] != last_prod[0, i]:
                        same = False
                for li in range(n_l):
                    if outflow[li] != last_flow[0, li]:
                        same = False
                for r in range(n_r):
                    if avail[r] != last_avail[0, r]:
                        same = False
                if any_makeup:
                    for i in range(n_p):
                        if owed_net[i] != last_owed_net[i]:
                            same = False
                for j in range(n_f):
                    if foreign_out[j] != last_foreign[j]:
                        same = False
            if jumped or final or not same:
                times[rows] = now
                _copy(level, rec_level[rows])
                _copy_rates(rows, net, production, outflow, avail, rec_net, rec_prod, rec_flow, rec_fac)
                _copy_rates(0, net, production, outflow, avail, last_net, last_prod, last_flow, last_avail)
                if any_makeup:
                    _owed(seg_r, seg_head, seg_n, cap_seg, owed_net, rec_owed[rows], rec_owed_net[rows], last_owed_net)
                for j in range(n_f):
                    rec_foreign[rows, j] = foreign_out[j]
                    last_foreign[j] = foreign_out[j]
                recorded = True
                rows += 1
            # ---- schedule the next crossing
            wait = math.inf
            for j in range(n_n):
                if net[j] < -RATE_TOL_BPD and level[j] > 0:
                    floor = node_working_bbl[j] if level[j] > node_working_bbl[j] else 0.0
                    wait = min(wait, (level[j] - floor) / -net[j])
                if net[j] > RATE_TOL_BPD and level[j] < node_capacity_bbl[j]:
                    wait = min(wait, (node_capacity_bbl[j] - level[j]) / net[j])
            waiting[:] = False
            for q in range(n_req):
                r = req_route[q]
                if out[r] <= 0:
                    continue  # the gate is shut until the capacity returns
                src = source[r]
                w = src if src >= 0 else n_n
                gate = -math.inf if np.isnan(last_lift[r]) else last_lift[r] + cargo_bbl[r] / out[r]
                if now < gate - slack:
                    wait = min(wait, gate - now)
                elif not waiting[w]:
                    waiting[w] = True
                    if src >= 0 and net[src] > RATE_TOL_BPD:
                        wait = min(wait, (cargo_bbl[r] - level[src]) / net[src])
                if committed_bpd[r] > 0:
                    ahead = lifted_bbl[r] / committed_bpd[r]
                    if not now >= ahead - slack:
                        wait = min(wait, ahead - now)
            for j in range(n_f):  # the oldest parcel in the tanks has gone (Parcels.head_bbl)
                o = outflow[foreign_pipe[j]]
                if farm[foreign_route[j]] >= 0 and o > RATE_TOL_BPD and par_n[j] > 0:
                    k = par_head[j]
                    if par_n[j] > 1 or abs(par_s[j, k] - in_share[j]) >= SAME_SHARE:
                        wait = min(wait, par_v[j, k] / o)
            if displaced:
                for r in range(n_r):  # a reroute lag ends
                    if lag_days[r] > 0 and now < since + lag_days[r] - slack:
                        wait = min(wait, since + lag_days[r] - now)
            for i in range(n_p):
                if ramp_on[i]:
                    wait = min(wait, ramp_start[i] + (ramp_k[i] + 1) * ramp_step[i] - now)
                if makes_up[i]:  # Backlog.wait_days
                    w = window_days[i]
                    if seg_n[i] == 0:
                        bw = w if inflow_b[i] > 0 else math.inf
                    else:
                        k = seg_head[i]
                        b, q, rr, d = seg_end[i, k], seg_q[i, k], seg_r[i, k], draw_b[i]
                        if _expiring(b, q, rr, d, now, w):
                            bw = rr / q
                        else:
                            bw = rr / d if d > 0 else math.inf
                            if w < math.inf and d < q:
                                front = b - rr / q
                                catch = (front + w - now) / (1.0 - d / q)
                                if catch < bw:
                                    bw = catch
                            bw = max(bw, 0.0)
                    if bw < math.inf:
                        wait = min(wait, bw)
            generation += 1
            if wait < math.inf and not final:
                _push(heap_t, heap_s, heap_k, heap_a, size, seq, now + max(wait, 0.0), _CROSSING, generation)
                size += 1
                seq += 1
            if final:
                break
        # ------------------------------------------------------------ the next event
        if phase == 0:
            # the start, after the first refresh: each tanker route's tankers take their free berths (in
            # route order), then the impairments begin, in their order
            for r in range(n_r):
                if shuttle[r] and source[r] >= 0:  # a route no producer reaches has no tankers to run
                    for _ in range(tankers[r]):
                        if free_berths[r] > 0:
                            free_berths[r] -= 1
                            _push(heap_t, heap_s, heap_k, heap_a, size, seq, 0.0, _BERTH, r)
                            size += 1
                            seq += 1
                        else:
                            queued[r] += 1
            for i in range(n_i):
                _push(heap_t, heap_s, heap_k, heap_a, size, seq, 0.0 + start_day[i], _START, i)
                size += 1
                seq += 1
            phase = 1
        if size == 0 or heap_t[0] >= horizon:
            now = horizon
            phase = 2
            pending_refresh = True
            continue
        now, kind, arg = heap_t[0], heap_k[0], heap_a[0]
        _pop(heap_t, heap_s, heap_k, heap_a, size)
        size -= 1
        if size + 2 * n_k + 4 > cap_heap or n_dis >= cap_lifts:  # room for what this event and its refresh push
            status = 2
            break
        if kind == _CROSSING:
            pending_refresh = arg == generation
        elif kind == _START or kind == _END:
            i = arg
            r = route[i]  # -1: a producer's output, which changes no route
            was_pipe, was_out = (pipe[r], out[r]) if r >= 0 else (0.0, 0.0)
            if storm[i]:
                storms[r] += 1 if kind == _START else -1
                if kind == _END and shuttle[r] and storms[r] == 0:
                    _push(heap_t, heap_s, heap_k, heap_a, size, seq, now, _CALM, r)
                    size += 1
                    seq += 1
            else:
                active[i] = kind == _START
                fac[target[i]] = _factor_of(h, active, target[i])
            if r >= 0:
                pipe[r], out[r] = _capacities(m, r, fac, storms[r] > 0)
                _rooms(m, r, fac, rooms)
                for q in range(n_r):
                    avail[q] = _availability(m, q, fac, storms, pipe[q], out[q], nominal_pipe, nominal_out)
            if kind == _START:
                _push(heap_t, heap_s, heap_k, heap_a, size, seq, now + max(end_day[i] - start_day[i], 0.0),
                      _END, i)
                size += 1
                seq += 1
            elif r >= 0 and (pipe[r] > was_pipe or out[r] > was_out):
                rose = r
            if r >= 0 and (pipe[r] != was_pipe or out[r] != was_out):
                changed = r
            pending_refresh = True
        elif kind == _BERTH:  # a tanker takes a berth and asks for a cargo
            r = arg
            ahead = lifted_bbl[r] / committed_bpd[r] if committed_bpd[r] > 0 else -math.inf
            behind = committed_bpd[r] > 0 and now >= ahead - _slack(now)
            p_ = r if behind else n_r + r
            req_count += 1
            j = n_req - 1  # insert in (priority, sequence) order
            while j >= 0 and req_prio[j] > p_:
                req_prio[j + 1], req_seq[j + 1], req_route[j + 1] = req_prio[j], req_seq[j], req_route[j]
                j -= 1
            req_prio[j + 1], req_seq[j + 1], req_route[j + 1] = p_, req_count, r
            n_req += 1
            pending_refresh = True
        elif kind == _AT_PORT:
            r = arg
            if free_berths[r] > 0:
                free_berths[r] -= 1
                _push(heap_t, heap_s, heap_k, heap_a, size, seq, now, _BERTH, r)
                size += 1
                seq += 1
            else:
                queued[r] += 1
        elif kind == _LOADED or kind == _CALM:  # loaded, or calm again: sail (and sail back) unless a storm is on
            r = arg
            sail = 1 if kind == _LOADED else to_sail[r]
            back = 0 if kind == _LOADED else to_sail_back[r]
            if kind == _CALM and storms[r] == 0:
                to_sail[r], to_sail_back[r] = 0, 0
            elif kind == _LOADED and storms[r] > 0:
                to_sail[r] += 1
            if storms[r] == 0:
                for _ in range(sail):  # leave the berth to the next tanker, and sail
                    _push(heap_t, heap_s, heap_k, heap_a, size, seq, now, _RELEASE, r)
                    size += 1
                    seq += 1
                    _push(heap_t, heap_s, heap_k, heap_a, size, seq, now + (voyage_days[r] + unload_days[r]),
                          _DISCHARGED, r)
                    size += 1
                    seq += 1
                for _ in range(back):
                    _push(heap_t, heap_s, heap_k, heap_a, size, seq, now + voyage_days[r], _AT_PORT, r)
                    size += 1
                    seq += 1
        elif kind == _LIFTED:  # the tanker goes on with its cargo: loading
            _push(heap_t, heap_s, heap_k, heap_a, size, seq, now + load_days[arg], _LOADED, arg)
            size += 1
            seq += 1
        elif kind == _RELEASE:  # the berth goes to the first tanker queued for it
            r = arg
            if queued[r] > 0:
                queued[r] -= 1
                _push(heap_t, heap_s, heap_k, heap_a, size, seq, now, _BERTH, r)
                size += 1
                seq += 1
            else:
                free_berths[r] += 1
        elif kind == _DISCHARGED:
            r = arg
            dis_route[n_dis], dis_day[n_dis] = r, now
            n_dis += 1
            if storms[r] > 0:
                to_sail_back[r] += 1
            else:
                _push(heap_t, heap_s, heap_k, heap_a, size, seq, now + voyage_days[r], _AT_PORT, r)
                size += 1
                seq += 1
    return (status, now, events, *_cut(rows, times, rec_level, rec_net, rec_prod, rec_flow, rec_fac, rec_owed,
                                       rec_owed_net, rec_foreign, lift_route[:n_lift], lift_day[:n_lift],
                                       dis_route[:n_dis], dis_day[:n_dis]))


@_jit
def _run_many(m, start_day, end_day, factor, target, route, storm, hit_starts, by_target_start, by_target,  # type: ignore[no-untyped-def]
              by_target_starts, room):
    """Replay several replications' impairments (run i's are ``hit_starts[i]`` to ``hit_starts[i + 1] - 1``
    of the per-impairment arrays, its ``by_target_start`` row i, its ``by_target`` from ``by_target_starts``)
    on ``m`` in one call. A run that needs more room than ``room`` (records, events due, lifts, backlog
    segments) runs again with twice as much; ``room`` keeps what the runs needed. Returns (status, day,
    events [n], starts [n + 1], times, levels, nets, production, flows, factors, backlogs, backlog rates,
    foreign flows ([columns x records], the runs one after the other), (lift routes, days, starts),
    (discharge routes, days, starts)); status 1 if the last run in ``events`` did not progress at ``day``."""
    n = len(hit_starts) - 1
    events = np.zeros(n, dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    lift_starts = np.zeros(n + 1, dtype=np.int64)
    dis_starts = np.zeros(n + 1, dtype=np.int64)
    n_n, n_p, n_l, n_r = len(m.node_capacity_bbl), len(m.nominal_bpd), len(m.pipelines), len(m.capacity_bpd)
    times = np.empty(0)
    level, net = np.empty((n_n, 0)), np.empty((n_n, 0))
    prod, owed, owed_net = np.empty((n_p, 0)), np.empty((n_p, 0)), np.empty((n_p, 0))
    flow, fac = np.empty((n_l, 0)), np.empty((n_r, 0))
    foreign = np.empty((len(m.foreign_route), 0))
    lift_route, lift_day = np.empty(0, dtype=np.int64), np.empty(0)
    dis_route, dis_day = np.empty(0, dtype=np.int64), np.empty(0)
    status, day = 0, 0.0
    for i in range(n):
        a, b = hit_starts[i], hit_starts[i + 1]
        h = Hits(start_day[a:b], end_day[a:b], factor[a:b], target[a:b], route[a:b], storm[a:b], by_target_start[i],
                 by_target[by_target_starts[i]:by_target_starts[i + 1]])
        while True:
            out = _run(m, h, room[0], room[1], room[2], room[3])
            if out[0] != 2:
                break
            for j in range(4):
                room[j] *= 2
        status, day, events[i] = out[0], out[1], out[2]
        rows = len(out[3])
        used, total = starts[i], starts[i] + rows
        times = _grown1(times, used, total, n, i)
        times[used:total] = out[3]
        level = _put(_grown2(level, used, total, n, i), used, out[4])
        net = _put(_grown2(net, used, total, n, i), used, out[5])
        prod = _put(_grown2(prod, used, total, n, i), used, out[6])
        flow = _put(_grown2(flow, used, total, n, i), used, out[7])
        fac = _put(_grown2(fac, used, total, n, i), used, out[8])
        owed = _put(_grown2(owed, used, total, n, i), used, out[9])
        owed_net = _put(_grown2(owed_net, used, total, n, i), used, out[10])
        foreign = _put(_grown2(foreign, used, total, n, i), used, out[11])
        starts[i + 1] = total
        lift_route, lift_day = _append_cargoes(lift_route, lift_day, lift_starts, n, i, out[12], out[13])
        dis_route, dis_day = _append_cargoes(dis_route, dis_day, dis_starts, n, i, out[14], out[15])
        if status != 0:
            events = events[:i + 1]
            break
    end, lifts, discharges = starts[n], lift_starts[n], dis_starts[n]
    return (status, day, events, starts, times[:end], level[:, :end], net[:, :end], prod[:, :end], flow[:, :end],
            fac[:, :end], owed[:, :end], owed_net[:, :end], foreign[:, :end],
            (lift_route[:lifts], lift_day[:lifts], lift_starts), (dis_route[:discharges], dis_day[:discharges], dis_starts))


@_inline
def _room(have, total, n, i):  # type: ignore[no-untyped-def]
    """Room for ``total`` values after run i of n, and for the runs to come at the rate so far, with a margin."""
    return max(2 * have, total + total * (n - i - 1) * 9 // (8 * (i + 1)) + 16)


@_inline
def _grown1(values, used, total, n, i):  # type: ignore[no-untyped-def]
    """``values`` with room for ``total``: itself, or a larger copy of its first ``used``."""
    if total <= len(values):
        return values
    more = np.empty(_room(len(values), total, n, i), dtype=values.dtype)
    more[:used] = values[:used]
    return more


@_inline
def _grown2(records, used, total, n, i):  # type: ignore[no-untyped-def]
    """``records`` [columns x records] with room for ``total`` records: itself, or a larger copy of its first
    ``used``."""
    if total <= records.shape[1]:
        return records
    more = np.empty((records.shape[0], _room(records.shape[1], total, n, i)))
    more[:, :used] = records[:, :used]
    return more


@_inline
def _append_cargoes(routes, days, starts, n, i, run_routes, run_days):  # type: ignore[no-untyped-def]
    """Run i's (route, day) pairs after those of the runs before it; ``starts[i + 1]`` is where they end."""
    used, total = starts[i], starts[i] + len(run_routes)
    routes, days = _grown1(routes, used, total, n, i), _grown1(days, used, total, n, i)
    routes[used:total], days[used:total] = run_routes, run_days
    starts[i + 1] = total
    return routes, days


@_inline
def _put(records, used, rows):  # type: ignore[no-untyped-def]
    """A run's records [records x columns] into ``records`` [columns x records] from column ``used``."""
    for j in range(rows.shape[1]):
        for t in range(rows.shape[0]):
            records[j, used + t] = rows[t, j]
    return records
