"""A finished run directory as pandas DataFrames, for a notebook: :func:`read_run`.

pandas is an optional extra (``pip install 'routesim[pandas]'``); nothing else in routesim needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routesim.results.summary import Manifest, RunSummary

from . import rundir

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RunFrames:
    """A run directory read back: the typed summary and manifest, and the CSVs as DataFrames."""

    directory: Path
    summary: RunSummary
    """summary.json, typed."""
    manifest: Manifest | None
    """manifest.json, typed; None for a directory without one."""
    scenario: dict[str, Any]
    """The resolved scenario, as scenario.resolved.yaml holds it."""
    timeseries: pd.DataFrame
    """timeseries.csv: one row per day, indexed by date; each series' mean and its percentile bands."""
    replications: pd.DataFrame
    """replications.csv: one row per replication, indexed by its index; every figure of the replication."""
    table: pd.DataFrame
    """summary.csv: one row per figure, indexed by its name, with a ``route`` column and every statistic."""


def read_run(directory: str | Path) -> RunFrames:
    """Read a run directory written by ``routesim run`` into DataFrames.

    Raises:
        ImportError: pandas is not installed.
        ScenarioError: a file is missing or does not read as what routesim writes; the line names it.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("routesim.read_run needs pandas: pip install 'routesim[pandas]'") from None
    saved = rundir.read_run(Path(directory))  # checks every file, and names the one that is wrong
    table = pd.DataFrame(saved.summary.rows()).set_index("figure")  # from summary.json: older runs have no csv
    return RunFrames(
        directory=saved.directory,
        summary=saved.summary,
        manifest=saved.manifest,
        scenario=saved.scenario,
        timeseries=pd.read_csv(saved.directory / "timeseries.csv", parse_dates=["date"], index_col="date"),
        replications=pd.read_csv(saved.directory / "replications.csv", index_col="replication"),
        table=table,
    )
