"""From a trace to volumes, money and daily series: the engine observes, this module summarises.

Every figure is an exact integral of the trace's piecewise-constant rates and piecewise-linear levels,
evaluated with numpy, so its cost grows with events and output days, never with a time step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fiscal, market
from .fiscal import INSTRUMENTS, STREAMS
from .model import Scenario, TankerShuttleRoute
from .engine.trace import Trace
from .units import DAYS_PER_YEAR

LOSSES = (
    "revenue_loss_usd",
    "government_loss_usd",
    "budget_loss_usd",
    "national_fund_loss_usd",
    "company_loss_usd",
    *(f"{i}_loss_usd" for i in INSTRUMENTS),
)
"""Money lost to a disruption (baseline minus run), by recipient."""
METRICS = (
    "exported_bbl",
    "shut_in_bbl",
    "export_revenue_usd",
    "revenue_loss_usd",
    "government_revenue_usd",
    "budget_loss_usd",
    "budget_loss_share",
    "export_loss_bbl",
    "produced_bbl",
    "in_transit_bbl",
    "storage_end_bbl",
    "tanker_cargo_bbl",
    *(stream for stream in STREAMS if stream not in ("export_revenue_usd", "government_revenue_usd")),
    *(loss for loss in LOSSES if loss not in ("revenue_loss_usd", "budget_loss_usd")),
)
"""Metrics of one replication, in report order (units in the names; shares are fractions)."""


@dataclass(frozen=True)
class Volumes:
    """Where the oil of one run is at the horizon [bbl]."""

    produced_bbl: float
    shut_in_bbl: float
    exported_bbl: dict[str, float]
    in_transit_bbl: dict[str, float]
    tanker_cargo_bbl: dict[str, float]
    storage_end_bbl: float
    availability: dict[str, float]
    impaired_days: dict[str, float]


def cumulative(trace: Trace, rates: np.ndarray, at: np.ndarray | float) -> np.ndarray:
    """Integral from 0 to ``at`` of a rate that is constant between records [rate x days]."""
    cum = np.concatenate(([0.0], np.cumsum(rates[:-1] * np.diff(trace.times))))
    return np.asarray(np.interp(at, trace.times, cum, left=0.0))


def level_at(trace: Trace, at: np.ndarray, node: str | None = None) -> np.ndarray:
    """Level of storage node ``node`` (default: every node together) at ``at``, after any lift at that
    very time [bbl]."""
    i = np.searchsorted(trace.times, at, side="right") - 1
    i = np.clip(i, 0, len(trace.times) - 1)
    nodes = list(trace.levels_bbl) if node is None else [node]
    return np.asarray(sum(trace.levels_bbl[n][i] + trace.net_bpd[n][i] * (at - trace.times[i]) for n in nodes))


def volumes(scenario: Scenario, trace: Trace) -> Volumes:
    """Produced, exported, in transit, on tankers and in storage at the horizon, and route availability."""
    h = trace.horizon_days
    exported, transit, cargo, availability, impaired = {}, {}, {}, {}, {}
    for name, route in scenario.routes.items():
        if isinstance(route, TankerShuttleRoute):
            q = route.tanker_capacity_bbl
            sold = trace.discharges[name] + route.total_transit_days
            exported[name] = q * float(np.count_nonzero(sold <= h))
            transit[name] = q * float(np.count_nonzero(sold > h))
            cargo[name] = q * float(len(trace.loads[name]) - len(trace.discharges[name]))
        else:
            entered = trace.flows_bpd[name]
            exported[name] = float(cumulative(trace, entered, h - route.total_transit_days))
            transit[name] = float(cumulative(trace, entered, h)) - exported[name]
            cargo[name] = 0.0
        factor = trace.capacity_factor[name]
        availability[name] = float(cumulative(trace, factor, h)) / h
        impaired[name] = float(cumulative(trace, (factor < 1.0).astype(float), h))
    produced = float(cumulative(trace, trace.production_bpd, h))
    return Volumes(
        produced_bbl=produced,
        shut_in_bbl=scenario.production_bpd * h - produced,
        exported_bbl=exported,
        in_transit_bbl=transit,
        tanker_cargo_bbl=cargo,
        storage_end_bbl=float(trace.storage_bbl[-1]),
        availability=availability,
        impaired_days=impaired,
    )


def impaired_by_day(trace: Trace) -> dict[str, np.ndarray]:
    """Per route, the share of each output day with any impairment [-]."""
    edges = day_edges(trace.horizon_days)
    width = np.diff(edges)
    return {r: np.diff(cumulative(trace, (f < 1.0).astype(float), edges)) / width
            for r, f in trace.capacity_factor.items()}


@dataclass(frozen=True)
class Measured:
    """A trace with what the money and daily series need of it, measured once (a baseline serves many runs)."""

    trace: Trace
    volumes: Volumes
    exported_by_day: dict[str, np.ndarray]
    """Per route, barrels reaching the sale point in each output day [bbl]."""
    impaired_by_day: dict[str, np.ndarray]
    """Per route, the share of each output day with any impairment [-]."""


def measure(scenario: Scenario, trace: Trace) -> Measured:
    """Volumes, daily exports and daily impairment of ``trace``."""
    return Measured(trace, volumes(scenario, trace), exported_by_day(scenario, trace), impaired_by_day(trace))


def money_by_day(scenario: Scenario, run: Measured, brent: np.ndarray) -> dict[str, np.ndarray]:
    """The money streams of :func:`routesim.fiscal.split` for each output day [USD]."""
    impaired = run.impaired_by_day
    moved = market.moved_brent(scenario, brent, impaired)  # the price bands follow Brent as it moved
    return fiscal.split(scenario, run.exported_by_day, moved, market.sale_prices(scenario, brent, impaired))


def metrics(
    scenario: Scenario, run: Volumes, baseline: Volumes, money: dict[str, np.ndarray], base_money: dict[str, np.ndarray]
) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one replication and its no-disruption baseline."""
    total = {k: float(v.sum()) for k, v in money.items()}
    base = {k: float(v.sum()) for k, v in base_money.items()}
    budget_usd = scenario.fiscal.budget_revenue_usd_per_year * scenario.horizon_days / DAYS_PER_YEAR
    exported = sum(run.exported_bbl.values())
    out = {
        "exported_bbl": exported,
        "shut_in_bbl": run.shut_in_bbl,
        "export_loss_bbl": sum(baseline.exported_bbl.values()) - exported,
        "produced_bbl": run.produced_bbl,
        "in_transit_bbl": sum(run.in_transit_bbl.values()),
        "storage_end_bbl": run.storage_end_bbl,
        "tanker_cargo_bbl": sum(run.tanker_cargo_bbl.values()),
        **total,
        "revenue_loss_usd": base["export_revenue_usd"] - total["export_revenue_usd"],
        "government_loss_usd": base["government_revenue_usd"] - total["government_revenue_usd"],
        "budget_loss_usd": base["budget_oil_revenue_usd"] - total["budget_oil_revenue_usd"],
        "national_fund_loss_usd": base["national_fund_revenue_usd"] - total["national_fund_revenue_usd"],
        "company_loss_usd": base["company_revenue_usd"] - total["company_revenue_usd"],
        **{f"{i}_loss_usd": base[f"{i}_usd"] - total[f"{i}_usd"] for i in INSTRUMENTS},
    }
    out["budget_loss_share"] = out["budget_loss_usd"] / budget_usd
    return {m: out[m] for m in METRICS}


def day_edges(horizon_days: float) -> np.ndarray:
    """Boundaries of the output days: 0, 1, ..., horizon [days]."""
    return np.append(np.arange(0.0, horizon_days, 1.0), horizon_days)


def exported_by_day(scenario: Scenario, trace: Trace) -> dict[str, np.ndarray]:
    """Per route, barrels reaching the sale point in each output day [bbl]."""
    edges = day_edges(trace.horizon_days)
    out = {}
    for name, route in scenario.routes.items():
        if isinstance(route, TankerShuttleRoute):
            sold = trace.discharges[name] + route.total_transit_days
            counts, _ = np.histogram(sold, bins=edges)
            out[name] = route.tanker_capacity_bbl * counts.astype(float)
        else:
            out[name] = np.diff(cumulative(trace, trace.flows_bpd[name], edges - route.total_transit_days))
    return out


def daily(
    scenario: Scenario,
    run: Measured,
    baseline: Measured,
    brent: np.ndarray,
    money: dict[str, np.ndarray],
    base_money: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Daily series of one replication: rates are day means, levels and cumulative sums at day end."""
    trace = run.trace
    edges = day_edges(trace.horizon_days)
    width = np.diff(edges)
    exported = run.exported_by_day
    revenue = np.cumsum(money["export_revenue_usd"])
    base_revenue = np.cumsum(base_money["export_revenue_usd"])
    budget_loss = np.cumsum(base_money["budget_oil_revenue_usd"] - money["budget_oil_revenue_usd"])
    production = np.diff(cumulative(trace, trace.production_bpd, edges)) / width
    series = {f"{r}_exported_bpd": v / width for r, v in exported.items()}
    series.update({f"baseline_{r}_exported_bpd": v / width for r, v in baseline.exported_by_day.items()})
    series["exported_bpd"] = sum(exported.values()) / width
    series.update({f"{r}_availability": np.diff(cumulative(trace, f, edges)) / width
                   for r, f in trace.capacity_factor.items()})
    series["storage_bbl"] = level_at(trace, edges[1:])
    if len(trace.levels_bbl) > 1:
        series.update({f"{n.replace('/', '_')}_storage_bbl": level_at(trace, edges[1:], n) for n in trace.levels_bbl})
    series["production_bpd"] = production
    if len(trace.production) > 1:
        series.update({f"{p}_production_bpd": np.diff(cumulative(trace, rate, edges)) / width
                       for p, rate in trace.production.items()})
    series["shut_in_bpd"] = scenario.production_bpd - production
    series["export_revenue_usd"] = revenue
    series["baseline_export_revenue_usd"] = base_revenue
    series["revenue_loss_usd"] = base_revenue - revenue
    series["budget_loss_usd"] = budget_loss
    series["brent_usd_per_bbl"] = market.moved_brent(scenario, brent, run.impaired_by_day)
    return series
