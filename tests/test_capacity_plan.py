"""Capacity apart from plan (issue #15 mechanism 2): ``plan_bpd`` is what shippers nominate, the plans fill
routes up to it, and the room between plan and capacity is spare: closed forms through both engines."""

from __future__ import annotations

import copy

import pytest

from conftest import pipeline, raw_scenario, scenario
from routesim.engine import plan
from routesim.engine.capacity import PLANNED, SPARE
from routesim.errors import ScenarioError
from routesim.runs import montecarlo
from routesim.scenario.loader import validate

ENGINES = ("simpy", "compiled")
REL = 1e-9


def test_the_plans_fill_each_route_up_to_its_plan_before_any_spare():
    """Entries: a up to its plan, b (no plan: all of it), then a's spare above its plan."""
    routes = {"a": pipeline(1_200_000.0) | {"plan_bpd": 900_000.0}, "b": pipeline(500_000.0, cost=5.0)}
    s = scenario(production_bpd=1_000_000.0, routes=routes)
    assert plan.entries(s) == [("a", PLANNED), ("b", PLANNED), ("a", SPARE)]
    assert plan.planned_bpd(s) == ((900_000.0, 100_000.0, 0.0),)
    # production above every plan goes into the spare: a's plans are then 0.9 M and 0.1 M above it
    more = scenario(production_bpd=1_500_000.0, routes=routes)
    assert plan.planned_bpd(more) == ((900_000.0, 500_000.0, 100_000.0),)
    no_plan = scenario(production_bpd=1_000_000.0, routes={"a": pipeline(1_200_000.0), "b": pipeline(500_000.0, cost=5.0)})
    assert plan.planned_bpd(no_plan) == ((1_000_000.0, 0.0),)  # the default plan: the capacity, no spare


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("production, a_bpd, b_bpd", [(1_000_000.0, 900_000.0, 100_000.0),
                                                       (1_300_000.0, 900_000.0, 400_000.0),
                                                       (1_600_000.0, 1_100_000.0, 500_000.0)])
def test_a_year_without_incidents_ships_the_plans(engine, production, a_bpd, b_bpd):
    """The better route a (plan 0.9 M of 1.2 M) takes no more than its plan while the worse b has room: a
    year without incidents carries the plans, and a's spare only what b cannot take."""
    routes = {"a": pipeline(1_200_000.0) | {"plan_bpd": 900_000.0}, "b": pipeline(500_000.0, cost=5.0)}
    s = scenario(production_bpd=production, routes=routes, horizon_days=30)
    rep = montecarlo.run_replication(s, 0, engine=engine)
    assert rep.route_exported_bbl["a"] == pytest.approx(a_bpd * 30, rel=REL)
    assert rep.route_exported_bbl["b"] == pytest.approx(b_bpd * 30, rel=REL)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("plan_bpd, capacity_bpd, spare, days", [(1_000.0, 1_200.0, 300.0, 10.0),
                                                                  (1_000.0, 1_500.0, 300.0, 10.0),
                                                                  (1_000.0, 1_000.0, 300.0, 10.0)])
def test_a_stop_is_made_up_at_the_lesser_of_the_spare_deliverability_and_the_spare_capacity(
        engine, plan_bpd, capacity_bpd, spare, days):
    """A producer at its plan P = the route's plan, fields able to give P + S, a route of capacity C: a stop
    of D days defers P D, made up at min(S, C - P) a day, in P D / min(S, C - P) days (never, with no spare
    capacity: the deferred oil is still owed at the horizon)."""
    p, t0, horizon = plan_bpd, 20, 200
    raw = raw_scenario(production_bpd=p, routes={"main": pipeline(capacity_bpd) | {"plan_bpd": plan_bpd}},
                       outages=[{"target": "main", "start_day": t0, "duration_days": days}], horizon_days=horizon)
    raw["producers"]["p"]["max_production_bpd"] = p + spare
    m = montecarlo.run_replication(validate(copy.deepcopy(raw)), 0, engine=engine).metrics
    rate = min(spare, capacity_bpd - plan_bpd)
    recovered = p * days if rate > 0 and t0 + days + p * days / rate <= horizon else rate * (horizon - t0 - days)
    assert m["deferred_bbl"] == pytest.approx(p * days, rel=REL)
    assert m["recovered_bbl"] == pytest.approx(recovered, rel=REL, abs=1e-6)
    assert m["backlog_end_bbl"] == pytest.approx(p * days - recovered, rel=REL, abs=1e-6)
    assert m["exported_bbl"] == pytest.approx(p * (horizon - days) + recovered, rel=REL)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_route_takes_displaced_oil_above_its_plan_up_to_its_capacity(engine):
    """The alternative's plan is 0.2 M bbl/d of a 0.5 M capacity: while CPC is stopped it carries 0.5 M."""
    routes = {"cpc": pipeline(1_000_000.0), "alt": pipeline(500_000.0, cost=5.0) | {"plan_bpd": 200_000.0}}
    raw = raw_scenario(production_bpd=1_200_000.0, routes=routes, horizon_days=60,
                       outages=[{"target": "cpc", "start_day": 10, "duration_days": 20}])
    s = validate(raw)
    assert plan.planned_bpd(s) == ((1_000_000.0, 200_000.0, 0.0),)
    rep = montecarlo.run_replication(s, 0, engine=engine)
    assert rep.route_exported_bbl["alt"] == pytest.approx(200_000.0 * 60 + 300_000.0 * 20, rel=REL)


@pytest.mark.parametrize("engine", ENGINES)
def test_within_a_reroute_lag_a_route_keeps_what_it_carried_in_the_steady_state(engine):
    """alt's plan is 0.1 M, but the steady state sends it 0.3 M (CPC is full): its planned flow is 0.3 M,
    so within the lag of a CPC stop it keeps 0.3 M, and after it takes its capacity, 0.5 M."""
    routes = {"cpc": pipeline(1_000_000.0), "alt": pipeline(500_000.0, cost=5.0) | {"plan_bpd": 100_000.0,
                                                                                    "reroute_lag_days": 5.0}}
    raw = raw_scenario(production_bpd=1_300_000.0, routes=routes, horizon_days=60,
                       outages=[{"target": "cpc", "start_day": 10, "duration_days": 20}])
    s = validate(raw)
    rep = montecarlo.run_replication(s, 0, engine=engine)
    assert rep.route_exported_bbl["alt"] == pytest.approx(300_000.0 * 60 + 200_000.0 * 15, rel=REL)


def test_a_plan_above_the_capacity_or_below_the_commitment_is_refused_by_key():
    below = raw_scenario(routes={"cpc": pipeline(1e6) | {"plan_bpd": 1e5, "committed_bpd": 2e5}})
    with pytest.raises(ScenarioError) as err:
        validate(below)
    assert any("routes.cpc.plan_bpd: 100,000 is below committed_bpd (200,000)" in line for line in err.value.issues)
    raw = raw_scenario(routes={"cpc": pipeline(1e6) | {"plan_bpd": 2e6}})
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any("routes.cpc.plan_bpd: 2,000,000 is above capacity_bpd (1,000,000)" in line for line in err.value.issues), \
        err.value.issues
