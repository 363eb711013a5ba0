"""The export network: terminals with k-of-n moorings, tank farms, storms, several producers, committed
volumes, checked against closed forms and against the simple route they reduce to."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import pipeline, raw_scenario, shuttle
from routesim.engine import simulate
from routesim.engine.capacity import k_of_n_bpd
from routesim.errors import ScenarioError
from routesim.results import measure
from routesim.runs import montecarlo
from routesim.scenario.loader import validate
from routesim.scenario.model import Terminal
from test_properties import scenarios

SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])
REL = 1e-9


def terminal(n: int = 3, active: int = 2, rate: float = 900_000.0) -> dict:
    return {"moorings": [f"spm-{i + 1}" for i in range(n)], "active_moorings": active, "mooring_rate_bpd": rate}


def whole_horizon_outage(target: str, horizon: int, factor: float = 0.0) -> dict:
    return {"target": target, "start_day": 0, "duration_days": horizon, "capacity_factor": factor}


@pytest.mark.parametrize("n, active", [(3, 2), (3, 1), (4, 2), (2, 2)])
def test_terminal_capacity_is_k_of_n_for_every_combination_of_moorings_up(n, active):
    t = Terminal(**terminal(n, active, rate=900_000.0))
    for up in itertools.product([0.0, 1.0], repeat=n):
        assert k_of_n_bpd(t.rates_bpd, t.active_moorings, up) == min(active, int(sum(up))) * 900_000.0


@pytest.mark.parametrize("n, active", [(3, 2), (4, 3)])
def test_the_engine_loads_at_k_of_n_with_moorings_down(n, active):
    """Production above the terminal's rate, no storage: exports = min(active, up) x rate x horizon."""
    h, rate = 50, 900_000.0
    route = pipeline(5e6) | {"terminal": terminal(n, active, rate)}
    for down in itertools.chain.from_iterable(itertools.combinations(range(n), k) for k in range(n + 1)):
        outages = [whole_horizon_outage(f"cpc/spm-{i + 1}", h) for i in down]
        s = validate(raw_scenario(production_bpd=4e6, routes={"cpc": route}, outages=outages, horizon_days=h))
        v = measure.volumes(s, simulate(s))
        expected = min(active, n - len(down)) * rate * h
        assert math.isclose(v.exported_bbl["cpc"], expected, rel_tol=REL, abs_tol=1e-6), down
        assert math.isclose(v.shut_in_bbl, 4e6 * h - expected, rel_tol=REL, abs_tol=1e-6)


@pytest.mark.parametrize("engine", ["simpy", "compiled"])
def test_the_engine_loads_the_sum_of_the_best_available_moorings_at_their_own_rates(engine):
    """Moorings of 0.8, 0.6 and 1.0 M bbl/d, two active, production above them all, no storage: for every
    set of moorings down, exports = the two fastest of those up x horizon."""
    h, rates = 40, {"spm-1": 800_000.0, "spm-2": 600_000.0, "spm-3": 1_000_000.0}
    own = {"moorings": list(rates), "active_moorings": 2, "mooring_rates_bpd": rates}
    route = pipeline(5e6) | {"terminal": own}
    for down in itertools.chain.from_iterable(itertools.combinations(rates, k) for k in range(4)):
        outages = [whole_horizon_outage(f"cpc/{m}", h) for m in down]
        s = validate(raw_scenario(production_bpd=4e6, routes={"cpc": route}, outages=outages, horizon_days=h))
        v = measure.volumes(s, simulate(s, engine=engine))
        expected = sum(sorted((r for m, r in rates.items() if m not in down), reverse=True)[:2]) * h
        assert math.isclose(v.exported_bbl["cpc"], expected, rel_tol=REL, abs_tol=1e-6), down
        assert math.isclose(v.shut_in_bbl, 4e6 * h - expected, rel_tol=REL, abs_tol=1e-6)


def test_a_mooring_outage_for_part_of_the_horizon_costs_its_rate_above_the_standby_for_its_days():
    """The 1.0 M bbl/d mooring out for 10 of 40 days, the 0.6 M standby takes over: the loss is 0.4 M x 10."""
    rates = {"spm-1": 800_000.0, "spm-2": 600_000.0, "spm-3": 1_000_000.0}
    route = pipeline(5e6) | {"terminal": {"moorings": list(rates), "active_moorings": 2, "mooring_rates_bpd": rates}}
    out = [{"target": "cpc/spm-3", "start_day": 5, "duration_days": 10, "capacity_factor": 0.0}]
    s = validate(raw_scenario(production_bpd=4e6, routes={"cpc": route}, outages=out, horizon_days=40))
    for engine in ("simpy", "compiled"):
        v = measure.volumes(s, simulate(s, engine=engine))
        assert math.isclose(v.exported_bbl["cpc"], 1.8e6 * 40 - 4e5 * 10, rel_tol=REL), engine


def test_losing_the_standby_mooring_costs_nothing_and_losing_two_leaves_one():
    h = 60
    route = pipeline(1.4e6) | {"terminal": terminal(3, 2, 900_000.0)}
    one = [{"target": "cpc/spm-2", "start_day": 10, "duration_days": 20, "capacity_factor": 0.0}]
    two = [*one, {"target": "cpc/spm-3", "start_day": 10, "duration_days": 20, "capacity_factor": 0.0}]
    base = validate(raw_scenario(production_bpd=1.2e6, routes={"cpc": route}, horizon_days=h))
    lost = {}
    for name, outages in (("one", one), ("two", two)):
        s = base.model_copy(update={"outages": validate(raw_scenario(routes={"cpc": route}, outages=outages)).outages})
        lost[name] = montecarlo.run_replication(s, 0).metrics["shut_in_bbl"]
    assert lost["one"] == pytest.approx(0.0, abs=1e-6)
    assert lost["two"] == pytest.approx((1.2e6 - 0.9e6) * 20, rel=REL)


@pytest.mark.parametrize("days, ramp", [(3.0, 0.0), (4.5, 2.0), (1.0, 7.0)])
def test_a_storm_with_full_tanks_shuts_in_production_times_duration_plus_half_the_ramp(days, ramp):
    """Tanks at the terminal and at the fields full, terminal rate = production: a loading stop of d days
    stops the pipe at once and shuts in P x d, then the fields climb back over the ramp: + P x ramp / 2."""
    p, farm = 1_000_000.0, 6_000_000.0
    route = pipeline(1.5e6, 7) | {
        "terminal": terminal(3, 2, p / 2),
        "tank_farm": {"storage_bbl": farm, "initial_storage_bbl": farm},
    }
    storm = {"target": "cpc/terminal", "start_day": 100, "duration_days": days, "capacity_factor": 0.0}
    s = validate(raw_scenario(production_bpd=p, storage_bbl=2e6, initial_storage_bbl=2e6, ramp_days=ramp,
                              routes={"cpc": route}, outages=[storm], horizon_days=200))
    v = measure.volumes(s, simulate(s))
    assert math.isclose(v.shut_in_bbl, p * days + p * ramp / 2, rel_tol=1e-7)


def test_random_storms_with_full_tanks_shut_in_production_over_their_union():
    p, h = 800_000.0, 365
    route = pipeline(1.5e6) | {"terminal": terminal(3, 2, p / 2),
                               "tank_farm": {"storage_bbl": 3e6, "initial_storage_bbl": 3e6}}
    weather = [{"target": "cpc", "rate_per_year": 12.0, "duration_days": {"distribution": "exponential", "mean": 2.0}}]
    s = validate(raw_scenario(production_bpd=p, routes={"cpc": route}, horizon_days=h, weather=weather, seed=3))
    trace = simulate(s)
    storms = sorted((hit.start_day, min(hit.end_day, h)) for hit in trace.impairments if hit.storm)
    assert len(storms) >= 3
    union, end = 0.0, -math.inf
    for a, b in storms:
        union += max(0.0, b - max(a, end))
        end = max(end, b)
    assert math.isclose(measure.volumes(s, trace).shut_in_bbl, p * union, rel_tol=1e-7)


def test_after_a_loading_stop_the_terminal_catches_up_down_to_its_working_stock():
    """Pipe 1.0, terminal 1.6 M bbl/d: a 2-day terminal stop fills the tanks by 2 M bbl (no shut-in), which
    the terminal then loads out at 0.6 M bbl/d over the surplus, back down to the working stock."""
    p, work = 1_000_000.0, 2_000_000.0
    route = pipeline(1.5e6) | {"terminal": terminal(3, 2, 800_000.0),
                               "tank_farm": {"storage_bbl": 6e6, "initial_storage_bbl": work, "working_storage_bbl": work}}
    stop = {"target": "cpc/terminal", "start_day": 10, "duration_days": 2, "capacity_factor": 0.0}
    s = validate(raw_scenario(production_bpd=p, routes={"cpc": route}, outages=[stop], horizon_days=30))
    trace = simulate(s)
    level = measure.level_at(trace, np.array([9.0, 12.0, 12.0 + 2e6 / 0.6e6, 29.0]), "cpc/tank_farm")
    assert level == pytest.approx([work, work + 2e6, work, work], rel=1e-9)
    v = measure.volumes(s, trace)
    assert v.shut_in_bbl == pytest.approx(0.0, abs=1e-6)
    assert math.isclose(v.exported_bbl["cpc"], p * 30, rel_tol=REL)  # every deferred barrel caught up


def test_a_pipe_stop_keeps_loading_from_the_tank_farm_until_it_is_empty():
    p, farm = 1_000_000.0, 3_000_000.0
    route = pipeline(1.5e6) | {"terminal": terminal(3, 2, p / 2), "tank_farm": {"storage_bbl": 6e6,
                                                                              "initial_storage_bbl": farm}}
    stop = {"target": "cpc", "start_day": 0, "duration_days": 10, "capacity_factor": 0.0}
    s = validate(raw_scenario(production_bpd=p, storage_bbl=20e6, routes={"cpc": route},
                              outages=[stop], horizon_days=10))
    # the whole route is stopped, terminal too: nothing leaves
    assert measure.volumes(s, simulate(s)).exported_bbl["cpc"] == 0.0
    s = validate(raw_scenario(production_bpd=p, storage_bbl=20e6,
                              routes={"cpc": route | {"segments": {"kropotkinskaya": {"capacity_bpd": 2e6}}}},
                              outages=[stop | {"target": "cpc/kropotkinskaya"}], horizon_days=10))
    assert math.isclose(measure.volumes(s, simulate(s)).exported_bbl["cpc"], farm, rel_tol=REL)


def with_components(raw: dict, data) -> dict:
    """The same scenario with every pipeline cut into segments with ample capacity, given a terminal with
    ample moorings and an empty tank farm: the network form of the same routes."""
    out = copy.deepcopy(raw)
    for route in out["routes"].values():
        if route["kind"] != "pipeline":
            continue
        cap, transit = route["capacity_bpd"], route["transit_days"]
        split = data.draw(st.floats(0, 1))
        route["transit_days"] = transit * split
        route["segments"] = {"a": {"capacity_bpd": cap * 1.5 + 1, "transit_days": transit * (1 - split)},
                             "b": {"capacity_bpd": cap + 1}}
        n = data.draw(st.integers(1, 4))
        route["terminal"] = {"moorings": [f"m{i}" for i in range(n)], "active_moorings": data.draw(st.integers(1, n)),
                             "mooring_rate_bpd": cap * 2 + 1}
        if data.draw(st.booleans()):
            route["tank_farm"] = {"storage_bbl": data.draw(st.floats(1, 1e7))}
    return out


@SETTINGS
@given(st.data())
def test_the_network_with_every_component_available_equals_the_simple_route(data):
    raw = data.draw(scenarios())
    simple = montecarlo.run_replication(validate(raw), 0).metrics
    network = montecarlo.run_replication(validate(with_components(raw, data)), 0).metrics
    scale = max(1.0, raw["producers"]["p"]["production_bpd"] * raw["horizon_days"])
    for key in ("exported_bbl", "shut_in_bbl", "in_transit_bbl", "storage_end_bbl"):
        assert abs(simple[key] - network[key]) <= 1e-9 * scale + 1e-4, key


@st.composite
def networks(draw):
    """Several producers, pipelines with parts, tank farms and terminals, tanker routes, committed
    volumes, outages on routes and parts, storms."""
    horizon = draw(st.integers(10, 120))
    routes = {}
    for i in range(draw(st.integers(1, 3))):
        r = pipeline(draw(st.floats(0, 1.5e6)), draw(st.floats(0, 10)), cost=draw(st.floats(0, 20)))
        if draw(st.booleans()):
            r["segments"] = {"s1": {"capacity_bpd": draw(st.floats(0, 2e6)), "transit_days": draw(st.floats(0, 3))}}
        if draw(st.booleans()):
            r["terminal"] = terminal(draw(st.integers(1, 3)), 1, draw(st.floats(0, 1e6)))
        if draw(st.booleans()):
            size = draw(st.floats(1, 5e6))
            r["tank_farm"] = {"storage_bbl": size, "initial_storage_bbl": size * draw(st.floats(0, 1)),
                              "working_storage_bbl": size * draw(st.sampled_from([0.0, 0.5, 1.0]))}
            if "segments" in r and draw(st.booleans()):
                r["segments"]["s2"] = {"capacity_bpd": draw(st.floats(0, 2e6))}
                r["tank_farm"]["after"] = "s1"
        if draw(st.booleans()):
            r["committed_bpd"] = r["capacity_bpd"] * draw(st.floats(0, 1))
        routes[f"pipe{i}"] = r
    if draw(st.booleans()):
        cargo = draw(st.floats(1e4, 1e5))
        routes["tc"] = shuttle(tankers=draw(st.integers(1, 4)), tanker_capacity_bbl=cargo,
                               capacity_bpd=draw(st.floats(1e4, 3e5)), load_days=draw(st.floats(0.1, 2)),
                               voyage_days=draw(st.floats(0.1, 3)), unload_days=draw(st.floats(0.1, 2)),
                               tank_farm={"storage_bbl": cargo * draw(st.floats(1, 5))},
                               committed_bpd=draw(st.sampled_from([0.0, 5e3])))
    producers = {}
    for j in range(draw(st.integers(1, 3))):
        storage = draw(st.floats(0, 5e6))
        reach = draw(st.lists(st.sampled_from(sorted(routes)), min_size=1, unique=True))
        producers[f"f{j}"] = {"production_bpd": draw(st.floats(0, 1.5e6)), "storage_bbl": storage,
                              "initial_storage_bbl": storage * draw(st.floats(0, 1)),
                              "restart_ramp_days": draw(st.floats(0, 5)), "routes": reach}
    raw = raw_scenario(routes=routes, horizon_days=horizon)
    raw["producers"] = producers
    targets = validate(raw).targets()
    raw["outages"] = [{"target": draw(st.sampled_from(targets)), "start_day": draw(st.floats(0, horizon)),
                       "duration_days": draw(st.floats(0, 60)), "capacity_factor": draw(st.floats(0, 1))}
                      for _ in range(draw(st.integers(0, 4)))]
    at_sea = [n for n, r in routes.items() if r["kind"] == "tanker_shuttle" or "terminal" in r]
    if at_sea and draw(st.booleans()):
        raw["weather"] = [{"target": draw(st.sampled_from(at_sea)), "rate_per_year": draw(st.floats(0, 40)),
                           "duration_days": {"distribution": "fixed", "value": draw(st.floats(0, 5))}}]
    return raw


@SETTINGS
@given(networks())
def test_network_mass_balance_and_bounds(raw):
    """Every node's stock at the start + produced = in every node + left by pipelines + lifted by tankers,
    at every event; levels within their bounds; each producer within its nominal rate."""
    s = validate(raw)
    trace = simulate(s)
    last = np.r_[trace.times[1:] != trace.times[:-1], True]
    t = trace.times[last]
    initial = sum(p.initial_storage_bbl for p in s.producers.values())
    initial += sum(r.tank_farm.initial_storage_bbl for r in s.routes.values() if r.tank_farm is not None)
    produced = measure.cumulative(trace, trace.production_bpd, t)
    left = sum((measure.cumulative(trace, f, t) for f in trace.flows_bpd.values()), np.zeros_like(t))
    lifted = sum((s.routes[n].tanker_capacity_bbl * np.searchsorted(x, t, side="right")
                  for n, x in trace.loads.items()), np.zeros_like(t))
    scale = max(1.0, s.production_bpd * s.horizon_days, s.storage_capacity_bbl)
    tol = 1e-9 * scale + 1e-6 * trace.events * len(trace.levels_bbl)
    assert np.all(np.abs(initial + produced - trace.storage_bbl[last] - left - lifted) <= tol)
    capacity = {name: p.storage_bbl for name, p in s.producers.items()}
    capacity.update({f"{n}/tank_farm": r.tank_farm.storage_bbl for n, r in s.routes.items() if r.tank_farm})
    for node, level in trace.levels_bbl.items():
        assert np.all(level >= -tol) and np.all(level <= capacity[node] + tol), node
    for name, rate in trace.production.items():
        assert np.all(rate >= -1e-9) and np.all(rate <= s.producers[name].production_bpd * (1 + 1e-12) + 1e-9)
    for name, route in s.routes.items():
        if route.kind == "pipeline" and route.terminal is not None:
            # each pipe leaves through its terminal, never faster than every mooring together
            assert np.all(trace.flows_bpd[name] <= route.terminal.mooring_rate_bpd * len(route.terminal.moorings) + 1e-6)


def two_producers(route_a: float, route_b: float, p1: float, p2: float, horizon: int = 30) -> dict:
    raw = raw_scenario(routes={"a": pipeline(route_a), "b": pipeline(route_b, cost=5.0)}, horizon_days=horizon)
    raw["producers"] = {"big": {"production_bpd": p1, "routes": ["a"]},
                        "small": {"production_bpd": p2, "routes": ["a", "b"]}}
    return raw


def test_producers_share_a_route_pro_rata_and_the_one_with_an_alternative_uses_it():
    s = validate(two_producers(150.0, 100.0, 200.0, 100.0))
    trace = simulate(s)
    v = measure.volumes(s, trace)
    # route a split 100 : 50 by nominal production; small sends its other 50 by b; big is cut to 100
    assert math.isclose(v.exported_bbl["a"], 150 * 30, rel_tol=REL)
    assert math.isclose(v.exported_bbl["b"], 50 * 30, rel_tol=REL)
    assert np.allclose(trace.production["big"][:-1], 100.0) and np.allclose(trace.production["small"][:-1], 100.0)


def test_a_committed_volume_goes_before_netback_order():
    raw = raw_scenario(production_bpd=100.0, horizon_days=10,
                       routes={"good": pipeline(100.0), "poor": pipeline(100.0, cost=10.0) | {"committed_bpd": 30.0}})
    v = measure.volumes(validate(raw), simulate(validate(raw)))
    assert math.isclose(v.exported_bbl["poor"], 300.0, rel_tol=REL)
    assert math.isclose(v.exported_bbl["good"], 700.0, rel_tol=REL)


def test_a_committed_tanker_route_lifts_its_commitment_before_a_better_pipeline():
    routes = {"pipe": pipeline(1e6), "tc": shuttle(capacity_bpd=50_000.0, committed_bpd=20_000.0, cost_usd_per_bbl=30.0)}
    lifted = {}
    for committed in (0.0, 20_000.0):
        raw = raw_scenario(production_bpd=500_000.0, storage_bbl=1e6, horizon_days=100, routes=routes)
        raw["routes"]["tc"]["committed_bpd"] = committed
        s = validate(raw)
        lifted[committed] = len(simulate(s).loads["tc"]) * 90_000.0
    assert lifted[0.0] == 0.0  # the pipeline takes every barrel: the worse tanker route gets none
    # with the commitment it lifts 20,000 bbl/day: whole cargoes, at most one ahead of the schedule
    assert 20_000.0 * 100 - 90_000.0 <= lifted[20_000.0] <= 20_000.0 * 100 + 90_000.0


def test_tanks_after_a_segment_keep_the_segments_below_them_going_while_the_pipe_above_stops():
    """Tanks after the first segment with 3 M bbl of stock: a 10-day stop of the first segment is bridged
    by the tanks for 3 days at 1 M bbl/d; a stop of the second segment fills the tanks instead."""
    p, stock = 1_000_000.0, 3_000_000.0
    route = pipeline(1.5e6) | {"segments": {"up": {"capacity_bpd": 1.5e6}, "down": {"capacity_bpd": 1.5e6}},
                               "tank_farm": {"storage_bbl": 6e6, "initial_storage_bbl": stock,
                                             "working_storage_bbl": stock, "after": "up"}}
    loaded = {}
    for part in ("up", "down"):
        stop = {"target": f"cpc/{part}", "start_day": 0, "duration_days": 10, "capacity_factor": 0.0}
        s = validate(raw_scenario(production_bpd=p, routes={"cpc": route}, outages=[stop], horizon_days=10))
        loaded[part] = measure.volumes(s, simulate(s)).exported_bbl["cpc"]
    # the tanks keep their working stock: below it they pass on only what arrives
    assert loaded["up"] == 0.0 and loaded["down"] == 0.0
    route["tank_farm"]["working_storage_bbl"] = 0.0
    stop = {"target": "cpc/up", "start_day": 0, "duration_days": 10, "capacity_factor": 0.0}
    s = validate(raw_scenario(production_bpd=p, routes={"cpc": route}, outages=[stop], horizon_days=10))
    assert math.isclose(measure.volumes(s, simulate(s)).exported_bbl["cpc"], stock, rel_tol=REL)
    with pytest.raises(ScenarioError, match=r"tank_farm\.after: 'nowhere' is not one of the segments"):
        validate(raw_scenario(routes={"cpc": route | {"tank_farm": {"storage_bbl": 1.0, "after": "nowhere"}}}))


def test_a_committed_tanker_route_caught_up_to_the_last_bit_does_not_stall():
    """Found by review: rounding left 'ahead of the commitment' true with a zero wait, over and over."""
    routes = {"tc": shuttle(capacity_bpd=150_000.0, tankers=3, tanker_capacity_bbl=77016.75559648585,
                            committed_bpd=9888.325221004136)}
    s = validate(raw_scenario(production_bpd=9854.76117867131, storage_bbl=1e6,
                              initial_storage_bbl=51093.847563985284, routes=routes, horizon_days=60))
    assert len(simulate(s).loads["tc"]) >= 7


def test_a_waiting_tanker_of_a_better_route_holds_the_stock_from_a_worse_tanker_route():
    routes = {"good": shuttle(tankers=8, tanker_capacity_bbl=90_000.0, cost_usd_per_bbl=1.0),
              "poor": shuttle(tankers=4, tanker_capacity_bbl=30_000.0, cost_usd_per_bbl=20.0)}
    s = validate(raw_scenario(production_bpd=20_000.0, storage_bbl=200_000.0, routes=routes, horizon_days=100))
    trace = simulate(s)
    assert len(trace.loads["poor"]) == 0 and len(trace.loads["good"]) == 22  # 2 M bbl / 90,000


@pytest.mark.parametrize("routes, message", [
    ({"cpc": pipeline(1e6) | {"segments": {"a": {"capacity_bpd": 1e6}}, "terminal": terminal(2, 1) | {"moorings": ["a", "b"]}}},
     "terminal.moorings: a also name segments"),
    ({"cpc/main": pipeline(1e6)}, "routes.cpc/main"),
])
def test_every_part_has_its_own_target_name(routes, message):
    with pytest.raises(ScenarioError) as err:
        validate(raw_scenario(routes=routes))
    assert any(message in line for line in err.value.issues), err.value.issues


def test_a_route_no_producer_reaches_stays_idle():
    raw = raw_scenario(storage_bbl=1e6, routes={"cpc": pipeline(2e6), "tc": shuttle(), "spare": pipeline(1e5)})
    raw["producers"]["p"]["routes"] = ["cpc"]
    v = measure.volumes(validate(raw), simulate(validate(raw)))
    assert v.exported_bbl["tc"] == 0.0 and v.exported_bbl["spare"] == 0.0 and v.exported_bbl["cpc"] > 0


def test_a_storm_on_a_tanker_route_stops_loading_and_sailing():
    raw = raw_scenario(production_bpd=100_000.0, storage_bbl=1e6, horizon_days=60, routes={"tc": shuttle()})
    raw["outages"] = []
    raw["weather"] = [{"target": "tc", "rate_per_year": 20.0, "duration_days": {"distribution": "fixed", "value": 3.0}}]
    s = validate(raw | {"seed": 1})
    trace = simulate(s, log=True)
    storms = [(h.start_day, h.end_day) for h in trace.impairments if h.storm]
    assert storms
    moves = [t for t, event, _, _ in trace.log if event in ("tanker_sails", "cargo_lifted")]
    for a, b in storms:
        assert not any(a < t < b for t in moves)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r["outages"].append({"target": "cpc/spm-9", "start_day": 0, "duration_days": 1}),
         "outages[0].target: unknown route, component or producer 'cpc/spm-9'"),
        (lambda r: r.update(weather=[{"target": "plain", "rate_per_year": 1, "duration_days": 1.0}]),
         "weather[0].target: 'plain' is not a route with a terminal or a tanker route"),
        (lambda r: r["producers"]["p"].update(routes=["cpc", "nowhere"]), "producers.p.routes[1]: unknown route 'nowhere'"),
        (lambda r: r["producers"].update(q={"production_bpd": 1.0}),
         "routes.tc.tank_farm: 2 producers reach this tanker route"),
        (lambda r: r["routes"]["cpc"]["terminal"].update(active_moorings=4), "active_moorings: 4 is more than the 3"),
        (lambda r: r["routes"]["cpc"]["terminal"].update(mooring_rates_bpd={"spm-9": 1e6}),
         "routes.cpc.terminal.mooring_rates_bpd.spm-9: not one of the moorings"),
        (lambda r: r["routes"]["cpc"]["terminal"].update(mooring_rate_bpd=None, mooring_rates_bpd={"spm-1": 1e6}),
         "routes.cpc.terminal.mooring_rate_bpd: missing, and mooring_rates_bpd gives no rate for spm-2, spm-3"),
        (lambda r: r["routes"]["cpc"]["terminal"].update(mooring_rates_bpd={"spm-1": -1.0}),
         "routes.cpc.terminal.mooring_rates_bpd.spm-1"),
    ],
)
def test_network_mistakes_name_the_key(change, message):
    raw = raw_scenario(storage_bbl=1e6, routes={"cpc": pipeline(1e6) | {"terminal": terminal()}, "plain": pipeline(1e5),
                                                "tc": shuttle()})
    change(raw)
    with pytest.raises(ScenarioError) as err:
        validate(raw)
    assert any(message in line for line in err.value.issues), err.value.issues


def test_refreshes_are_the_first_each_berth_taken_each_impairment_edge_and_the_last():
    """The event count is part of the model's contract (the compiled engine mirrors it): with no oil to
    lift, 3 tankers at 2 berths take 2 berths at day 0 (one refresh each) and wait; an outage adds its
    start and end; the initial and final refreshes close the count. A route no producer reaches has no
    tanker process at all."""
    raw = raw_scenario(production_bpd=0.0, storage_bbl=1e6, routes={"tc": shuttle(tankers=3, load_berths=2)},
                       horizon_days=10)
    assert simulate(validate(raw)).events == 1 + 2 + 1
    raw["outages"] = [{"target": "tc", "start_day": 2, "duration_days": 3, "capacity_factor": 0.5}]
    assert simulate(validate(raw)).events == 1 + 2 + 2 + 1
    raw["routes"]["pipe"] = pipeline(1e6)
    raw["producers"]["p"]["routes"] = ["pipe"]
    trace = simulate(validate(raw))
    assert trace.events == 1 + 2 + 1 and len(trace.loads["tc"]) == 0
