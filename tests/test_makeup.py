"""Deferred production made up (issue #15), against closed forms: each expected figure is a formula.

The case of every test but the last ones: one producer of plan P on one pipeline of capacity C >= M
(its maximum, M = P + S: S is its spare deliverability), no storage, no ramp, no transit; one full stop
of D days from day t0. The stop shuts in P x D; afterwards the producer runs at M while it owes oil,
the excess S drawing the backlog down, oldest barrels first.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import numpy as np
import pytest

from conftest import SCENARIOS, pipeline, raw_scenario
from routesim.engine import compiled, reference, simulate
from routesim.errors import ScenarioError
from routesim.money import fiscal
from routesim.results import measure
from routesim.runs import budget, montecarlo
from routesim.scenario.loader import load_scenario, validate
from routesim.scenario.schema import json_schema
from test_engines import disagreements

REL = 1e-9
ENGINES = ("simpy", "compiled")
P, T0 = 1_000.0, 40


def stop(spare: float, days: float, horizon: int = 200, share: float = 1.0, window: float | None = None,
         ramp: float = 0.0, **top: Any) -> dict[str, Any]:
    """The raw scenario of the module's case."""
    raw = raw_scenario(production_bpd=P, ramp_days=ramp, routes={"main": pipeline(10 * (P + spare))},
                       outages=[{"target": "main", "start_day": T0, "duration_days": days}], horizon_days=horizon,
                       **top)
    raw["producers"]["p"].update(max_production_bpd=P + spare, makeup_share=share)
    if window is not None:
        raw["producers"]["p"]["makeup_window_days"] = window
    return raw


def figures(raw: dict[str, Any], engine: str) -> dict[str, float]:
    """The metrics of replication 0."""
    return montecarlo.run_replication(validate(copy.deepcopy(raw)), 0, engine=engine).metrics


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("spare, days, horizon", [(500, 10, 200), (500, 10, 55), (3_000, 20, 365), (250, 30, 100)])
def test_a_full_stop_is_made_up_at_the_spare_rate(engine, spare, days, horizon):
    """deferred = P D; made up in T = P D / S days; recovered = P D if t0 + D + T <= horizon, else
    S (horizon - t0 - D); what is left is owed; exports are the plan's once it is all made up."""
    m = figures(stop(spare, days, horizon), engine)
    deferred = P * days
    made_up_days = P * days / spare
    recovered = deferred if T0 + days + made_up_days <= horizon else spare * (horizon - T0 - days)
    assert m["shut_in_bbl"] == pytest.approx(P * days, rel=REL)
    assert m["deferred_bbl"] == pytest.approx(deferred, rel=REL)
    assert m["recovered_bbl"] == pytest.approx(recovered, rel=REL)
    assert m["backlog_end_bbl"] == pytest.approx(deferred - recovered, rel=REL, abs=1e-6)
    assert m["lost_production_bbl"] == pytest.approx(0.0, abs=1e-6)
    assert m["exported_bbl"] == pytest.approx(P * horizon - P * days + recovered, rel=REL)
    if recovered == deferred:
        assert m["exported_bbl"] == pytest.approx(P * horizon, rel=REL)
        assert m["export_loss_bbl"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("share", [0.0, 0.25, 0.7])
def test_the_share_not_made_up_is_lost_at_once(engine, share):
    """lost_production = (1 - s) P D; deferred = s P D, all made up within the horizon."""
    spare, days = 400.0, 12
    m = figures(stop(spare, days, share=share), engine)
    assert m["lost_production_bbl"] == pytest.approx((1 - share) * P * days, rel=REL)
    assert m["deferred_bbl"] == pytest.approx(share * P * days, rel=REL)
    assert m["recovered_bbl"] == pytest.approx(share * P * days, rel=REL, abs=1e-6)
    assert m["export_loss_bbl"] == pytest.approx((1 - share) * P * days, rel=REL)


def window_recovered(q: float, spare: float, days: float, window: float) -> float:
    """What a window W lets be made up of a stop of D days whose barrels enter the backlog at q a day.

    Without a window, the barrel shut in at u (t0 <= u < t0 + D) is made up at t0 + D + (u - t0) q / S;
    with one, it expires at u + W unless made up before. FIFO: while nothing expires, the oldest stamp
    left moves at S / q, the expiry line (now - W) at 1.

    - W >= T = q D / S: the line never catches the front; everything is made up: q D.
    - S >= q: the front, once the stop ends, outruns the line; what is older than W at the end of the
      stop (if W < D) expired during it; the rest, q W, is made up.
    - S < q, W < T: the line catches the front (during the stop if W < D, at t0 + (W - D S/q)/(1 - S/q)
      after it if W >= D); from then on the front moves with the line, the draw takes S a day and the
      rest of each day's stamps, q - S, expire, until the line passes the last stamp at t0 + D + W. In
      both cases the draw runs at S from t0 + D to t0 + D + W: S W made up.

    So recovered = min(q D, min(q, S) W), and expired = q D - recovered.
    """
    return min(q * days, min(q, spare) * window)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "spare, days, window, share",
    [
        (500, 10, 15, 1.0),    # S < P, D <= W < T: caught after the stop
        (500, 10, 5, 1.0),     # S < P, W < D: caught during the stop
        (2_000, 10, 5, 1.0),   # S > P, W < D: the older part expires during the stop, the rest is made up
        (500, 10, 25, 1.0),    # W >= T = 20: nothing expires
        (300, 20, 30, 0.6),    # a share: the backlog's density is s P
        (1_000, 8, 3.5, 1.0),  # S = P
    ],
)
def test_the_window_lets_the_oldest_barrels_expire(engine, spare, days, window, share):
    """recovered = min(q D, min(q, S) W) with q = s P (see :func:`window_recovered`); the identities
    deferred = recovered + expired + backlog_end and lost_production = (1 - s) x shut-in + expired."""
    m = figures(stop(spare, days, horizon=365, share=share, window=window), engine)
    q = share * P
    recovered = window_recovered(q, spare, days, window)
    expired = q * days - recovered
    assert m["recovered_bbl"] == pytest.approx(recovered, rel=REL)
    assert m["backlog_end_bbl"] == pytest.approx(0.0, abs=1e-6)
    assert m["deferred_bbl"] == pytest.approx(m["recovered_bbl"] + expired + m["backlog_end_bbl"], rel=REL)
    assert m["lost_production_bbl"] == pytest.approx((1 - share) * m["shut_in_bbl"] + expired, rel=REL, abs=1e-6)
    assert m["export_loss_bbl"] == pytest.approx(m["lost_production_bbl"], rel=REL, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_restart_ramp_climbs_towards_the_maximum(engine):
    """After a full stop the ramp climbs from 0 to M in R one-day steps at their midpoint values
    M (k + 1/2) / R; the steps below plan shut in sum_k max(P - M (k + 1/2) / R, 0) more; it is all made up
    within the horizon, so exports are the plan's."""
    spare, days, ramp = 600.0, 10, 4
    m = figures(stop(spare, days, horizon=300, ramp=ramp), engine)
    peak = P + spare
    steps = [peak * (k + 0.5) / ramp for k in range(ramp)]
    shut_in = P * days + sum(max(P - v, 0.0) for v in steps)
    assert m["shut_in_bbl"] == pytest.approx(shut_in, rel=REL)
    assert m["recovered_bbl"] == pytest.approx(shut_in, rel=REL)
    assert m["exported_bbl"] == pytest.approx(P * 300, rel=REL)


def discounted_sum(rate: float, first: int, last: float) -> float:
    """sum over days d = first .. last - 1 of (1 + r)^-((d + 1)/365), with a fractional last day weighed by
    its fraction: the geometric series v^(first+1) (1 - v^n) / (1 - v), v = (1 + r)^(-1/365)."""
    v = (1 + rate) ** (-1 / 365)
    whole = math.floor(last) - first
    total = v ** (first + 1) * (1 - v**whole) / (1 - v)
    return total + (last - math.floor(last)) * v ** (math.floor(last) + 1)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rate", [0.08, 0.3])
def test_a_stop_fully_made_up_still_costs_its_timing(engine, rate):
    """Budget loss = take x Brent x (P x sum over the stop's days - S x sum over the make-up days) of the
    day's discount factor (constant Brent, netback = Brent, the flat take): > 0, and 0 undiscounted."""
    spare, days, brent, take = 500.0, 10, 80.0, 0.4
    top = {"market": {"brent_usd_per_bbl": brent}, "fiscal": {"government_take_share": take}}
    undiscounted = figures(stop(spare, days, **top), engine)
    assert undiscounted["budget_loss_usd"] == pytest.approx(0.0, abs=1e-3)
    top["fiscal"]["discount_rate_per_year"] = rate
    m = figures(stop(spare, days, **top), engine)
    made_up_days = P * days / spare
    loss = take * brent * (P * discounted_sum(rate, T0, T0 + days)
                           - spare * discounted_sum(rate, T0 + days, T0 + days + made_up_days))
    assert loss > 0
    assert m["budget_loss_usd"] == pytest.approx(loss, rel=1e-9)
    assert m["recovered_bbl"] == pytest.approx(P * days, rel=REL)


def test_discounting_weighs_each_day_at_its_end():
    s = validate(stop(500, 10, fiscal={"discount_rate_per_year": 0.1}))
    factors = fiscal.discount_factors(s, 365)
    assert factors[0] == pytest.approx(1.1 ** (-1 / 365), rel=1e-15)
    assert factors[-1] == pytest.approx(1 / 1.1, rel=1e-15)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_maximum_at_the_plan_makes_up_nothing_and_changes_nothing(engine):
    """The default (max = plan): every shut-in barrel is lost, and every other figure is that of the same
    scenario without the key."""
    raw = stop(500, 10)
    plain = figures(raw, engine)
    raw["producers"]["p"]["max_production_bpd"] = P
    raw["producers"]["p"]["makeup_window_days"] = 3.0
    same = figures(raw, engine)
    assert same["deferred_bbl"] == same["recovered_bbl"] == same["backlog_end_bbl"] == 0.0
    assert same["lost_production_bbl"] == same["shut_in_bbl"] == pytest.approx(P * 10, rel=REL)
    del raw["producers"]["p"]["max_production_bpd"], raw["producers"]["p"]["makeup_share"]
    del raw["producers"]["p"]["makeup_window_days"]
    assert figures(raw, engine) == same
    assert plain["shut_in_bbl"] == same["shut_in_bbl"]


def test_per_producer_figures_add_up_to_the_totals():
    s = load_scenario(SCENARIOS / "network.yaml", [
        "horizon_days=120", "producers.tengiz.max_production_bpd=700000", "producers.tengiz.makeup_window_days=10",
        "outages=[{target: cpc, start_day: 20, duration_days: 15}]"])
    rep = montecarlo.run_replication(s, 0)
    for k in measure.PRODUCER_FIGURES:
        assert rep.metrics[k] == pytest.approx(sum(f[k] for f in rep.producers.values()), rel=1e-12, abs=1e-6), k
    for name, f in rep.producers.items():
        assert f["shut_in_bbl"] == pytest.approx(f["recovered_bbl"] + f["lost_production_bbl"] + f["backlog_end_bbl"],
                                                 rel=1e-12, abs=1e-6), name
    assert rep.producers["tengiz"]["recovered_bbl"] > 0
    assert rep.producers["other_fields"]["deferred_bbl"] == 0.0  # it makes up nothing
    summary = montecarlo.run(s).summary().to_json()
    assert summary["producers"]["tengiz"]["recovered_bbl"]["mean"] == rep.producers["tengiz"]["recovered_bbl"]
    assert "prob_loss" in summary["producers"]["tengiz"]["lost_production_bbl"]


def test_a_summary_without_a_producers_block_still_loads():
    from routesim.results.summary import RunSummary

    data = montecarlo.run(validate(stop(500, 10))).summary().to_json()
    assert "producers" in data and RunSummary.from_json(data, "new").producers is not None
    del data["producers"]
    assert RunSummary.from_json(data, "old").producers is None


def test_the_daily_backlog_is_the_owed_oil_at_each_day_end():
    """P a day accumulates over the stop, then S a day is drawn down: the level at day end t is
    P (t - t0) during the stop, then P D - S (t - t0 - D) until it is made up."""
    spare, days = 500.0, 10
    rep = montecarlo.run_replication(validate(stop(spare, days)), 0)
    t = np.arange(1.0, 201.0)
    expected = np.clip(np.minimum(P * (t - T0), P * days - spare * (t - T0 - days)), 0, None)
    np.testing.assert_allclose(rep.daily["backlog_bbl"], expected, rtol=1e-12, atol=1e-6)


def test_the_memory_budget_counts_the_backlog_series():
    raw = stop(500, 10)
    with_makeup = validate(copy.deepcopy(raw))
    del raw["producers"]["p"]["max_production_bpd"]
    without = validate(raw)
    assert "backlog_bbl" in measure.daily_names(with_makeup) and "backlog_bbl" not in measure.daily_names(without)

    def kept(s):  # the values a run too large to fit says it would keep
        (line,) = budget.problems(s, 10**9)
        return int(re.search(r"keep ([\d,]+) values", line).group(1).replace(",", ""))

    assert kept(with_makeup) - kept(without) == budget.BAND_SAMPLE * 200  # one more series of 200 days


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("max_production_bpd", 900.0, "producers.p.max_production_bpd: 900 is below production_bpd (1000)"),
        ("makeup_share", 1.5, "producers.p.makeup_share: input should be less than or equal to 1"),
        ("makeup_share", -0.1, "producers.p.makeup_share: input should be greater than or equal to 0"),
        ("makeup_window_days", 0.0, "producers.p.makeup_window_days: input should be greater than 0"),
        ("makeup_window_days", -2.0, "producers.p.makeup_window_days: input should be greater than 0"),
    ],
)
def test_bad_make_up_keys_are_refused_with_their_key_path(key, value, words):
    raw = stop(500, 10)
    raw["producers"]["p"][key] = value
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert words in str(err.value)


@pytest.mark.parametrize("rate, words", [(1.0, "less than 1"), (-0.01, "greater than or equal to 0")])
def test_a_discount_rate_outside_0_1_is_refused(rate, words):
    with pytest.raises(ScenarioError, match=f"fiscal.discount_rate_per_year: input should be {words}"):
        validate(stop(500, 10, fiscal={"discount_rate_per_year": rate}))


def test_the_schema_knows_the_make_up_keys():
    defs = json_schema()["$defs"]
    producer, money = defs["Producer"]["properties"], defs["Fiscal"]["properties"]
    assert producer["makeup_share"]["maximum"] == 1 and producer["makeup_share"]["minimum"] == 0
    assert "max_production_bpd" in producer
    assert "exclusiveMinimum" in str(producer["makeup_window_days"])
    assert money["discount_rate_per_year"]["exclusiveMaximum"] == 1


def test_the_compiled_engine_grows_its_backlog_room_and_agrees():
    """Incidents cut production at many rates: many backlog segments; the compiled loop, given room for
    one, runs again with more and gives the reference's run."""
    s = load_scenario(SCENARIOS / "cpc-incident-risk.yaml", [
        "horizon_days=730", "producers.kazakhstan.max_production_bpd=1450000",
        "producers.kazakhstan.makeup_window_days=45", "producers.kazakhstan.makeup_share=0.9"])
    model, _ = compiled._lowered(s)
    compiled._ROOM[id(model)] = (1024, 256, 512, 1)
    for k in range(4):
        a, b = reference.simulate(s, k), compiled.simulate(s, k)
        assert not disagreements(s, a, b), (k, disagreements(s, a, b))
    assert compiled._ROOM[id(model)][3] > 1
    assert any(measure.volumes(s, simulate(s, k)).producers["kazakhstan"]["recovered_bbl"] > 0 for k in range(4))


@pytest.mark.parametrize("setting, words", [
    ("producers.kazakhstan.max_production_bpd=1300000",
     "producers.kazakhstan.max_production_bpd: 1.3e+06 is below production_bpd (1.377e+06)"),
    ("producers.kazakhstan.makeup_share=1.2", "producers.kazakhstan.makeup_share: input should be less than or equal to 1"),
    ("producers.kazakhstan.makeup_window_days=0", "producers.kazakhstan.makeup_window_days: input should be greater than 0"),
    ("fiscal.discount_rate_per_year=1", "fiscal.discount_rate_per_year: input should be less than 1"),
])
def test_the_command_line_refuses_bad_make_up_input_and_writes_nothing(tmp_path, capsys, setting, words):
    from routesim.cli import main

    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "cpc-closure-30d-makeup.yaml"), "--set", setting, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.iterdir())


STALLED = (
    {'name': 'test',
     'horizon_days': 89,
     'producers': {'f0': {'production_bpd': 0.0,
                          'storage_bbl': 0.0,
                          'initial_storage_bbl': 0.0,
                          'restart_ramp_days': 0.0,
                          'routes': ['pipe0'],
                          'max_production_bpd': 0.0,
                          'makeup_share': 0.0},
                   'f1': {'production_bpd': 1499999.0,
                          'storage_bbl': 0.0,
                          'initial_storage_bbl': 0.0,
                          'restart_ramp_days': 0.0,
                          'routes': ['pipe0', 'tc'],
                          'max_production_bpd': 1574998.95,
                          'makeup_share': 1.0,
                          'makeup_window_days': 76.24811593174005},
                   'f2': {'production_bpd': 0.0,
                          'storage_bbl': 0.0,
                          'initial_storage_bbl': 0.0,
                          'restart_ramp_days': 0.0,
                          'routes': ['pipe0']},
                   'solo': {'production_bpd': 0.0,
                            'storage_bbl': 10000.0,
                            'restart_ramp_days': 0.0,
                            'routes': ['direct']}},
     'routes': {'pipe0': {'kind': 'pipeline',
                          'capacity_bpd': 1440516.9452594542,
                          'transit_days': 4.683543304682031,
                          'cost_usd_per_bbl': 19.43693698677116,
                          'differential_usd_per_bbl': 0.0,
                          'segments': {'s1': {'capacity_bpd': 0.0, 'transit_days': 0.0}},
                          'committed_bpd': 0.0},
                'tc': {'kind': 'tanker_shuttle',
                       'capacity_bpd': 242945.17681907752,
                       'tankers': 5,
                       'tanker_capacity_bbl': 10000.0,
                       'load_berths': 2,
                       'load_days': 0.6,
                       'voyage_days': 2.6679681710684475,
                       'unload_days': 1.2457700705878083,
                       'transit_days': 0.0,
                       'cost_usd_per_bbl': 14.0,
                       'differential_usd_per_bbl': 1.0,
                       'tank_farm': {'storage_bbl': 10000.0},
                       'committed_bpd': 0.0},
                'direct': {'kind': 'tanker_shuttle',
                           'capacity_bpd': 10000.0,
                           'tankers': 1,
                           'tanker_capacity_bbl': 10000.0,
                           'load_berths': 1,
                           'load_days': 1.1343541822683387,
                           'voyage_days': 1.0478220477221343,
                           'unload_days': 1.4862213208864987,
                           'cost_usd_per_bbl': 0.0,
                           'committed_bpd': 0.0}},
     'outages': [{'target': 'pipe0', 'start_day': 0.0, 'duration_days': 0.0, 'capacity_factor': 0.0},
                 {'target': 'pipe0', 'start_day': 0.0, 'duration_days': 0.0, 'capacity_factor': 0.0},
                 {'target': 'pipe0', 'start_day': 0.0, 'duration_days': 34.66643110295512, 'capacity_factor': 0.0},
                 {'target': 'pipe0', 'start_day': 0.0, 'duration_days': 0.0, 'capacity_factor': 0.0}],
     'incidents': [],
     'failures': [],
     'seed': 0}
)
"""A generated network (tests/test_engines.py) whose tanker lifts one float apart left a backlog segment
of one ulp of time: its end, due in 1e-16 days, never moved the clock on (the run stopped as stalled)."""


def test_a_segment_too_short_to_end_by_an_event_is_dropped():
    s = validate(copy.deepcopy(STALLED))
    a, b = reference.simulate(s), compiled.simulate(s)
    assert not disagreements(s, a, b)
    assert a.events < 1000
