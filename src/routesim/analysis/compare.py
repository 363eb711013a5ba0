"""Compare finished runs: what differs in their inputs, how their metrics differ (paired by replication,
since runs with one seed share their random incidents), and overlays of their results."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from routesim.errors import ScenarioError
from routesim.outputs.rundir import SavedRun, read_run
from routesim.results.measure import METRICS
from routesim.results.summary import Z95
from routesim.scenario.loader import flatten

SKIP_KEYS = ("name", "description")
"""Inputs that always differ between scenarios and say nothing about the model."""


def read_runs(directories: list[Path]) -> list[SavedRun]:
    """Read run directories, each labelled by its scenario's name, made unique where names repeat."""
    runs = [read_run(d) for d in directories]
    return [dataclasses.replace(r, label=label) for r, label in zip(runs, unique_labels([r.name for r in runs]))]


def unique_labels(names: list[str]) -> list[str]:
    """``["a", "a", "b"]`` -> ``["a", "a-2", "b"]``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def check_pairable(runs: list[SavedRun], unpaired: bool) -> None:
    """Refuse to pair runs whose seeds or horizons differ, unless told the comparison is unpaired."""
    if unpaired:
        return
    first = runs[0].summary
    issues = [
        f"{run.directory}: {key} {getattr(run.summary, key)} differs from {getattr(first, key)} in {runs[0].directory}; "
        "pairing needs one seed, horizon and number of replications (give --unpaired to compare them anyway)"
        for run in runs[1:]
        for key in ("seed", "horizon_days", "replications")
        if getattr(run.summary, key) != getattr(first, key)
    ]
    if issues:
        raise ScenarioError(issues)


def inputs_diff(runs: list[SavedRun]) -> list[dict[str, Any]]:
    """Every resolved input that differs between the runs, with its value in each (None where absent)."""
    flat = [flatten(run.scenario) for run in runs]
    keys = sorted({k for f in flat for k in f if k not in SKIP_KEYS})
    return [
        {"key": key, "values": [_plain(f.get(key)) for f in flat]}
        for key in keys
        if len({json.dumps(_plain(f.get(key)), sort_keys=True) for f in flat}) > 1
    ]


def metric_table(runs: list[SavedRun], paired: bool) -> dict[str, list[dict[str, Any]]]:
    """Each metric's mean per run and its difference to the first run with the 95 % confidence interval.

    Paired: the mean of per-replication differences over the replications both runs have, +- 1.96 sd / sqrt(n).
    Unpaired: the difference of means, +- 1.96 sqrt(s1^2 / n1 + s0^2 / n0).
    """
    base = runs[0]
    table: dict[str, list[dict[str, Any]]] = {}
    for metric in METRICS:
        rows = []
        for i, run in enumerate(runs):
            mean = run.summary.metrics[metric].mean
            row = {"run": run.name, "mean": mean, "diff": None, "ci95_low": None, "ci95_high": None}
            if i > 0:
                diff, half = _difference(base, run, metric, paired)
                row.update({"diff": diff, "ci95_low": diff - half, "ci95_high": diff + half})
            rows.append(row)
        table[metric] = rows
    return table


def _difference(base: SavedRun, run: SavedRun, metric: str, paired: bool) -> tuple[float, float]:
    if paired:
        common = sorted(set(base.replications) & set(run.replications))
        d = np.array([run.replications[k][metric] - base.replications[k][metric] for k in common])
        half = Z95 * d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else 0.0
        return float(d.mean()), float(half)
    a = np.array([r[metric] for r in base.replications.values()])
    b = np.array([r[metric] for r in run.replications.values()])
    var = (a.var(ddof=1) / len(a) if len(a) > 1 else 0.0) + (b.var(ddof=1) / len(b) if len(b) > 1 else 0.0)
    return float(b.mean() - a.mean()), float(Z95 * math.sqrt(var))


def overlay_data(runs: list[SavedRun]) -> dict[str, dict[str, Any]]:
    """The data behind each overlay plot, keyed by plot name: columns of equal length."""
    n = min(len(run.dates) for run in runs)  # runs of different horizons share their first days
    flows: dict[str, Any] = {"date": runs[0].dates[:n]}
    fan: dict[str, Any] = {"date": runs[0].dates[:n]}
    exceedance: dict[str, Any] = {}
    share: dict[str, Any] = {"run": [], "horizon_days": [], "mean": [], "ci95_low": [], "ci95_high": []}
    for run in runs:
        flows[run.name] = run.daily["exported_bpd"][:n]
        loss = run.daily
        for q in (5, 50, 95):
            fan[f"{run.name}_p{q}"] = loss.get(f"revenue_loss_usd_p{q}", loss["revenue_loss_usd"])[:n]
        years = run.summary.horizon_days / 365
        annual = np.sort([r["budget_loss_usd"] for r in run.replications.values()]) / years
        exceedance[f"{run.name}_budget_loss_usd_per_year"] = annual
        exceedance[f"{run.name}_probability_exceeded"] = 1.0 - np.arange(1, len(annual) + 1) / len(annual)
        st = run.summary.metrics["budget_loss_share"]
        share["run"].append(run.name)
        share["horizon_days"].append(run.summary.horizon_days)
        share["mean"].append(st.mean)
        share["ci95_low"].append(st.mean_ci95_low)
        share["ci95_high"].append(st.mean_ci95_high)
    return {"flows": flows, "loss_fan": fan, "loss_exceedance": exceedance, "budget_loss_share": share}


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def write_comparison(runs: list[SavedRun], out_dir: Path, paired: bool) -> dict[str, list[dict[str, Any]]]:
    """Write compare.json, inputs_diff.csv, metrics.csv and the overlay plots with their data, atomically;
    return the metric table."""
    from routesim.outputs import files, rundir
    from routesim.outputs.plots import overlays

    table = metric_table(runs, paired)
    diff = inputs_diff(runs)
    data = overlay_data(runs)
    names = [r.name for r in runs]
    with files.atomic_dir(out_dir) as tmp:
        rundir.write_json(tmp / "compare.json", {
            "runs": [{"name": r.name, "dir": str(r.directory), "seed": r.summary.seed,
                      "horizon_days": r.summary.horizon_days, "replications": r.summary.replications}
                     for r in runs],
            "paired": paired,
            "metrics": table,
            "inputs_diff": diff,
        })
        rundir.write_columns(tmp / "inputs_diff.csv",
                             {"key": [d["key"] for d in diff], **{n: [d["values"][i] for d in diff]
                                                                  for i, n in enumerate(names)}})
        rows = [row for metric in table for row in table[metric]]
        rundir.write_columns(tmp / "metrics.csv", {
            "metric": [metric for metric in table for _ in runs],
            **{k: [row[k] for row in rows] for k in ("run", "mean", "diff", "ci95_low", "ci95_high")}})
        for stem, columns in data.items():
            rundir.write_columns(tmp / f"overlay_{stem}.csv", columns)
        for stem, fig in overlays(data, names).items():
            fig.savefig(tmp / f"{stem}.png", dpi=130)
    return table
