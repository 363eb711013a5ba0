"""Replications of a scenario, each paired with its no-disruption baseline, run serially or in
processes, and their statistics. Replication k is a pure function of (scenario, k), so the results are
the same in any order, on any number of workers.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import fiscal, market, results
from .disruptions import replication_seed
from .engine import simulate
from .errors import SimulationError
from .model import Scenario
from .recorder import Trace
from .units import DAYS_PER_YEAR

LOSS_METRICS = ("shut_in_bbl", "export_loss_bbl", "budget_loss_share", *results.LOSSES)
"""Metrics where more is worse: they also get VaR, CVaR and the probability of any loss."""
PERCENTILES = (1, 5, 10, 50, 90, 95, 99)
FAN_PERCENTILES = (5, 10, 50, 90, 95)
FAN_SERIES = ("revenue_loss_usd", "budget_loss_usd")
"""Daily series that also get the percentiles of a fan chart."""
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Replication:
    """One replication: its metrics, per-route figures, incident counts and daily series."""

    index: int
    metrics: dict[str, float]
    route_exported_bbl: dict[str, float]
    route_availability: dict[str, float]
    route_impaired_days: dict[str, float]
    incidents: dict[str, int]
    daily: dict[str, np.ndarray]
    events: int


@dataclass(frozen=True)
class RunResult:
    """Every replication of a scenario, in replication order."""

    scenario: Scenario
    replications: tuple[Replication, ...]

    def metric(self, name: str) -> np.ndarray:
        """One metric across replications."""
        return np.array([r.metrics[name] for r in self.replications])

    def daily_stack(self, key: str) -> np.ndarray:
        """One daily series of every replication, replications x days."""
        return np.vstack([r.daily[key] for r in self.replications])

    def summary(self) -> dict[str, Any]:
        """The summary.json document."""
        s = self.scenario
        reps = self.replications
        years = s.horizon_days / DAYS_PER_YEAR

        def route_stats(attr: str, route: str) -> dict[str, float]:
            return stats(np.array([getattr(x, attr)[route] for x in reps]))

        return {
            "scenario": s.name,
            "seed": s.seed,
            "replications": len(reps),
            "horizon_days": s.horizon_days,
            "metrics": {m: stats(self.metric(m), loss=m in LOSS_METRICS) for m in results.METRICS},
            "routes": {
                r: {
                    "exported_bbl": route_stats("route_exported_bbl", r),
                    "availability": route_stats("route_availability", r),
                    "days_impaired": route_stats("route_impaired_days", r),
                }
                for r in s.routes
            },
            "incidents_per_year": {
                i.stream_name: float(np.mean([x.incidents[i.stream_name] for x in reps])) / years for i in s.incidents
            },
        }

    def price_curve(self, brent: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Losses of the mean exported barrels at each constant Brent (default 20 to 160 USD/bbl)."""
        brent = np.arange(20.0, 161.0, 5.0) if brent is None else brent
        width = np.diff(results.day_edges(self.scenario.horizon_days))
        run = {r: self.daily_stack(f"{r}_exported_bpd").mean(axis=0) * width for r in self.scenario.routes}
        base = {r: self.daily_stack(f"baseline_{r}_exported_bpd").mean(axis=0) * width for r in self.scenario.routes}
        return fiscal.loss_vs_price(self.scenario, run, base, brent)

    def daily_bands(self) -> dict[str, np.ndarray]:
        """Daily series: the mean under the plain name; with several replications ``_p5`` and ``_p95``
        after it (and ``_p10``, ``_p50``, ``_p90`` for the cumulative losses)."""
        return self._bands

    @functools.cached_property
    def _bands(self) -> dict[str, np.ndarray]:
        out = {}
        for key in self.replications[0].daily:
            stack = self.daily_stack(key)
            out[key] = stack.mean(axis=0)
            if len(self.replications) > 1:
                levels = FAN_PERCENTILES if key in FAN_SERIES else (5, 95)
                for q, band in zip(levels, np.percentile(stack, levels, axis=0)):
                    out[f"{key}_p{q}"] = band
        return out


def stats(values: np.ndarray, loss: bool = False) -> dict[str, float]:
    """Mean, standard deviation (n - 1), percentiles and the 95 % confidence interval of the mean; for a
    loss also VaR and CVaR at 95 % and the probability of any loss."""
    n = len(values)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if n > 1 else 0.0
    half = 1.959963984540054 * std / math.sqrt(n)
    out = {"mean": mean, "std": std}
    out.update({f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(values, PERCENTILES))})
    out.update({"mean_ci95_low": mean - half, "mean_ci95_high": mean + half})
    if loss:
        var = out["p95"]
        scale = float(np.max(np.abs(values))) if n else 0.0
        out.update(
            {
                "var95": var,
                "cvar95": float(values[values >= var].mean()),
                "prob_loss": float(np.mean(values > 1e-9 * scale)) if scale > 0 else 0.0,
            }
        )
    return out


def run_replication(scenario: Scenario, k: int, baseline: Trace | None = None) -> Replication:
    """Replication ``k`` of ``scenario`` and its baseline without disruptions, on the same random numbers."""
    try:
        trace = simulate(scenario, k)
        if baseline is None:
            baseline = simulate(scenario.without_disruptions(), k)
        run_volumes = results.volumes(scenario, trace)
        brent = market.brent_by_day(scenario, k)
        money = results.money_by_day(scenario, trace, brent)
        base_money = results.money_by_day(scenario, baseline, brent)
        counts = {i.stream_name: 0 for i in scenario.incidents}
        for hit in trace.impairments:
            if hit.source in counts:
                counts[hit.source] += 1
        return Replication(
            index=k,
            metrics=results.metrics(scenario, run_volumes, results.volumes(scenario, baseline), money, base_money),
            route_exported_bbl=run_volumes.exported_bbl,
            route_availability=run_volumes.availability,
            route_impaired_days=run_volumes.impaired_days,
            incidents=counts,
            daily=results.daily(scenario, trace, baseline, brent, money, base_money),
            events=trace.events,
        )
    except Exception as exc:
        entropy = replication_seed(scenario.seed, k)
        raise SimulationError(
            f"scenario {scenario.name!r}, replication {k} (SeedSequence({entropy.entropy}, spawn_key={entropy.spawn_key})) "
            f"failed: {type(exc).__name__}: {exc}; reproduce it with --rep {k} --trace"
        ) from exc


def run_chunk(scenario: Scenario, indices: Sequence[int]) -> list[Replication]:
    """Replications ``indices``, in order."""
    baseline_scenario = scenario.without_disruptions()
    # The baseline has no random input, so one run serves every replication of the chunk.
    shared = None if baseline_scenario.has_random_disruptions or not indices else simulate(baseline_scenario, indices[0])
    return [run_replication(scenario, k, shared) for k in indices]


def run(
    scenario: Scenario,
    workers: int = 1,
    indices: Sequence[int] | None = None,
    progress: Progress | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> RunResult:
    """Run replications (all of ``scenario.replications``, or ``indices``) on ``workers`` processes, here
    (``executor="local"``) or on Dask (``"dask"`` at ``scheduler``, or ``"dask-local"``).

    The result is identical on every executor and any number of workers: replication k depends only on
    (scenario, k), and the chunks come back in order.
    """
    from .executors import map_chunks

    todo = list(range(scenario.replications)) if indices is None else list(indices)
    done: list[list[Replication]] = map_chunks(run_chunk, scenario, todo, executor, workers, scheduler, progress)
    return RunResult(scenario, tuple(rep for chunk in done for rep in chunk))
