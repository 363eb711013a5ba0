"""Each route's planned flow: what it carries, producer by producer, in the scenario's no-disruption steady
state (pure; both engines take their plans from :func:`planned_bpd`).

The steady state is the dispatch of :func:`.dispatch.allocate` (under the scenario's sharing rule) with
every part available, each producer sending its nominal production and no stock: a pipeline taking what it
delivers, a tanker route's load-port tanks what its tankers carry away
(:func:`.dispatch.shuttle_throughput_bpd`), the committed parts first, then each route up to its plan
(``plan_bpd``), then what production is left into the spare above the plans. So a route's planned flow
is what it carries in a year without incidents, its spare part included.
"""

from __future__ import annotations

import math

from routesim.scenario.model import PipelineRoute, Route, Scenario, TankerShuttleRoute

from . import capacity
from .dispatch import Stretch, Supplier, allocate, shuttle_throughput_bpd


def entries(scenario: Scenario) -> list[tuple[str, int]]:
    """The entries producers share, in priority order, as both engines order them: (route, part of
    :mod:`.capacity`): the committed parts, then the planned ones, then the spare above a ``plan_bpd``, each
    in netback order."""
    order = scenario.routes_by_netback()
    feeds = [name for name in order
             if isinstance(scenario.routes[name], PipelineRoute) or scenario.routes[name].tank_farm is not None]
    return ([(n, capacity.COMMITTED) for n in feeds if scenario.routes[n].committed_bpd > 0]
            + [(n, capacity.PLANNED) for n in feeds]
            + [(n, capacity.SPARE) for n in feeds if scenario.routes[n].plan_bpd is not None])


def quotas_bpd(scenario: Scenario) -> tuple[tuple[float, ...], ...]:
    """Per producer (in scenario order), its quota weight in each entry of :func:`entries`: its nomination
    on the entry's route, else its production; all empty when no producer nominates (the weight is then its
    production everywhere) [bbl/day]."""
    if not any(p.nominations_bpd for p in scenario.producers.values()):
        return tuple(() for _ in scenario.producers)
    shared = entries(scenario)
    return tuple(tuple(p.nominations_bpd.get(name, p.production_bpd) for name, _ in shared)
                 for p in scenario.producers.values())


def plan_cap_bpd(route: Route) -> float:
    """A route's plan as a cap on its planned part: ``plan_bpd``, inf without one [bbl/day]."""
    return math.inf if route.plan_bpd is None else route.plan_bpd


def joining(scenario: Scenario, name: str) -> tuple[tuple[int, ...], tuple[frozenset[int], ...]]:
    """Where producers' oil enters route ``name``: the segments they join at (indices, head first; ``(0,)``
    when every producer enters at the head), and per stretch between two joining points, the producers (by
    index, in scenario order) whose oil passes it (see :func:`.capacity.stretches_bpd`)."""
    at = {i: scenario.joins_at(p, name) for i, p in enumerate(scenario.producers) if name in scenario.reach(p)}
    starts = tuple(sorted(set(at.values()))) or (0,)
    return starts, tuple(frozenset(i for i, j in at.items() if j <= start) for start in starts[:-1])


def steady_entry_bpd(name: str, scenario: Scenario) -> float:
    """What route ``name`` takes from producers in the steady state: what it carries with every part up
    (below the last joining point, where producers join part-way) [bbl/day]."""
    route = scenario.routes[name]
    if isinstance(route, PipelineRoute):
        caps = capacity.pipeline_bpd(name, route, {}, False)
        starts, _ = joining(scenario, name)
        if starts != (0,):
            return min(capacity.stretches_bpd(name, route, {}, starts)[-1], caps.delivery_bpd)
        return min(caps)
    assert isinstance(route, TankerShuttleRoute)
    cycle = route.load_days + 2 * route.voyage_days + route.unload_days
    through = shuttle_throughput_bpd(route.capacity_bpd, route.tankers, route.tanker_capacity_bbl, route.load_berths,
                                     route.load_days, cycle)
    return min(capacity.shuttle_bpd(name, route, {}, False).intake_bpd, through)


def planned_bpd(scenario: Scenario) -> tuple[tuple[float, ...], ...]:
    """Per producer (in scenario order), its planned flow into each entry of :func:`entries` [bbl/day]."""
    shared = entries(scenario)
    caps = [capacity.entry_part_bpd(steady_entry_bpd(name, scenario), scenario.routes[name].committed_bpd,
                                    plan_cap_bpd(scenario.routes[name]), part) for name, part in shared]
    suppliers = []
    for (producer, spec), quotas in zip(scenario.producers.items(), quotas_bpd(scenario)):
        reach = scenario.reach(producer)
        usable = frozenset(e for e, (name, _) in enumerate(shared) if name in reach)
        suppliers.append(Supplier(spec.production_bpd, True, False, spec.production_bpd, usable, quotas=quotas))
    number: dict[str, int] = {}
    routes = [number.setdefault(name, len(number)) for name, _ in shared]  # an entry's route, as a number
    above = {}
    for name, r in number.items():
        route = scenario.routes[name]
        starts, passing = joining(scenario, name)
        if isinstance(route, PipelineRoute) and starts != (0,):
            rooms = capacity.stretches_bpd(name, route, {}, starts)
            above[r] = [Stretch(members, room) for members, room in zip(passing, rooms)]
    return allocate(suppliers, caps, routes, scenario.sharing_rule == "stranded_first", above).flows_bpd


def entry_plans_bpd(plans: tuple[tuple[float, ...], ...]) -> tuple[float, ...]:
    """Each entry's planned intake: its producers' plans summed, in producer order [bbl/day]."""
    return tuple(sum((p[e] for p in plans), 0.0) for e in range(len(plans[0]) if plans else 0))


def route_plans_bpd(scenario: Scenario, plans: tuple[tuple[float, ...], ...]) -> tuple[float, ...]:
    """Each route's planned intake, in netback order: its entries' plans summed, in entry order (0 for a
    route producers do not send oil to as a rate) [bbl/day]."""
    total = dict.fromkeys(scenario.routes_by_netback(), 0.0)
    for (name, _), planned in zip(entries(scenario), entry_plans_bpd(plans)):
        total[name] += planned
    return tuple(total.values())
