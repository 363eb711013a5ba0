"""The one-line results of the command line and the report's findings, as a reader meets them: every figure
in its unit, no negative zero, and what a share is of. Built from summaries, so nothing runs."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import scenario
from routesim import cli
from routesim.outputs import plots, report
from routesim.results.run import RunResult
from routesim.results.summary import RunSummary, Stats
from routesim.runs import montecarlo


@pytest.fixture(scope="module")
def calm() -> RunSummary:
    """A year without disruptions: every loss is zero."""
    return montecarlo.run(scenario(horizon_days=30), engine="simpy").summary()


def with_figure(summary: RunSummary, metric: str, value: float) -> RunSummary:
    """``summary`` with every statistic of ``metric`` set to ``value`` (one replication's worth)."""
    stats = Stats.of(np.array([value]), loss=summary.metrics[metric].prob_loss is not None)
    return dataclasses.replace(summary, metrics={**summary.metrics, metric: stats})


def test_a_rounding_error_of_zero_is_never_printed_as_negative_zero(calm, capsys, tmp_path):
    noisy = with_figure(with_figure(calm, "shut_in_bbl", -5.364e-07), "budget_loss_share", -1e-17)
    line = cli.headline(noisy, Path("out"))
    assert "shut in 0.0 M bbl" in line and "(0.0% of the 30-day budget)" in line and "-0" not in line
    (tmp_path / "summary.json").write_text(json.dumps(noisy.to_json()), encoding="utf-8")
    assert cli.main(["summary", str(tmp_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].endswith(": 1 replication, 30 days, seed 0")
    shut_in = next(row.split() for row in table if row.split()[:1] == ["shut_in_bbl"])
    assert shut_in[1:5] == ["0"] * 4
    assert all("-0" not in row and "e-" not in row for row in table)


@pytest.fixture(scope="module")
def short_stop() -> RunResult:
    """A 61-day horizon with a 20-day stop of the main route: its share is of the 61 days' budget."""
    return montecarlo.run(scenario(horizon_days=61, outages=[{"target": "main", "start_day": 10, "duration_days": 20}]),
                          engine="simpy")


def test_a_short_horizon_s_share_says_it_is_of_the_horizon_s_budget(short_stop, calm):
    summary = short_stop.summary()
    share = summary.metrics["budget_loss_share"].mean * 100
    assert f"({share:.1f}% of the 61-day budget)" in cli.headline(summary, Path("out"))
    assert f"{share:.1f} % of the 61-day budget" in plots.headline(short_stop)
    assert "the 61-day budget" in report.run_sentence(summary) and "annual" not in report.run_sentence(summary)
    year = dataclasses.replace(summary, horizon_days=365)
    assert "% of budget)" in cli.headline(year, Path("out")) and "annual revenue" in report.run_sentence(year)


def test_the_readme_s_quickstart_says_the_first_run_compiles_the_engine_as_the_cli_does():
    from conftest import ROOT

    quickstart = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quickstart")[1].split("\n## ")[0]
    said = (ROOT / "src" / "routesim" / "engine" / "compiled.py").read_text(encoding="utf-8")
    message = "compiling the engine for this machine, once (a minute or two)"
    assert message in said and f"`{message}`" in quickstart and "first run" in quickstart


def test_a_sweep_s_report_names_an_outage_key_as_its_plots_do(tmp_path):
    from conftest import pipeline
    from routesim.scenario.loader import dump_resolved

    key = "outages[0].duration_days"
    closure = scenario(routes={"main": pipeline(900_000.0)},
                       outages=[{"target": "main", "start_day": 10, "duration_days": 20}])
    rows = []
    for i, days in enumerate((10, 40)):
        (tmp_path / "s" / f"p{i:03d}").mkdir(parents=True)
        (tmp_path / "s" / f"p{i:03d}" / "scenario.resolved.yaml").write_text(dump_resolved(closure), encoding="utf-8")
        row = {"scenario": "s", key: days, "run_dir": f"s/p{i:03d}", "reused": False, "replications": 1}
        for metric in ("budget_loss_usd", "budget_loss_share"):
            row |= {f"{metric}_{st}": days * 1e7 for st in ("mean", "mean_ci95_low", "mean_ci95_high")}
        rows.append(row)
    with (tmp_path / "sweep.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (tmp_path / "sweep.json").write_text(json.dumps({"scenarios": ["s"], "params": [{"key": key, "values": [10, 40]}]}))
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert "(length of the Main stop 10 days) to" in page and "first outage" not in page


def test_compare_s_line_omits_a_confidence_interval_of_no_width():
    from types import SimpleNamespace

    runs = [SimpleNamespace(name="base"), SimpleNamespace(name="a"), SimpleNamespace(name="b")]
    table = {"budget_loss_usd": [{"run": "base", "diff": None, "ci95_low": None, "ci95_high": None},
                                 {"run": "a", "diff": 1.15e9, "ci95_low": 1.15e9, "ci95_high": 1.15e9},
                                 {"run": "b", "diff": -2e6, "ci95_low": -0.05e9, "ci95_high": 0.04e9}]}
    assert cli._compare_lines(table, runs, Path("out")).splitlines() == [
        "a vs base: budget loss +1.15 bn USD", "b vs base: budget loss +0.00 bn USD (95 % CI -0.05 to +0.04)", "-> out/"]


def test_the_sensitivity_finding_says_the_replications_it_rests_on():
    from routesim.analysis.sensitivity import Range, one_at_a_time

    oat = one_at_a_time([Range("outages[0].duration_days", 10, 60, True)], lambda v: 1e7 * v.get(
        "outages[0].duration_days", 30), replications=200)
    assert oat["replications"] == 200
    assert report.sensitivity_sentence("budget_loss_usd", oat).endswith(
        "; USD 0.30 bn at the scenario's own values (200 replications each).")
