"""A shipper keeps its planned routes first (dispatch rule 4): closed forms, pure and through both engines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import pipeline, scenario
from routesim.engine import compiled, plan, reference
from routesim.engine.capacity import PLANNED
from routesim.engine.dispatch import Supplier, allocate


def planned(supply, plans, empty=True, entries=(0, 1), weight=1.0):  # type: ignore[no-untyped-def]
    return Supplier(supply, empty, False, weight, frozenset(entries), tuple(plans))


@pytest.mark.parametrize("s, p1, p2", [(500.0, 600.0, 400.0), (999.0, 600.0, 400.0), (3.0, 1.0, 3.0)])
def test_supply_short_of_the_plans_fills_them_pro_rata(s, p1, p2):
    flows = allocate([planned(s, (p1, p2))], [800.0, 800.0]).flows_bpd[0]
    assert flows == pytest.approx((s * p1 / (p1 + p2), s * p2 / (p1 + p2)), rel=1e-12)


@pytest.mark.parametrize("s", [1000.0, 1100.0, 1300.0, 1600.0, 2000.0])
def test_supply_above_the_plans_fills_them_then_the_better_netback(s):
    """The plans of a steady state at 1000: the better route full, the other the rest."""
    p1, p2, c1, c2 = 800.0, 200.0, 800.0, 800.0
    flows = allocate([planned(s, (p1, p2))], [c1, c2]).flows_bpd[0]
    first = min(c1, p1 + (s - p1 - p2))
    assert flows == pytest.approx((first, min(c2, s - first)), rel=1e-12)
    assert flows == allocate([planned(s, (0.0, 0.0))], [c1, c2]).flows_bpd[0]  # today's allocation


def test_plans_above_an_impaired_capacity_are_scaled_down_to_it():
    flows = allocate([planned(400.0, (600.0, 400.0))], [300.0, 800.0]).flows_bpd[0]
    assert flows == pytest.approx((400.0 * 300 / 700, 400.0 * 400 / 700), rel=1e-12)


@given(st.floats(0, 2e6), st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 1e6),
       st.floats(0, 1e6), st.floats(0, 1e6))
def test_two_producers_who_can_send_their_plans_get_todays_allocation(a, b, c1, c2, q1, q2, extra):
    """Rule 4 changes nothing while every producer can send its plans."""
    plans = [(min(q1, c1) / 2, min(q2, c2) / 2), (min(q1, c1) / 2, min(q2, c2) / 2)]
    s = [sum(plans[0]) + a, sum(plans[1]) + b]
    with_plans = allocate([planned(s[i], plans[i], weight=1 + i) for i in range(2)], [c1, c2])
    without = allocate([planned(s[i], (), weight=1 + i) for i in range(2)], [c1, c2])
    assert with_plans == without


def test_the_plans_are_the_steady_state_dispatch():
    routes = {"a": pipeline(600_000), "b": pipeline(600_000), "c": pipeline(100_000, cost=30.0)}
    s = scenario(production_bpd=1_000_000, routes=routes)
    assert plan.entries(s) == [("a", PLANNED), ("b", PLANNED), ("c", PLANNED)]
    assert plan.planned_bpd(s) == ((600_000.0, 400_000.0, 0.0),)


@pytest.mark.parametrize("engine", [reference, compiled])
def test_after_a_stop_the_ramp_keeps_both_routes_of_a_tie_pro_rata(engine):
    """Two pipes of one netback: the plan is 600,000 and 400,000 bbl/day. A stops; after it, production
    climbs on its ramp, short of the plans, and each pipe carries its plan's share of it (before rule 4,
    A took 600,000 and B what was left: B ran at a trickle)."""
    p, ramp = 1_000_000.0, 6.0
    routes = {"a": pipeline(600_000), "b": pipeline(600_000)}
    outage = {"target": "a", "start_day": 20, "duration_days": 10}
    s = scenario(production_bpd=p, storage_bbl=200_000, ramp_days=ramp, routes=routes, outages=[outage],
                 horizon_days=60)
    t = engine.simulate(s)
    during = (t.times >= 30.5) & (t.times < 30 + ramp) & (t.levels_bbl["p"] == 0.0)
    assert during.sum() >= 3
    produced = t.production["p"][during]
    assert np.all(produced < p)
    assert t.flows_bpd["a"][during] == pytest.approx(produced * 0.6, rel=1e-12)
    assert t.flows_bpd["b"][during] == pytest.approx(produced * 0.4, rel=1e-12)
