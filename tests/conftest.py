"""Shared builders for the tests: small scenarios as plain dicts, validated like a file would be."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from routesim.scenario.loader import validate
from routesim.scenario.model import Scenario

# CI runs a fixed, reproducible set of examples; HYPOTHESIS_PROFILE=thorough explores many more at random.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def pipeline(capacity_bpd: float, transit_days: float = 0.0, cost: float = 0.0, diff: float = 0.0) -> dict[str, Any]:
    return {
        "kind": "pipeline",
        "capacity_bpd": capacity_bpd,
        "transit_days": transit_days,
        "cost_usd_per_bbl": cost,
        "differential_usd_per_bbl": diff,
    }


def shuttle(**kw: Any) -> dict[str, Any]:
    spec = {
        "kind": "tanker_shuttle",
        "capacity_bpd": 100_000.0,
        "tankers": 5,
        "tanker_capacity_bbl": 90_000.0,
        "load_berths": 1,
        "load_days": 1.0,
        "voyage_days": 2.0,
        "unload_days": 1.0,
        "transit_days": 0.0,
        "cost_usd_per_bbl": 14.0,
        "differential_usd_per_bbl": 1.0,
    }
    spec.update(kw)
    return spec


def raw_scenario(
    production_bpd: float = 1_000_000.0,
    storage_bbl: float = 0.0,
    initial_storage_bbl: float = 0.0,
    ramp_days: float = 0.0,
    routes: dict[str, Any] | None = None,
    outages: list[dict[str, Any]] | None = None,
    horizon_days: int = 365,
    **top: Any,
) -> dict[str, Any]:
    raw = {
        "name": "test",
        "horizon_days": horizon_days,
        "producers": {
            "p": {
                "production_bpd": production_bpd,
                "storage_bbl": storage_bbl,
                "initial_storage_bbl": initial_storage_bbl,
                "restart_ramp_days": ramp_days,
            }
        },
        "routes": routes if routes is not None else {"main": pipeline(1_500_000.0)},
        "outages": outages or [],
    }
    raw.update(top)
    return raw


def scenario(**kw: Any) -> Scenario:
    return validate(copy.deepcopy(raw_scenario(**kw)))


@pytest.fixture
def scenarios_dir() -> Path:
    return SCENARIOS
