"""Replications of a scenario, each paired with its no-outage baseline, and their aggregation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import results
from .engine import simulate
from .model import Scenario

STATS = ("mean", "std", "p5", "p50", "p95")
"""Statistics reported for every metric across replications."""


@dataclass(frozen=True)
class Replication:
    """One replication: its metrics, per-route figures and daily series."""

    index: int
    metrics: dict[str, float]
    route_exported_bbl: dict[str, float]
    route_availability: dict[str, float]
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

    def summary(self) -> dict:
        """The summary.json document."""
        s = self.scenario
        return {
            "scenario": s.name,
            "seed": s.seed,
            "replications": len(self.replications),
            "horizon_days": s.horizon_days,
            "metrics": {m: stats(self.metric(m)) for m in results.METRICS},
            "routes": {
                r: {
                    "exported_bbl": stats(np.array([x.route_exported_bbl[r] for x in self.replications])),
                    "availability": stats(np.array([x.route_availability[r] for x in self.replications])),
                }
                for r in s.routes
            },
        }

    def daily_bands(self) -> dict[str, np.ndarray]:
        """Daily series: the mean under the plain name; with several replications also ``_p5`` and ``_p95``."""
        out = {}
        for key in self.replications[0].daily:
            stack = np.vstack([r.daily[key] for r in self.replications])
            out[key] = stack.mean(axis=0)
            if len(self.replications) > 1:
                out[f"{key}_p5"], out[f"{key}_p95"] = np.percentile(stack, [5, 95], axis=0)
        return out


def stats(values: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation (n-1) and the 5th, 50th and 95th percentiles of ``values``."""
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "std": std, "p5": float(p5), "p50": float(p50), "p95": float(p95)}


def replication_seed(seed: int, k: int) -> np.random.SeedSequence:
    """Seed of replication ``k``: independent of how many replications run, and of the order they run in."""
    return np.random.SeedSequence(seed, spawn_key=(k,))


def run_replication(scenario: Scenario, k: int) -> Replication:
    """Replication ``k`` of ``scenario`` and its baseline without outages, on the same random numbers."""
    seed = replication_seed(scenario.seed, k)
    trace = simulate(scenario, seed)
    baseline = simulate(scenario.without_outages(), seed)
    run_volumes = results.volumes(scenario, trace)
    return Replication(
        index=k,
        metrics=results.metrics(scenario, run_volumes, results.volumes(scenario, baseline)),
        route_exported_bbl=run_volumes.exported_bbl,
        route_availability=run_volumes.availability,
        daily=results.daily(scenario, trace, baseline),
        events=trace.events,
    )


def run(scenario: Scenario, progress: Callable[[int, int], None] | None = None) -> RunResult:
    """All ``scenario.replications`` replications, in order; ``progress(done, total)`` after each."""
    done = []
    for k in range(scenario.replications):
        done.append(run_replication(scenario, k))
        if progress is not None:
            progress(k + 1, scenario.replications)
    return RunResult(scenario, tuple(done))
