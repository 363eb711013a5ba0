"""The one-line results of the command line and the report's findings, as a reader meets them: every figure
in its unit, no negative zero, and what a share is of. Built from summaries, so nothing runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import scenario
from routesim import cli
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
    assert "shut in 0.0 M bbl" in line and "(0.0% of budget)" in line and "-0" not in line
    (tmp_path / "summary.json").write_text(json.dumps(noisy.to_json()), encoding="utf-8")
    assert cli.main(["summary", str(tmp_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].endswith(": 1 replication, 30 days, seed 0")
    shut_in = next(row.split() for row in table if row.split()[:1] == ["shut_in_bbl"])
    assert shut_in[1:5] == ["0"] * 4
    assert all("-0" not in row and "e-" not in row for row in table)
