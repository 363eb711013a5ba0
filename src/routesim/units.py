"""Unit constants. Inside routesim time is in days, volume in barrels, money in USD; a key's unit is in its name."""

from __future__ import annotations

DAYS_PER_YEAR = 365.0
"""Days in the budget year used to pro-rate annual figures over a horizon [days]."""

BBL_PER_TONNE_CPC_BLEND = 7.9
"""Barrels per metric tonne of CPC Blend (conversion used in docs/sources.md)."""

BBL_PER_TONNE_KAZAKH_CRUDE = 7.5
"""Barrels per metric tonne of Kazakh crude overall (conversion used in docs/sources.md)."""
