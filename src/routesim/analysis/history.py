"""Replays of history against what was reported: the figures a report gives, measured on a trace.

``scenarios/history/reported.csv`` lists, for each replayed scenario, the reported figures with their
source and the band the simulation must fall in (``check``) or is only set beside (``contrast``, a
difference that docs/validation.md explains). :func:`compare` runs the scenarios and measures each one.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routesim.engine import simulate
from routesim.engine.trace import Trace
from routesim.errors import ScenarioError
from routesim.results import measure
from routesim.scenario.loader import load_scenario
from routesim.scenario.model import Scenario, TankerShuttleRoute
from routesim.units import BBL_PER_TONNE_CPC_BLEND

STOPPED_SHARE = 1e-6
"""Loading below this share of the route's capacity counts as no loading."""


@dataclass(frozen=True)
class Reported:
    """One reported figure and how the replay must compare with it."""

    scenario: str
    """Scenario file, relative to the CSV."""
    figure: str
    """What is measured: one of :data:`FIGURES`."""
    route: str
    start: dt.date
    end: dt.date
    """The window the figure covers, end exclusive."""
    reported: float
    low: float
    high: float
    """The band a ``check`` must fall in, stated before the replay ran (NaN for a contrast without one)."""
    unit: str
    status: str
    """``check``: tested to fall within [low, high]; ``miss``: a check the model fails, tested to stay outside
    its band until a change explains it (then it becomes a check); ``contrast``: shown beside it, no band."""
    source: str

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


def _window(scenario: Scenario, start: dt.date, end: dt.date) -> tuple[float, float]:
    """Two dates as days from the scenario's start, clipped to the horizon [days]."""

    def day(d: dt.date) -> float:
        return min(max(float((d - scenario.start_date).days), 0.0), float(scenario.horizon_days))

    return day(start), day(end)


def loaded_bbl(scenario: Scenario, trace: Trace, route: str, start: dt.date, end: dt.date,
               country: bool = False) -> float:
    """What ``route`` loaded (a pipeline: what left its terminal or its end, every shipper's, or with
    ``country`` only the country's oil; a tanker route: cargoes lifted) between two dates [bbl]."""
    a, b = _window(scenario, start, end)
    spec = scenario.routes[route]
    if isinstance(spec, TankerShuttleRoute):
        loads = trace.loads[route]
        return spec.tanker_capacity_bbl * float(np.count_nonzero((loads >= a) & (loads < b)))
    flow = trace.country_flow_bpd(route) if country else trace.flows_bpd[route]
    cum = measure.cumulative(trace, flow, np.array([a, b]))
    return float(cum[1] - cum[0])


def shut_in_bbl(scenario: Scenario, trace: Trace, start: dt.date, end: dt.date) -> float:
    """Production lost between two dates: nominal less produced [bbl]."""
    a, b = _window(scenario, start, end)
    cum = measure.cumulative(trace, trace.production_bpd, np.array([a, b]))
    return scenario.production_bpd * (b - a) - float(cum[1] - cum[0])


def zero_loading_days(scenario: Scenario, trace: Trace, route: str, start: dt.date, end: dt.date) -> float:
    """Time with no loading on pipeline ``route`` between two dates [days]."""
    a, b = _window(scenario, start, end)
    stopped = (trace.flows_bpd[route] <= STOPPED_SHARE * scenario.routes[route].capacity_bpd).astype(float)
    cum = measure.cumulative(trace, stopped, np.array([a, b]))
    return float(cum[1] - cum[0])


def days_to_cut(scenario: Scenario, trace: Trace, start: dt.date, end: dt.date) -> float:
    """From ``start`` to the first production cut before ``end`` (inf if none) [days]."""
    a, b = _window(scenario, start, end)
    cut = (trace.production_bpd < scenario.production_bpd * (1 - 1e-9)) & (trace.times >= a) & (trace.times < b)
    return float(trace.times[np.argmax(cut)] - a) if cut.any() else float("inf")


def days_to_fill(scenario: Scenario, trace: Trace, route: str, start: dt.date, end: dt.date) -> float:
    """From ``start`` until ``route``'s tank farm is full, before ``end`` (inf if it does not fill) [days]."""
    a, b = _window(scenario, start, end)
    farm = scenario.routes[route].tank_farm
    if farm is None:
        raise ScenarioError([f"routes.{route}.tank_farm: the figure days_to_fill needs a tank farm"])
    level = trace.levels_bbl[f"{route}/tank_farm"]
    full = (level >= farm.storage_bbl * (1 - 1e-9)) & (trace.times >= a) & (trace.times < b)
    return float(trace.times[np.argmax(full)] - a) if full.any() else float("inf")


def route_share(scenario: Scenario, trace: Trace, route: str, start: dt.date, end: dt.date) -> float:
    """``route``'s share of the tonnes every route loaded between two dates (each route's own bbl/t) [-]."""
    tonnes = {r: loaded_bbl(scenario, trace, r, start, end) / spec.bbl_per_tonne for r, spec in scenario.routes.items()}
    total = sum(tonnes.values())
    return tonnes[route] / total if total > 0 else 0.0


def simulated(row: Reported, scenario: Scenario, trace: Trace) -> float:
    """The simulated value of ``row``'s figure, in ``row.unit``."""
    s, t, r, a, b = scenario, trace, row.route, row.start, row.end
    if row.figure in ("loaded_mt", "country_loaded_mt"):
        return loaded_bbl(s, t, r, a, b, row.figure == "country_loaded_mt") / s.routes[r].bbl_per_tonne / 1e6
    if row.figure == "shut_in_kt":  # the fields that cut are CPC's: CPC Blend
        return shut_in_bbl(s, t, a, b) / BBL_PER_TONNE_CPC_BLEND / 1e3
    if row.figure == "zero_loading_days":
        return zero_loading_days(s, t, r, a, b)
    if row.figure == "days_to_cut":
        return days_to_cut(s, t, a, b)
    if row.figure == "days_to_fill":
        return days_to_fill(s, t, r, a, b)
    if row.figure == "route_share_percent":
        return 100 * route_share(s, t, r, a, b)
    raise ScenarioError([f"figure: unknown figure {row.figure!r} (one of {', '.join(FIGURES)})"])


STATUSES = ("check", "miss", "contrast")
FIGURES = ("loaded_mt", "country_loaded_mt", "shut_in_kt", "zero_loading_days", "days_to_cut", "days_to_fill",
           "route_share_percent")


def read_reported(path: str | Path) -> list[Reported]:
    """The rows of a reported-figures CSV."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for i, row in enumerate(rows, start=2):
        try:
            if row["status"] not in STATUSES:
                raise ValueError(f"status: {row['status']!r} is not one of {', '.join(STATUSES)}")
            out.append(Reported(
                scenario=row["scenario"], figure=row["figure"], route=row["route"],
                start=dt.date.fromisoformat(row["start"]), end=dt.date.fromisoformat(row["end"]),
                reported=float(row["reported"]), low=float(row["low"] or "nan"), high=float(row["high"] or "nan"),
                unit=row["unit"], status=row["status"], source=row["source"],
            ))
        except (KeyError, ValueError, TypeError) as exc:
            raise ScenarioError([f"{path}: line {i}: {exc}"]) from exc
    return out


def compare(path: str | Path) -> list[tuple[Reported, float]]:
    """Every reported figure of the CSV at ``path`` with its simulated value (replication 0 of each scenario)."""
    path = Path(path)
    rows = read_reported(path)
    runs: dict[str, tuple[Scenario, Trace]] = {}
    out = []
    for row in rows:
        if row.scenario not in runs:
            scenario = load_scenario(path.parent / row.scenario)
            runs[row.scenario] = (scenario, simulate(scenario))
        out.append((row, simulated(row, *runs[row.scenario])))
    return out
