"""From a trace to volumes, money and daily series: the engine observes, this module summarises.

Every figure is an exact integral of the trace's piecewise-constant rates and piecewise-linear levels,
evaluated with numpy, so its cost grows with events and output days, never with a time step.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from routesim.money import fiscal, market
from routesim.money.fiscal import INSTRUMENTS, STREAMS
from routesim.scenario.model import Scenario, TankerShuttleRoute
from routesim.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from routesim.engine.trace import Trace, Traces

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
    "deferred_bbl",
    "recovered_bbl",
    "lost_production_bbl",
    "backlog_end_bbl",
    *(stream for stream in STREAMS if stream not in ("export_revenue_usd", "government_revenue_usd")),
    *(loss for loss in LOSSES if loss not in ("revenue_loss_usd", "budget_loss_usd")),
)
"""Metrics of one replication, in report order (units in the names; shares are fractions)."""
PRODUCER_FIGURES = ("shut_in_bbl", "deferred_bbl", "recovered_bbl", "lost_production_bbl", "backlog_end_bbl")
"""Each producer's make-up figures, as its own and (summed over producers) as metrics [bbl]:

- ``shut_in_bbl``: production below plan, the shortfall's integral (not netted against production above it);
- ``deferred_bbl``: the part of it that entered the backlog (``makeup_share`` x shut-in, 0 for a producer
  that makes up nothing);
- ``recovered_bbl``: production above plan, the backlog made up within the horizon;
- ``backlog_end_bbl``: still owed at the horizon;
- ``lost_production_bbl``: never made up: shut-in - recovered - backlog_end, the share not deferred and the
  deferred oil that expired (its window passed).

So deferred = recovered + expired + backlog_end, and lost_production = (1 - share) x shut-in + expired.
"""


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
    producers: dict[str, dict[str, float]]
    """Per producer, its :data:`PRODUCER_FIGURES` [bbl]."""
    loaded_bbl: dict[str, float]
    """Per route a foreign shipper reaches, every shipper's oil that left it within the horizon [bbl]."""


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
            entered = trace.country_flow_bpd(name)
            exported[name] = float(cumulative(trace, entered, h - route.total_transit_days))
            transit[name] = float(cumulative(trace, entered, h)) - exported[name]
            cargo[name] = 0.0
        factor = trace.capacity_factor[name]
        availability[name] = float(cumulative(trace, factor, h)) / h
        impaired[name] = float(cumulative(trace, (factor < 1.0).astype(float), h))
    produced = float(cumulative(trace, trace.production_bpd, h))
    own = {p: produced if len(trace.production) == 1 else float(cumulative(trace, rate, h))
           for p, rate in trace.production.items()}
    producers = {p: {k: float(v[0]) for k, v in figures.items()}
                 for p, figures in producer_figures(scenario, [trace], {p: np.array([v]) for p, v in own.items()}).items()}
    return Volumes(
        produced_bbl=produced,
        shut_in_bbl=_shut_in(scenario, produced, producers),
        exported_bbl=exported,
        in_transit_bbl=transit,
        tanker_cargo_bbl=cargo,
        storage_end_bbl=float(trace.storage_bbl[-1]),
        availability=availability,
        impaired_days=impaired,
        producers=producers,
        loaded_bbl={r: float(cumulative(trace, trace.flows_bpd[r], h)) for r in scenario.foreign_routes()},
    )


def producer_figures(
    scenario: Scenario, traces: Sequence[Trace] | Traces, produced: dict[str, np.ndarray]
) -> dict[str, dict[str, np.ndarray]]:
    """Each producer's :data:`PRODUCER_FIGURES` in each of ``traces``, given what it produced in each
    [n] (bbl)."""
    h = scenario.horizon_days
    out = {}
    for p, spec in scenario.producers.items():
        plan = spec.production_bpd
        if spec.makes_up:
            recovered = np.array([float(cumulative(t, np.maximum(t.production[p] - plan, 0.0), h)) for t in traces])
            owed = np.array([float(t.backlog_bbl[p][-1]) for t in traces])
        else:
            recovered = owed = np.zeros(len(traces))
        shut_in = _rounded(plan * h - produced[p] + recovered, plan * h)
        deferred = spec.makeup_share * shut_in if spec.makes_up else np.zeros(len(traces))
        out[p] = {"shut_in_bbl": shut_in, "deferred_bbl": deferred, "recovered_bbl": recovered,
                  "lost_production_bbl": _rounded(shut_in - recovered - owed, plan * h), "backlog_end_bbl": owed}
    return out


def _shut_in(scenario: Scenario, produced: Any, producers: dict[str, dict[str, Any]]) -> Any:
    """Production below plan, every producer together: the plan less production, and what was made up
    above it (nothing, unless a producer makes up oil) [bbl]."""
    planned = scenario.production_bpd * scenario.horizon_days
    shut_in = planned - produced
    if any(p.makes_up for p in scenario.producers.values()):
        shut_in = shut_in + sum(figures["recovered_bbl"] for figures in _country(scenario, producers))
    return _rounded(shut_in, planned)


def _country(scenario: Scenario, producers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The figures of the country's producers, foreign shippers' left out."""
    return [figures for p, figures in producers.items() if not scenario.producers[p].foreign]


def _rounded(shortfall: Any, planned: float) -> Any:
    """A shortfall below plan (or what is left of it) with the rounding of the rates' sums taken out: within a
    trillionth of the planned volume of zero, it is zero (a plan met to the last barrel is not a loss in
    every replication)."""
    return np.where(np.abs(shortfall) <= 1e-12 * planned, 0.0, shortfall)


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


def money_by_day(scenario: Scenario, run: Measured | ChunkMeasured, brent: np.ndarray) -> dict[str, np.ndarray]:
    """The money streams of :func:`routesim.fiscal.split` for each output day [USD]; of several replications
    at once with a :class:`ChunkMeasured` run and Brent by replication and day [n x days]."""
    impaired = run.impaired_by_day
    moved = market.moved_brent(scenario, brent, impaired)  # the price bands follow Brent as it moved
    money = fiscal.split(scenario, run.exported_by_day, moved, market.sale_prices(scenario, brent, impaired))
    return fiscal.discounted(scenario, money)


def metrics(
    scenario: Scenario, run: Volumes, baseline: Volumes, money: dict[str, np.ndarray], base_money: dict[str, np.ndarray]
) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one replication and its no-disruption baseline."""
    total = {k: float(v.sum()) for k, v in money.items()}
    base = {k: float(v.sum()) for k, v in base_money.items()}
    return _metrics(scenario, run, baseline, total, base)


def chunk_metrics(
    scenario: Scenario,
    run: ChunkMeasured,
    baseline: Volumes,
    money: dict[str, np.ndarray],
    base_money: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """:func:`metrics` of several replications at once, each metric an array [n]; ``money`` is by
    replication and day [n x days], ``base_money`` the same or shared by every replication [days]."""
    total = {k: v.sum(axis=-1) for k, v in money.items()}
    base = {k: v.sum(axis=-1) for k, v in base_money.items()}
    return _metrics(scenario, run, baseline, total, base)


def _metrics(
    scenario: Scenario, run: Any, baseline: Volumes, total: dict[str, Any], base: dict[str, Any]
) -> dict[str, Any]:
    """The metrics from the volumes and the money streams' totals (floats, or arrays by replication)."""
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
        **{k: sum(figures[k] for figures in _country(scenario, run.producers)) for k in PRODUCER_FIGURES
           if k != "shut_in_bbl"},
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
            out[name] = np.diff(cumulative(trace, trace.country_flow_bpd(name), edges - route.total_transit_days))
    return out


def daily_names(scenario: Scenario) -> tuple[str, ...]:
    """The daily series of a replication of ``scenario``, in the order of :func:`daily`, :func:`chunk_daily`
    and timeseries.csv, known without simulating: the memory budget of a run counts them.

    Rates are per route in file order, the availability and the tank farms in the engine's order (best
    netback first); each storage node and each producer gets its own series only in a network of several.
    """
    routes, by_netback = list(scenario.routes), scenario.routes_by_netback()
    nodes = [*scenario.producers, *(f"{r}_tank_farm" for r in by_netback if scenario.routes[r].tank_farm is not None)]
    producers = list(scenario.producers)
    return (
        *(f"{r}_exported_bpd" for r in routes),
        *(f"baseline_{r}_exported_bpd" for r in routes),
        "exported_bpd",
        *(f"{r}_loaded_bpd" for r in scenario.foreign_routes()),
        *(f"{r}_availability" for r in by_netback),
        "storage_bbl",
        *(f"{n}_storage_bbl" for n in nodes if len(nodes) > 1),
        "production_bpd",
        *(f"{p}_production_bpd" for p in producers if len(producers) > 1),
        "shut_in_bpd",
        *(("backlog_bbl",) if any(p.makes_up for p in scenario.producers.values()) else ()),
        "export_revenue_usd",
        "baseline_export_revenue_usd",
        "revenue_loss_usd",
        "budget_loss_usd",
        "brent_usd_per_bbl",
    )


def backlog_by_day(scenario: Scenario, traces: Sequence[Trace] | Traces) -> np.ndarray:
    """Barrels owed at each day's end, every producer of the country that makes up oil together, in each
    trace [n x days]: each backlog moves linearly between records."""
    ends = day_edges(scenario.horizon_days)[1:]
    out = np.zeros((len(traces), len(ends)))
    for i, t in enumerate(traces):
        at = np.clip(np.searchsorted(t.times, ends, side="right") - 1, 0, len(t.times) - 1)
        for p in t.backlog_bbl:
            if p in t.foreign_producers:
                continue
            out[i] += t.backlog_bbl[p][at] + t.backlog_net_bpd[p][at] * (ends - t.times[at])
    return out


def _named(scenario: Scenario, series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``series`` in the order of :func:`daily_names`, which must name each of them: what a run keeps is
    what its memory budget counted."""
    names = daily_names(scenario)
    assert len(series) == len(names), f"daily series missing from daily_names: {sorted(set(series) - set(names))}"
    return {name: series[name] for name in names}  # a name with no series: KeyError


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
    series.update({f"{r}_loaded_bpd": np.diff(cumulative(trace, trace.flows_bpd[r], edges)) / width
                   for r in scenario.foreign_routes()})
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
    if trace.backlog_bbl:
        series["backlog_bbl"] = backlog_by_day(scenario, [trace])[0]
    series["export_revenue_usd"] = revenue
    series["baseline_export_revenue_usd"] = base_revenue
    series["revenue_loss_usd"] = base_revenue - revenue
    series["budget_loss_usd"] = budget_loss
    series["brent_usd_per_bbl"] = market.moved_brent(scenario, brent, run.impaired_by_day)
    return _named(scenario, series)


# Several replications at once. The functions above measure one trace with a few dozen small numpy calls
# each; below, a chunk's traces are padded to a common number of records and measured together, with the
# same arithmetic element by element (the same products, the same running sums in the same order, the
# interpolation of np.interp), so every figure is bitwise the one of the one-trace functions; the tests
# hold the two paths equal.

MAX_CELLS = 1 << 20
"""Replications x integrated columns x query points measured at once; bounds a worker's memory [values]."""


@dataclass(frozen=True)
class ChunkMeasured:
    """:class:`Measured` of several traces, each figure with a leading axis of replications: [n] for a
    scalar, [n x days] for a daily series (the :class:`Volumes` figures as arrays, by route where they are
    per route)."""

    produced_bbl: np.ndarray
    shut_in_bbl: np.ndarray
    exported_bbl: dict[str, np.ndarray]
    in_transit_bbl: dict[str, np.ndarray]
    tanker_cargo_bbl: dict[str, np.ndarray]
    storage_end_bbl: np.ndarray
    availability: dict[str, np.ndarray]
    impaired_days: dict[str, np.ndarray]
    producers: dict[str, dict[str, np.ndarray]]
    """Per producer, its :data:`PRODUCER_FIGURES` [n]."""
    loaded_bbl: dict[str, np.ndarray]
    """Per route a foreign shipper reaches, every shipper's oil that left it within the horizon [n]."""
    exported_by_day: dict[str, np.ndarray]
    """Per route, barrels reaching the sale point in each output day [bbl]."""
    impaired_by_day: dict[str, np.ndarray]
    """Per route, the share of each output day with any impairment [-]."""
    loaded_by_day: dict[str, np.ndarray]
    """Per route a foreign shipper reaches, every shipper's oil leaving it in each output day [bbl/day]."""
    availability_by_day: dict[str, np.ndarray]
    """Per route, the mean available capacity share of each output day [-]."""
    production_by_day: dict[str, np.ndarray]
    """Production of each output day, every producer together (``""``) and, with several, each [bbl/day]."""
    storage_by_day: dict[str, np.ndarray]
    """Storage at each day's end, every node together (``""``) and, with several, each node [bbl]."""
    backlog_by_day: np.ndarray
    """Barrels owed at each day's end, every producer together ([n x days]; [n x 0] if none makes up oil)."""


def interp_padded(times: np.ndarray, cum: np.ndarray, at: np.ndarray, index: np.ndarray) -> np.ndarray:
    """np.interp(at, times[r], cum[r, c], left=0) for every replication r and column c, element by element
    the arithmetic of numpy's compiled interp (the same slope, the same rules at the ends and on a record).

    Args:
        times: record times per replication, padded by repeating the last [n x records].
        cum: values at the records [n x columns x records].
        at: query points, shared by every replication and column [queries].
        index: ``searchsorted(times[r], at, "right") - 1`` [n x queries].
    """
    n, c, m = cum.shape
    last = m - 1
    j = np.clip(index, 0, max(last - 1, 0))
    flat_t = j + (np.arange(n) * m)[:, None]  # [n x queries]
    t0 = np.take(times, flat_t)
    flat = flat_t[:, None, :] + (np.arange(c) * m)[None, :, None] + (np.arange(n) * (m * (c - 1)))[:, None, None]
    y0 = np.take(cum, flat)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # numpy's slopes, one per record (a record of zero length is never looked up)
        slopes = np.zeros_like(cum)
        np.divide(cum[:, :, 1:] - cum[:, :, :-1], np.diff(times, axis=1)[:, None, :], out=slopes[:, :, :-1])
        slope = np.take(slopes, flat)
        out: np.ndarray = slope * (at - t0)[:, None, :]
        out += y0
        nan = np.isnan(out) & ((index >= 0) & (index < last))[:, None, :]
        if nan.any():  # numpy's fallbacks: from the right end, then a flat segment
            t1, y1 = np.take(times, flat_t + 1)[:, None, :], np.take(cum, flat + 1)
            retry = slope * (at - t1) + y1
            retry = np.where(np.isnan(retry) & (y0 == y1), y0, retry)
            np.copyto(out, retry, where=nan)
    np.copyto(out, y0, where=(at == t0)[:, None, :])
    np.copyto(out, cum[:, :, last:], where=(index >= last)[:, None, :])
    np.copyto(out, 0.0, where=(index < 0)[:, None, :])
    return out


def _padded(rows: list[np.ndarray], length: int) -> np.ndarray:
    """Arrays [..., m_i] padded to ``length`` records by repeating each one's last, stacked [n x ... x length]."""
    out = np.empty((len(rows), *rows[0].shape[:-1], length))
    for i, row in enumerate(rows):
        m = row.shape[-1]
        out[i, ..., :m] = row
        out[i, ..., m:] = row[..., -1:]
    return out


def measure_chunk(scenario: Scenario, traces: Traces) -> ChunkMeasured:
    """:func:`measure` and the trace's daily series (availability, production, storage) of several traces
    of ``scenario`` at once, bitwise the one-trace figures; measured a slice of replications at a time."""
    names = list(scenario.routes)
    pipes = [r for r in names if not isinstance(scenario.routes[r], TankerShuttleRoute)]
    columns = 1 + (len(traces.production) if len(traces.production) > 1 else 0) + len(pipes) + 2 * len(names)
    days = len(day_edges(traces.horizon_days)) - 1
    step = max(1, MAX_CELLS // (columns * (days + 2)))
    n = len(traces)
    parts = [_measure_slice(scenario, traces.part(a, min(a + step, n))) for a in range(0, n, step)]
    if len(parts) == 1:
        return parts[0]
    joined: dict[str, Any] = {}
    for field in ChunkMeasured.__dataclass_fields__:
        values = [getattr(p, field) for p in parts]
        if field == "producers":
            joined[field] = {p: {k: np.concatenate([v[p][k] for v in values]) for k in values[0][p]} for p in values[0]}
        elif isinstance(values[0], dict):
            joined[field] = {k: np.concatenate([v[k] for v in values]) for k in values[0]}
        else:
            joined[field] = np.concatenate(values)
    return ChunkMeasured(**joined)


COMPILED = importlib.util.find_spec("numba") is not None
"""Whether :func:`measure_chunk` integrates with the compiled kernel (:mod:`routesim.integrals`), else with
the padded numpy arrays below; the two give the same bits (tests/test_chunk_results.py)."""
Integrated = tuple[list[np.ndarray], np.ndarray]


def _integrate_padded(
    traces: Traces, rates: np.ndarray, factors: int, queries: np.ndarray, column_shift: list[int],
    levels: np.ndarray, nets: np.ndarray, day_ends: np.ndarray,
) -> Integrated:
    """Each row of ``rates`` [columns x records of all] (the last ``factors`` capacity factors, then as many
    "impaired" indicators of them) integrated to its row of ``queries`` (row -1: to the horizon only)
    [n x queries], and each node's level (``levels`` moved at ``nets`` [nodes x records of all]) at each day
    end [n x nodes x days]: the traces padded to one length, in numpy."""
    n, days = len(traces.starts) - 1, len(day_ends)
    runs = [slice(a, b) for a, b in zip(traces.starts[:-1], traces.starts[1:])]
    length = max(b - a for a, b in zip(traces.starts[:-1], traces.starts[1:]))
    times = _padded([traces.times[r] for r in runs], length)
    rates = _padded([rates[:, r] for r in runs], length)
    rates = np.concatenate([rates, (rates[:, rates.shape[1] - factors :] < 1.0).astype(float)], axis=1)
    cum = np.zeros_like(rates)
    np.cumsum(rates[:, :, :-1] * np.diff(times, axis=1)[:, None, :], axis=2, out=cum[:, :, 1:])
    found = np.empty((n, len(queries), queries.shape[1]), dtype=np.intp)
    for i in range(n):
        found[i] = np.searchsorted(times[i], queries, side="right") - 1
    value: list[np.ndarray] = [np.empty(0)] * cum.shape[1]
    for row in sorted(set(column_shift)):  # the columns of each shift together
        cols = [c for c, r in enumerate(column_shift) if r == row]
        group = np.ascontiguousarray(cum[:, cols]) if len(cols) < cum.shape[1] else cum
        if row >= 0:
            out = interp_padded(times, group, queries[row], found[:, row])
        else:
            out = interp_padded(times, group, queries[0, -1:], found[:, 0, -1:])
        for i, c in enumerate(cols):
            value[c] = out[:, i]
    # Storage at each day's end: the level at the last record at or before it, moved at its net rate.
    levels_ = _padded([levels[:, r] for r in runs], length)
    nets_ = _padded([nets[:, r] for r in runs], length)
    last = np.clip(found[:, 0, 1 : days + 1], 0, length - 1)[:, None, :]
    moved = day_ends - np.take_along_axis(times, last[:, 0], axis=1)
    node_level = np.take_along_axis(levels_, last, axis=2) + np.take_along_axis(nets_, last, axis=2) * moved[:, None, :]
    return value, node_level


def _integrate_compiled(
    traces: Traces, rates: np.ndarray, factors: int, queries: np.ndarray, column_shift: list[int],
    levels: np.ndarray, nets: np.ndarray, day_ends: np.ndarray,
) -> Integrated:
    """:func:`_integrate_padded`, bit for bit, by :func:`routesim.integrals.integrals`: one trace at a time."""
    from .integrals import integrals

    rates = np.concatenate([rates, (rates[rates.shape[0] - factors :] < 1.0).astype(float)])
    out, node_level = integrals(traces.times, traces.starts, rates, int(np.diff(traces.starts).max()), queries,
                                np.asarray(column_shift, dtype=np.int64), levels, nets, day_ends)
    value = [out[:, c] if row >= 0 else out[:, c, -1:] for c, row in enumerate(column_shift)]
    return value, node_level


def _measure_slice(scenario: Scenario, traces: Traces) -> ChunkMeasured:
    n = len(traces)
    h = traces.horizon_days
    edges = day_edges(h)
    width = np.diff(edges)
    days = len(width)
    names = list(scenario.routes)
    pipes = [r for r in names if not isinstance(scenario.routes[r], TankerShuttleRoute)]
    shuttles = [r for r in names if r not in pipes]
    producers, nodes = list(traces.production), list(traces.levels_bbl)
    several = producers if len(producers) > 1 else []
    foreign = scenario.foreign_routes()
    # Rates to integrate, in column order: total production, each producer (if several), each pipeline's
    # flow (the country's oil), each route a foreign shipper reaches (every shipper's), each route's
    # capacity factor; then each route's "impaired" indicator.
    t = traces
    rates = np.array([t.production_bpd, *(t.production[p] for p in several), *(t.country_flow_bpd(r) for r in pipes),
                      *(t.flows_bpd[r] for r in foreign), *(t.capacity_factor[r] for r in names)])
    # Query points: each column at the day edges shifted by its transit (pipelines' flows are sold later),
    # then at the horizon.
    shifts = sorted({0.0, *(scenario.routes[r].total_transit_days for r in pipes)})
    queries = np.array([np.append(edges - s, h) for s in shifts])  # [shifts x days + 2]
    column_shift = [0] * (1 + len(several)) + [shifts.index(scenario.routes[r].total_transit_days) for r in pipes]
    column_shift += [0] * (len(foreign) + len(names))
    # The "impaired" indicators are wanted by day only when disruptions move prices; else at the horizon.
    by_day_indicator = bool(scenario.market.disruption_effects)
    column_shift += [0 if by_day_indicator else -1] * len(names)
    levels = np.array([t.levels_bbl[k] for k in nodes])
    nets = np.array([t.net_bpd[k] for k in nodes])
    integrate = _integrate_compiled if COMPILED else _integrate_padded
    value, node_level = integrate(traces, rates, len(names), queries, column_shift, levels, nets, edges[1:])
    col = iter(value)
    total = next(col)
    per_producer = {p: next(col) for p in several}
    flow = {r: next(col) for r in pipes}
    loaded = {r: next(col) for r in foreign}
    factor = {r: next(col) for r in names}
    impaired = {r: next(col) for r in names}

    exported, transit, cargo, by_day = {}, {}, {}, {}
    for r in pipes:
        exported[r] = flow[r][:, days]
        transit[r] = flow[r][:, days + 1] - exported[r]
        cargo[r] = np.zeros(n)
        by_day[r] = np.diff(flow[r][:, : days + 1], axis=1)
    for r in shuttles:
        route = scenario.routes[r]
        assert isinstance(route, TankerShuttleRoute)
        q = route.tanker_capacity_bbl
        counts = t.discharges[r].counts
        rep = np.repeat(np.arange(n), counts)
        sold = t.discharges[r].values + route.total_transit_days
        on_time = sold <= h
        exported[r] = q * np.bincount(rep[on_time], minlength=n).astype(float)
        transit[r] = q * np.bincount(rep[~on_time], minlength=n).astype(float)
        cargo[r] = q * (t.loads[r].counts - counts).astype(float)
        # np.histogram(sold, bins=edges): [e_i, e_i+1), the last bin closed
        b = np.searchsorted(edges, sold, side="right") - 1
        b[sold == edges[-1]] = days - 1
        ok = (b >= 0) & (b < days)
        hist = np.bincount(rep[ok] * days + b[ok], minlength=n * days).reshape(n, days)
        by_day[r] = q * hist.astype(float)
    produced = total[:, days]
    own = {p: per_producer[p][:, days] for p in several} if several else {producers[0]: produced}
    by_producer = producer_figures(scenario, traces, own)
    storage = {k: node_level[:, j] for j, k in enumerate(nodes)}
    storage_end = sum((t.levels_bbl[k][t.starts[1:] - 1] for k in nodes), np.zeros(n))
    return ChunkMeasured(
        produced_bbl=produced,
        shut_in_bbl=_shut_in(scenario, produced, by_producer),
        exported_bbl={r: exported[r] for r in names},
        in_transit_bbl={r: transit[r] for r in names},
        tanker_cargo_bbl={r: cargo[r] for r in names},
        storage_end_bbl=storage_end,
        availability={r: factor[r][:, days] / h for r in names},
        impaired_days={r: impaired[r][:, -1] for r in names},
        producers=by_producer,
        loaded_bbl={r: v[:, days] for r, v in loaded.items()},
        exported_by_day={r: by_day[r] for r in names},
        impaired_by_day={r: np.diff(impaired[r][:, : days + 1], axis=1) / width for r in names}
        if by_day_indicator else {},
        loaded_by_day={r: np.diff(v[:, : days + 1], axis=1) / width for r, v in loaded.items()},
        availability_by_day={r: np.diff(factor[r][:, : days + 1], axis=1) / width for r in t.capacity_factor},
        production_by_day={"": np.diff(total[:, : days + 1], axis=1) / width,
                           **{p: np.diff(v[:, : days + 1], axis=1) / width for p, v in per_producer.items()}},
        storage_by_day={"": cast(np.ndarray, sum(storage.values())), **(storage if len(nodes) > 1 else {})},
        backlog_by_day=backlog_by_day(scenario, traces) if t.backlog_bbl else np.zeros((n, 0)),
    )


def chunk_daily(
    scenario: Scenario,
    run: ChunkMeasured,
    baseline: Measured,
    moved_brent: np.ndarray,
    money: dict[str, np.ndarray],
    base_money: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """:func:`daily` of several replications at once, in the same order, each series [n x days] or, when
    every replication shares it (the baseline's with one Brent for all), [days]; ``moved_brent`` is Brent
    as moved by the disruptions (:func:`routesim.market.moved_brent`)."""
    width = np.diff(day_edges(scenario.horizon_days))
    exported = run.exported_by_day
    revenue = np.cumsum(money["export_revenue_usd"], axis=-1)
    base_revenue = np.cumsum(base_money["export_revenue_usd"], axis=-1)
    budget_loss = np.cumsum(base_money["budget_oil_revenue_usd"] - money["budget_oil_revenue_usd"], axis=-1)
    production = run.production_by_day[""]
    series = {f"{r}_exported_bpd": v / width for r, v in exported.items()}
    series.update({f"baseline_{r}_exported_bpd": v / width for r, v in baseline.exported_by_day.items()})
    series["exported_bpd"] = sum(exported.values()) / width
    series.update({f"{r}_loaded_bpd": v for r, v in run.loaded_by_day.items()})
    series.update({f"{r}_availability": v for r, v in run.availability_by_day.items()})
    series["storage_bbl"] = run.storage_by_day[""]
    series.update({f"{n.replace('/', '_')}_storage_bbl": v for n, v in run.storage_by_day.items() if n})
    series["production_bpd"] = production
    series.update({f"{p}_production_bpd": v for p, v in run.production_by_day.items() if p})
    series["shut_in_bpd"] = scenario.production_bpd - production
    if run.backlog_by_day.shape[-1]:
        series["backlog_bbl"] = run.backlog_by_day
    series["export_revenue_usd"] = revenue
    series["baseline_export_revenue_usd"] = base_revenue
    series["revenue_loss_usd"] = base_revenue - revenue
    series["budget_loss_usd"] = budget_loss
    series["brent_usd_per_bbl"] = moved_brent
    return _named(scenario, series)
