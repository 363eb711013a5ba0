"""The memory budget of a run: it counts the daily series the results produce, and refuses a run that would
not fit before anything runs or is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import SCENARIOS, pipeline, scenario, shuttle
from routesim.engine import choose, simulate
from routesim.errors import ScenarioError
from routesim.results import measure
from routesim.runs import budget, montecarlo
from routesim.scenario.loader import load_scenario
from routesim.scenario.model import Scenario
from test_robustness import cli

SHIPPED = sorted([*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("history/**/*.yaml")])
SHORT = ["horizon_days=20", "replications=2"]


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(SCENARIOS)) for p in SHIPPED])
def test_the_named_daily_series_are_those_a_run_produces(path: Path) -> None:
    check_names(load_scenario(path, SHORT))


def test_the_names_follow_the_engines_order_of_routes_and_tank_farms() -> None:
    """Routes in the file not in netback order, two tank farms and two producers: every series of its own."""
    farm = {"tank_farm": {"storage_bbl": 500_000.0}}
    s = scenario(horizon_days=20, replications=2, routes={
        "far": {**pipeline(400_000.0, cost=10.0), **farm}, "near": {**pipeline(400_000.0, cost=1.0), **farm},
        "ship": shuttle(tank_farm={"storage_bbl": 500_000.0})},
        producers={"p": {"production_bpd": 500_000.0, "storage_bbl": 1e6}, "q": {"production_bpd": 300_000.0}})
    assert list(s.routes) != s.routes_by_netback()
    check_names(s)


def check_names(s: Scenario) -> None:
    """:func:`measure.daily_names` of ``s`` are the series of a run, in order, and follow each engine's trace."""
    names = measure.daily_names(s)
    assert montecarlo.run(s).series == names  # chunk by chunk: the columns of timeseries.csv
    assert tuple(montecarlo.run_replication(s, 1).daily) == names  # one replication at a time
    engines = ["simpy", *(["compiled"] if choose(s).engine == "compiled" else [])]
    for engine in engines:
        trace = simulate(s, 0, engine=engine)
        nodes = [n.replace("/", "_") for n in trace.levels_bbl]
        assert [n.removesuffix("_availability") for n in names if n.endswith("_availability")] == [*trace.capacity_factor]
        assert [n.removesuffix("_storage_bbl") for n in names if n.endswith("_storage_bbl")] == (
            nodes if len(nodes) > 1 else [])
        assert [n.removesuffix("_production_bpd") for n in names if n.endswith("_production_bpd")] == (
            [*trace.production] if len(trace.production) > 1 else [])


def test_the_budget_counts_every_named_series(monkeypatch: pytest.MonkeyPatch) -> None:
    """One more daily series costs a sampled replication's horizon in values: fewer replications fit."""
    s = load_scenario(SCENARIOS / "base.yaml", ["horizon_days=3650"])
    most = _most(budget.problems(s, 1_000_000)[0])
    names = measure.daily_names(s)
    monkeypatch.setattr(budget, "daily_names", lambda _: (*names, "one_more"))
    assert _most(budget.problems(s, 1_000_000)[0]) < most


def _most(issue: str) -> int:
    found = re.search(r"at most ([\d,]+) replications", issue)
    assert found is not None, issue
    return int(found.group(1).replace(",", ""))


def test_a_million_replications_are_accepted_and_the_limit_says_what_fits() -> None:
    def issues(name: str, replications: int, *overrides: str) -> list[str]:
        return budget.problems(load_scenario(SCENARIOS / name, list(overrides)), replications)

    assert issues("cpc-incident-risk.yaml", 1_000_000) == []
    too_many = issues("base.yaml", 100_000_000)
    assert len(too_many) == 1 and too_many[0].startswith("replications: 100,000,000 ")
    most = _most(too_many[0])
    assert 1_000_000 < most < 100_000_000
    assert issues("base.yaml", most) == [] and issues("base.yaml", most + 1) != []
    # ten years: the band sample's daily series alone would pass the limit, so fewer replications fit
    most = _most(issues("base.yaml", 1_000_000, "horizon_days=3650")[0])
    assert most < budget.BAND_SAMPLE
    assert issues("base.yaml", most, "horizon_days=3650") == []
    assert issues("base.yaml", most + 1, "horizon_days=3650") != []


def test_a_run_above_the_budget_is_refused_before_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_: object, **__: object) -> None:
        raise AssertionError("a replication ran")

    monkeypatch.setattr(montecarlo, "simulate", never)
    s = load_scenario(SCENARIOS / "base.yaml", ["replications=100000000"])
    with pytest.raises(ScenarioError, match=r"^replications: 100,000,000 keep .* at most [\d,]+ replications"):
        montecarlo.run(s)
    monkeypatch.undo()
    assert montecarlo.run(s, indices=[7]).indices.tolist() == [7]  # what counts is the replications run


@pytest.mark.e2e
@pytest.mark.parametrize("command, args", [("compare", [str(SCENARIOS / "cpc-closure-30d.yaml")]),
                                           ("sweep", ["--param", "seed=1,2"])])
def test_compare_and_sweep_refuse_it_before_writing(command: str, args: list[str], tmp_path: Path) -> None:
    code, err = cli(command, str(SCENARIOS / "base.yaml"), *args, "-n", "100000000", "--out", str(tmp_path / "out"))
    assert code == 2 and f"error: {SCENARIOS / 'base.yaml'}: replications: 100,000,000 keep" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_validate_reports_it_with_the_file(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text(f"extends: {SCENARIOS / 'base.yaml'}\nreplications: 100000000\n")
    code, err = cli("validate", str(huge), str(SCENARIOS / "base.yaml"))
    assert code == 2 and err.startswith(f"error: {huge}: replications: 100,000,000 keep ") and len(err.splitlines()) == 1
