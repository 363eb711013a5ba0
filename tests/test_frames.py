"""A run directory in pandas: routesim.read_run and summary.csv."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

import routesim
from conftest import SCENARIOS
from routesim.errors import ScenarioError
from routesim.outputs import rundir
from routesim.runs import montecarlo
from routesim.scenario.loader import load_scenario

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three replications of the storm scenario written as ``routesim run`` writes them, without plots."""
    result = montecarlo.run(load_scenario(SCENARIOS / "cpc-storms.yaml", ["replications=3"]), engine="simpy")
    out = tmp_path_factory.mktemp("frames") / "run"
    rundir.write_run(result, out, rundir.manifest(["routesim", "run"], "cpc-storms.yaml", result, 1.0), plots=False)
    return out


def test_summary_csv_holds_every_figure_of_summary_json(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    with (run_dir / "summary.csv").open(encoding="utf-8", newline="") as fh:
        rows = {r["figure"]: r for r in csv.DictReader(fh)}
    expected = {**summary["metrics"], **{f"{r}_{f}": stats[f] for r, stats in summary["routes"].items()
                                         for f in ("exported_bbl", "availability", "days_impaired")},
                **{f"{p}_{f}": stats for p, own in summary["producers"].items() for f, stats in own.items()}}
    for r, stats in summary["routes"].items():  # a terminal's moorings: its k-of-n availability and states
        if "moorings" in stats:
            expected[f"{r}_mooring_availability"] = stats["moorings"]["availability"]
            expected |= {f"{r}_moorings_up_{j}_days": d for j, d in enumerate(stats["moorings"]["days_by_moorings_up"])}
    assert "cpc_mooring_availability" in expected
    assert set(rows) == set(expected)
    for figure, stats in expected.items():
        for name, value in stats.items():
            assert float(rows[figure][name]) == value, (figure, name)  # every digit kept
    assert rows["budget_loss_usd"]["route"] == "" and rows["cpc_exported_bbl"]["route"] == "cpc"
    assert rows["kazakhstan_lost_production_bbl"]["producer"] == "kazakhstan"
    assert rows["exported_bbl"]["var95"] == ""  # not a loss: no VaR


def test_read_run_gives_dataframes(run_dir: Path) -> None:
    saved = routesim.read_run(run_dir)
    summary = saved.summary
    assert isinstance(saved.timeseries.index, pd.DatetimeIndex)
    assert len(saved.timeseries) == summary.horizon_days
    assert saved.timeseries.index[0] == pd.Timestamp(saved.scenario["start_date"])
    assert list(saved.replications.index) == [0, 1, 2]
    assert saved.replications["budget_loss_usd"].mean() == pytest.approx(summary.metrics["budget_loss_usd"].mean,
                                                                         rel=1e-12)
    assert saved.table.loc["budget_loss_usd", "p95"] == summary.metrics["budget_loss_usd"].p95
    assert saved.table.loc["cpc_availability", "route"] == "cpc"
    assert saved.manifest is not None and saved.manifest.replications == 3


def test_read_run_names_the_missing_file(run_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text((run_dir / "summary.json").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="not a finished routesim run"):
        routesim.read_run(tmp_path)


def test_read_run_without_pandas_says_how_to_get_it(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'routesim\[pandas\]'"):
        routesim.read_run(run_dir)
