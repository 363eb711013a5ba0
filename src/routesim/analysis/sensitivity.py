"""Which inputs move a metric most: one-at-a-time swings (a tornado) and Sobol indices.

Each evaluation is a full run of the scenario (all its replications, with one seed, so every evaluation
sees the same random incidents) with some keys overridden; the metric is its mean over replications.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from routesim.errors import ScenarioError
from routesim.runs import montecarlo
from routesim.scenario.loader import flatten, load_scenario
from routesim.scenario.model import Scenario

from .sweep import setting


@dataclass(frozen=True)
class Range:
    """A key and the interval it varies over."""

    key: str
    low: float
    high: float
    integer: bool
    """Whether the key takes whole numbers (samples are rounded)."""


def parse_ranges(path: Path, specs: Sequence[str], overrides: Sequence[str]) -> list[Range]:
    """``KEY=LOW:HIGH`` for each ``--vary``; the key must exist in the resolved scenario."""
    base = flatten(load_scenario(path, overrides).model_dump(mode="json", by_alias=True))
    out, issues = [], []
    for spec in specs:
        key, sep, text = spec.partition("=")
        parts = text.split(":")
        try:
            low, high = float(parts[0]), float(parts[1])
            if len(parts) != 2 or not sep or not low < high:
                raise ValueError
        except (ValueError, IndexError):
            issues.append(f"--vary {spec}: expected KEY=LOW:HIGH with LOW < HIGH")
            continue
        canonical = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key)
        if canonical not in base:
            issues.append(f"--vary {key}: not a key of the scenario")
            continue
        out.append(Range(key, low, high, isinstance(base[canonical], int) and not isinstance(base[canonical], bool)))
    if issues:
        raise ScenarioError(issues)
    return out


def evaluator(
    path: Path, overrides: Sequence[str], metric: str, workers: int, engine: str = "auto"
) -> Callable[[dict[str, Any]], float]:
    """A function from key values to the metric's mean over the scenario's replications (on ``engine``)."""

    def evaluate(values: dict[str, Any]) -> float:
        scenario = load_scenario(path, [*overrides, *(setting(k, v) for k, v in values.items())])
        return float(montecarlo.run(scenario, workers=workers, engine=engine).metric(metric).mean())

    return evaluate


def one_at_a_time(ranges: list[Range], evaluate: Callable[[dict[str, Any]], float],
                  replications: int | None = None) -> dict[str, Any]:
    """The metric at the scenario's own values, and with each key at its low and at its high; with the
    ``replications`` each evaluation's mean rests on, when given."""
    base = evaluate({})
    rows: list[dict[str, Any]] = []
    for r in ranges:
        low, high = evaluate({r.key: _value(r, r.low)}), evaluate({r.key: _value(r, r.high)})
        rows.append({"key": r.key, "low_value": r.low, "high_value": r.high, "metric_at_low": low,
                     "metric_at_high": high, "swing": abs(high - low)})
    rows.sort(key=lambda row: -row["swing"])
    return {"base": base, "rows": rows} | ({} if replications is None else {"replications": replications})


def sobol(
    ranges: list[Range], evaluate: Callable[[dict[str, Any]], float], samples: int, seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """First-order and total Sobol indices (scipy.stats.sobol_indices, Saltelli sampling of uniform
    inputs) with bootstrap 95 % confidence intervals. Costs samples x (keys + 2) evaluations."""
    evaluations = samples * (len(ranges) + 2)
    done = [0]

    def func(x: np.ndarray) -> np.ndarray:
        out = []
        for column in x.T:
            out.append(evaluate({r.key: _value(r, v) for r, v in zip(ranges, column)}))
            done[0] += 1
            if progress is not None:
                progress(done[0], evaluations)
        return np.array(out)[np.newaxis, :]

    dists = [stats.uniform(loc=r.low, scale=r.high - r.low) for r in ranges]
    result = stats.sobol_indices(func=func, n=samples, dists=dists, rng=np.random.default_rng(seed))
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a key with no effect has a degenerate bootstrap: its CI is its value
        ci = result.bootstrap(confidence_level=0.95, n_resamples=999)

    def bound(values: np.ndarray, point: np.ndarray, i: int) -> float:
        return float(point[i]) if np.isnan(values[i]) else float(values[i])

    first, total = result.first_order, result.total_order
    return {
        "samples": samples,
        "evaluations": evaluations,
        "rows": [
            {
                "key": r.key,
                "first_order": float(first[i]),
                "first_order_ci95_low": bound(ci.first_order.confidence_interval.low, first, i),
                "first_order_ci95_high": bound(ci.first_order.confidence_interval.high, first, i),
                "total_order": float(total[i]),
                "total_order_ci95_low": bound(ci.total_order.confidence_interval.low, total, i),
                "total_order_ci95_high": bound(ci.total_order.confidence_interval.high, total, i),
            }
            for i, r in enumerate(ranges)
        ],
    }


def _value(r: Range, v: float) -> float | int:
    return round(v) if r.integer else float(v)


def write_results(out_dir: Path, scenario: str, metric: str, oat: dict[str, Any], indices: dict[str, Any] | None,
                  resolved: Scenario | None = None) -> None:
    """sensitivity.json, tornado.csv and .png, and with Sobol indices sobol.csv and .png, atomically; the plots
    name the keys' outages after ``resolved``, the scenario varied."""
    from routesim.outputs import files, plots, rundir

    def columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        return {k: [r[k] for r in rows] for k in rows[0]}

    with files.atomic_dir(out_dir) as tmp:
        rundir.write_json(tmp / "sensitivity.json",
                          {"scenario": scenario, "metric": metric, "one_at_a_time": oat, "sobol": indices})
        rundir.write_columns(tmp / "tornado.csv", columns(oat["rows"]))
        named = () if resolved is None else (resolved,)
        plots.tornado(oat, metric, scenario, named).savefig(tmp / "tornado.png", dpi=130)
        if indices is not None:
            rundir.write_columns(tmp / "sobol.csv", columns(indices["rows"]))
            plots.sobol_bars(indices, metric, scenario, named).savefig(tmp / "sobol.png", dpi=130)
