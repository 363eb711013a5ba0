"""Inputs that are valid but change nothing are said, not passed over in silence."""

from __future__ import annotations

import pytest

from conftest import SCENARIOS, scenario
from routesim.cli import main
from routesim.engine import simulate
from routesim.results import measure
from routesim.scenario.loader import load_scenario
from routesim.scenario.notices import notices


def stop(**kw):
    return {"target": "main", "start_day": 10, "duration_days": 20, "capacity_factor": 0.0} | kw


@pytest.mark.parametrize("outage, words", [
    (stop(start_day=365), "outages[0]: starts on day 365, at or after the horizon"),
    (stop(duration_days=0), "outages[0]: lasts no time"),
    (stop(capacity_factor=1.0), "outages[0].capacity_factor: 1 leaves main at full capacity"),
])
def test_an_outage_that_changes_nothing_is_named_and_indeed_changes_nothing(outage, words):
    s = scenario(routes={"main": {"kind": "pipeline", "capacity_bpd": 8e5}}, outages=[outage])
    (note,) = notices(s)
    assert words in note
    shut_in = measure.volumes(s, simulate(s)).shut_in_bbl
    assert shut_in == measure.volumes(s.without_disruptions(), simulate(s.without_disruptions())).shut_in_bbl


def test_replications_of_a_scenario_with_nothing_random_are_named():
    s = scenario(replications=5)
    assert [n for n in notices(s) if n.startswith("replications: 5, but nothing in the scenario is random")]
    assert notices(s, replications=1) == []  # one replication (--rep K) is what it asks for
    random = scenario(replications=5, incidents=[{"target": "main", "rate_per_year": 2, "duration_days": 3}])
    assert notices(random) == []


def test_a_sharing_rule_with_one_producer_and_a_lag_with_nothing_impaired_are_named_and_change_nothing():
    main = {"kind": "pipeline", "capacity_bpd": 8e5, "reroute_lag_days": 5.0}
    s = scenario(routes={"main": main}, sharing_rule="stranded_first")
    assert notices(s) == ["sharing_rule: stranded_first with one producer: no route is shared, so it changes nothing",
                          "routes.main.reroute_lag_days: nothing in the scenario impairs a route, so no oil is "
                          "displaced and the lag changes nothing"]
    plain = scenario(routes={"main": {"kind": "pipeline", "capacity_bpd": 8e5}})
    assert measure.volumes(s, simulate(s)).exported_bbl == measure.volumes(plain, simulate(plain)).exported_bbl
    assert notices(scenario(routes={"main": main}, outages=[stop()])) == []  # a stop displaces oil: the lag counts


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_no_shipped_scenario_has_an_input_that_does_nothing(path):
    assert notices(load_scenario(path)) == []


@pytest.mark.e2e
def test_run_and_validate_print_the_warning(tmp_path, capsys):
    path = SCENARIOS / "cpc-closure-30d.yaml"
    late = ["--set", "outages[0].start_day=400"]
    assert main(["run", str(path), *late, "-n", "1", "-o", str(tmp_path / "o"), "--no-plots"]) == 0
    assert "warning: outages[0]: starts on day 400" in capsys.readouterr().err
    assert main(["run", str(path), *late, "-n", "1", "-q", "-o", str(tmp_path / "q"), "--no-plots"]) == 0
    assert capsys.readouterr().err == ""
    late_file = tmp_path / "late.yaml"
    late_file.write_text(f"extends: {SCENARIOS / 'cpc-closure-30d.yaml'}\noutages:\n  - target: cpc\n"
                         "    start_day: 400\n    duration_days: 5\n")
    assert main(["validate", str(late_file)]) == 0
    assert f"warning: {late_file}: outages[0]: starts on day 400" in capsys.readouterr().err
