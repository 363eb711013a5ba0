"""The market and fiscal layer: tax schedules against hand-computed values, the split, price paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SCENARIOS, pipeline, scenario
from routesim.money import fiscal
from routesim.money.market import process_path
from routesim.runs import montecarlo
from routesim.scenario.loader import load_scenario
from routesim.scenario.model import BrentProcess
from routesim.streams import stream

DUTY = load_scenario(SCENARIOS / "fiscal-regime.yaml").fiscal.taxes.export_duty.usd_per_tonne_by_brent


@pytest.mark.parametrize(
    "brent, duty",
    [(0, 0), (24.99, 0), (25, 10), (29.99, 10), (30, 15), (82, 65), (99.99, 80), (100, 85), (184.99, 165),
     (185, 236), (10_000, 236)],
)
def test_export_duty_scale_at_band_edges(brent, duty):
    assert fiscal.step(DUTY, np.array([brent]))[0] == duty


def _regime(**taxes):
    return {"budget_revenue_usd_per_year": 10e9, "taxes": taxes}


REGIME = _regime(
    export_duty={"usd_per_tonne_by_brent": [[0, 0], [25, 10], [80, 65]], "exempt_share": 0.24,
                 "national_fund_share": 1.0},
    mineral_extraction_tax={"rate": 0.051, "national_fund_share": 0.0},
    rent_tax={"rate_by_brent": [[0, 0.0], [50, 0.023], [100, 0.07]], "national_fund_share": 0.5},
    profit_tax={"rate": 0.2, "production_cost_usd_per_bbl": 12.0, "national_fund_share": 0.0},
)


def _split(brent: float, regime=REGIME, volume=1e6):
    s = scenario(routes={"cpc": pipeline(1e6, cost=4.8, diff=-1.0)}, fiscal=regime)
    s = s.model_copy(update={"routes": {"cpc": s.routes["cpc"].model_copy(update={"bbl_per_tonne": 7.9})}})
    b = np.array([brent])
    return {k: float(v[0]) for k, v in fiscal.split(s, {"cpc": np.array([volume])}, b, {"cpc": b - 1.0}).items()}


def test_split_against_hand_computed_values():
    v, brent = 1e6, 82.0
    value = v * (brent - 1.0)
    revenue = v * (brent - 1.0 - 4.8)
    duty = v / 7.9 * 65 * (1 - 0.24)
    met = 0.051 * value
    rent = 0.023 * value
    cit = 0.2 * (revenue - 12.0 * v - duty - met - rent)
    out = _split(brent)
    assert out["export_revenue_usd"] == pytest.approx(revenue)
    assert out["export_duty_usd"] == pytest.approx(duty)
    assert out["mineral_extraction_tax_usd"] == pytest.approx(met)
    assert out["rent_tax_usd"] == pytest.approx(rent)
    assert out["profit_tax_usd"] == pytest.approx(cit)
    assert out["national_fund_revenue_usd"] == pytest.approx(duty + 0.5 * rent)
    assert out["budget_oil_revenue_usd"] == pytest.approx(met + 0.5 * rent + cit)
    assert out["company_revenue_usd"] == pytest.approx(revenue - duty - met - rent - cit)


def test_zero_and_extreme_prices():
    zero = _split(0.0)
    assert zero["export_duty_usd"] == 0 and zero["rent_tax_usd"] == 0 and zero["profit_tax_usd"] == 0
    assert zero["company_revenue_usd"] == pytest.approx(zero["export_revenue_usd"] - zero["mineral_extraction_tax_usd"])
    high = _split(1e4)
    assert high["export_duty_usd"] == pytest.approx(1e6 / 7.9 * 65 * 0.76)
    assert high["rent_tax_usd"] == pytest.approx(0.07 * 1e6 * (1e4 - 1))


@settings(deadline=None)
@given(st.floats(0, 500), st.floats(0, 1e7), st.booleans())
def test_split_always_adds_up_to_export_revenue(brent, volume, flat):
    regime = {"government_take_share": 0.4, "national_fund_share": 0.3} if flat else REGIME
    out = _split(brent, regime, volume)
    taxes = sum(out[f"{i}_usd"] for i in fiscal.INSTRUMENTS)
    scale = max(1.0, abs(out["export_revenue_usd"]))
    total = out["company_revenue_usd"] + out["government_revenue_usd"]
    assert total == pytest.approx(out["export_revenue_usd"], abs=1e-9 * scale)
    if not flat:
        assert out["government_revenue_usd"] == pytest.approx(taxes, abs=1e-9 * scale)
    assert out["budget_oil_revenue_usd"] + out["national_fund_revenue_usd"] == pytest.approx(
        out["government_revenue_usd"], abs=1e-9 * scale)


def _metrics(**kw):
    outage = {"target": "main", "start_day": 20, "duration_days": 30, "capacity_factor": 0.3}
    s = scenario(production_bpd=1e6, storage_bbl=1e6, routes={"main": pipeline(1.1e6, 5, cost=4.8),
                 "alt": pipeline(3e5, 2, cost=12)}, outages=[outage], horizon_days=120, **kw)
    return montecarlo.run_replication(s, 0)


def test_a_constant_series_equals_the_constant_form():
    constant = _metrics(market={"brent_usd_per_bbl": 77.0})
    series = _metrics(market={"brent_usd_per_bbl": 10.0,
                              "brent_series": {"values": [{"date": "2021-06-01", "usd_per_bbl": 77.0}]}})
    assert constant.metrics == series.metrics


def test_cost_per_tonne_equals_cost_per_barrel():
    a = scenario(routes={"main": {**pipeline(1e6), "cost_usd_per_bbl": None, "cost_usd_per_tonne": 38.0,
                                  "bbl_per_tonne": 7.9}})
    assert a.routes["main"].unit_cost_usd_per_bbl == pytest.approx(38 / 7.9)


def test_a_wider_differential_while_impaired_costs_its_barrels():
    """Sale price drops by 5 USD/bbl on days the route is impaired: revenue drops by 5 x barrels sold then."""
    plain = _metrics()
    widened = _metrics(market={"disruption_effects": [{"route": "main", "differential_change_usd_per_bbl": -5.0}]})
    sold_while_impaired = plain.daily["main_exported_bpd"][20:50].sum()  # days 20-49, whole days
    assert plain.metrics["export_revenue_usd"] - widened.metrics["export_revenue_usd"] == pytest.approx(
        5.0 * sold_while_impaired)


def test_series_steps_at_its_dates():
    s = scenario(horizon_days=60, start_date="2022-01-01", market={"brent_series": {"values": [
        {"date": "2022-01-15", "usd_per_bbl": 90.0}, {"date": "2022-02-01", "usd_per_bbl": 70.0}]}})
    from routesim.money.market import brent_by_day

    b = brent_by_day(s, 0)
    assert list(b[[0, 13, 14, 30, 31, 59]]) == [90.0, 90.0, 90.0, 90.0, 70.0, 70.0]


def test_brent_process_matches_ornstein_uhlenbeck_moments():
    """Log price after t years: mean m + (x0 - m) e^(-kt), variance s^2 (1 - e^(-2kt)) / (2k)."""
    p = BrentProcess(initial_usd_per_bbl=100, long_run_usd_per_bbl=70, reversion_per_year=1.5,
                     volatility_per_year=0.4)
    days, n = 183, 2000
    x = np.log([process_path(p, stream(1, k, "market.brent"), days)[-1] for k in range(n)])
    t = (days - 1) / 365
    m, x0, kappa, sigma = math.log(70), math.log(100), 1.5, 0.4
    mean = m + (x0 - m) * math.exp(-kappa * t)
    var = sigma**2 * (1 - math.exp(-2 * kappa * t)) / (2 * kappa)
    assert abs(x.mean() - mean) <= 4 * math.sqrt(var / n)
    assert abs(x.var(ddof=1) - var) <= 4 * var * math.sqrt(2 / (n - 1))


def test_the_two_fiscal_readings_differ_only_in_the_budget(tmp_path):
    article = load_scenario(SCENARIOS / "fiscal-article.yaml")
    official = load_scenario(SCENARIOS / "fiscal-official.yaml")
    assert article.fiscal.taxes == official.fiscal.taxes and article.outages == official.outages
    a = montecarlo.run_replication(article, 0).metrics
    o = montecarlo.run_replication(official, 0).metrics
    assert a["budget_loss_usd"] == o["budget_loss_usd"] > 0
    assert a["budget_loss_share"] / o["budget_loss_share"] == pytest.approx(
        official.fiscal.budget_revenue_usd_per_year / article.fiscal.budget_revenue_usd_per_year)


def test_series_csv_is_read_relative_to_the_file_that_names_it(tmp_path):
    (tmp_path / "parent" / "data").mkdir(parents=True)
    (tmp_path / "parent" / "data" / "brent.csv").write_text("# approximate\ndate,usd_per_bbl\n2022-01-01,91.5\n")
    (tmp_path / "parent" / "p.yaml").write_text(
        "producers: {k: {production_bpd: 1}}\nroutes: {r: {kind: pipeline, capacity_bpd: 1}}\n"
        "market: {brent_series: {csv: data/brent.csv}}\n")
    (tmp_path / "child.yaml").write_text("extends: parent/p.yaml\n")
    s = load_scenario(tmp_path / "child.yaml")
    assert [p.usd_per_bbl for p in s.market.brent_series.values] == [91.5]
    (tmp_path / "parent" / "data" / "brent.csv").write_text("date,usd_per_bbl\nlast week,abc\n")
    from routesim.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "child.yaml")
    assert "market.brent_series.csv" in str(info.value)


def test_shipped_brent_series_loads():
    csv = SCENARIOS / "data" / "brent-monthly-2022-2024.csv"  # a --set path is relative to the working directory
    s = load_scenario(SCENARIOS / "base.yaml", [f"market.brent_series={{csv: {csv}}}"])
    assert len(s.market.brent_series.values) == 36


def test_price_bands_follow_brent_as_disruptions_move_it():
    """While 'alt' is impaired all year, Brent is 50 higher for every sale, and the duty band follows it."""
    taxes = {"export_duty": {"usd_per_tonne_by_brent": [[0, 10], [120, 100]], "national_fund_share": 0.0}}
    outage = {"target": "alt", "start_day": 0, "duration_days": 400, "capacity_factor": 0.5}
    s = scenario(production_bpd=1e5, routes={"main": pipeline(2e5), "alt": pipeline(1e5, cost=9)},
                 outages=[outage], horizon_days=30, market={"brent_usd_per_bbl": 100.0, "disruption_effects": [
                     {"route": "alt", "brent_change_usd_per_bbl": 50.0}]}, fiscal={"taxes": taxes})
    m = montecarlo.run_replication(s, 0).metrics
    assert m["export_duty_usd"] == pytest.approx(m["exported_bbl"] / 7.5 * 100)


def test_a_csv_named_later_replaces_values_named_earlier(tmp_path):
    csv = tmp_path / "b.csv"
    csv.write_text("\ufeffdate,usd_per_bbl\n2022-01-01,55\n")  # Excel's byte-order mark is fine too
    s = load_scenario(SCENARIOS / "base.yaml", [
        "market.brent_series={values: [{date: 2022-01-01, usd_per_bbl: 99}]}", f"market.brent_series.csv={csv}"])
    assert [p.usd_per_bbl for p in s.market.brent_series.values] == [55.0]
