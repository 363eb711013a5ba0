"""The pure capacity rules (engine/capacity.py) against hand-computed values: no SimPy."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import pytest

from routesim.engine.capacity import (
    COMMITTED,
    PLANNED,
    SPARE,
    Capacities,
    availability,
    entry_bpd,
    entry_part_bpd,
    farm_outflow_bpd,
    k_of_n_bpd,
    lift_gap_days,
    pipeline_bpd,
    shuttle_bpd,
    simple_availability,
)
from routesim.scenario.model import PipelineRoute, TankerShuttleRoute


def cpc(**kw: object) -> PipelineRoute:
    """Pipe 1.5 M bbl/d, a 1.2 M bbl/d segment, three moorings of 0.9 M bbl/d of which two load at once."""
    spec: dict[str, object] = {
        "kind": "pipeline", "capacity_bpd": 1.5e6, "segments": {"up": {"capacity_bpd": 1.2e6}},
        "terminal": {"moorings": ["spm-1", "spm-2", "spm-3"], "active_moorings": 2, "mooring_rate_bpd": 9e5},
    }
    spec.update(kw)
    return PipelineRoute.model_validate(spec)


def tanker_route(**kw: object) -> TankerShuttleRoute:
    spec: dict[str, object] = {"kind": "tanker_shuttle", "capacity_bpd": 1e5, "tankers": 3, "tanker_capacity_bbl": 9e4}
    spec.update(kw)
    return TankerShuttleRoute.model_validate(spec)


@pytest.mark.parametrize("n, active", [(3, 2), (3, 1), (4, 2), (2, 2)])
def test_k_of_n_with_moorings_up_or_down_is_min_of_active_and_up(n, active):
    for up in itertools.product([0.0, 1.0], repeat=n):
        assert k_of_n_bpd([9e5] * n, active, up) == min(active, int(sum(up))) * 9e5


def test_k_of_n_with_partial_moorings_takes_the_best_active_ones():
    assert k_of_n_bpd([9e5] * 3, 2, [0.5, 1.0, 0.2]) == 9e5 * 1.5  # 1.0 and 0.5; the 0.2 stands by
    assert k_of_n_bpd([9e5] * 3, 3, [0.5, 1.0, 0.2]) == pytest.approx(9e5 * 1.7)


RATES = [8e5, 6e5, 1e6, 3e5]


@pytest.mark.parametrize("active", [1, 2, 3, 4])
def test_k_of_n_with_own_rates_loads_the_sum_of_the_best_available_moorings(active):
    """Every combination of moorings up or down: the ``active`` fastest of those up, summed."""
    for up in itertools.product([0.0, 1.0], repeat=len(RATES)):
        best = sorted((r for r, u in zip(RATES, up) if u), reverse=True)[:active]
        assert k_of_n_bpd(RATES, active, up) == pytest.approx(sum(best), rel=1e-15, abs=1e-9), up


def test_k_of_n_with_own_rates_ranks_moorings_by_what_they_load_now():
    # spm-3 (1.0 M) at 0.5 loads 0.5 M: less than spm-1 (0.8 M) whole and spm-2 (0.6 M) whole
    assert k_of_n_bpd(RATES, 2, [1.0, 1.0, 0.5, 1.0]) == pytest.approx(8e5 + 6e5, rel=1e-15)
    assert k_of_n_bpd(RATES, 3, [1.0, 1.0, 0.5, 1.0]) == pytest.approx(8e5 + 6e5 + 5e5, rel=1e-15)
    assert k_of_n_bpd([0.0, 0.0], 1, [1.0, 1.0]) == 0.0


def test_a_terminal_with_own_rates_has_the_fastest_active_moorings_as_its_nominal_capacity():
    route = cpc(terminal={"moorings": ["spm-1", "spm-2", "spm-3"], "active_moorings": 2, "mooring_rate_bpd": 6e5,
                          "mooring_rates_bpd": {"spm-3": 1e6}})
    assert route.terminal is not None and route.terminal.rates_bpd == (6e5, 6e5, 1e6)
    assert route.terminal.nominal_bpd == 1.6e6
    assert pipeline_bpd("cpc", route, {}, stormy=False).delivery_bpd == pytest.approx(1.6e6, rel=1e-15)
    assert pipeline_bpd("cpc", route, {"cpc/spm-3": 0.0}, stormy=False).delivery_bpd == pytest.approx(1.2e6, rel=1e-15)
    assert pipeline_bpd("cpc", route, {"cpc/spm-1": 0.0}, stormy=False).delivery_bpd == pytest.approx(1.6e6, rel=1e-15)


def test_a_pipeline_takes_in_through_its_segments_and_delivers_through_its_terminal():
    route = cpc()
    assert pipeline_bpd("cpc", route, {}, stormy=False) == (1.2e6, 1.8e6)
    # the whole route at half: every part at half
    assert pipeline_bpd("cpc", route, {"cpc": 0.5}, stormy=False) == (6e5, 9e5)
    # two moorings lost: one left
    assert pipeline_bpd("cpc", route, {"cpc/spm-1": 0.0, "cpc/spm-3": 0.0}, stormy=False) == (1.2e6, 9e5)
    # the standby lost: nothing lost
    assert pipeline_bpd("cpc", route, {"cpc/spm-2": 0.0}, stormy=False) == (1.2e6, 1.8e6)
    assert pipeline_bpd("cpc", route, {"cpc/terminal": 0.25}, stormy=False) == (1.2e6, 4.5e5)
    assert pipeline_bpd("cpc", route, {"cpc/up": 0.5}, stormy=False) == (6e5, 1.8e6)
    assert pipeline_bpd("cpc", route, {}, stormy=True) == (1.2e6, 0.0)  # a storm stops the loading


def test_a_plain_pipeline_delivers_what_it_takes_in():
    route = PipelineRoute.model_validate({"kind": "pipeline", "capacity_bpd": 1e6})
    assert pipeline_bpd("p", route, {"p": 0.3}, stormy=False) == (3e5, math.inf)


def test_tanks_after_a_segment_split_the_pipe_into_intake_and_delivery():
    route = PipelineRoute.model_validate({
        "kind": "pipeline", "capacity_bpd": 1.5e6,
        "segments": {"up": {"capacity_bpd": 1.4e6}, "down": {"capacity_bpd": 1.1e6}},
        "tank_farm": {"storage_bbl": 6e6, "after": "up"},
    })
    assert pipeline_bpd("p", route, {}, stormy=False) == (1.4e6, 1.1e6)
    assert pipeline_bpd("p", route, {"p/down": 0.0}, stormy=False) == (1.4e6, 0.0)
    # tanks at the end of a pipe with nothing below them drain at the pipe's rate
    end = PipelineRoute.model_validate({"kind": "pipeline", "capacity_bpd": 1.5e6, "tank_farm": {"storage_bbl": 1e6}})
    assert pipeline_bpd("p", end, {"p": 0.5}, stormy=False) == (7.5e5, 7.5e5)


def test_a_tanker_route_takes_in_through_its_segments_and_lifts_under_its_port_cap():
    route = tanker_route(segments={"s": {"capacity_bpd": 8e4}}, tank_farm={"storage_bbl": 3e5})
    assert shuttle_bpd("tc", route, {}, stormy=False) == (8e4, 1e5)
    assert shuttle_bpd("tc", route, {}, stormy=True) == (8e4, 0.0)
    assert shuttle_bpd("tc", route, {"tc": 0.5}, stormy=False) == (4e4, 5e4)
    assert shuttle_bpd("tc", route, {"tc/s": 0.25}, stormy=False) == (2e4, 1e5)


def test_availability_is_what_gets_through_against_nominal():
    assert availability(Capacities(6e5, 9e5), Capacities(1.2e6, 1.8e6)) == 0.5
    assert availability(Capacities(1.2e6, 9e5), Capacities(1.2e6, 1.8e6)) == 0.75
    assert availability(Capacities(1.2e6, 1.8e6), Capacities(1.2e6, 1.8e6)) == 1.0
    assert availability(Capacities(0.0, 0.0), Capacities(0.0, 1.0)) == 1.0  # nothing to lose
    assert availability(Capacities(1.0, math.inf), Capacities(2.0, math.inf)) == 0.5
    assert simple_availability(0.3, stormy=False) == 0.3 and simple_availability(0.3, stormy=True) == 0.0


def test_what_producers_may_send_a_route():
    caps = Capacities(1.2e6, 9e5)
    assert entry_bpd(caps, has_farm=False, farm_full=False, continuous=True) == 9e5  # the narrower part
    assert entry_bpd(caps, has_farm=True, farm_full=False, continuous=True) == 1.2e6  # tanks fill
    assert entry_bpd(caps, has_farm=True, farm_full=True, continuous=True) == 9e5  # full: what leaves
    assert entry_bpd(caps, has_farm=True, farm_full=False, continuous=False) == 1.2e6  # a load port's tanks
    assert entry_bpd(caps, has_farm=True, farm_full=True, continuous=False) == 0.0  # full until a lift


def test_committed_part_first_then_the_rest_up_to_the_plan_then_the_spare():
    parts = (COMMITTED, PLANNED, SPARE)
    inf = math.inf
    assert [entry_part_bpd(100.0, 30.0, inf, p) for p in parts] == [30.0, 70.0, 0.0]
    assert [entry_part_bpd(20.0, 30.0, inf, p) for p in parts] == [20.0, 0.0, 0.0]
    assert [entry_part_bpd(100.0, 30.0, 80.0, p) for p in parts] == [30.0, 50.0, 20.0]
    assert [entry_part_bpd(60.0, 30.0, 80.0, p) for p in parts] == [30.0, 30.0, 0.0]  # impaired below the plan
    assert [entry_part_bpd(100.0, 0.0, 80.0, p) for p in parts] == [0.0, 80.0, 20.0]


def test_a_tank_farm_catches_up_above_its_working_stock_and_passes_on_below_it():
    assert farm_outflow_bpd(1.6e6, 1e6, above_working=True) == 1.6e6
    assert farm_outflow_bpd(1.6e6, 1e6, above_working=False) == 1e6
    assert farm_outflow_bpd(0.5e6, 1e6, above_working=False) == 0.5e6


def test_lifts_are_spaced_by_cargo_over_port_cap():
    assert lift_gap_days(9e4, 1e5) == 0.9
    assert lift_gap_days(9e4, 0.0) == math.inf


def test_the_capacity_rules_load_no_simpy():
    code = "import sys, routesim.engine.capacity; assert 'simpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
