"""Shippers that join a pipe part-way (issue #15 mechanism 5): the capacity rule by closed form, the
runs of both engines, and the joining point refused by key when it is not a segment above the tanks; and
foreign shippers, whose oil shares the pipe and its tanks (first in, first out) but not the country's exports.

Only the oil of the producers that join at or above a stretch passes it; every shipper's oil passes the
stretch below the last joining point.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SCENARIOS, pipeline, raw_scenario
from routesim.engine import choose, compiled, plan, reference
from routesim.engine.dispatch import Stretch, Supplier, allocate, share, share_within
from routesim.errors import ScenarioError
from routesim.results import measure
from routesim.scenario.loader import validate

REL = 1e-12
ENGINES = [reference, compiled]


def joined_raw(kazakh_bpd: float = 1000.0, russian_bpd: float = 400.0, outages: list | None = None,
               horizon: int = 40, **top) -> dict:
    """A pipe of two segments, upper (1,100) and lower (1,200), capacity 1,200: ``kz`` enters at the head,
    ``ru`` at the lower segment; no storage, so what the pipe cannot take is shut in."""
    raw = raw_scenario(routes={"cpc": pipeline(1200.0) | {"segments": {"upper": {"capacity_bpd": 1100.0},
                                                                       "lower": {"capacity_bpd": 1200.0}}}},
                       outages=outages, horizon_days=horizon, **top)
    raw["producers"] = {"kz": {"production_bpd": kazakh_bpd, "routes": ["cpc"]},
                        "ru": {"production_bpd": russian_bpd, "routes": ["cpc/lower"]}}
    return raw


def rates(trace, day: float) -> tuple[float, float]:
    """``kz``'s and ``ru``'s production from the last record at or before ``day`` [bbl/day]."""
    i = int(np.searchsorted(trace.times, day, side="right")) - 1
    return float(trace.production["kz"][i]), float(trace.production["ru"][i])


# ---------------------------------------------------------------- the rule, pure


def two(kz: float, ru: float, shared: float, upper: float) -> tuple[float, ...]:
    """The two shippers' flows into one entry of ``shared`` with ``kz`` alone on the upper stretch."""
    suppliers = [Supplier(kz, True, False, 1000.0, frozenset({0})), Supplier(ru, True, False, 400.0, frozenset({0}))]
    alloc = allocate(suppliers, [shared], [0], stretches={0: [Stretch(frozenset({0}), upper)]})
    return tuple(alloc.flows_bpd[i][0] for i in range(2))


def test_with_room_above_the_joining_point_the_shared_stretch_is_shared_pro_rata():
    kz, ru = two(1000.0, 400.0, 1200.0, 1100.0)
    assert (kz, ru) == (pytest.approx(1200 * 1000 / 1400, rel=REL), pytest.approx(1200 * 400 / 1400, rel=REL))


def test_a_stretch_above_the_joining_point_holds_back_only_the_oil_that_passes_it():
    """Upper at 550: ``kz`` sends 550 and ``ru``, which does not pass it, sends all it has below the 1,200."""
    assert two(1000.0, 400.0, 1200.0, 550.0) == (550.0, 400.0)
    assert two(1000.0, 900.0, 1200.0, 550.0) == (550.0, 650.0)  # ru takes what the shared stretch leaves


def test_the_stretch_below_the_joining_point_caps_every_shipper():
    kz, ru = two(1000.0, 400.0, 600.0, 1100.0)
    assert (kz, ru) == (pytest.approx(600 * 1000 / 1400, rel=REL), pytest.approx(600 * 400 / 1400, rel=REL))


def test_a_stretch_caps_its_shippers_across_every_entry_of_the_route():
    """A plan (the planned part, then the spare): the upper stretch's 700 is shared by both of kz's entries."""
    suppliers = [Supplier(1000.0, True, False, 1000.0, frozenset({0, 1})),
                 Supplier(400.0, True, False, 400.0, frozenset({0, 1}))]
    alloc = allocate(suppliers, [1000.0, 200.0], [0, 0], stretches={0: [Stretch(frozenset({0}), 700.0)]})
    assert sum(alloc.flows_bpd[0]) == pytest.approx(700.0, rel=REL)
    assert sum(alloc.flows_bpd[1]) == pytest.approx(400.0, rel=REL)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1000), st.floats(1, 100), st.integers(0, 2)), min_size=2, max_size=5),
       st.lists(st.floats(0, 2000), min_size=3, max_size=3))
def test_shares_within_stretches_are_max_min_fair(producers, caps):
    """Feasible (no supply, stretch or capacity exceeded), and fair: a producer below its supply is in a
    full cap, and one whose level (amount per weight) is below another's is held by a full cap that the
    other is not in (the bottleneck characterisation of weighted max-min fairness)."""
    supplies = [s for s, _, _ in producers]
    weights = [w for _, w, _ in producers]
    join = [j for _, _, j in producers]
    stretches = [Stretch(frozenset(i for i, j in enumerate(join) if j <= k), caps[k]) for k in range(2)]
    out = share_within(caps[2], supplies, weights, stretches)
    everyone = Stretch(frozenset(range(len(supplies))), caps[2])
    tol = 1e-9 * (1 + max(caps) + sum(supplies))
    full = [c.members for c in (*stretches, everyone) if sum(out[i] for i in c.members) >= c.room_bpd - tol]
    for i, amount in enumerate(out):
        assert -tol <= amount <= supplies[i] + tol
    for c in (*stretches, everyone):
        assert sum(out[i] for i in c.members) <= c.room_bpd + tol
    for i, j in itertools.permutations(range(len(supplies)), 2):
        if out[i] < supplies[i] - tol:
            assert any(i in members for members in full)
            if out[i] / weights[i] < out[j] / weights[j] - tol:
                assert any(i in members and j not in members for members in full)


def test_without_stretches_the_share_is_the_plain_one():
    assert share_within(900.0, [500.0, 600.0, 50.0], [2.0, 1.0, 1.0], []) == share(900.0, [500.0, 600.0, 50.0],
                                                                                   [2.0, 1.0, 1.0])


# ---------------------------------------------------------------- the reference engine


def test_the_plan_shares_the_pipe_below_the_joining_point():
    s = validate(joined_raw())
    assert plan.planned_bpd(s) == ((pytest.approx(1200 * 1000 / 1400, rel=REL),),
                                   (pytest.approx(1200 * 400 / 1400, rel=REL),))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_holds_back_each_shipper_by_the_stretches_its_oil_passes(engine):
    """Upper at half (days 10-20) cuts only kz, to 550; lower at half (25-30) cuts both pro rata to 600."""
    outages = [{"target": "cpc/upper", "start_day": 10, "duration_days": 10, "capacity_factor": 0.5},
               {"target": "cpc/lower", "start_day": 25, "duration_days": 5, "capacity_factor": 0.5}]
    s = validate(joined_raw(outages=outages))
    t = engine.simulate(s)
    assert rates(t, 5) == (pytest.approx(6000 / 7, rel=REL), pytest.approx(2400 / 7, rel=REL))
    assert rates(t, 15) == (550.0, 400.0)
    assert rates(t, 27) == (pytest.approx(3000 / 7, rel=REL), pytest.approx(1200 / 7, rel=REL))
    v = measure.volumes(s, t)
    assert v.exported_bbl["cpc"] == pytest.approx(1200 * 25 + 950 * 10 + 600 * 5, rel=REL)
    assert v.producers["ru"]["shut_in_bbl"] == pytest.approx((400 - 2400 / 7) * 25 + (400 - 1200 / 7) * 5, rel=REL)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lone_shipper_joining_part_way_does_not_see_the_stretch_above_it(engine):
    raw = joined_raw(outages=[{"target": "cpc/upper", "start_day": 0, "duration_days": 40, "capacity_factor": 0.0}])
    del raw["producers"]["kz"]
    s = validate(raw)
    t = engine.simulate(s)
    assert measure.volumes(s, t).exported_bbl["cpc"] == pytest.approx(400.0 * 40, rel=REL)


def test_the_compiled_engine_runs_joiners_and_foreign_shippers():
    assert choose(validate(joined_raw())).engine == "compiled"
    assert choose(validate(foreign_raw())).engine == "compiled"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("point, words", [
    ("cpc/middle", "producers.ru.routes[0]: 'middle' is not a segment of route 'cpc' (segments: upper, lower)"),
    ("pipe/lower", "producers.ru.routes[0]: unknown route 'pipe'"),
])
def test_a_joining_point_that_is_not_a_segment_is_refused_by_key(point, words):
    raw = joined_raw()
    raw["producers"]["ru"]["routes"] = [point]
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any(line.startswith(words) for line in err.value.issues), err.value.issues


def test_a_joining_point_below_the_tanks_or_twice_the_same_route_is_refused_by_key():
    raw = joined_raw()
    raw["routes"]["cpc"]["tank_farm"] = {"storage_bbl": 1000.0, "after": "upper"}
    with pytest.raises(ScenarioError) as err:
        validate(copy.deepcopy(raw))
    assert any(line.startswith("producers.ru.routes[0]: 'lower' is below 'cpc''s tank farm")
               for line in err.value.issues), err.value.issues
    raw = joined_raw()
    raw["producers"]["ru"]["routes"] = ["cpc/lower", "cpc"]
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any(line.startswith("producers.ru.routes[1]: 'cpc' is already listed") for line in err.value.issues)


def test_a_tanker_route_is_not_joined_part_way():
    raw = joined_raw()
    raw["routes"]["sea"] = {"kind": "tanker_shuttle", "capacity_bpd": 100.0, "tankers": 1, "tanker_capacity_bbl": 10.0,
                            "cost_usd_per_bbl": 1.0, "segments": {"feeder": {"capacity_bpd": 100.0}},
                            "tank_farm": {"storage_bbl": 100.0}}
    raw["producers"]["ru"]["routes"] = ["sea/feeder"]
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any("'sea' is a tanker_shuttle route; a producer joins only a pipeline part-way" in line
               for line in err.value.issues), err.value.issues


def test_the_command_line_refuses_a_bad_joining_point_and_writes_nothing(tmp_path, capsys):
    from routesim.cli import main

    out = tmp_path / "run"
    setting = "producers.kazakhstan.routes=[cpc/pumps]"
    assert main(["run", str(SCENARIOS / "base.yaml"), "--set", setting, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "producers.kazakhstan.routes[0]: 'pumps' is not a segment of route 'cpc'" in err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- foreign shippers


def foreign_raw(**top) -> dict:
    """kz (800) at the head, ru (400, foreign) at the lower segment, into tanks (empty, no working stock)
    and a terminal loading up to 1,500: the mooring out on days 10-12 fills the tanks with 2,400 bbl of
    the 1:2 mix; the upper segment out from day 12 to 30 leaves ru alone."""
    raw = {"name": "foreign", "horizon_days": 40,
           "producers": {"kz": {"production_bpd": 800.0, "routes": ["cpc"]},
                         "ru": {"production_bpd": 400.0, "routes": ["cpc/lower"], "foreign": True}},
           "routes": {"cpc": {"kind": "pipeline", "capacity_bpd": 1200.0, "cost_usd_per_bbl": 5.0,
                              "segments": {"upper": {"capacity_bpd": 1000.0}, "lower": {"capacity_bpd": 1200.0}},
                              "tank_farm": {"storage_bbl": 10_000.0},
                              "terminal": {"moorings": ["a"], "active_moorings": 1, "mooring_rate_bpd": 1500.0}}},
           "outages": [{"target": "cpc/a", "start_day": 10, "duration_days": 2, "capacity_factor": 0.0},
                       {"target": "cpc/upper", "start_day": 12, "duration_days": 18, "capacity_factor": 0.0}],
           "fiscal": {"government_take_share": 0.5}}
    raw.update(top)
    return raw


def foreign_at(trace, day: float) -> float:
    i = int(np.searchsorted(trace.times, day, side="right")) - 1
    return float(trace.foreign_bpd["cpc"][i])


@pytest.mark.parametrize("engine", ENGINES)
def test_the_tanks_deliver_each_shippers_oil_first_in_first_out(engine):
    """From day 12 the terminal loads 1,500 a day: first the 2,400 bbl of the 1:2 mix (foreign 500 a day, to
    day 13.6), then the foreign-only oil arrived meanwhile (640 bbl), until the tanks are empty at day
    12 + 2,400 / 1,100; then what arrives, ru's 400."""
    t = engine.simulate(validate(foreign_raw()))
    empty = 12 + 2400 / 1100
    assert foreign_at(t, 5) == pytest.approx(400.0, rel=REL)
    assert foreign_at(t, 12.5) == pytest.approx(500.0, rel=REL)
    assert foreign_at(t, 13.6 + 1e-9) == pytest.approx(1500.0, rel=REL)
    assert 13.6 in list(np.round(t.times, 12)) and empty == pytest.approx(t.times[t.times > 13.6][0], rel=REL)
    assert foreign_at(t, 20) == pytest.approx(400.0, rel=REL)


def test_the_country_exports_and_earns_only_its_own_oil():
    """Everything kz produces (800 a day but for the 18 days the upper segment is out) is exported; ru's oil
    passes the same pipe and terminal and earns the country nothing."""
    from routesim.runs import montecarlo

    s = validate(foreign_raw())
    rep = montecarlo.run_replication(s, 0, engine="simpy")
    own = 800.0 * 22
    assert rep.metrics["exported_bbl"] == pytest.approx(own, rel=REL)
    assert rep.metrics["produced_bbl"] == pytest.approx(own, rel=REL)
    assert rep.metrics["shut_in_bbl"] == pytest.approx(800.0 * 18, rel=REL)
    netback = s.netback_usd_per_bbl("cpc")
    assert rep.metrics["export_revenue_usd"] == pytest.approx(own * netback, rel=1e-9)
    assert rep.metrics["government_revenue_usd"] == pytest.approx(0.5 * own * netback, rel=1e-9)
    assert rep.producers["ru"]["shut_in_bbl"] == 0.0 and rep.producers["kz"]["shut_in_bbl"] == pytest.approx(14400.0)
    whole = float(measure.cumulative(trace := reference.simulate(s), trace.flows_bpd["cpc"], 40.0))
    assert whole == pytest.approx(own + 400.0 * 40, rel=REL)  # the terminal's loadings: every shipper's


@pytest.mark.parametrize("engine", ENGINES)
def test_without_tanks_the_foreign_share_is_the_inflows(engine):
    raw = foreign_raw()
    del raw["routes"]["cpc"]["tank_farm"]
    t = engine.simulate(validate(raw))
    assert foreign_at(t, 5) == pytest.approx(400.0, rel=REL)
    assert foreign_at(t, 11) == 0.0  # the terminal loads nothing, so nothing flows
    assert foreign_at(t, 20) == pytest.approx(400.0, rel=REL)


def test_parcels_leave_first_in_first_out_and_follow_the_level():
    from routesim.engine.parcels import Parcels

    p = Parcels(100.0, 0.5)
    assert p.advance(50.0, 1.0, 120.0, 1e-6) == pytest.approx(100 * 0.5 + 20 * 1.0)
    assert p.out_share(0.0) == 1.0 and p.total_bbl == pytest.approx(30.0)
    assert p.head_bbl(1.0) == math.inf and p.head_bbl(0.2) == pytest.approx(30.0)
    p.match(40.0, 0.2)
    assert p.total_bbl == pytest.approx(40.0)
    p.match(0.0, 0.2)
    assert p.out_share(0.3) == 0.3


def test_a_foreign_shipper_on_a_tanker_route_or_alone_is_refused_by_key():
    raw = joined_raw()
    raw["producers"]["ru"] |= {"foreign": True, "routes": None}
    raw["routes"]["sea"] = {"kind": "tanker_shuttle", "capacity_bpd": 100.0, "tankers": 1, "tanker_capacity_bbl": 10.0,
                            "cost_usd_per_bbl": 1.0, "tank_farm": {"storage_bbl": 100.0}}
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any(line.startswith("producers.ru.foreign: a foreign shipper reaches tanker route 'sea'")
               for line in err.value.issues), err.value.issues
    raw = joined_raw()
    del raw["producers"]["kz"]
    raw["producers"]["ru"]["foreign"] = True
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any(line.startswith("producers.ru.foreign: every producer is a foreign shipper") for line in err.value.issues)


# ---------------------------------------------------------------- nominations: quotas on a shared route


def nominated_raw(**top) -> dict:
    """kz (1,000, which can also use ``alt``) nominates 600 on ``cpc``; ru (400) has only ``cpc`` (800)."""
    raw = raw_scenario(routes={"cpc": pipeline(800.0), "alt": pipeline(1000.0, cost=5.0)}, horizon_days=20, **top)
    raw["producers"] = {"kz": {"production_bpd": 1000.0, "nominations_bpd": {"cpc": 600.0}},
                        "ru": {"production_bpd": 400.0, "routes": ["cpc"]}}
    return raw


@pytest.mark.parametrize("engine", ENGINES)
def test_a_shared_route_is_shared_pro_rata_to_the_nominations(engine):
    """At 800 the shares are 600:400 of the 1,000 nominated (by production they would be 571:229); cut to
    half, 240 and 160."""
    raw = nominated_raw(outages=[{"target": "cpc", "start_day": 10, "duration_days": 10, "capacity_factor": 0.5}])
    s = validate(raw)
    assert plan.planned_bpd(s)[1] == (pytest.approx(800 * 0.4, rel=REL), 0.0)
    t = engine.simulate(s)
    assert rates(t, 15)[1] == pytest.approx(400 * 0.4, rel=REL)
    raw["producers"]["kz"]["nominations_bpd"] = {}
    assert plan.planned_bpd(validate(raw))[1] == (pytest.approx(800 * 400 / 1400, rel=REL), 0.0)


def test_a_nomination_on_a_route_out_of_reach_is_refused_by_key():
    raw = nominated_raw()
    raw["producers"]["ru"]["nominations_bpd"] = {"alt": 10.0}
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any(line.startswith("producers.ru.nominations_bpd.alt: not a route it reaches") for line in err.value.issues)


def test_the_daily_series_keep_every_shippers_oil_apart_from_the_countrys():
    """``cpc_loaded_bpd`` is what leaves the terminal, ru's oil included; ``cpc_exported_bpd`` the country's."""
    from routesim.runs import montecarlo

    s = validate(foreign_raw())
    daily = montecarlo.run_replication(s, 0, engine="simpy").daily
    t = reference.simulate(s)
    edges = measure.day_edges(40.0)
    assert np.allclose(daily["cpc_loaded_bpd"], np.diff(measure.cumulative(t, t.flows_bpd["cpc"], edges)), rtol=REL)
    assert np.allclose(daily["cpc_loaded_bpd"] - daily["cpc_exported_bpd"],
                       np.diff(measure.cumulative(t, t.foreign_bpd["cpc"], edges)), rtol=1e-9, atol=1e-6)
    assert "cpc_loaded_bpd" not in montecarlo.run_replication(validate(joined_raw()), 0).daily


def test_the_summary_reports_a_shared_routes_whole_throughput(tmp_path):
    """summary.json's ``loaded_bbl`` of a route a foreign shipper reaches is every shipper's oil it loaded:
    kz's 800 a day but for the 18 days its segment is out, and ru's 400 a day throughout (as the test above);
    its ``exported_bbl`` stays the country's. A route without a foreign shipper has no such figure."""
    from routesim.results.summary import RunSummary
    from routesim.runs import montecarlo

    s = validate(foreign_raw(replications=3))
    result = montecarlo.run(s, workers=1)
    summary = result.summary()
    own = 800.0 * 22
    assert summary.routes["cpc"].loaded_bbl.mean == pytest.approx(own + 400.0 * 40, rel=REL)
    assert summary.routes["cpc"].exported_bbl.mean == pytest.approx(own, rel=REL)
    rows = {r["figure"]: r for r in summary.rows()}
    assert rows["cpc_loaded_bbl"]["mean"] == summary.routes["cpc"].loaded_bbl.mean
    assert result.replications[1].route_loaded_bbl["cpc"] == summary.routes["cpc"].loaded_bbl.mean
    back = RunSummary.from_json(summary.to_json(), "summary.json")
    assert back.routes["cpc"].loaded_bbl == summary.routes["cpc"].loaded_bbl
    plain = montecarlo.run(validate(joined_raw()), workers=1).summary()
    assert all(r.loaded_bbl is None for r in plain.routes.values())
    assert "loaded_bbl" not in plain.to_json()["routes"]["cpc"]
