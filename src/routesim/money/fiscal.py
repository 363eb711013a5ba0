"""Where export revenue goes: companies, each tax, the National Fund and the state budget.

Pure functions of volumes and prices (numpy arrays, usually by day). The split always adds up:
companies + every tax = export revenue (netback: sale price - tariff and freight, times barrels).
"""

from __future__ import annotations

import numpy as np

from routesim.scenario.model import Fiscal, Scenario
from routesim.units import DAYS_PER_YEAR

INSTRUMENTS = ("export_duty", "mineral_extraction_tax", "rent_tax", "profit_tax")
"""Taxes of the tax-by-tax form, in the order the waterfall shows them."""
STREAMS = (
    "export_revenue_usd",
    *(f"{i}_usd" for i in INSTRUMENTS),
    "government_revenue_usd",
    "company_revenue_usd",
    "national_fund_revenue_usd",
    "budget_oil_revenue_usd",
)
"""Money streams of :func:`split`, all in USD."""


def step(bands: tuple[tuple[float, float], ...], brent: np.ndarray) -> np.ndarray:
    """Value of a Brent band table at each price: the band whose start is the highest at or below it; 0 below."""
    starts = np.array([b[0] for b in bands])
    values = np.array([b[1] for b in bands])
    index = np.searchsorted(starts, brent, side="right") - 1
    return np.where(index >= 0, values[np.clip(index, 0, None)], 0.0)


def split(
    scenario: Scenario,
    exported_bbl: dict[str, np.ndarray],
    brent: np.ndarray,
    sale_price: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Money streams (see :data:`STREAMS`) of barrels sold at given prices.

    Args:
        scenario: routes (costs, barrels per tonne) and fiscal terms.
        exported_bbl: per route, barrels sold in each period [bbl].
        brent: Brent in each period, which sets the price bands [USD/bbl].
        sale_price: per route, the sale price in each period (Brent + differential) [USD/bbl].
    """
    fiscal = scenario.fiscal
    zero = np.zeros_like(brent, dtype=float)
    revenue, value, tonnes, barrels = zero.copy(), zero.copy(), zero.copy(), zero.copy()
    for name, route in scenario.routes.items():
        vol = exported_bbl[name]
        revenue += vol * (sale_price[name] - route.unit_cost_usd_per_bbl)
        if fiscal.taxes is not None:  # what only the taxes need
            value += vol * sale_price[name]
            tonnes += vol / route.bbl_per_tonne
            barrels += vol
    out = {"export_revenue_usd": revenue}
    out.update({f"{i}_usd": zero for i in INSTRUMENTS})
    if fiscal.taxes is None:
        government = fiscal.government_take_share * revenue
        out["government_revenue_usd"] = government
        out["national_fund_revenue_usd"] = fiscal.national_fund_share * government
    else:
        out.update(_taxes(fiscal, revenue, value, tonnes, barrels, brent))
        out["government_revenue_usd"] = sum((out[f"{i}_usd"] for i in INSTRUMENTS), zero.copy())
        out["national_fund_revenue_usd"] = sum(
            (out[f"{i}_usd"] * getattr(fiscal.taxes, i).national_fund_share
             for i in INSTRUMENTS if getattr(fiscal.taxes, i) is not None),
            zero.copy(),
        )
    out["company_revenue_usd"] = revenue - out["government_revenue_usd"]
    out["budget_oil_revenue_usd"] = out["government_revenue_usd"] - out["national_fund_revenue_usd"]
    return out


def _taxes(
    fiscal: Fiscal, revenue: np.ndarray, value: np.ndarray, tonnes: np.ndarray, barrels: np.ndarray, brent: np.ndarray
) -> dict[str, np.ndarray]:
    taxes = fiscal.taxes
    assert taxes is not None
    zero = np.zeros_like(revenue)
    out = {}
    duty = taxes.export_duty
    out["export_duty_usd"] = zero if duty is None else (
        tonnes * step(duty.usd_per_tonne_by_brent, brent) * (1 - duty.exempt_share))
    met = taxes.mineral_extraction_tax
    out["mineral_extraction_tax_usd"] = zero if met is None else value * met.rate * (1 - met.exempt_share)
    rent = taxes.rent_tax
    out["rent_tax_usd"] = zero if rent is None else value * step(rent.rate_by_brent, brent) * (1 - rent.exempt_share)
    cit = taxes.profit_tax
    if cit is None:
        out["profit_tax_usd"] = zero
    else:
        before = revenue - barrels * cit.production_cost_usd_per_bbl
        profit = before - out["export_duty_usd"] - out["mineral_extraction_tax_usd"] - out["rent_tax_usd"]
        out["profit_tax_usd"] = np.maximum(profit, 0.0) * cit.rate * (1 - cit.exempt_share)
    return out


def discount_factors(scenario: Scenario, days: int) -> np.ndarray:
    """Weight of each day's cash at the start of the horizon: day d (0, 1, ...) is received at its end,
    ``(1 + fiscal.discount_rate_per_year) ** -((d + 1) / 365)`` [-]."""
    rate = scenario.fiscal.discount_rate_per_year
    return np.asarray((1.0 + rate) ** (-(np.arange(days) + 1.0) / DAYS_PER_YEAR))


def discounted(scenario: Scenario, money: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The money streams by day (the last axis), discounted to the start of the horizon (see
    :func:`discount_factors`); unchanged, the same arrays, at a rate of 0 [USD]."""
    if scenario.fiscal.discount_rate_per_year == 0:
        return money
    out = {}
    for k, v in money.items():
        out[k] = v * discount_factors(scenario, v.shape[-1])
    return out


def loss_vs_price(
    scenario: Scenario, run_bbl: dict[str, np.ndarray], baseline_bbl: dict[str, np.ndarray], brent: np.ndarray
) -> dict[str, np.ndarray]:
    """Losses (baseline minus run) of the same barrels sold at each constant Brent in ``brent``.

    Prices do not change the physics, so one run's barrels serve every price; disruption price effects are
    left out (a constant Brent, the plain differential).

    Returns:
        ``brent_usd_per_bbl`` and, for each price, every stream of :data:`STREAMS` as a loss
        (``export_revenue_usd`` -> ``export_revenue_loss_usd``) [USD].
    """
    out: dict[str, list[float]] = {stream: [] for stream in STREAMS}
    for price in brent:
        flat = np.full(1, float(price))
        prices = {r: flat + route.differential_usd_per_bbl for r, route in scenario.routes.items()}
        run = split(scenario, {r: _sold(scenario, v) for r, v in run_bbl.items()}, flat, prices)
        base = split(scenario, {r: _sold(scenario, v) for r, v in baseline_bbl.items()}, flat, prices)
        for stream in STREAMS:
            out[stream].append(float(base[stream][0] - run[stream][0]))
    losses = {k.removesuffix("_usd") + "_loss_usd": np.array(v) for k, v in out.items()}
    return {"brent_usd_per_bbl": np.asarray(brent, dtype=float), **losses}


def _sold(scenario: Scenario, by_day: np.ndarray) -> np.ndarray:
    """Barrels sold over the horizon, each day's discounted (at a constant Brent every stream is linear in
    the barrels, so discounting them discounts the money) [bbl]."""
    if scenario.fiscal.discount_rate_per_year == 0:
        return np.array([by_day.sum()])
    return np.array([float((by_day * discount_factors(scenario, len(by_day))).sum())])


def budget_revenue_per_bbl(scenario: Scenario, route: str, brent: float) -> float:
    """State budget revenue from one barrel sold on ``route`` at a constant Brent [USD/bbl]."""
    volumes = {r: np.array([1.0 if r == route else 0.0]) for r in scenario.routes}
    price = np.array([brent])
    prices = {r: price + rt.differential_usd_per_bbl for r, rt in scenario.routes.items()}
    return float(split(scenario, volumes, price, prices)["budget_oil_revenue_usd"][0])
