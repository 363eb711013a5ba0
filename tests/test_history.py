"""Replays of history: each reported figure marked ``check`` in scenarios/history/reported.csv stays within
the band docs/validation.md states for it, and each marked ``miss`` stays outside it (a model that comes
to match it should say so: the row becomes a check)."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest

from conftest import ROOT, SCENARIOS, pipeline, raw_scenario
from routesim.analysis import history
from routesim.engine import simulate
from routesim.errors import ScenarioError
from routesim.scenario.loader import validate

REPORTED = SCENARIOS / "history" / "reported.csv"
ROWS = history.read_reported(REPORTED)  # reading the CSV runs nothing; the fixture below replays
CHECKS = [i for i, row in enumerate(ROWS) if row.status == "check"]
MISSES = [i for i, row in enumerate(ROWS) if row.status == "miss"]


def row_id(i: int) -> str:
    return f"{ROWS[i].scenario}:{ROWS[i].figure}:{ROWS[i].route}:{ROWS[i].start}"


@pytest.fixture(scope="module")
def replayed() -> list[tuple[history.Reported, float]]:
    """Every reported figure with its replayed value, in the CSV's order."""
    return history.compare(REPORTED)


@pytest.mark.parametrize("i", CHECKS, ids=[row_id(i) for i in CHECKS])
def test_a_replayed_figure_stays_within_its_stated_band(i, replayed):
    row, value = replayed[i]
    assert row.holds(value), f"{row.figure} {value:.4g} {row.unit} outside {row.low:g}-{row.high:g} ({row.source})"


@pytest.mark.parametrize("i", MISSES, ids=[row_id(i) for i in MISSES])
def test_a_missed_figure_is_still_missed(i, replayed):
    row, value = replayed[i]
    assert not row.holds(value), f"{row.figure} {value:.4g} {row.unit} now within {row.low:g}-{row.high:g}: a check"


def test_validation_md_states_every_band_the_tests_use():
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for row in ROWS:
        if row.status in ("check", "miss"):
            assert f"| {row.reported:g} |" in text and f"{row.low:g} to {row.high:g}" in text, row


def test_every_history_scenario_has_reported_figures():
    listed = {(REPORTED.parent / r.scenario).resolve() for r in ROWS}
    for path in (SCENARIOS / "history").glob("*.yaml"):
        assert path.resolve() in listed, path


NUMBER = re.compile(r"(?::|-|\[|,)\s*[-+]?\d")


@pytest.mark.parametrize("path", sorted(SCENARIOS.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_number_in_a_shipped_scenario_has_a_comment(path):
    """A value with a digit needs a comment on its line or in the comment block just above its block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    in_text = False
    for i, line in enumerate(lines):
        body = line.split("#")[0]
        if body.rstrip().endswith((">-", "|", ">")):  # a block of prose (description) follows
            in_text = True
            continue
        if in_text and line.startswith(" "):
            continue
        in_text = False
        if "#" in line or not NUMBER.search(body) or body.strip().startswith("name:"):
            continue
        above = lines[:i]
        block = []
        for prev in reversed(above):
            if not prev.strip():
                break
            block.append(prev)
        assert any(b.strip().startswith("#") or "#" in b for b in block), f"{path.name}:{i + 1}: {line.strip()}"


def test_the_figures_measure_what_they_say():
    """On a run whose answer is known: 100 bbl/d for 10 days, loading stopped on days 2-5, no storage."""
    raw = raw_scenario(production_bpd=100.0, horizon_days=10, routes={"main": pipeline(100.0)},
                       outages=[{"target": "main", "start_day": 2, "duration_days": 3, "capacity_factor": 0.0}])
    s = validate(raw)
    t = simulate(s)
    day = lambda d: s.start_date + dt.timedelta(days=d)
    assert history.loaded_bbl(s, t, "main", day(0), day(10)) == pytest.approx(700.0)
    assert history.shut_in_bbl(s, t, day(0), day(10)) == pytest.approx(300.0)
    assert history.zero_loading_days(s, t, "main", day(0), day(10)) == pytest.approx(3.0)
    assert history.days_to_cut(s, t, day(1), day(10)) == pytest.approx(1.0)
    assert history.route_share(s, t, "main", day(0), day(10)) == 1.0
    assert math.isinf(history.days_to_cut(s, t, day(6), day(10)))


def test_an_unknown_status_is_refused_with_its_line(tmp_path):
    text = REPORTED.read_text(encoding="utf-8").splitlines()
    bad = text[1].replace(",check,", ",chek,")
    path = tmp_path / "reported.csv"
    path.write_text("\n".join([text[0], bad]) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"line 2: status: 'chek' is not one of check, miss, contrast"):
        history.read_reported(path)
