"""Writing a run directory: summary.json, timeseries.csv, replications.csv, manifest.json, the resolved
scenario and the plots, all or nothing.

Files are written into a hidden temporary directory beside the target and renamed into place at the end,
so an interrupted or failed run leaves no half-written directory, and a re-run never mixes old and new files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from .montecarlo import RunResult
from .results import METRICS
from .scenario_io import dump_resolved

DEPENDENCIES = ("numpy", "scipy", "simpy", "matplotlib", "PyYAML", "pydantic")


def write_run(
    result: RunResult,
    out_dir: Path,
    manifest: dict[str, Any],
    plots: bool = True,
) -> Path:
    """Write every output of ``result`` into ``out_dir`` atomically; return ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        _write_json(tmp / "summary.json", result.summary())
        (tmp / "scenario.resolved.yaml").write_text(dump_resolved(result.scenario), encoding="utf-8")
        _write_timeseries(tmp / "timeseries.csv", result)
        _write_replications(tmp / "replications.csv", result)
        if plots:
            from .plots import figures  # matplotlib only when plots are wanted

            for stem, fig in figures(result).items():
                fig.savefig(tmp / f"{stem}.png", dpi=130)
        _write_json(tmp / "manifest.json", manifest)
        _replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def manifest(command: list[str], scenario_file: str, result: RunResult, wall_time_s: float) -> dict[str, Any]:
    """Provenance of a run: enough to reproduce it a year later."""
    s = result.scenario
    return {
        "routesim_version": _version("routesim"),
        "command": command,
        "scenario_file": scenario_file,
        "scenario": s.name,
        "seed": s.seed,
        "replications": len(result.replications),
        "horizon_days": s.horizon_days,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(wall_time_s, 3),
        "events": sum(r.events for r in result.replications),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "git_commit": _git_commit(),
    }


def _replace(tmp: Path, out_dir: Path) -> None:
    """Move ``tmp`` to ``out_dir``; an existing ``out_dir`` is removed only once the new one is in place."""
    old = None
    if out_dir.exists() or out_dir.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / out_dir.name)
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _write_timeseries(path: Path, result: RunResult) -> None:
    bands = result.daily_bands()
    start = result.scenario.start_date
    days = len(next(iter(bands.values())))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["date", "day", *bands])
        for d in range(days):
            row = [f"{v[d]:.10g}" for v in bands.values()]
            writer.writerow([(start + dt.timedelta(days=d)).isoformat(), d, *row])


def _write_replications(path: Path, result: RunResult) -> None:
    routes = list(result.scenario.routes)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["replication", *METRICS, *(f"{r}_exported_bbl" for r in routes), *(f"{r}_availability" for r in routes)]
        )
        for rep in result.replications:
            writer.writerow(
                [
                    rep.index,
                    *(repr(rep.metrics[m]) for m in METRICS),
                    *(repr(rep.route_exported_bbl[r]) for r in routes),
                    *(repr(rep.route_availability[r]) for r in routes),
                ]
            )


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """Commit of the routesim source tree, with ``-dirty`` if it has local changes; None outside git."""
    here = Path(__file__).resolve().parent
    try:
        commit = _git(here, "rev-parse", "HEAD")
        dirty = _git(here, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "") if commit else None


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=True)
    return done.stdout.strip()
