"""Unit tests of the pure allocation rules (no SimPy)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routesim.engine.dispatch import Supplier, allocate, share, shuttle_throughput_bpd


def one(potential, empty=False, full=False, entries=(0, 1)):
    return Supplier(potential, empty, full, 1.0, frozenset(entries))


def test_stock_in_storage_lets_every_route_run_at_capacity():
    a = allocate([one(50.0)], [100.0, 30.0])
    assert a.flows_bpd == ((100.0, 30.0),) and a.production_bpd == (50.0,) and a.drawn_bpd(0) == 130.0


def test_empty_storage_shares_production_in_priority_order():
    a = allocate([one(120.0, empty=True)], [100.0, 30.0])
    assert a.flows_bpd == ((100.0, 20.0),)
    b = allocate([one(200.0, empty=True)], [100.0, 30.0])
    assert b.flows_bpd == ((100.0, 30.0),) and b.production_bpd == (200.0,)


def test_full_storage_cuts_production_to_what_routes_take():
    assert allocate([one(200.0, full=True)], [100.0, 30.0]).production_bpd == (130.0,)
    assert allocate([one(50.0, full=True)], [100.0, 30.0]).production_bpd == (50.0,)


def test_no_storage_is_both_empty_and_full():
    a = allocate([one(200.0, empty=True, full=True)], [100.0, 30.0])
    assert a.production_bpd == (130.0,) and a.flows_bpd == ((100.0, 30.0),)


def test_a_producer_only_uses_the_entries_it_reaches():
    a = allocate([one(200.0, empty=True, entries=(1,))], [100.0, 30.0])
    assert a.flows_bpd == ((0.0, 30.0),)


def test_a_shared_route_is_split_pro_rata_to_nominal_production():
    big = Supplier(300.0, True, True, 300.0, frozenset({0}))
    small = Supplier(100.0, True, True, 100.0, frozenset({0, 1}))
    a = allocate([big, small], [200.0, 50.0])
    # route 0: 150 / 50 by quota; the small producer sends 50 more on route 1
    assert a.flows_bpd == ((150.0, 0.0), (50.0, 50.0))
    assert a.production_bpd == (150.0, 100.0)


def test_a_producer_short_of_its_share_leaves_the_rest_to_the_others():
    assert share(100.0, [10.0, math.inf, math.inf], [1.0, 1.0, 2.0]) == pytest.approx([10.0, 30.0, 60.0])
    assert share(100.0, [0.0, 0.0], [1.0, 1.0]) == [0.0, 0.0]
    assert share(100.0, [30.0, 20.0], [1.0, 1.0]) == [30.0, 20.0]


@given(
    st.floats(0, 1e6), st.lists(st.floats(0, 1e6) | st.just(math.inf), min_size=1, max_size=5),
    st.lists(st.floats(0.001, 1e6), min_size=5, max_size=5),
)
def test_share_never_exceeds_capacity_or_supply_and_uses_what_it_can(capacity, supplies, weights):
    out = share(capacity, supplies, weights[: len(supplies)])
    assert all(0 <= x <= s * (1 + 1e-9) for x, s in zip(out, supplies))
    assert sum(out) == pytest.approx(min(capacity, sum(supplies)), rel=1e-9, abs=1e-6)


def test_shuttle_throughput_is_the_least_of_cap_fleet_and_berths():
    # fleet limited: 5 x 90,000 / 6 = 75,000
    assert math.isclose(shuttle_throughput_bpd(100_000, 5, 90_000, 1, 1.0, 6.0), 75_000)
    # berth limited: 1 x 90,000 / 1.5 = 60,000
    assert math.isclose(shuttle_throughput_bpd(100_000, 20, 90_000, 1, 1.5, 7.5), 60_000)
    # cap limited
    assert math.isclose(shuttle_throughput_bpd(50_000, 20, 90_000, 3, 1.0, 6.0), 50_000)
