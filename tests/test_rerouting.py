"""Rerouting that takes time, and who is served first on a shared route (issue #15 mechanism 4): closed
forms through both engines.

A displacement starts when a route's capacity falls below its plan and ends when every route can take its
plan again; within ``reroute_lag_days`` of its start a route takes no more than its own plan.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from conftest import pipeline, raw_scenario, scenario
from routesim.engine import compiled, plan, reference
from routesim.engine.dispatch import Supplier, allocate
from routesim.errors import ScenarioError
from routesim.results import measure
from routesim.scenario.loader import validate
from test_engines import disagreements

ENGINES = [reference, compiled]
REL = 1e-12


def first_above(trace, route: str, bpd: float) -> float:
    """The first record time from which ``route`` carries more than ``bpd`` [days]."""
    times = trace.times[trace.flows_bpd[route] > bpd * (1 + 1e-9)]
    return float(times[0]) if len(times) else math.inf


def carried(trace, route: str, horizon: float) -> float:
    return float(measure.cumulative(trace, trace.flows_bpd[route], horizon))


def stop_scenario(production_bpd: float, lag: float, outages: list, horizon: int = 60, **top):
    """CPC (1.0 M bbl/d, the better netback) and an alternative (0.3 M bbl/d) with a reroute lag; no storage."""
    routes = {"cpc": pipeline(1_000_000.0), "alt": pipeline(300_000.0, cost=5.0) | {"reroute_lag_days": lag}}
    return scenario(production_bpd=production_bpd, routes=routes, outages=outages, horizon_days=horizon, **top)


STOP = [{"target": "cpc", "start_day": 10, "duration_days": 20, "capacity_factor": 0.0}]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("lag", [0.0, 3.0, 7.5, 25.0])
def test_the_lag_shifts_the_alternatives_intake_by_exactly_the_lag(engine, lag):
    """Its plan is 0 (CPC takes all 1.0 M bbl/d): it takes 0.3 M bbl/d from day 10 + lag to the reopening
    at day 30, and nothing while the lag runs (a lag past the stop: nothing at all)."""
    s = stop_scenario(1_000_000.0, lag, STOP)
    assert plan.route_plans_bpd(s, plan.planned_bpd(s)) == (1_000_000.0, 0.0)
    t = engine.simulate(s)
    takes = max(20.0 - lag, 0.0)
    assert carried(t, "alt", 60) == pytest.approx(300_000.0 * takes, rel=REL, abs=1e-6)
    assert first_above(t, "alt", 0.0) == (pytest.approx(10.0 + lag, rel=REL) if takes > 0 else math.inf)
    v = measure.volumes(s, t)
    assert v.shut_in_bbl == pytest.approx(1_000_000.0 * 20 - 300_000.0 * takes, rel=REL)


@pytest.mark.parametrize("engine", ENGINES)
def test_within_the_lag_a_route_takes_its_plan_then_up_to_its_capacity(engine):
    """At 1.2 M bbl/d the alternative's plan is 0.2 M: it keeps it through the lag, then takes 0.3 M."""
    s = stop_scenario(1_200_000.0, 4.0, STOP)
    t = engine.simulate(s)
    assert carried(t, "alt", 60) == pytest.approx(200_000.0 * 60 + 100_000.0 * 16, rel=REL)
    assert first_above(t, "alt", 200_000.0) == pytest.approx(14.0, rel=REL)


@pytest.mark.parametrize("engine", ENGINES)
def test_each_displacement_starts_its_own_lag(engine):
    """Two stops with CPC open between them: the second starts the lag again."""
    stops = [{"target": "cpc", "start_day": 10, "duration_days": 10, "capacity_factor": 0.0},
             {"target": "cpc", "start_day": 25, "duration_days": 10, "capacity_factor": 0.0}]
    t = engine.simulate(stop_scenario(1_000_000.0, 4.0, stops))
    assert carried(t, "alt", 60) == pytest.approx(300_000.0 * (6 + 6), rel=REL)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_cut_below_the_plan_displaces_and_a_cut_above_it_does_not(engine):
    """CPC at half (0.5 M < its 1.0 M plan) displaces; the alternative at half does not (0.15 M above its
    plan of 0): a lag on CPC itself holds nothing back, CPC never runs above its plan."""
    half = [{"target": "cpc", "start_day": 10, "duration_days": 20, "capacity_factor": 0.5}]
    t = engine.simulate(stop_scenario(1_000_000.0, 5.0, half))
    assert carried(t, "alt", 60) == pytest.approx(300_000.0 * 15, rel=REL)
    alt_half = [{"target": "alt", "start_day": 10, "duration_days": 20, "capacity_factor": 0.5}]
    s = stop_scenario(1_300_000.0, 5.0, alt_half)  # the plans: CPC 1.0 M, alt 0.3 M; alt at 0.15 M displaces
    t = engine.simulate(s)
    assert carried(t, "alt", 60) == pytest.approx(300_000.0 * 40 + 150_000.0 * 20, rel=REL)


def test_the_engines_agree_with_lags_and_either_sharing_rule():
    raw = raw_scenario(production_bpd=900_000.0, storage_bbl=2e6, initial_storage_bbl=5e5, ramp_days=3.0,
                       routes={"cpc": pipeline(1e6), "alt": pipeline(3e5, cost=5.0) | {"reroute_lag_days": 2.5},
                               "far": pipeline(2e5, cost=9.0) | {"reroute_lag_days": 6.0}},
                       outages=STOP, horizon_days=60)
    raw["producers"]["q"] = {"production_bpd": 150_000.0, "routes": ["alt"]}
    for rule in ("pro_rata", "stranded_first"):
        s = validate(copy.deepcopy(raw) | {"sharing_rule": rule})
        a, b = reference.simulate(s), compiled.simulate(s)
        assert not disagreements(s, a, b), rule


# ---------------------------------------------------------------- the sharing rule


def supplier(supply: float, entries: tuple[int, ...], weight: float = 1.0) -> Supplier:
    return Supplier(supply, True, False, weight, frozenset(entries))


def test_pro_rata_shares_a_route_by_weight_and_stranded_first_serves_who_has_no_other_route():
    """A reaches the shared route and another open one; B only the shared one (0.3 M bbl/d)."""
    a, b = supplier(300_000.0, (0, 1)), supplier(300_000.0, (0,))
    caps, routes = [300_000.0, 300_000.0], [0, 1]
    assert allocate([a, b], caps, routes).flows_bpd == ((150_000.0, 150_000.0), (150_000.0, 0.0))
    assert allocate([a, b], caps, routes, stranded_first=True).flows_bpd == ((0.0, 300_000.0), (300_000.0, 0.0))
    # with A's other route shut, both are stranded: pro rata again
    shut = [300_000.0, 0.0]
    assert allocate([a, b], shut, routes, True).flows_bpd == allocate([a, b], shut, routes).flows_bpd
    # what the stranded leave goes to the others, pro rata
    small = supplier(100_000.0, (0,))
    assert allocate([a, small], caps, routes, True).flows_bpd == ((200_000.0, 100_000.0), (100_000.0, 0.0))


@pytest.mark.parametrize("engine", ENGINES)
def test_stranded_first_in_both_engines(engine):
    """The same two producers as a scenario: pro rata B ships 0.15 M bbl/d, stranded first 0.3 M; A
    ships 0.3 M either way (its other route has room). When A's other route stops, A is stranded too."""
    routes = {"shared": pipeline(300_000.0), "other": pipeline(300_000.0, cost=5.0)}
    stop = [{"target": "other", "start_day": 20, "duration_days": 10, "capacity_factor": 0.0}]
    raw = raw_scenario(production_bpd=300_000.0, routes=routes, outages=stop, horizon_days=40)
    raw["producers"] = {"a": {"production_bpd": 300_000.0, "routes": ["shared", "other"]},
                        "b": {"production_bpd": 300_000.0, "routes": ["shared"]}}
    for rule, b_ships in (("pro_rata", 150_000.0 * 40), ("stranded_first", 300_000.0 * 30 + 150_000.0 * 10)):
        s = validate(copy.deepcopy(raw) | {"sharing_rule": rule})
        t = engine.simulate(s)
        assert float(measure.cumulative(t, t.production["b"], 40)) == pytest.approx(b_ships, rel=REL), rule
        assert float(measure.cumulative(t, t.production["a"], 40)) == pytest.approx(
            300_000.0 * 30 + 150_000.0 * 10, rel=REL), rule


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("change, message", [
    (lambda r: r["routes"]["alt"].update(reroute_lag_days=-1.0),
     "routes.alt.reroute_lag_days: input should be greater than or equal to 0"),
    (lambda r: r.update(sharing_rule="first_come"), "sharing_rule: input should be 'pro_rata' or 'stranded_first'"),
])
def test_a_negative_lag_and_an_unknown_rule_are_refused_by_key(change, message):
    raw = raw_scenario(routes={"cpc": pipeline(1e6), "alt": pipeline(3e5)})
    change(raw)
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any(message in line for line in err.value.issues), err.value.issues


def test_the_trace_keeps_the_displacement_in_its_log():
    t = reference.simulate(stop_scenario(1_000_000.0, 3.0, STOP), log=True)
    assert [time for time, event, _, _ in t.log if event == "displacement_starts"] == [10.0]
    assert np.all(t.flows_bpd["alt"][(t.times >= 10) & (t.times < 13)] == 0.0)


@pytest.mark.parametrize("setting, words", [
    ("routes.cpc.reroute_lag_days=-1", "routes.cpc.reroute_lag_days: input should be greater than or equal to 0"),
    ("sharing_rule=first_come", "sharing_rule: input should be 'pro_rata' or 'stranded_first'"),
])
def test_the_command_line_refuses_a_bad_lag_or_rule_and_writes_nothing(tmp_path, capsys, setting, words):
    from conftest import SCENARIOS
    from routesim.cli import main

    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "cpc-closure-30d.yaml"), "--set", setting, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- outages of a producer's output


@pytest.mark.parametrize("engine", ENGINES)
def test_a_producer_outage_cuts_its_output_for_its_window(engine):
    """An upstream stop (a field's power station): the producer at 40 % for 8 days, nothing on the routes
    impaired; shut in 0.6 x P x 8; a producer that makes up oil owes it afterwards."""
    p = 1_000_000.0
    out = [{"target": "p", "start_day": 17, "duration_days": 8, "capacity_factor": 0.4}]
    s = scenario(production_bpd=p, routes={"cpc": pipeline(2e6)}, outages=out, horizon_days=60)
    t = engine.simulate(s)
    v = measure.volumes(s, t)
    assert v.shut_in_bbl == pytest.approx(0.6 * p * 8, rel=REL)
    assert v.availability["cpc"] == 1.0
    assert float(measure.cumulative(t, t.production["p"], 60)) == pytest.approx(p * 60 - 0.6 * p * 8, rel=REL)
    raw = raw_scenario(production_bpd=p, routes={"cpc": pipeline(2e6)}, outages=out, horizon_days=60)
    raw["producers"]["p"]["max_production_bpd"] = 1.2 * p
    s = validate(raw)
    v = measure.volumes(s, engine.simulate(s))
    assert v.producers["p"]["recovered_bbl"] == pytest.approx(0.6 * p * 8, rel=REL)  # made up in 24 days


def test_a_target_that_names_both_a_route_and_a_producer_is_refused():
    raw = raw_scenario(routes={"p": pipeline(1e6)})
    validate(copy.deepcopy(raw))  # a producer and a route may share a name that nothing targets
    raw["outages"] = [{"target": "p", "start_day": 1, "duration_days": 1}]
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any("outages[0].target: 'p' names both a route and a producer" in line for line in err.value.issues), \
        err.value.issues
