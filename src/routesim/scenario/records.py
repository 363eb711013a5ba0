"""The base of every scenario record: frozen, unknown keys refused, finite numbers, no silent coercion."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

LARGEST = 1e15
"""Bound on every quantity: far above any real volume, rate, price or budget, far below a float overflow."""
NonNegative = Annotated[float, Field(ge=0, le=LARGEST)]
Positive = Annotated[float, Field(gt=0, le=LARGEST)]
Signed = Annotated[float, Field(ge=-LARGEST, le=LARGEST)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Date = Annotated[dt.date, Field(strict=False)]  # YAML gives a date; "2022-03-02" as a string is fine too


class Frozen(BaseModel):
    """Base of every scenario record: immutable, unknown keys refused, finite numbers, no coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
