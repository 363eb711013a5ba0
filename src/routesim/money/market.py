"""Prices by day: Brent (constant, a dated series or a random path) and each route's sale price, moved
while routes are impaired. Prices never change the physics, so they are applied after the run."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from routesim.scenario.model import BrentProcess, BrentSeries, Scenario
from routesim.streams import stream
from routesim.units import DAYS_PER_YEAR

BRENT_STREAM = "market.brent"
"""Name of the random stream of the Brent path."""


def brent_by_day(scenario: Scenario, k: int) -> np.ndarray:
    """Brent on each output day of replication ``k`` [USD/bbl]."""
    days = math.ceil(scenario.horizon_days)
    market = scenario.market
    if market.brent_series is not None:
        return series_by_day(market.brent_series, scenario.start_date, days)
    if market.brent_process is not None:
        return process_path(market.brent_process, stream(scenario.seed, k, BRENT_STREAM), days)
    return np.full(days, market.brent_usd_per_bbl)


def series_by_day(series: BrentSeries, start: dt.date, days: int) -> np.ndarray:
    """A step series sampled on each day from ``start``: each value holds from its date to the next."""
    dates = np.array([np.datetime64(p.date, "D") for p in series.values])
    values = np.array([p.usd_per_bbl for p in series.values])
    day = np.datetime64(start, "D") + np.arange(days).astype("timedelta64[D]")
    index = np.clip(np.searchsorted(dates, day, side="right") - 1, 0, len(values) - 1)
    return values[index]


def process_path(process: BrentProcess, rng: np.random.Generator, days: int) -> np.ndarray:
    """Daily path of an Ornstein-Uhlenbeck log price, sampled exactly (no discretisation error).

    x(t + dt) = m + (x(t) - m) e^(-kappa dt) + sigma sqrt((1 - e^(-2 kappa dt)) / (2 kappa)) z, with
    x = ln Brent, m = ln long-run level, dt one day.
    """
    dt = 1.0 / DAYS_PER_YEAR
    kappa, sigma = process.reversion_per_year, process.volatility_per_year
    decay = math.exp(-kappa * dt)
    sd = sigma * math.sqrt((1 - decay**2) / (2 * kappa)) if kappa > 0 else sigma * math.sqrt(dt)
    m = math.log(process.long_run_usd_per_bbl)
    shocks = rng.standard_normal(days - 1) * sd
    x = np.empty(days)
    x[0] = math.log(process.initial_usd_per_bbl)
    for i in range(1, days):
        x[i] = m + (x[i - 1] - m) * decay + shocks[i - 1]
    return np.exp(x)


def moved_brent(scenario: Scenario, brent: np.ndarray, impaired: dict[str, np.ndarray]) -> np.ndarray:
    """Brent moved by the disruption effects, each weighted by the share of the day its route is impaired."""
    shift = np.zeros_like(brent)
    for effect in scenario.market.disruption_effects:
        shift = shift + effect.brent_change_usd_per_bbl * impaired[effect.route]
    return np.asarray(brent + shift)


def sale_prices(scenario: Scenario, brent: np.ndarray, impaired: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each route's sale price by day: the (moved) Brent + differential, plus its own differential's change
    weighted by the share of the day it is impaired [USD/bbl]."""
    moved = moved_brent(scenario, brent, impaired)
    own = {r: np.zeros_like(brent) for r in scenario.routes}
    for effect in scenario.market.disruption_effects:
        own[effect.route] = own[effect.route] + effect.differential_change_usd_per_bbl * impaired[effect.route]
    return {name: moved + route.differential_usd_per_bbl + own[name] for name, route in scenario.routes.items()}
