"""Each route's planned flow: what it carries, producer by producer, in the scenario's no-disruption steady
state (pure; both engines take their plans from :func:`planned_bpd`).

The steady state is the dispatch of :func:`.dispatch.allocate` (under the scenario's sharing rule) with
every part available, each producer sending its nominal production and no stock: a pipeline taking what it
delivers, a tanker route's load-port tanks what its tankers carry away
(:func:`.dispatch.shuttle_throughput_bpd`), the committed parts first.
"""

from __future__ import annotations

import math

from routesim.scenario.model import PipelineRoute, Scenario, TankerShuttleRoute

from . import capacity
from .dispatch import Supplier, allocate, shuttle_throughput_bpd


def entries(scenario: Scenario) -> list[tuple[str, bool]]:
    """The entries producers share, in priority order: (route, committed part), as both engines order them."""
    order = scenario.routes_by_netback()
    feeds = [name for name in order
             if isinstance(scenario.routes[name], PipelineRoute) or scenario.routes[name].tank_farm is not None]
    return [(n, True) for n in feeds if scenario.routes[n].committed_bpd > 0] + [(n, False) for n in feeds]


def steady_entry_bpd(name: str, scenario: Scenario) -> float:
    """What route ``name`` takes from producers in the steady state: what it carries with every part up, at
    most its plan (``plan_bpd``) [bbl/day]."""
    route = scenario.routes[name]
    plan = math.inf if route.plan_bpd is None else route.plan_bpd
    if isinstance(route, PipelineRoute):
        return min(min(capacity.pipeline_bpd(name, route, {}, False)), plan)
    assert isinstance(route, TankerShuttleRoute)
    cycle = route.load_days + 2 * route.voyage_days + route.unload_days
    through = shuttle_throughput_bpd(route.capacity_bpd, route.tankers, route.tanker_capacity_bbl, route.load_berths,
                                     route.load_days, cycle)
    return min(capacity.shuttle_bpd(name, route, {}, False).intake_bpd, through, plan)


def planned_bpd(scenario: Scenario) -> tuple[tuple[float, ...], ...]:
    """Per producer (in scenario order), its planned flow into each entry of :func:`entries` [bbl/day]."""
    shared = entries(scenario)
    caps = []
    for name, committed in shared:
        cap = steady_entry_bpd(name, scenario)
        promised = scenario.routes[name].committed_bpd
        if promised > 0:
            split = capacity.committed_split_bpd(cap, promised)
            cap = split.committed_bpd if committed else split.rest_bpd
        caps.append(cap)
    suppliers = []
    for producer, spec in scenario.producers.items():
        reach = scenario.reach(producer)
        usable = frozenset(e for e, (name, _) in enumerate(shared) if name in reach)
        suppliers.append(Supplier(spec.production_bpd, True, False, spec.production_bpd, usable))
    routes = [next(i for i, (other, _) in enumerate(shared) if other == name) for name, _ in shared]
    return allocate(suppliers, caps, routes, scenario.sharing_rule == "stranded_first").flows_bpd


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
