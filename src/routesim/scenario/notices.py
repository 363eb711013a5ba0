"""Inputs that are valid but change nothing: said as warnings, so that a run does not pass them silently."""

from __future__ import annotations

from .model import Scenario


def notices(scenario: Scenario, replications: int | None = None) -> list[str]:
    """One line per input of ``scenario`` that has no effect, each naming its key path; ``replications`` is
    how many a run will do (default: the scenario's)."""
    out = []
    horizon = float(scenario.horizon_days)
    for i, outage in enumerate(scenario.outages):
        start, end = outage.window_days(scenario.start_date)
        key = f"outages[{i}]"
        if start >= horizon:
            out.append(f"{key}: starts on day {start:g}, at or after the horizon ({horizon:g} days): it changes nothing")
        elif end <= start:
            out.append(f"{key}: lasts no time: it changes nothing")
        elif outage.capacity_factor >= 1:
            out.append(f"{key}.capacity_factor: 1 leaves {outage.target} at full capacity: it changes nothing")
    if scenario.sharing_rule == "stranded_first" and len(scenario.producers) == 1:
        out.append("sharing_rule: stranded_first with one producer: no route is shared, so it changes nothing")
    disrupted = scenario.outages or scenario.incidents or scenario.failures or scenario.weather
    for name, route in scenario.routes.items():
        if route.reroute_lag_days > 0 and not disrupted:
            out.append(f"routes.{name}.reroute_lag_days: nothing in the scenario impairs a route, so no oil is "
                       "displaced and the lag changes nothing")
    n = scenario.replications if replications is None else replications
    if n > 1 and not (scenario.has_random_disruptions or scenario.market.brent_process):
        out.append(f"replications: {n:,}, but nothing in the scenario is random (no incidents, "
                   "failures, weather or Brent process): every replication is the same, and one gives the answer")
    return out
