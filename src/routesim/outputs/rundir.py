"""A run directory: summary.json (and summary.csv, the same figures flat), timeseries.csv, replications.csv,
manifest.json, the resolved scenario and the plots, written all or nothing, and read back (:func:`read_run`).

Files are written into a hidden temporary directory beside the target and renamed into place at the end
(:func:`.files.atomic_dir`), so an interrupted or failed run leaves no half-written directory, and a re-run
never mixes old and new files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import platform
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from routesim.errors import ScenarioError
from routesim.results.run import RunResult
from routesim.results.summary import Manifest, RunSummary
from routesim.scenario.loader import dump_resolved, parse_yaml

from . import files

DEPENDENCIES = ("numpy", "scipy", "simpy", "numba", "matplotlib", "PyYAML", "pydantic")


def write_run(
    result: RunResult,
    out_dir: Path,
    manifest: Manifest,
    plots: bool = True,
    event_log: Sequence[tuple[float, str, str, str]] | None = None,
) -> Path:
    """Write every output of ``result`` into ``out_dir`` atomically; return ``out_dir``.

    ``event_log`` rows (time, event, target, detail) of a traced replication go to events.csv.
    """
    summary = result.summary()
    # The bands' sorts let go of the GIL: they run on the other cores while the rows are written here.
    with files.atomic_dir(out_dir) as tmp, ThreadPoolExecutor(max_workers=1) as pool:
        bands = pool.submit(result.daily_bands)
        write_json(tmp / "summary.json", summary.to_json())
        write_rows(tmp / "summary.csv", summary.rows())
        (tmp / "scenario.resolved.yaml").write_text(dump_resolved(result.scenario), encoding="utf-8")
        _write_replications(tmp / "replications.csv", result)
        _write_timeseries(tmp / "timeseries.csv", result.scenario.start_date, bands.result())
        curve = result.price_curve()
        write_columns(tmp / "price_curve.csv", curve)
        if plots:
            from .plots import figures  # matplotlib only when plots are wanted

            for stem, fig in figures(result, curve).items():
                fig.savefig(tmp / f"{stem}.png", dpi=130)
        if event_log is not None:
            _write_events(tmp / "events.csv", result.scenario.start_date, event_log)
        write_json(tmp / "manifest.json", manifest.to_json())
    return out_dir


def manifest(
    command: list[str], scenario_file: str, result: RunResult, wall_time_s: float, workers: int = 1
) -> Manifest:
    """Provenance of a run: enough to reproduce it a year later."""
    s = result.scenario
    return Manifest(
        routesim_version=_version("routesim"),
        command=tuple(command),
        scenario_file=scenario_file,
        scenario=s.name,
        scenario_sha256=hashlib.sha256(dump_resolved(s).encode("utf-8")).hexdigest(),
        seed=s.seed,
        replications=len(result.indices),
        replication_indices=_ranges(result.indices),
        workers=workers,
        horizon_days=s.horizon_days,
        created_utc=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        wall_time_s=round(wall_time_s, 3),
        events=int(result.events.sum()),
        engine=result.engine,
        engine_reason=result.engine_reason,
        python=platform.python_version(),
        platform=platform.platform(),
        dependencies={name: _version(name) for name in DEPENDENCIES},
        git_commit=_git_commit(Path(__file__).resolve().parent),
        scenario_git_commit=_git_commit(Path(scenario_file).resolve().parent),
        precision=None if result.precision is None else result.precision.to_json(),
    )


@dataclass(frozen=True)
class SavedRun:
    """A finished run directory, read back."""

    directory: Path
    summary: RunSummary
    manifest: Manifest | None
    """None for a directory without manifest.json."""
    scenario: dict[str, Any]
    """The resolved scenario, as scenario.resolved.yaml holds it."""
    replications: dict[int, dict[str, float]]
    """Each replication's row of replications.csv, by replication index."""
    daily: dict[str, np.ndarray]
    """Each column of timeseries.csv but the date [one value per day]."""
    dates: list[str]
    """The days of ``daily``, ISO 8601."""
    label: str = ""

    @property
    def name(self) -> str:
        """The run's label: its scenario's name, or its folder's when scenarios repeat."""
        return self.label or self.summary.scenario


def read_run(directory: Path) -> SavedRun:
    """Read a run directory written by ``routesim run``.

    Raises:
        ScenarioError: a file is missing or does not read as what routesim writes; the line names it.
    """
    directory = Path(directory)
    summary, manifest = read_summary(directory), read_manifest(directory)
    resolved = directory / "scenario.resolved.yaml"
    try:
        scenario = parse_yaml(resolved.read_text(encoding="utf-8"), str(resolved))
        with (directory / "replications.csv").open(encoding="utf-8") as fh:
            reps = {int(r["replication"]): {k: float(v) for k, v in r.items() if k != "replication"}
                    for r in csv.DictReader(fh)}
        with (directory / "timeseries.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        daily = {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k != "date"}
        dates = [r["date"] for r in rows]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ScenarioError([f"{directory}: not a finished routesim run ({exc})"]) from None
    if not isinstance(scenario, dict):
        raise ScenarioError([f"{resolved}: expected a mapping of keys, got {type(scenario).__name__}"])
    return SavedRun(directory, summary, manifest, scenario, reps, daily, dates)


def read_summary(directory: Path) -> RunSummary:
    """The summary.json of a run directory (see :meth:`RunSummary.from_json` for what it checks)."""
    path = Path(directory) / "summary.json"
    return RunSummary.from_json(_read_json(path), str(path))


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest.json of a run directory, or None if it has none."""
    path = Path(directory) / "manifest.json"
    return Manifest.from_json(_read_json(path), str(path)) if path.exists() else None


def _read_json(path: Path) -> Any:
    """The JSON document in ``path``; a missing or unreadable file is a ScenarioError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError([f"{path.parent}: not a finished routesim run ({path.name}: {exc.strerror})"]) from None
    except ValueError as exc:  # not UTF-8, or not JSON
        raise ScenarioError([f"{path}: not a JSON file routesim wrote ({exc})"]) from None


def _ranges(indices: np.ndarray) -> str:
    """``0-1999`` for a contiguous run of replications, else the list."""
    first = int(indices[0])
    if np.array_equal(indices, np.arange(first, first + len(indices))):
        return f"{first}-{int(indices[-1])}" if len(indices) > 1 else str(first)
    return ",".join(map(str, indices.tolist()))


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON; NaN and infinity are refused."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _write_timeseries(path: Path, start: dt.date, bands: dict[str, np.ndarray]) -> None:
    days = len(next(iter(bands.values())))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["date", "day", *bands])
        for d in range(days):
            row = [f"{v[d]:.10g}" for v in bands.values()]
            writer.writerow([(start + dt.timedelta(days=d)).isoformat(), d, *row])


def write_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of one set of keys as CSV, the keys for a header; None is an empty cell, floats keep every digit."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in r.items()}
                         for r in rows)


def write_columns(path: Path, columns: dict[str, Any]) -> None:
    """Columns (of any lengths; short ones padded with blanks) as CSV; floats with 10 significant digits."""
    length = max((len(v) for v in columns.values()), default=0)

    def cell(column: Any, i: int) -> Any:
        if i >= len(column) or column[i] is None:
            return ""
        value = column[i]
        return f"{value:.10g}" if isinstance(value, (float, np.floating)) else value

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(columns))
        for i in range(length):
            writer.writerow([cell(column, i) for column in columns.values()])


def _write_events(path: Path, start: dt.date, rows: Sequence[tuple[float, str, str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["time_days", "date", "event", "target", "detail"])
        for time, event, target, detail in rows:
            date = (start + dt.timedelta(days=int(time))).isoformat()
            writer.writerow([f"{time:.6f}", date, event, target, detail])


def _write_replications(path: Path, result: RunResult, rows_at_once: int = 4096) -> None:
    """One row per replication, written a few thousand rows at a time from the result's figures."""
    names = result.layout.names
    counts = len(result.layout.incidents)  # the last columns, written as integers
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["replication", *names, "events"])
        for a in range(0, len(result.indices), rows_at_once):
            b = a + rows_at_once
            for index, row, events in zip(result.indices[a:b].tolist(), result.figures[:, a:b].T.tolist(),
                                          result.events[a:b].tolist()):
                floats, ints = row[: len(row) - counts], row[len(row) - counts :]
                writer.writerow([index, *map(repr, floats), *map(int, ints), events])


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_commit(here: Path) -> str | None:
    """Commit of the git work tree holding ``here``, with ``-dirty`` if it has local changes; None outside git."""
    try:
        commit = _git(here, "rev-parse", "HEAD")
        dirty = _git(here, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "") if commit else None


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=True)
    return done.stdout.strip()
