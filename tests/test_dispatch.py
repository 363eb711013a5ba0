"""Unit tests of the pure allocation rules (no SimPy)."""

import math

from routesim.dispatch import dispatch, fill_in_order, shuttle_throughput_bpd


def test_fill_in_order_gives_best_first_up_to_capacity():
    assert fill_in_order(150.0, [100.0, 100.0, 100.0]) == (100.0, 50.0, 0.0)
    assert fill_in_order(0.0, [10.0]) == (0.0,)
    assert fill_in_order(500.0, [100.0, 100.0]) == (100.0, 100.0)


def test_stock_in_storage_lets_every_route_run_at_capacity():
    a = dispatch(empty=False, full=False, potential_bpd=50.0, capacities_bpd=[100.0, 30.0])
    assert a.flows_bpd == (100.0, 30.0) and a.production_bpd == 50.0 and a.net_bpd == -80.0


def test_empty_storage_shares_production_in_netback_order():
    a = dispatch(empty=True, full=False, potential_bpd=120.0, capacities_bpd=[100.0, 30.0])
    assert a.flows_bpd == (100.0, 20.0) and a.net_bpd == 0.0
    b = dispatch(empty=True, full=False, potential_bpd=200.0, capacities_bpd=[100.0, 30.0])
    assert b.flows_bpd == (100.0, 30.0) and b.net_bpd == 70.0


def test_full_storage_cuts_production_to_what_routes_take():
    a = dispatch(empty=False, full=True, potential_bpd=200.0, capacities_bpd=[100.0, 30.0])
    assert a.production_bpd == 130.0 and a.net_bpd == 0.0
    b = dispatch(empty=False, full=True, potential_bpd=50.0, capacities_bpd=[100.0, 30.0])
    assert b.production_bpd == 50.0 and b.net_bpd < 0


def test_no_storage_is_both_empty_and_full():
    a = dispatch(empty=True, full=True, potential_bpd=200.0, capacities_bpd=[100.0, 30.0])
    assert a.production_bpd == 130.0 and a.flows_bpd == (100.0, 30.0) and a.net_bpd == 0.0


def test_shuttle_throughput_is_the_least_of_cap_fleet_and_berths():
    # fleet limited: 5 x 90,000 / 6 = 75,000
    assert math.isclose(shuttle_throughput_bpd(100_000, 5, 90_000, 1, 1.0, 6.0), 75_000)
    # berth limited: 1 x 90,000 / 1.5 = 60,000
    assert math.isclose(shuttle_throughput_bpd(100_000, 20, 90_000, 1, 1.5, 7.5), 60_000)
    # cap limited
    assert math.isclose(shuttle_throughput_bpd(50_000, 20, 90_000, 3, 1.0, 6.0), 50_000)
