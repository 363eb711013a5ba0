"""The loader: the issue's example file, extends, --set, and every problem reported with its key path."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import SCENARIOS
from routesim.errors import ScenarioError
from routesim.scenario.loader import dump_resolved, load_scenario

ISSUE_EXAMPLE = """\
name: cpc-closure-30d
description: CPC fully stopped for 30 days from day 60; the trans-Caspian route takes what it can.
extends: base.yaml            # optional; path relative to this file; deep merge, child wins
horizon_days: 365
start_date: 2022-01-01
seed: 7
replications: 1               # issue on Monte Carlo adds stochastic inputs
producers:
  kazakhstan:
    production_bpd: 1_300_000
    storage_bbl: 5_000_000     # buffer upstream of the export routes
    initial_storage_bbl: 2_000_000
    restart_ramp_days: 7       # linear ramp back to full rate after a shut-in
routes:
  cpc:
    kind: pipeline
    capacity_bpd: 1_400_000
    transit_days: 10
    cost_usd_per_bbl: 4.8      # tariff + freight to the sale point
    differential_usd_per_bbl: -1.0   # grade/location price vs Brent
  trans_caspian:
    kind: tanker_shuttle       # Aktau -> Baku by tanker, then BTC
    capacity_bpd: 100_000      # port/terminal cap on the route
    tankers: 5
    tanker_capacity_bbl: 90_000
    load_berths: 1
    load_days: 1.0
    voyage_days: 2.0           # one way; the return leg takes the same
    unload_days: 1.0
    transit_days: 10           # Baku -> Ceyhan through BTC
    cost_usd_per_bbl: 14.0
    differential_usd_per_bbl: 1.0
market:
  brent_usd_per_bbl: 80
fiscal:
  government_take_share: 0.45          # share of export revenue that reaches the state budget
  budget_revenue_usd_per_year: 40_000_000_000
outages:
  - target: cpc                # a route, or route/component once components exist
    start_day: 60              # or start_date: 2022-03-02
    duration_days: 30
    capacity_factor: 0.0       # 0 = stopped, 0.5 = half capacity
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path, overrides=()) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value.issues


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copy(SCENARIOS / "base.yaml", tmp_path / "base.yaml")
    return write(tmp_path, "example.yaml", ISSUE_EXAMPLE)


def test_the_issue_example_loads_as_written(example):
    s = load_scenario(example)
    assert s.name == "cpc-closure-30d" and s.production_bpd == 1_300_000
    assert s.routes["trans_caspian"].tankers == 5 and s.routes["cpc"].transit_days == 10
    assert s.outages[0].window_days(s.start_date) == (60.0, 90.0)
    assert s.fiscal.budget_revenue_usd_per_year == 40e9


def test_extends_deep_merges_and_the_child_wins(tmp_path):
    shutil.copy(SCENARIOS / "base.yaml", tmp_path / "base.yaml")
    child = write(tmp_path, "child.yaml", """\
        extends: base.yaml
        routes:
          trans_caspian: {tankers: 9}
        """)
    base, s = load_scenario(tmp_path / "base.yaml"), load_scenario(child)
    assert s.name == "child"  # a child never inherits its parent's name
    assert s.routes["trans_caspian"].tankers == 9
    assert s.routes["trans_caspian"].voyage_days == base.routes["trans_caspian"].voyage_days
    assert s.routes["cpc"] == base.routes["cpc"]


def test_typo_is_named_with_a_suggestion(example):
    text = example.read_text().replace("    capacity_bpd: 1_400_000", "    capasity_bpd: 1_400_000")
    example.write_text(text)
    issues = problems(example)
    assert any(i.endswith("routes.cpc.capasity_bpd: unknown key; did you mean capacity_bpd?") for i in issues)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, "bad.yaml", """\
        name: bad
        horizon_days: 0
        producers:
          kz: {production_bpd: 5, storage_bbl: 10, initial_storage_bbl: 20}
        routes:
          cpc: {kind: pipeline, capacity_bpd: .nan, tranzit_days: 3}
          tc: {kind: tanker_shuttle, capacity_bpd: -1, tankers: 0, tanker_capacity_bbl: 5}
          x: {kind: canal, capacity_bpd: 1}
        market: {brent_usd_per_bbl: .inf}
        outages:
          - {target: cpc, start_day: 3, duration_days: 4, capacity_factor: 1.5}
        """)
    joined = "\n".join(problems(path))
    for expected in (
        "horizon_days:",
        "routes.tc.capacity_bpd: input should be greater than or equal to 0",
        "producers.kz.initial_storage_bbl: 20 exceeds storage_bbl (10)",
        "routes.cpc.capacity_bpd: input should be a finite number",
        "routes.cpc.tranzit_days: unknown key; did you mean transit_days?",
        "routes.tc.tankers:",
        "routes.x.kind: 'canal' is not one of pipeline, tanker_shuttle",
        "market.brent_usd_per_bbl:",
        "outages[0].capacity_factor:",
    ):
        assert expected in joined, expected


def test_cross_references_are_checked(example):
    example.write_text(example.read_text().replace("  - target: cpc", "  - target: cpcc"))
    assert any("outages[0].target: unknown route, component or producer 'cpcc'" in i for i in problems(example))


def test_a_tanker_must_fit_in_storage(tmp_path):
    path = write(tmp_path, "s.yaml", """\
        producers: {kz: {production_bpd: 1, storage_bbl: 10}}
        routes: {tc: {kind: tanker_shuttle, capacity_bpd: 1, tankers: 1, tanker_capacity_bbl: 50}}
        """)
    assert any("producers.kz.storage_bbl" in i and "tanker_capacity_bbl" in i for i in problems(path))


def test_outage_needs_one_start_and_one_end(tmp_path):
    path = write(tmp_path, "s.yaml", """\
        producers: {kz: {production_bpd: 1}}
        routes: {cpc: {kind: pipeline, capacity_bpd: 1}}
        outages:
          - {target: cpc, start_day: 1, start_date: 2022-01-02, duration_days: 3}
          - {target: cpc, start_day: 1}
        """)
    issues = problems(path)
    assert any("outages[0].start_day: give exactly one of start_day and start_date" in i for i in issues)
    assert any("outages[1].duration_days: give exactly one of duration_days and end_date" in i for i in issues)


def test_dates_and_days_describe_the_same_outage(tmp_path):
    path = write(tmp_path, "s.yaml", """\
        start_date: 2022-01-01
        producers: {kz: {production_bpd: 1}}
        routes: {cpc: {kind: pipeline, capacity_bpd: 1}}
        outages:
          - {target: cpc, start_date: 2022-03-02, end_date: "2022-04-01"}
        """)
    s = load_scenario(path)
    assert s.outages[0].window_days(s.start_date) == (60.0, 90.0)


def test_extends_cycle_and_missing_parent_are_errors(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    assert any("cycle" in i for i in problems(tmp_path / "a.yaml"))
    write(tmp_path, "c.yaml", "extends: nowhere.yaml\n")
    assert any("not found" in i and "nowhere.yaml" in i for i in problems(tmp_path / "c.yaml"))


@pytest.mark.parametrize("text, fragment", [("", "empty"), ("- 1\n- 2\n", "mapping"), ("a: [1\n", "invalid YAML")])
def test_unreadable_documents_are_errors(tmp_path, text, fragment):
    path = write(tmp_path, "s.yaml", text)
    assert any(fragment in i for i in problems(path))


def test_set_overrides_are_parsed_as_yaml_and_validated(example):
    s = load_scenario(example, ["routes.trans_caspian.capacity_bpd=300000", "outages[0].duration_days=45",
                                "start_date=2022-02-01", "market.brent_usd_per_bbl=95.5"])
    assert s.routes["trans_caspian"].capacity_bpd == 300_000
    assert s.outages[0].duration_days == 45 and s.market.brent_usd_per_bbl == 95.5
    assert str(s.start_date) == "2022-02-01"
    assert any("routes.cpc.capacity_bpd: input should be greater than or equal to 0" in i
               for i in problems(example, ["routes.cpc.capacity_bpd=-1"]))
    assert any("routes.cpc.capacity_bpd: input should be a valid number" in i
               for i in problems(example, ["routes.cpc.capacity_bpd=lots"]))


def test_set_unknown_path_is_an_error(example):
    assert any("--set routes.nope.capacity_bpd: unknown path routes.nope" in i
               for i in problems(example, ["routes.nope.capacity_bpd=1"]))
    assert any("did you mean capacity_bpd?" in i for i in problems(example, ["routes.cpc.capasity_bpd=1"]))
    assert any("expected KEY=VALUE" in i for i in problems(example, ["routes.cpc.capacity_bpd"]))


def test_resolved_yaml_reads_back_to_the_same_scenario(example, tmp_path):
    s = load_scenario(example, ["outages[0].duration_days=12.5"])
    resolved = tmp_path / "resolved.yaml"
    resolved.write_text(dump_resolved(s))
    assert load_scenario(resolved) == s


def test_an_issue_is_blamed_on_whoever_set_the_key(tmp_path):
    """A bad value from --set names the --set; one inherited from a parent names the parent file; one in the
    file loaded names it."""
    parent, child = tmp_path / "parent.yaml", tmp_path / "child.yaml"
    parent.write_text((SCENARIOS / "base.yaml").read_text().replace("horizon_days: 365", "horizon_days: 0"))
    child.write_text("extends: parent.yaml\nseed: -1\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child, ["routes.cpc.capacity_bpd=-5"])
    issues = sorted(caught.value.issues)
    assert [i.partition(": ")[0] for i in issues] == ["--set routes.cpc.capacity_bpd=-5", str(child), str(parent)]
    assert issues[0].startswith("--set routes.cpc.capacity_bpd=-5: routes.cpc.capacity_bpd: ")
    assert issues[1].startswith(f"{child}: seed: ") and issues[2].startswith(f"{parent}: horizon_days: ")

