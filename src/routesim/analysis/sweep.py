"""Run a scenario over a grid of parameter values: one run directory per point, resumable, and a summary.

A point whose directory already holds a finished run of the same resolved scenario is not run again, so
an interrupted sweep picks up where it stopped.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from routesim.errors import ScenarioError
from routesim.money import fiscal
from routesim.outputs import files, rundir
from routesim.results.summary import RunSummary
from routesim.runs import montecarlo
from routesim.scenario.loader import dump_resolved, load_scenario, parse_yaml

from .compare import unique_labels

SWEEP_METRICS = (
    "budget_loss_usd",
    "budget_loss_share",
    "revenue_loss_usd",
    "government_loss_usd",
    "exported_bbl",
    "shut_in_bbl",
    "export_loss_bbl",
)
"""Metrics a sweep summarises (mean, 95 % CI of the mean, p5, p95)."""
STATS = ("mean", "mean_ci95_low", "mean_ci95_high", "p5", "p95")
_DURATION = re.compile(r"^outages(?:\[(\d+)\]|\.(\d+))\.duration_days$")


@dataclass(frozen=True)
class Param:
    """A scenario key and the values it takes."""

    key: str
    values: tuple[Any, ...]


def parse_param(spec: str, option: str = "--param") -> Param:
    """``KEY=START:STOP:COUNT`` (evenly spaced, ends included) or ``KEY=A,B,C`` (YAML values)."""
    key, sep, text = spec.partition("=")
    if not sep or not key or not text:
        raise ScenarioError([f"{option} {spec}: expected KEY=START:STOP:COUNT or KEY=A,B,C"])
    parts = text.split(":")
    if len(parts) not in (1, 3):
        raise ScenarioError([f"{option} {spec}: expected KEY=START:STOP:COUNT or KEY=A,B,C"])
    if len(parts) == 3:
        try:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ScenarioError([f"{option} {spec}: START:STOP:COUNT must be numbers, COUNT a whole number"]) from None
        if count < 1:
            raise ScenarioError([f"{option} {spec}: COUNT must be at least 1"])
        values = tuple(_tidy(v) for v in np.linspace(start, stop, count))
    else:
        values = tuple(parse_yaml(v, f"{option} {key}") for v in text.split(","))
    return Param(key, values)


def _tidy(value: float) -> float | int:
    """Whole numbers as ints, so that integer keys (tankers) accept them."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 12)


def setting(key: str, value: Any) -> str:
    """The ``--set`` text that gives ``key`` the value ``value`` (a float always reads back as a float)."""
    if isinstance(value, str):
        return f"{key}={json.dumps(value)}"
    if isinstance(value, float):
        mantissa, e, exponent = repr(value).partition("e")
        if e and "." not in mantissa:  # YAML 1.1 reads 1e-05 as text, 1.0e-05 as a number
            mantissa += ".0"
        return f"{key}={mantissa}{e}{exponent}"
    return f"{key}={value}"


def grid(params: Sequence[Param]) -> list[dict[str, Any]]:
    """Every combination of the parameters' values, the first parameter varying slowest."""
    return [dict(zip([p.key for p in params], combo)) for combo in itertools.product(*[p.values for p in params])]


def run_point(
    path: Path,
    overrides: Sequence[str],
    out_dir: Path,
    workers: int,
    command: list[str],
    plots: bool = False,
    engine: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[RunSummary, bool]:
    """Run one scenario variant into ``out_dir``, unless it already holds the same finished run.

    Returns:
        The run's summary and whether it was reused.
    """
    scenario = load_scenario(path, overrides)
    resolved, summary = out_dir / "scenario.resolved.yaml", out_dir / "summary.json"
    if summary.exists() and resolved.exists() and resolved.read_text(encoding="utf-8") == dump_resolved(scenario):
        return rundir.read_summary(out_dir), True
    started = time.perf_counter()
    result = montecarlo.run(scenario, workers=workers, engine=engine, progress=progress)
    result = replace(result, settings=settings(overrides))
    manifest = rundir.manifest(command, str(path), result, time.perf_counter() - started, workers)
    rundir.write_run(result, out_dir, manifest, plots=plots)
    return result.summary(), False


def settings(overrides: Sequence[str]) -> tuple[str, ...]:
    """The assignments of ``overrides`` that change the scenario's model: all but the replication count and
    the seed, which a run's title shows on their own."""
    return tuple(o for o in overrides if o.partition("=")[0].strip() not in ("replications", "seed"))


@dataclass(frozen=True)
class Plan:
    """A sweep checked before it starts: every scenario at every grid point, each point's settings valid."""

    paths: tuple[Path, ...]
    names: tuple[str, ...]
    """The scenarios' folder names, made unique where names repeat."""
    points: tuple[dict[str, Any], ...]
    replications: tuple[int, ...]
    """Replications of each run, scenario by scenario, point by point."""

    @property
    def runs(self) -> int:
        return len(self.replications)

    def identity(self, params: Sequence[Param]) -> dict[str, Any]:
        """What sweep.json records: which sweep an output folder holds."""
        return {"scenarios": list(self.names), "params": [{"key": p.key, "values": list(p.values)} for p in params]}


def plan(paths: Sequence[Path], params: Sequence[Param], overrides: Sequence[str]) -> Plan:
    """Check every point of the grid before anything runs or is written.

    Raises:
        ScenarioError: one line per bad point, naming it: ``p002: outages[0].duration_days=-10: ...``.
    """
    points = grid(params)
    names = unique_labels([load_scenario(p, overrides).name for p in paths])
    issues: list[str] = []
    replications = []
    for path in paths:
        for i, point in enumerate(points):
            sets = [setting(k, v) for k, v in point.items()]
            try:
                replications.append(load_scenario(path, [*overrides, *sets]).replications)
            except ScenarioError as exc:
                where = f"p{i:03d}: {', '.join(f'{k}={v}' for k, v in point.items())}"
                for issue in exc.issues:  # the point names its settings: the loader's "--set ...: " would repeat them
                    line = f"{where}: {issue.split(': ', 1)[1] if issue.startswith('--set ') else issue}"
                    issues += [] if line in issues else [line]
    if issues:
        raise ScenarioError(issues)
    return Plan(tuple(paths), tuple(names), tuple(points), tuple(replications))


def estimate_s(the_plan: Plan, overrides: Sequence[str], workers: int, engine: str = "auto") -> float:
    """About how long the sweep takes [s]: every run's replications at the measured cost of one replication
    of the first run (after a first one that loads the engine), spread over the workers."""
    scenario = load_scenario(the_plan.paths[0], [*overrides, *(setting(k, v) for k, v in the_plan.points[0].items())])
    montecarlo.run_chunk(scenario, [0], engine=engine)
    started = time.perf_counter()
    montecarlo.run_chunk(scenario, [1], engine=engine)
    cost = time.perf_counter() - started
    return sum(cost * n / max(1, min(workers, n)) for n in the_plan.replications)


def check_out(out_dir: Path, identity: dict[str, Any]) -> None:
    """Refuse an output folder that holds another sweep's points (the same sweep resumes there)."""
    files.check_target(out_dir)
    record = out_dir / "sweep.json"
    if record.is_file() and json.loads(record.read_text(encoding="utf-8")) != identity:
        raise ScenarioError([f"--out: {out_dir} holds the points of another sweep (its sweep.json); give another "
                             "--out, or remove that folder"])


def sweep(
    the_plan: Plan,
    params: Sequence[Param],
    overrides: Sequence[str],
    out_dir: Path,
    workers: int,
    command: list[str],
    progress: Callable[[int, int], None] | None = None,
    engine: str = "auto",
) -> list[dict[str, Any]]:
    """Run every scenario of a checked plan at every grid point into ``out_dir/<scenario>/p<i>/`` on
    ``engine``; return one row per run."""
    identity = the_plan.identity(params)
    check_out(out_dir, identity)
    out_dir.mkdir(parents=True, exist_ok=True)
    files.write_text(out_dir / files.MARKER, "a routesim sweep; a later sweep may resume or replace it\n")
    files.write_text(out_dir / "sweep.json", json.dumps(identity, indent=2) + "\n")
    rows, done = [], 0
    for path, name in zip(the_plan.paths, the_plan.names):
        for i, point in enumerate(the_plan.points):
            point_dir = out_dir / name / f"p{i:03d}"
            sets = [*overrides, *(setting(k, v) for k, v in point.items())]
            summary, reused = run_point(path, sets, point_dir, workers, command, engine=engine)
            row = {"scenario": name, **point, "run_dir": str(point_dir.relative_to(out_dir)), "reused": reused,
                   "replications": summary.replications}
            for metric in SWEEP_METRICS:
                row.update({f"{metric}_{stat}": getattr(summary.metrics[metric], stat) for stat in STATS})
            rows.append(row)
            done += 1
            if progress is not None:
                progress(done, the_plan.runs)
    return rows


def naive_loss_line(out_dir: Path, rows: list[dict[str, Any]], key: str, paths: Sequence[Path],
                    overrides: Sequence[str]) -> dict[str, float] | None:
    """For a sweep of an outage's duration: each scenario's naive budget loss per day of outage [USD/day].

    The naive estimate: every day of outage loses the route's normal daily exports, times (1 - capacity
    factor), times the budget revenue of a barrel at the scenario's mean Brent -- linear in days, with no
    storage, rerouting or restart ramp.
    """
    match = _DURATION.match(key)
    if not match:
        return None
    index = int(match.group(1) or match.group(2))
    slopes = {}
    for path, name in zip(paths, scenario_names(rows)):
        scenario = load_scenario(path, overrides)
        if index >= len(scenario.outages):
            return None
        outage = scenario.outages[index]
        if "/" in outage.target:  # a part of a route: its cost depends on the rest of the route
            return None
        run_dir = out_dir / next(r["run_dir"] for r in rows if r["scenario"] == name)
        daily = rundir.read_run(run_dir).daily
        bpd = float(np.median(daily[f"baseline_{outage.target}_exported_bpd"]))  # the route's normal flow
        brent = float(np.mean(daily["brent_usd_per_bbl"]))
        per_bbl = fiscal.budget_revenue_per_bbl(scenario, outage.target, brent)
        slopes[name] = bpd * (1 - outage.capacity_factor) * per_bbl
    return slopes


def write_summary(out_dir: Path, rows: list[dict[str, Any]]) -> None:
    """sweep.csv, one row per run, written atomically."""
    with files.atomic_file(out_dir / "sweep.csv") as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_plots(out_dir: Path, rows: list[dict[str, Any]], keys: list[str], paths: Sequence[Path],
                overrides: Sequence[str]) -> None:
    """One parameter: a curve per metric (with the naive line for an outage's duration); two: heatmaps."""
    from routesim.outputs import plots

    figures = {}
    scenarios = [load_scenario(p, overrides) for p in paths]  # they name what an outage key hits
    if len(keys) == 1:
        naive = naive_loss_line(out_dir, rows, keys[0], paths, overrides)
        for metric in SWEEP_METRICS:
            line = naive if metric == "budget_loss_usd" else None
            figures[f"sweep_{metric}"] = plots.sweep_curve(rows, keys[0], metric, line, scenarios)
    elif len(keys) == 2:
        for name in scenario_names(rows):
            figures[f"heatmap_{name}_budget_loss_share"] = plots.sweep_heatmap(rows, (keys[0], keys[1]),
                                                                               "budget_loss_share", name, scenarios)
    for stem, fig in figures.items():
        with files.atomic_file(out_dir / f"{stem}.png") as tmp:
            fig.savefig(tmp, dpi=130)


def scenario_names(rows: list[dict[str, Any]]) -> list[str]:
    """Scenarios of a sweep, in order."""
    return list(dict.fromkeys(r["scenario"] for r in rows))

