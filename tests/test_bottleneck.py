"""A route's binding cap is named, from the formula of each cap, and a --set that does not bind is said."""

from __future__ import annotations

import json

import pytest

from conftest import SCENARIOS, pipeline, scenario, shuttle
from routesim.cli import main
from routesim.scenario.bottleneck import bottleneck


def test_a_tanker_fleet_binds_at_tankers_times_cargo_over_its_cycle():
    route = shuttle(capacity_bpd=300_000.0) | {"tankers": 3, "tanker_capacity_bbl": 90_000.0, "load_days": 1.0,
                                               "voyage_days": 2.0, "unload_days": 1.0}
    s = scenario(routes={"tc": route}, storage_bbl=1e6)
    bound = bottleneck(s.routes["tc"])
    assert bound.bpd == pytest.approx(3 * 90_000 / (1 + 2 * 2 + 1)) and bound.constraint.startswith("tankers: 3 x")


def test_load_berths_bind_when_loading_is_slower_than_the_fleet():
    route = shuttle(capacity_bpd=1e6) | {"tankers": 20, "tanker_capacity_bbl": 100_000.0, "load_berths": 1,
                                         "load_days": 2.0, "voyage_days": 1.0, "unload_days": 1.0}
    bound = bottleneck(scenario(routes={"tc": route}, storage_bbl=1e6).routes["tc"])
    assert bound.bpd == pytest.approx(1 * 100_000 / 2.0) and bound.constraint.startswith("load_berths: 1 x")


def test_a_pipeline_is_bound_by_its_least_segment_or_its_terminal():
    pipe = pipeline(1.5e6) | {"segments": {"a": {"capacity_bpd": 1.2e6}, "b": {"capacity_bpd": 1.4e6}}}
    assert bottleneck(scenario(routes={"p": pipe}).routes["p"]) == ("segments.a.capacity_bpd 1,200,000", 1.2e6)
    port = pipe | {"terminal": {"moorings": ["m1", "m2", "m3"], "active_moorings": 2, "mooring_rate_bpd": 5e5}}
    assert bottleneck(scenario(routes={"p": port}).routes["p"]).bpd == 2 * 5e5
    assert bottleneck(scenario(routes={"p": pipeline(9e5)}).routes["p"]) == ("capacity_bpd 900,000", 9e5)


@pytest.mark.e2e
def test_summary_names_it_and_a_set_that_does_not_bind_is_warned_about(tmp_path, capsys):
    out = tmp_path / "tc"
    assert main(["run", str(SCENARIOS / "base.yaml"), "--set", "routes.trans_caspian.capacity_bpd=300000",
                 "-o", str(out), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "warning: --set routes.trans_caspian.capacity_bpd=300000: trans_caspian carries at most" in err
    assert "note: losses are measured against this scenario, --set included" in err
    route = json.loads((out / "summary.json").read_text())["routes"]["trans_caspian"]
    assert route["binding_constraint"].startswith("tankers:") and route["binding_bpd"] < 300_000
