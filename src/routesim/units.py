"""Units and conversions. Inside routesim time is in days, volume in barrels, money in USD."""

from __future__ import annotations

DAYS_PER_YEAR = 365.0
"""Days in the budget year used to pro-rate annual figures over a horizon [days]."""

BBL_PER_TONNE_CPC_BLEND = 7.9
"""Barrels per metric tonne of CPC Blend (conversion used in ../shared/facts.md)."""

BBL_PER_TONNE_KAZAKH_CRUDE = 7.5
"""Barrels per metric tonne of Kazakh crude overall (conversion used in ../shared/facts.md)."""


def per_year_to_per_day(value_per_year: float) -> float:
    """Convert an annual quantity [x/yr] to a daily rate [x/day]."""
    return value_per_year / DAYS_PER_YEAR


def tonnes_to_bbl(tonnes: float, bbl_per_tonne: float = BBL_PER_TONNE_KAZAKH_CRUDE) -> float:
    """Convert a mass [t] to a volume [bbl] with a grade's factor [bbl/t]."""
    return tonnes * bbl_per_tonne
