"""A k-of-n terminal's availability: how long each terminal had how many of its moorings up.

A mooring is up while no impairment of its own stops it (a factor of 0 on ``route/<mooring>``); one at part
of its rate is up. Stops of the whole terminal or route, and storms, stop the loading but are not mooring
states: the route's availability counts them. The terminal is available while at least ``active_moorings``
of its moorings are up. Impairments are drawn before the engine runs, so both engines give the same states.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from routesim.scenario.model import PipelineRoute, Scenario

if TYPE_CHECKING:
    from routesim.engine.disruptions import Impairment


def terminals(scenario: Scenario) -> tuple[tuple[str, int], ...]:
    """Each route with a terminal and how many moorings it has, in route order."""
    return tuple((name, len(route.terminal.moorings)) for name, route in scenario.routes.items()
                 if isinstance(route, PipelineRoute) and route.terminal is not None)


def state_days(scenario: Scenario, impairments: Iterable[Impairment]) -> dict[str, np.ndarray]:
    """For each terminal, the days of the horizon with exactly j of its moorings up, j = 0..n [days]."""
    horizon = float(scenario.horizon_days)
    stops = [h for h in impairments if h.factor <= 0.0 and not h.storm and h.end_day > 0.0]
    out = {}
    for name, n in terminals(scenario):
        route = scenario.routes[name]
        assert isinstance(route, PipelineRoute) and route.terminal is not None
        which = {f"{name}/{m}": i for i, m in enumerate(route.terminal.moorings)}
        own = [(which[h.target], max(h.start_day, 0.0), min(h.end_day, horizon)) for h in stops if h.target in which]
        days = np.zeros(n + 1)
        if not own:
            days[n] = horizon
            out[name] = days
            continue
        edges = np.unique([0.0, horizon, *(t for _, a, b in own for t in (a, b))])
        mid = (edges[:-1] + edges[1:]) / 2
        down = np.zeros((n, len(mid)), dtype=bool)
        for i, a, b in own:
            down[i] |= (a <= mid) & (mid < b)
        out[name] = np.bincount(n - down.sum(axis=0), weights=np.diff(edges), minlength=n + 1).astype(float)
    return out


def state_table(scenario: Scenario, replications: Sequence[Iterable[Impairment]]) -> np.ndarray:
    """:func:`state_days` of each replication's impairments, a row each, the terminals one after the other
    [replications x sum of (moorings + 1)] (days)."""
    if not _moorings_targeted(scenario):  # every mooring up throughout, in every replication
        return np.tile(np.concatenate([np.zeros(0), *state_days(scenario, ()).values()]), (len(replications), 1))
    table = np.empty((len(replications), sum(n + 1 for _, n in terminals(scenario))))
    for i, impairments in enumerate(replications):
        table[i] = np.concatenate([np.zeros(0), *state_days(scenario, impairments).values()])
    return table


def _moorings_targeted(scenario: Scenario) -> bool:
    """Whether an outage, incident or failure of the scenario targets a mooring."""
    targets = {o.target for o in scenario.outages} | {i.target for i in scenario.incidents} | {
        f.target for f in scenario.failures}
    return any(f"{name}/{m}" in targets for name, route in scenario.routes.items()
               if isinstance(route, PipelineRoute) and route.terminal is not None for m in route.terminal.moorings)


def availability(days_by_up: np.ndarray, active_moorings: int, horizon_days: float) -> np.ndarray:
    """Share of the horizon with at least ``active_moorings`` moorings up, from :func:`state_days` (one row
    per state, j = 0..n; further axes as given) [-]."""
    share: np.ndarray = days_by_up[active_moorings:].sum(axis=0) / horizon_days
    return share
