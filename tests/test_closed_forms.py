"""The engine against closed forms: formulas and their exact or discretisation tolerances, no pinned numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import pipeline, scenario, shuttle
from routesim.engine import simulate
from routesim.engine.dispatch import shuttle_throughput_bpd
from routesim.results import measure
from routesim.runs import montecarlo

REL = 1e-9  # the engine integrates piecewise-linear levels exactly: only float rounding remains


@pytest.mark.parametrize(
    "production, capacity, transit, horizon",
    [(1_000_000, 1_500_000, 10, 365), (1_300_000, 1_300_000, 0, 100), (50_000, 60_000, 3.5, 31)],
)
def test_no_outage_exports_production_less_what_is_in_transit(production, capacity, transit, horizon):
    s = scenario(production_bpd=production, storage_bbl=1e6, routes={"main": pipeline(capacity, transit)},
                 horizon_days=horizon)
    v = measure.volumes(s, simulate(s))
    assert math.isclose(v.exported_bbl["main"], production * (horizon - transit), rel_tol=REL)
    assert math.isclose(v.in_transit_bbl["main"], production * transit, rel_tol=REL, abs_tol=1e-6)
    assert v.shut_in_bbl == pytest.approx(0.0, abs=1e-6)


def test_too_little_capacity_shuts_in_what_storage_cannot_hold():
    p, c, smax, h = 1_000_000, 800_000, 5_000_000, 200
    s = scenario(production_bpd=p, storage_bbl=smax, routes={"main": pipeline(c)}, horizon_days=h)
    v = measure.volumes(s, simulate(s))
    assert math.isclose(v.shut_in_bbl, max(0.0, (p - c) * h - smax), rel_tol=REL)
    assert math.isclose(v.exported_bbl["main"], c * h, rel_tol=REL)


@pytest.mark.parametrize(
    "p, main, alt, factor, storage, days, ramp",
    [
        (1_300_000, 1_400_000, 100_000, 0.0, 5_000_000, 30, 0),   # shut-in after storage fills
        (1_300_000, 1_400_000, 100_000, 0.0, 50_000_000, 30, 0),  # storage absorbs it all
        (1_000_000, 1_200_000, 0, 0.5, 2_000_000, 45.5, 0),       # half capacity, no alternative
        (1_300_000, 1_400_000, 100_000, 0.0, 5_000_000, 30, 7),   # plus the restart ramp
        (900_000, 1_000_000, 250_000, 0.25, 0, 10, 3.5),          # no storage at all
    ],
)
def test_single_outage_shut_in_matches_closed_form(p, main, alt, factor, storage, days, ramp):
    """shut_in = max(0, (P - available) x d - free storage), plus (P - available) x ramp / 2 after a cut.

    Storage starts empty and both routes have the same transit time, so the free storage at the start of
    the outage is all of it, and every barrel that was not shut in is exported once storage drains again.
    """
    routes = {"main": pipeline(main, 5), "alt": pipeline(alt, 5, cost=10.0)}
    outage = {"target": "main", "start_day": 40, "duration_days": days, "capacity_factor": factor}
    s = scenario(production_bpd=p, storage_bbl=storage, ramp_days=ramp, routes=routes, outages=[outage])
    available = alt + factor * main
    deficit = max(0.0, (p - available) * days - storage)
    expected = deficit + ((p - available) * ramp / 2 if deficit > 0 else 0.0)
    rep = montecarlo.run_replication(s, 0)
    assert rep.metrics["shut_in_bbl"] == pytest.approx(expected, rel=1e-9, abs=1e-3)
    assert rep.metrics["export_loss_bbl"] == pytest.approx(expected, rel=1e-9, abs=1e-3)


@pytest.mark.parametrize(
    "tankers, berths, load, voyage, unload, cap",
    [
        (5, 1, 1.0, 2.0, 1.0, 100_000),   # fleet limited: 5 x 90k / 6 d
        (10, 1, 1.5, 2.0, 1.0, 100_000),  # berth limited: 90k / 1.5 d
        (10, 3, 1.0, 2.0, 1.0, 50_000),   # terminal cap
        (8, 2, 2.0, 3.5, 0.5, 400_000),   # two berths, fleet limited
        (3, 2, 1.0, 0.7, 0.3, 400_000),   # more berths than the fleet can use
    ],
)
def test_shuttle_throughput_is_min_of_cap_fleet_and_berths(tankers, berths, load, voyage, unload, cap):
    cargo = 90_000.0
    route = shuttle(tankers=tankers, load_berths=berths, load_days=load, voyage_days=voyage,
                    unload_days=unload, capacity_bpd=cap, tanker_capacity_bbl=cargo)
    horizon = 2_000
    s = scenario(production_bpd=2_000_000, storage_bbl=10_000_000, initial_storage_bbl=10_000_000,
                 routes={"tc": route}, horizon_days=horizon)
    loads = simulate(s).loads["tc"]
    start = 200.0  # past the start-up transient
    window = horizon - start
    measured = cargo * np.count_nonzero(loads >= start) / window
    cycle = load + 2 * voyage + unload
    expected = shuttle_throughput_bpd(cap, tankers, cargo, berths, load, cycle)
    assert measured == pytest.approx(expected, abs=2 * cargo / window)  # +-2 cargoes over the window


def test_shuttle_exports_whole_cargoes_after_discharge_and_transit():
    route = shuttle(tankers=1, transit_days=10.0, capacity_bpd=1e6)
    s = scenario(production_bpd=500_000, storage_bbl=1e6, initial_storage_bbl=1e6, routes={"tc": route},
                 horizon_days=30)
    v = measure.volumes(s, simulate(s))
    # one tanker, 6-day cycle, loads at 0, 6, 12, 18, 24; cargo sold at discharge (load + 4 d) + 10 d
    sold = [t + 4 + 10 for t in (0, 6, 12, 18, 24)]
    assert v.exported_bbl["tc"] == 90_000 * sum(t <= 30 for t in sold)
    assert v.in_transit_bbl["tc"] == 90_000 * sum(t - 10 <= 30 < t for t in sold)
    assert v.tanker_cargo_bbl["tc"] == 90_000 * sum(t - 10 > 30 for t in sold)


def test_revenue_arithmetic():
    brent, take, budget = 75.0, 0.4, 30e9
    routes = {"a": pipeline(600_000, 3, cost=5.0, diff=-2.0), "b": pipeline(600_000, 8, cost=12.0, diff=1.5)}
    outage = {"target": "a", "start_day": 10, "duration_days": 20, "capacity_factor": 0.2}
    s = scenario(production_bpd=1_000_000, storage_bbl=3e6, routes=routes, outages=[outage], horizon_days=120,
                 market={"brent_usd_per_bbl": brent},
                 fiscal={"government_take_share": take, "budget_revenue_usd_per_year": budget})
    run = measure.volumes(s, simulate(s))
    base = measure.volumes(s, simulate(s.without_disruptions()))
    netback = {"a": brent - 2.0 - 5.0, "b": brent + 1.5 - 12.0}
    revenue = sum(run.exported_bbl[r] * netback[r] for r in routes)
    loss = sum(base.exported_bbl[r] * netback[r] for r in routes) - revenue
    m = montecarlo.run_replication(s, 0).metrics
    assert m["export_revenue_usd"] == pytest.approx(revenue, rel=1e-12)
    assert m["government_revenue_usd"] == pytest.approx(take * revenue, rel=1e-12)
    assert m["revenue_loss_usd"] == pytest.approx(loss, rel=1e-12)
    assert m["budget_loss_usd"] == pytest.approx(take * loss, rel=1e-12)
    assert m["budget_loss_share"] == pytest.approx(take * loss / (budget * 120 / 365), rel=1e-12)
    assert loss > 0


def test_dispatch_prefers_the_better_netback():
    routes = {"cheap": pipeline(800_000, cost=2.0), "dear": pipeline(800_000, cost=9.0)}
    s = scenario(production_bpd=1_000_000, routes=routes, horizon_days=50)
    v = measure.volumes(s, simulate(s))
    assert v.exported_bbl["cheap"] == pytest.approx(800_000 * 50)
    assert v.exported_bbl["dear"] == pytest.approx(200_000 * 50)


def test_a_better_shuttle_gets_the_stock_before_a_worse_pipeline():
    """With the shuttle's netback higher, the pipeline yields the stock to a tanker waiting at berth.

    The pipeline drains the storage between tanker calls, so each tanker waits at berth while production
    refills one cargo (Q / P days): its cycle is the sailing cycle plus that wait, and nothing else.
    """
    routes = {"pipe": pipeline(2_000_000, cost=20.0), "tc": shuttle(cost_usd_per_bbl=1.0, tankers=5)}
    s = scenario(production_bpd=1_000_000, storage_bbl=1e6, routes=routes, horizon_days=400)
    loads = simulate(s).loads["tc"]
    measured = 90_000 * np.count_nonzero(loads >= 100) / 300
    expected = 5 * 90_000 / (6.0 + 90_000 / 1_000_000)
    assert measured == pytest.approx(expected, abs=2 * 90_000 / 300)


def test_a_partial_tanker_outage_costs_no_more_than_a_full_stop():
    """The terminal cap's spacing follows the factor in force: a brief 1 % cap does not block lifts for months."""
    def loss(factor):
        outage = {"target": "tc", "start_day": 100, "duration_days": 3, "capacity_factor": factor}
        s = scenario(production_bpd=60_000, storage_bbl=1e6, initial_storage_bbl=5e5, routes={"tc": shuttle(tankers=3)},
                     outages=[outage], horizon_days=365)
        return montecarlo.run_replication(s, 0).metrics["export_loss_bbl"]

    full_stop = loss(0.0)
    assert loss(0.01) <= full_stop + 1e-6
    assert loss(0.5) <= full_stop + 1e-6


def test_a_long_horizon_runs_without_an_event_storm():
    """Late in a 100-year horizon, floats are too coarse for a fixed tolerance; the engine must cope."""
    outage = {"target": "main", "start_day": 20_000, "duration_days": 30}
    s = scenario(production_bpd=1.3e6, storage_bbl=5e6, routes={"main": pipeline(1.4e6)}, outages=[outage],
                 horizon_days=36_500)
    v = measure.volumes(s, simulate(s))
    assert v.shut_in_bbl == pytest.approx(max(0.0, 1.3e6 * 30 - 5e6), rel=1e-6)
